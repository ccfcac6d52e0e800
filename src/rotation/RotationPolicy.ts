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
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { BYTE_SIZE_FORM, parse as parseByteSize } from "../ByteSize.js"
import { decodeBoolean, decodeInteger, setting, toInvalidConfig, underPrefix } from "../ConfigValue.js"
import type { InvalidConfig } from "../Errors.js"

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
 * Validates a policy written in code; throws on invalid numbers (a programming error).
 *
 * @since 0.1.0
 */
export const make = (
  policy: { readonly maxBytes: number; readonly maxFiles: number; readonly compress?: boolean }
): Policy => Schema.decodeSync(Policy)(policy)

/** @since 0.1.0 */
export const defaults: Policy = make({ maxBytes: DEFAULT_MAX_BYTES, maxFiles: DEFAULT_MAX_FILES })

/** @since 0.1.0 */
export const MAX_FILES_FORM = "a whole number >= 0 (backups kept; 0 keeps none)"

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
 * Each setting on its own (for callers that let a flag override one of them), default when missing.
 *
 * @since 0.1.0
 */
export const settings = {
  maxBytes: setting(variables.maxBytes, parseByteSize, DEFAULT_MAX_BYTES),
  maxFiles: setting(variables.maxFiles, decodeInteger(0, MAX_FILES_FORM), DEFAULT_MAX_FILES),
  compress: setting(variables.compress, decodeBoolean, false)
}

/**
 * `LOG_ROTATION_MAX_BYTES`, `LOG_ROTATION_MAX_FILES` and `LOG_ROTATION_COMPRESS`, with defaults
 * when missing (`compress` only in the policy when true).
 *
 * @since 0.1.0
 */
export const config: Config.Config<Policy> = Config.all(settings).pipe(
  Config.map(({ compress, ...sizes }) => make(compress ? { ...sizes, compress } : sizes))
)

/**
 * Reads the policy from the current `ConfigProvider`, optionally under a host prefix such as `"TAU"`.
 *
 * @since 0.1.0
 */
export const load = (options?: { readonly prefix?: string }): Effect.Effect<Policy, InvalidConfig> =>
  Effect.mapError(underPrefix(config, options?.prefix), toInvalidConfig)

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
export const layer = (
  policy: { readonly maxBytes: number; readonly maxFiles: number; readonly compress?: boolean }
): Layer.Layer<RotationPolicy> =>
  Layer.sync(RotationPolicy, () => make(policy))

/**
 * The policy from configuration; fails with `InvalidConfig` naming the variable, so nothing starts with a bad policy.
 *
 * @since 0.1.0
 */
export const layerConfig = (options?: { readonly prefix?: string }): Layer.Layer<RotationPolicy, InvalidConfig> =>
  Layer.effect(RotationPolicy, load(options))

export { BYTE_SIZE_FORM }
