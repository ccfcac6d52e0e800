/**
 * The retention policy (ADR-0016) and its resolution from configuration. The policy's settings
 * cover every listed directory (output and DLQ directories alike), except where `directories`
 * gives a directory settings of its own (issue 12; from a JSON file: `RetentionConfig`).
 *
 * | variable                               | default | accepted                                                   |
 * |----------------------------------------|---------|------------------------------------------------------------|
 * | `LOG_RETENTION_ENABLED`                | false   | true, false, 1, 0, yes, no, on, off                        |
 * | `LOG_RETENTION_DIRS`                   | (none)  | comma-separated directories; required when enabled         |
 * | `LOG_RETENTION_MAX_AGE_DAYS`           | 30      | whole number >= 1: files older than this are deleted       |
 * | `LOG_RETENTION_COMPRESS_AGE_DAYS`      | 0       | whole number >= 0, below the max age; 0 = never compress   |
 * | `LOG_RETENTION_CHECK_INTERVAL_SECONDS` | 3600    | whole number >= 1: time between the end of one sweep and the next |
 * | `LOG_RETENTION_MAX_TOTAL_BYTES`        | (none)  | a byte size (`ByteSize`: `10GiB`, `500MB`, `1048576`): the most the managed files of each directory may take; older files are deleted to fit (`SizeCap`) |
 *
 * A host prefix (`TAU_LOG_RETENTION_ENABLED`) is Effect's own nesting:
 * `RetentionPolicy.layerConfig({ prefix: "TAU" })`, or `Config.nested(RetentionPolicy.config, "TAU")`.
 * Settings are read once; changing them needs a restart.
 *
 * Needs nothing in context; `layerConfig`/`load` read Effect's `ConfigProvider` and fail with
 * `InvalidConfig` naming the variable (or the `directories` field), the value and the accepted
 * form, so nothing starts with a bad policy. `directories`, `maxTotalBytes` and `naming` (a
 * checked `NamingPattern`) since 0.2.0; from a JSON file, see `RetentionConfig`.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetentionPolicy } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const { enabled, dirs, maxAgeDays } = yield* RetentionPolicy.RetentionPolicy
 * }).pipe(Effect.provide(RetentionPolicy.layerConfig({ prefix: "TAU" })))
 * ```
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { type Checked, checkAll, decodeBoolean, decodeInteger, decodeList, load as loadChecked, setting, unchecked } from "../ConfigValue.js"
import * as ByteSize from "../ByteSize.js"
import { InvalidConfig } from "../Errors.js"
import * as FileNaming from "./FileNaming.js"
import * as Path from "node:path"

/**
 * Files whose date is more than this many days before today are deleted.
 *
 * @since 0.1.0
 */
export const MaxAgeDays = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1), Schema.brand("MaxAgeDays"))
/** @since 0.1.0 */
export type MaxAgeDays = typeof MaxAgeDays.Type

/**
 * Uncompressed files more than this many days old are gzipped; 0 turns compression off.
 *
 * @since 0.1.0
 */
export const CompressAgeDays = Schema.NonNegativeInt.pipe(Schema.brand("CompressAgeDays"))
/** @since 0.1.0 */
export type CompressAgeDays = typeof CompressAgeDays.Type

/**
 * The longest interval: Effect's (and Node's) timers hold at most 2^31-1 ms; a longer one was
 * accepted and then the worker never swept again. 2147483 seconds is about 24.8 days.
 *
 * @since 0.1.0
 */
export const MAX_CHECK_INTERVAL_SECONDS = 2147483

/**
 * Seconds from the end of one sweep to the start of the next: 1..{@link MAX_CHECK_INTERVAL_SECONDS}.
 *
 * @since 0.1.0
 */
export const CheckIntervalSeconds = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1),
  Schema.lessThanOrEqualTo(MAX_CHECK_INTERVAL_SECONDS), Schema.brand("CheckIntervalSeconds"))
/** @since 0.1.0 */
export type CheckIntervalSeconds = typeof CheckIntervalSeconds.Type

/**
 * The user and group a sweep acts as (logrotate's `su`), names or numeric ids. Needed to sweep,
 * as root, a directory other users can write: the sweep then switches its effective ids to
 * these for that directory. No environment variable: set it in code.
 *
 * @since 0.1.0
 */
export const Su = Schema.Struct({ user: Schema.NonEmptyTrimmedString, group: Schema.NonEmptyTrimmedString })
/** @since 0.1.0 */
export type Su = typeof Su.Type

/**
 * What a file-name pattern must be: one `FileNaming.fromPattern` accepts.
 *
 * @since 0.2.0
 */
export const NAMING_FORM =
  `a file-name pattern that can be parsed back: {prefix} and {date} once each, optionally {hour} once, no / or \\, e.g. "{prefix}.{date}.log"`

/**
 * A file-name pattern `FileNaming.fromPattern` accepts, kept as written.
 *
 * @since 0.2.0
 */
export const NamingPattern = Schema.String.pipe(Schema.filter((pattern) =>
  Either.match(FileNaming.fromPattern(pattern), { onLeft: (e) => e.detail, onRight: () => true })))

/** A pattern, or the InvalidConfig naming `variable`, the pattern, what is wrong with it and the accepted form. */
const checkNaming = (variable: string, pattern: string): Either.Either<string, InvalidConfig> =>
  Either.match(FileNaming.fromPattern(pattern), {
    onLeft: (e) => Either.left(new InvalidConfig({ variable, value: pattern, expected: `${NAMING_FORM} (here: ${e.detail})` })),
    onRight: () => Either.right(pattern)
  })

/**
 * One directory's own settings: each field set wins over the policy's for that directory
 * (`Sweeper.thresholdsFor`). `naming` is a file-name pattern kept as written (see `FileNaming`).
 *
 * @since 0.2.0
 */
export const DirectoryPolicy = Schema.Struct({
  dir: Schema.String,
  maxAgeDays: Schema.optional(MaxAgeDays),
  compressAgeDays: Schema.optional(CompressAgeDays),
  maxTotalBytes: Schema.optional(Schema.NonNegativeInt),
  naming: Schema.optional(NamingPattern)
})
/** @since 0.2.0 */
export type DirectoryPolicy = typeof DirectoryPolicy.Type

/** @since 0.1.0 */
export const Policy = Schema.Struct({
  enabled: Schema.Boolean,
  dirs: Schema.Array(Schema.String),
  maxAgeDays: MaxAgeDays,
  compressAgeDays: CompressAgeDays,
  checkIntervalSeconds: CheckIntervalSeconds,
  maxTotalBytes: Schema.optional(Schema.NonNegativeInt),
  /** The file-name pattern of every directory without one of its own, kept as written (see `FileNaming`). */
  naming: Schema.optional(NamingPattern),
  /** Per-directory settings over the ones above; every directory named here is in `dirs` too. */
  directories: Schema.optional(Schema.Array(DirectoryPolicy)),
  su: Schema.optional(Su),
  allowProcessWideSu: Schema.optional(Schema.Boolean)
})
/** @since 0.1.0 */
export type Policy = typeof Policy.Type

/** @since 0.1.0 */
export const DEFAULT_MAX_AGE_DAYS = 30
/** @since 0.1.0 */
export const DEFAULT_COMPRESS_AGE_DAYS = 0
/** @since 0.1.0 */
export const DEFAULT_CHECK_INTERVAL_SECONDS = 3600

/**
 * A policy as written in code; anything left out takes its default.
 *
 * @since 0.1.0
 */
export interface Input {
  readonly enabled?: boolean
  readonly dirs?: ReadonlyArray<string>
  readonly maxAgeDays?: number
  readonly compressAgeDays?: number
  readonly checkIntervalSeconds?: number
  /**
   * Bytes: the most a directory's managed files (plain and `.gz`) may take after the age rules;
   * the oldest files dated before today are deleted until they fit (reason `"size-cap"`, see
   * `SizeCap`). Default: no cap.
   *
   * @since 0.2.0
   */
  readonly maxTotalBytes?: number
  /**
   * Directories with settings of their own, over the ones above (each field left out takes the
   * policy's). Every directory named here is swept, as if it were in `dirs` as well.
   *
   * @since 0.2.0
   */
  readonly directories?: ReadonlyArray<DirectoryInput>
  /**
   * The file-name pattern (e.g. `{prefix}.{date}.log`) of every directory without one of its own,
   * kept as written; default: the ADR's `<prefix>-YYYY-MM-DD.ndjson`. No environment variable.
   *
   * @since 0.2.0
   */
  readonly naming?: string
  /** Act as this user and group while sweeping (logrotate's `su`). Default: the process's own ids. */
  readonly su?: Su
  /**
   * `su` switches the effective user and group of the whole process: in a host that runs the
   * `RetentionWorker`, every other fiber (appenders included) acts as that user while a
   * directory is swept. So `RetentionWorker.layer` refuses a policy with `su` (`InvalidSu`)
   * unless this is `true`: run the sweep in a process of its own instead (a sweep-only process,
   * such as the `effect-logrotate` command), or set it when nothing else in the process writes files.
   * Default `false`. No environment variable.
   */
  readonly allowProcessWideSu?: boolean
}

/**
 * One directory's settings as written in code (see `DirectoryPolicy`).
 *
 * @since 0.2.0
 */
export interface DirectoryInput {
  readonly dir: string
  readonly maxAgeDays?: number
  readonly compressAgeDays?: number
  readonly maxTotalBytes?: number
  /** A file-name pattern such as `{prefix}.{date}.log`, kept as written. */
  readonly naming?: string
}

/**
 * The name each field is reported under in `InvalidConfig.variable` (where the caller got it: a variable as set, a JSON path).
 *
 * @since 0.1.0
 */
export type Names =
  & { readonly [K in Exclude<keyof Input, "su" | "allowProcessWideSu" | "maxTotalBytes" | "directories" | "naming">]-?: string }
  & {
    readonly maxTotalBytes?: string
    /** The name `naming` is reported under; default `naming` (no environment variable sets it). */
    readonly naming?: string
    /** The name of one directory's field; default `directories["<dir>"].<field>`. */
    readonly directory?: (dir: string, field: keyof DirectoryInput) => string
  }

/**
 * The environment variable of each field, without host prefix.
 *
 * @since 0.1.0
 */
export const variables: Required<Omit<Names, "directory" | "naming">> = {
  enabled: "LOG_RETENTION_ENABLED",
  dirs: "LOG_RETENTION_DIRS",
  maxAgeDays: "LOG_RETENTION_MAX_AGE_DAYS",
  compressAgeDays: "LOG_RETENTION_COMPRESS_AGE_DAYS",
  checkIntervalSeconds: "LOG_RETENTION_CHECK_INTERVAL_SECONDS",
  maxTotalBytes: "LOG_RETENTION_MAX_TOTAL_BYTES"
}

/** @since 0.1.0 */
export const MAX_AGE_DAYS_FORM = "a whole number >= 1 (days a file is kept)"
/** @since 0.1.0 */
export const COMPRESS_AGE_DAYS_FORM = "a whole number >= 0 (days before compression; 0 = never compress)"
/** @since 0.2.0 */
export const MAX_TOTAL_BYTES_FORM = `${ByteSize.BYTE_SIZE_FORM} (the most a directory's managed files may take; 0 = no cap)`
/** @since 0.1.0 */
export const CHECK_INTERVAL_SECONDS_FORM =
  `a whole number from 1 to ${MAX_CHECK_INTERVAL_SECONDS} (seconds between sweeps; at most about 24.8 days, the longest timer the runtime keeps)`

const field = <A, I>(schema: Schema.Schema<A, I>, name: string, value: unknown, expected: string) =>
  Either.mapLeft(Schema.decodeUnknownEither(schema)(value), () =>
    new InvalidConfig({ variable: name, value: String(value), expected }))

/**
 * `directories["/var/log/relay"].maxAgeDays`: where a directory's field is, in a configuration.
 *
 * @since 0.2.0
 */
export const directoryFieldName = (dir: string, field: string): string => `directories[${JSON.stringify(dir)}].${field}`

/**
 * Each directory's settings checked, its path resolved; its compression age checked against its
 * own maximum age (each taking the policy's when left out). A directory named twice is an error.
 */
const decodeDirectories = (
  inputs: ReadonlyArray<DirectoryInput>,
  names: Names,
  global: { readonly maxAgeDays: number; readonly compressAgeDays: number }
): Either.Either<ReadonlyArray<DirectoryPolicy>, InvalidConfig> =>
  Either.gen(function* () {
    const name = names.directory ?? directoryFieldName
    const out: Array<DirectoryPolicy> = []
    const seen = new Map<string, string>()
    for (const d of inputs) {
      const dir = Path.resolve(d.dir.trim())
      if (d.dir.trim() === "") {
        return yield* Either.left(new InvalidConfig({ variable: name(d.dir, "dir"), value: d.dir, expected: "a directory path" }))
      }
      const earlier = seen.get(dir)
      if (earlier !== undefined) {
        return yield* Either.left(new InvalidConfig({
          variable: name(d.dir, "dir"), value: d.dir, expected: `each directory once (${JSON.stringify(earlier)} names the same one, ${dir})`
        }))
      }
      seen.set(dir, d.dir)
      const maxAgeDays = d.maxAgeDays === undefined ? undefined : yield* field(MaxAgeDays, name(d.dir, "maxAgeDays"), d.maxAgeDays, MAX_AGE_DAYS_FORM)
      const compressAgeDays = d.compressAgeDays === undefined ? undefined
        : yield* field(CompressAgeDays, name(d.dir, "compressAgeDays"), d.compressAgeDays, COMPRESS_AGE_DAYS_FORM)
      const maxTotalBytes = d.maxTotalBytes === undefined ? undefined
        : yield* field(Schema.NonNegativeInt, name(d.dir, "maxTotalBytes"), d.maxTotalBytes, MAX_TOTAL_BYTES_FORM)
      const max = maxAgeDays ?? global.maxAgeDays
      const compress = compressAgeDays ?? global.compressAgeDays
      if (compress > 0 && compress >= max) {
        return yield* Either.left(new InvalidConfig({
          variable: name(d.dir, compressAgeDays === undefined ? "maxAgeDays" : "compressAgeDays"),
          value: String(compressAgeDays === undefined ? max : compress),
          expected: compressAgeDays === undefined
            ? `a maximum age above the compression age (${compress} days) that this directory takes from the settings for every directory (a flag, the file's defaults or the environment)`
            : `0 (no compression) or a whole number below this directory's maximum age (${max} days)`
        }))
      }
      out.push({
        dir,
        ...(maxAgeDays === undefined ? {} : { maxAgeDays }),
        ...(compressAgeDays === undefined ? {} : { compressAgeDays }),
        ...(maxTotalBytes === undefined ? {} : { maxTotalBytes }),
        ...(d.naming === undefined ? {} : { naming: yield* checkNaming(name(d.dir, "naming"), d.naming) })
      })
    }
    return out
  })

/**
 * Validates a policy written in code. Errors name the field as
 * `names` spells it (default: the environment variables), with the value and the accepted form.
 *
 * @example
 * ```ts
 * RetentionPolicy.decode({ enabled: true, dirs: ["/var/log/relay"], maxAgeDays: 30, compressAgeDays: 7 }) // Either.right(policy)
 * RetentionPolicy.decode({ maxAgeDays: 7, compressAgeDays: 7 })
 * // Either.left(InvalidConfig { variable: "LOG_RETENTION_COMPRESS_AGE_DAYS", value: "7", … })
 * ```
 *
 * @since 0.1.0
 */
export const decode = (input: Input, names: Names = variables): Either.Either<Policy, InvalidConfig> =>
  Either.gen(function* () {
    const maxAgeDays = yield* field(MaxAgeDays, names.maxAgeDays, input.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS, MAX_AGE_DAYS_FORM)
    const compressAgeDays = yield* field(
      CompressAgeDays, names.compressAgeDays, input.compressAgeDays ?? DEFAULT_COMPRESS_AGE_DAYS, COMPRESS_AGE_DAYS_FORM)
    const checkIntervalSeconds = yield* field(CheckIntervalSeconds, names.checkIntervalSeconds,
      input.checkIntervalSeconds ?? DEFAULT_CHECK_INTERVAL_SECONDS, CHECK_INTERVAL_SECONDS_FORM)
    const enabled = input.enabled ?? false
    if (compressAgeDays > 0 && compressAgeDays >= maxAgeDays) {
      return yield* Either.left(new InvalidConfig({
        variable: names.compressAgeDays, value: String(compressAgeDays),
        expected: `0 (no compression) or a whole number below the maximum age (${maxAgeDays} days)`
      }))
    }
    const directories = yield* decodeDirectories(input.directories ?? [], names, { maxAgeDays, compressAgeDays })
    // Resolved, so `logs` and `./logs/` are one directory, swept once.
    const dirs = [...new Set([...(input.dirs ?? []), ...directories.map((d) => d.dir)]
      .map((d) => d.trim()).filter((d) => d.length > 0).map((d) => Path.resolve(d)))]
    if (enabled && dirs.length === 0) {
      return yield* Either.left(new InvalidConfig({
        variable: names.dirs, value: (input.dirs ?? []).join(","),
        expected: `at least one directory (comma-separated) when ${names.enabled} is true`
      }))
    }
    const su = input.su === undefined ? {} : { su: yield* field(Su, "su", input.su, "USER:GROUP, names or numeric ids") }
    const allow = input.allowProcessWideSu === undefined ? {} : { allowProcessWideSu: input.allowProcessWideSu }
    const cap = input.maxTotalBytes === undefined ? {}
      : { maxTotalBytes: yield* field(Schema.NonNegativeInt, names.maxTotalBytes ?? variables.maxTotalBytes, input.maxTotalBytes, MAX_TOTAL_BYTES_FORM) }
    const own = directories.length === 0 ? {} : { directories }
    const naming = input.naming === undefined ? {} : { naming: yield* checkNaming(names.naming ?? "naming", input.naming) }
    return { enabled, dirs, maxAgeDays, compressAgeDays, checkIntervalSeconds, ...cap, ...naming, ...own, ...su, ...allow }
  })

/**
 * @deprecated 0.2.0: `make` in this library builds with an Effect; this one validates, so it
 * is now `decode` (the same function, returning an `Either`). Kept working as before.
 * @since 0.1.0
 */
export const make = (input: Input, names: Names = variables): Either.Either<Policy, InvalidConfig> => decode(input, names)

/** Retention off, and the defaults for everything else. */
export const defaults: Policy = Either.getOrThrow(decode({}))

/** A setting that is `undefined` when its variable is not set. */
const optional = <A>(name: string, decode: (raw: string) => Either.Either<A, string>) => setting<A | undefined>(name, decode, undefined)

/** Only the fields whose value is not `undefined`. */
const defined = <A extends object>(a: A): A =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

/**
 * The six `LOG_RETENTION_…` settings as set, each decoded but without defaults or cross-field
 * checks (an unset variable is absent from the `Input`), checked: `Left(InvalidConfig)` naming the
 * variable without host prefix. What `RetentionConfig` layers a file over.
 *
 * @since 0.2.0
 */
export const checkedInputConfig: Config.Config<Checked<Input>> = checkAll({
  enabled: optional(variables.enabled, decodeBoolean),
  dirs: optional(variables.dirs, decodeList),
  maxAgeDays: optional(variables.maxAgeDays, decodeInteger(1, MAX_AGE_DAYS_FORM)),
  compressAgeDays: optional(variables.compressAgeDays, decodeInteger(0, COMPRESS_AGE_DAYS_FORM)),
  checkIntervalSeconds: optional(variables.checkIntervalSeconds, decodeInteger(1, CHECK_INTERVAL_SECONDS_FORM)),
  maxTotalBytes: optional(variables.maxTotalBytes, (raw) => Either.mapLeft(ByteSize.parse(raw), () => MAX_TOTAL_BYTES_FORM))
}).pipe(Config.map(Either.map((all) => defined(all) as Input)))

/** `checkedInputConfig` as a plain `Config`: an invalid setting is a `ConfigError` at its variable. */
export const inputConfig: Config.Config<Input> = unchecked(checkedInputConfig)

const checkedConfig: Config.Config<Checked<Policy>> = checkedInputConfig.pipe(
  Config.map(Either.flatMap((input) => decode(input))))

/**
 * The six `LOG_RETENTION_…` settings, with defaults when missing and cross-field checks.
 *
 * @since 0.1.0
 */
export const config: Config.Config<Policy> = unchecked(checkedConfig)

/**
 * Reads the policy from the current `ConfigProvider`, optionally under a host prefix such as `"TAU"`.
 *
 * @example
 * ```ts
 * // TAU_LOG_RETENTION_ENABLED=true TAU_LOG_RETENTION_DIRS=/var/log/relay,/var/log/relay/dlq
 * const policy = yield* RetentionPolicy.load({ prefix: "TAU" })
 * ```
 *
 * @since 0.1.0
 */
export const load = (options?: { readonly prefix?: string }): Effect.Effect<Policy, InvalidConfig> =>
  loadChecked(checkedConfig, options?.prefix)

/**
 * The policy the `RetentionWorker` applies.
 *
 * @since 0.1.0
 */
export class RetentionPolicy extends Context.Tag("effect-logrotate/RetentionPolicy")<RetentionPolicy, Policy>() {}

/**
 * A fixed policy; fails with `InvalidConfig` when `input` is invalid.
 *
 * @example
 * ```ts
 * RetentionPolicy.layer({ enabled: true, dirs: ["/var/log/relay"], maxAgeDays: 30, compressAgeDays: 7 })
 * ```
 *
 * @since 0.1.0
 */
export const layer = (input: Input): Layer.Layer<RetentionPolicy, InvalidConfig> =>
  Layer.effect(RetentionPolicy, decode(input))

/**
 * The policy from configuration; fails with `InvalidConfig` naming the variable, so nothing
 * is swept with a bad policy.
 *
 * @example
 * ```ts
 * RetentionWorker.layer.pipe(Layer.provide(RetentionPolicy.layerConfig({ prefix: "TAU" })))
 * ```
 *
 * @since 0.1.0
 */
export const layerConfig = (options?: { readonly prefix?: string }): Layer.Layer<RetentionPolicy, InvalidConfig> =>
  Layer.effect(RetentionPolicy, load(options))
