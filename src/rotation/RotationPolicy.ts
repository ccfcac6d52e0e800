/**
 * The size-rotation policy `{ maxBytes, maxFiles, compress? }` and its resolution from configuration.
 *
 * | variable                  | default | accepted                                               |
 * |---------------------------|---------|--------------------------------------------------------|
 * | `LOG_ROTATION_MAX_BYTES`  | 10MiB   | bytes, or a size with unit (`512KiB`, `10MB`); 0 = off |
 * | `LOG_ROTATION_MAX_FILES`  | 5       | whole number >= 0 of backups kept; 0 keeps none        |
 * | `LOG_ROTATION_COMPRESS`   | false   | true/false (1/0, yes/no, on/off): gzip backups `.2` up |
 *
 * `compress` is present in a policy only when true (a policy without it is exactly the
 * `{ maxBytes, maxFiles }` of earlier versions); see `RotatingAppender` for what it does.
 *
 * A host prefix (`TAU_LOG_ROTATION_MAX_BYTES`) is Effect's own nesting:
 * `RotationPolicy.layerConfig({ prefix: "TAU" })`, or `Config.nested(RotationPolicy.config, "TAU")`.
 *
 * Needs nothing in context; `layerConfig`/`load` read Effect's `ConfigProvider` (the environment
 * by default) and fail with `InvalidConfig` naming the variable, the value and the accepted form.
 * `make` and `layer` throw on an invalid number (a policy written in code is a programming error).
 * `compress` since 0.2.0.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RotationPolicy } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const { maxBytes, maxFiles } = yield* RotationPolicy.RotationPolicy
 * }).pipe(Effect.provide(RotationPolicy.layerConfig({ prefix: "TAU" })))
 * ```
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { BYTE_SIZE_FORM, parse as parseByteSize } from "../ByteSize.js"
import { checkAll, decodeBoolean, decodeInteger, load as loadChecked, setting, unchecked } from "../ConfigValue.js"
import { InvalidConfig } from "../Errors.js"

/**
 * Bytes after which the active file rotates; 0 means never rotate (append only).
 *
 * @since 0.1.0
 */
export const MaxBytes = Schema.NonNegativeInt.pipe(Schema.brand("MaxBytes"))
/** @since 0.1.0 */
export type MaxBytes = typeof MaxBytes.Type

/**
 * Backups kept (`<name>.1` … `<name>.<maxFiles>`); 0 keeps none.
 *
 * @since 0.1.0
 */
export const MaxFiles = Schema.NonNegativeInt.pipe(Schema.brand("MaxFiles"))
/** @since 0.1.0 */
export type MaxFiles = typeof MaxFiles.Type

/**
 * Gzip the backups from `<name>.2` up in the background (`<name>.2.gz` …), leaving the newest,
 * `<name>.1`, plain: logrotate's `compress` with `delaycompress`. Default false.
 *
 * @since 0.2.0
 */
export const Compress = Schema.Boolean

/**
 * A size-rotation policy; `compress` since 0.2.0.
 *
 * @since 0.1.0
 */
export const Policy = Schema.Struct({ maxBytes: MaxBytes, maxFiles: MaxFiles, compress: Schema.optionalWith(Compress, { exact: true }) })
/** @since 0.1.0 */
export type Policy = typeof Policy.Type

/** @since 0.1.0 */
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024
/** @since 0.1.0 */
export const DEFAULT_MAX_FILES = 5

/**
 * A policy as written in code: numbers not yet checked.
 *
 * @since 0.2.0
 */
export interface Input {
  readonly maxBytes: number
  readonly maxFiles: number
  readonly compress?: boolean
}

/** @since 0.1.0 */
export const MAX_FILES_FORM = "a whole number >= 0 (backups kept; 0 keeps none)"
export const MAX_BYTES_FORM = "a whole number of bytes >= 0 (0 = never rotate)"

/**
 * Validates a policy written in code: `Left(InvalidConfig)` naming the field (`maxBytes`,
 * `maxFiles`, `compress`), the value and the accepted form. Nothing is thrown.
 *
 * @example
 * ```ts
 * RotationPolicy.decode({ maxBytes: 1024, maxFiles: 5 })  // Either.right({ maxBytes: 1024, maxFiles: 5 })
 * RotationPolicy.decode({ maxBytes: -1, maxFiles: 5 })    // Either.left(InvalidConfig { variable: "maxBytes", … })
 * ```
 */
export const decode = (input: Input): Either.Either<Policy, InvalidConfig> => {
  const check = (name: keyof Input, schema: Schema.Schema<any, any>, expected: string) =>
    Either.isLeft(Schema.decodeUnknownEither(schema)(input[name]))
      ? Either.left(new InvalidConfig({ variable: name, value: String(input[name]), expected }))
      : Either.right(undefined)
  return Either.gen(function* () {
    yield* check("maxBytes", MaxBytes, MAX_BYTES_FORM)
    yield* check("maxFiles", MaxFiles, MAX_FILES_FORM)
    if (input.compress !== undefined) yield* check("compress", Compress, "true or false")
    return Schema.decodeSync(Policy)(input)
  })
}

/**
 * Validates a policy written in code and throws `InvalidConfig` when it is invalid (a
 * programming error): for constants such as `RotationPolicy.unsafeMake({ maxBytes: 1e6, maxFiles: 3 })`.
 * Use `decode` for values that come from outside.
 */
export const unsafeMake = (input: Input): Policy => Either.getOrThrowWith(decode(input), (e) => e)

/**
 * @deprecated 0.2.0: `make` in this library builds with an Effect; use `unsafeMake` (same
 * behaviour: returns the policy, throws when invalid) or `decode` (an `Either`). Kept working as before.
 */
export const make = (input: Input): Policy => unsafeMake(input)

export const defaults: Policy = unsafeMake({ maxBytes: DEFAULT_MAX_BYTES, maxFiles: DEFAULT_MAX_FILES })

/**
 * The environment variable of each field, without host prefix.
 *
 * @since 0.1.0
 */
export const variables = {
  maxBytes: "LOG_ROTATION_MAX_BYTES",
  maxFiles: "LOG_ROTATION_MAX_FILES",
  compress: "LOG_ROTATION_COMPRESS"
} as const

/**
 * Each setting on its own, checked: a `Config` of `Either<value, InvalidConfig>` (see
 * `ConfigValue.Checked`), the default when missing. For callers that take one setting from
 * another source and the others from configuration.
 *
 * @since 0.1.0
 */
export const checkedSettings = {
  maxBytes: setting(variables.maxBytes, parseByteSize, DEFAULT_MAX_BYTES),
  maxFiles: setting(variables.maxFiles, decodeInteger(0, MAX_FILES_FORM), DEFAULT_MAX_FILES),
  compress: setting(variables.compress, decodeBoolean, false)
}

/** Each setting on its own as a plain `Config`, default when missing; invalid: a `ConfigError` at its variable. */
export const settings = {
  maxBytes: unchecked(checkedSettings.maxBytes),
  maxFiles: unchecked(checkedSettings.maxFiles),
  compress: unchecked(checkedSettings.compress)
}

const checkedConfig = checkAll(checkedSettings).pipe(
  Config.map(Either.map(({ compress, ...sizes }) => unsafeMake(compress ? { ...sizes, compress } : sizes)))
)

/**
 * `LOG_ROTATION_MAX_BYTES`, `LOG_ROTATION_MAX_FILES` and `LOG_ROTATION_COMPRESS`, with defaults
 * when missing (`compress` only in the policy when true).
 *
 * @since 0.1.0
 */
export const config: Config.Config<Policy> = unchecked(checkedConfig)

/**
 * Reads the policy from the current `ConfigProvider`, optionally under a host prefix such as
 * `"TAU"`; `InvalidConfig` names the variable as set (`TAU_LOG_ROTATION_MAX_BYTES`).
 *
 * @since 0.1.0
 */
export const load = (options?: { readonly prefix?: string }): Effect.Effect<Policy, InvalidConfig> =>
  loadChecked(checkedConfig, options?.prefix)

/**
 * The policy the appenders of a program use unless given their own.
 *
 * @since 0.1.0
 */
export class RotationPolicy extends Context.Tag("effect-logrotate/RotationPolicy")<RotationPolicy, Policy>() {}

/**
 * A fixed policy.
 *
 * @since 0.1.0
 */
export const layer = (policy: Input): Layer.Layer<RotationPolicy> =>
  Layer.sync(RotationPolicy, () => unsafeMake(policy))

/**
 * The policy from configuration; fails with `InvalidConfig` naming the variable, so nothing starts with a bad policy.
 *
 * @since 0.1.0
 */
export const layerConfig = (options?: { readonly prefix?: string }): Layer.Layer<RotationPolicy, InvalidConfig> =>
  Layer.effect(RotationPolicy, load(options))

export { BYTE_SIZE_FORM }
