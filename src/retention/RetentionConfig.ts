/**
 * Per-directory retention: one configuration with defaults and an entry per directory, read from
 * a JSON file (decoded with `effect/Schema`) or built in code (`RetentionPolicy.decode` with
 * `directories`), layered over the `LOG_RETENTION_…` environment variables.
 *
 * The file (every key optional; unknown keys are errors):
 * ```json
 * {
 *   "defaults": { "maxAgeDays": 30, "compressAgeDays": 7, "maxTotalBytes": "10GiB" },
 *   "checkIntervalSeconds": 3600,
 *   "directories": {
 *     "/var/log/relay": { "maxAgeDays": 14, "maxTotalBytes": "2GiB" },
 *     "/var/log/relay/dlq": { "maxAgeDays": 90, "naming": "{prefix}-{date}.ndjson" }
 *   }
 * }
 * ```
 * - `maxAgeDays` (whole number >= 1), `compressAgeDays` (whole number >= 0, below the maximum age;
 *   0 = never), `maxTotalBytes` (a whole number of bytes, or a size string as
 *   `LOG_ROTATION_MAX_BYTES` takes it: `"512MiB"`, `"10GB"`), `naming` (a file-name pattern,
 *   kept as written for `FileNaming`), in `defaults` and in each directory's entry.
 * - Directory keys are paths; a relative one is resolved against the file's own directory.
 *   Every directory named is swept.
 *
 * **Precedence**, for each setting of each directory, the first that is set wins:
 * 1. the `override` layer (settings the caller gives over the file, e.g. a command's flags), for every directory;
 * 2. the directory's entry in the file;
 * 3. the file's `defaults`;
 * 4. the `base` layer (the environment variables of ADR-0016);
 * 5. the built-in default (`RetentionPolicy.defaults`).
 *
 * Which directories are swept: the `dirs` given (e.g. a command's arguments), exactly those,
 * each with its entry when the file names it and the defaults otherwise; else the file's
 * `directories`; else the `base` layer's `dirs` (`LOG_RETENTION_DIRS`).
 *
 * Every problem with the file is an `InvalidRetentionConfig` naming the file, the JSON path
 * (`$.directories["/var/log/relay"].maxAgeDays`), the value and the accepted form; a problem
 * across layers (a compression age not below the maximum age) is an `InvalidConfig` naming the
 * same path. Nothing is swept with a bad configuration.
 *
 * In context: `layerConfig`/`layerFile`/`load` need a `FileSystem` (to read the file) and read the
 * environment through Effect's `ConfigProvider`; `decode`/`parse` are pure. The result is a
 * `RetentionPolicy` (with `directories`) for the `RetentionWorker` or `Sweeper.sweep`.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { Compressor, RetentionConfig, RetentionWorker, SafeFs, Sweeper } from "effect-logrotate"
 *
 * const SweeperLive = Sweeper.layer.pipe(
 *   Layer.provide(Compressor.layer), Layer.provide(SafeFs.layerNode), Layer.provide(NodeFileSystem.layer))
 * // LOG_RETENTION_ENABLED=true LOG_RETENTION_CONFIG=/etc/relay/retention.json
 * const Policy = RetentionConfig.layerConfig({ prefix: "TAU" }).pipe(Layer.provide(NodeFileSystem.layer))
 * const RetentionLive = RetentionWorker.layer.pipe(Layer.provide(Policy), Layer.provide(SweeperLive))
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Path from "node:path"
import * as ByteSize from "../ByteSize.js"
import { load as loadChecked, toInvalidConfig, underPrefix } from "../ConfigValue.js"
import { type ConfigIssue, type InvalidConfig, InvalidRetentionConfig } from "../Errors.js"
import * as RetentionPolicy from "./RetentionPolicy.js"

/**
 * The environment variable naming the configuration file, without host prefix.
 *
 * @since 0.2.0
 */
export const CONFIG_VARIABLE = "LOG_RETENTION_CONFIG"

const form = <S extends Schema.Schema.Any>(schema: S, expected: string): S =>
  schema.annotations({ message: () => ({ message: expected, override: true }) }) as S

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** @since 0.2.0 */
export const NAMING_FORM = RetentionPolicy.NAMING_FORM
/** @since 0.2.0 */
export const DIRECTORY_FORM = "an object with any of maxAgeDays, compressAgeDays, maxTotalBytes, naming"
/** @since 0.2.0 */
export const DIRECTORIES_FORM = `an object mapping each directory path to its settings, e.g. {"/var/log/relay": {"maxAgeDays": 14}}`
/** @since 0.2.0 */
export const FILE_FORM = "a JSON object with any of defaults, checkIntervalSeconds, directories"

/**
 * One directory's settings in the file (and the file's `defaults`).
 *
 * @since 0.2.0
 */
export const DirectorySettings = Schema.Struct({
  maxAgeDays: opt(form(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), RetentionPolicy.MAX_AGE_DAYS_FORM)),
  compressAgeDays: opt(form(Schema.NonNegativeInt, RetentionPolicy.COMPRESS_AGE_DAYS_FORM)),
  maxTotalBytes: opt(form(Schema.Union(Schema.NonNegativeInt, ByteSize.ByteSize), RetentionPolicy.MAX_TOTAL_BYTES_FORM)),
  naming: opt(form(RetentionPolicy.NamingPattern, NAMING_FORM))
}).annotations({ message: () => DIRECTORY_FORM })
/** @since 0.2.0 */
export type DirectorySettings = typeof DirectorySettings.Type

/**
 * The configuration file.
 *
 * @since 0.2.0
 */
export const ConfigFile = Schema.Struct({
  defaults: opt(DirectorySettings),
  checkIntervalSeconds: opt(form(
    Schema.Int.pipe(Schema.between(1, RetentionPolicy.MAX_CHECK_INTERVAL_SECONDS)), RetentionPolicy.CHECK_INTERVAL_SECONDS_FORM)),
  directories: opt(Schema.Record({ key: Schema.String, value: DirectorySettings }).annotations({ message: () => DIRECTORIES_FORM }))
}).annotations({ message: () => FILE_FORM })
/** @since 0.2.0 */
export type ConfigFile = typeof ConfigFile.Type

/**
 * `$`, `$.defaults.maxAgeDays`, `$.directories["/var/log"].naming`.
 *
 * @since 0.2.0
 */
export const jsonPath = (path: ReadonlyArray<PropertyKey>): string =>
  "$" + path.map((k) => typeof k === "number" ? `[${k}]` : typeof k === "string" && /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(String(k))}]`).join("")

const at = (value: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), value)

const show = (value: unknown): string => value === undefined ? "(missing)" : JSON.stringify(value) ?? String(value)

const decodeFile = Schema.decodeUnknownEither(ConfigFile, { errors: "all", onExcessProperty: "error" })

/**
 * Decodes parsed JSON; every issue (all of them, not the first only) names its JSON path, the
 * value and the accepted form. Pure.
 *
 * @example
 * ```ts
 * RetentionConfig.decode("retention.json", { defaults: { maxAgeDays: 0 } })
 * // Either.left(InvalidRetentionConfig { issues: [{ path: "$.defaults.maxAgeDays", value: "0", expected: "a whole number >= 1 …" }] })
 * ```
 *
 * @since 0.2.0
 */
export const decode = (source: string, json: unknown): Either.Either<ConfigFile, InvalidRetentionConfig> =>
  Either.mapLeft(decodeFile(json), (error) => {
    const issues: Array<ConfigIssue> = []
    const seen = new Set<string>()
    for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
      const path = jsonPath(issue.path)
      if (seen.has(path)) continue
      seen.add(path)
      const unknownKey = issue._tag === "Unexpected"
      issues.push({
        reason: unknownKey ? "unknown-key" : "invalid-value",
        path,
        value: show(at(json, issue.path)),
        expected: unknownKey ? `one of the keys ${issue.message.replace(/^is unexpected, expected: /, "")}` : issue.message
      })
    }
    return new InvalidRetentionConfig({ source, issues })
  })

/**
 * Parses and decodes the text of a configuration file. Pure.
 *
 * @example
 * ```ts
 * RetentionConfig.parse("retention.json", '{"defaults": {"maxAgeDays": 14}}') // Either.right({ defaults: { maxAgeDays: 14 } })
 * ```
 *
 * @since 0.2.0
 */
export const parse = (source: string, text: string): Either.Either<ConfigFile, InvalidRetentionConfig> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(new InvalidRetentionConfig({
      source, issues: [{ reason: "not-json", path: "$", value: e instanceof Error ? e.message : String(e), expected: `valid JSON: ${FILE_FORM}` }]
    }))
  }
  return decode(source, json)
}

/**
 * Reads and decodes a configuration file.
 *
 * @example
 * ```ts
 * const file = yield* RetentionConfig.read("/etc/relay/retention.json")
 * ```
 *
 * @since 0.2.0
 */
export const read = (path: string): Effect.Effect<ConfigFile, InvalidRetentionConfig, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
    Effect.mapError((e) => new InvalidRetentionConfig({
      source: path, issues: [{ reason: "unreadable", path: "$", value: e.message, expected: "a readable file holding JSON" }]
    })),
    Effect.flatMap((text) => parse(path, text))
  )

/**
 * The settings a layer (flags, environment) may hold, and the name each is reported under.
 *
 * @since 0.2.0
 */
export interface Layered {
  readonly input: RetentionPolicy.Input
  /** The name of each field of `input` in errors (a flag, a variable); default: the environment variables. */
  readonly names?: Partial<Omit<RetentionPolicy.Names, "directory">>
}

/** @since 0.2.0 */
export interface Layers {
  /** The highest layer, over the file, for every directory (e.g. a command's flags). */
  readonly override?: Layered
  /** The layer under the file (the environment variables). */
  readonly base?: Layered
  /** Sweep exactly these directories (e.g. a command's arguments), not the file's list. */
  readonly dirs?: ReadonlyArray<string>
}

type Field = "maxAgeDays" | "compressAgeDays" | "maxTotalBytes" | "checkIntervalSeconds"

/**
 * The policy of a configuration file layered as the module comment says: `source` is the file's
 * path (relative directory keys are resolved against its directory; errors name it). Pure.
 *
 * @example
 * ```ts
 * RetentionConfig.toPolicy("/etc/relay/retention.json", file, {
 *   override: { input: { maxAgeDays: 7 }, names: { maxAgeDays: "--max-age-days" } },
 *   base: { input: envInput }
 * })
 * ```
 *
 * @since 0.2.0
 */
export const toPolicy = (
  source: string,
  file: ConfigFile,
  layers: Layers = {}
): Either.Either<RetentionPolicy.Policy, InvalidConfig> => {
  const over = layers.override?.input ?? {}
  const base = layers.base?.input ?? {}
  const inFile = (path: string) => `${source}: ${path}`
  const names: Record<string, string> = { ...RetentionPolicy.variables, ...layers.base?.names }
  const input: Record<string, unknown> = { ...base }
  const fromFile: Partial<Record<Field, unknown>> = {
    ...file.defaults, ...(file.checkIntervalSeconds === undefined ? {} : { checkIntervalSeconds: file.checkIntervalSeconds })
  }
  for (const field of ["maxAgeDays", "compressAgeDays", "maxTotalBytes", "checkIntervalSeconds"] as const) {
    if (over[field] !== undefined) {
      input[field] = over[field]
      names[field] = layers.override?.names?.[field] ?? names[field]!
    } else if (fromFile[field] !== undefined) {
      input[field] = fromFile[field]
      names[field] = inFile(jsonPath(field === "checkIntervalSeconds" ? [field] : ["defaults", field]))
    }
  }
  if (over.enabled !== undefined) input.enabled = over.enabled
  if (file.defaults?.naming !== undefined) input.naming = file.defaults.naming
  const baseDir = Path.dirname(Path.resolve(source))
  const entries = Object.entries(file.directories ?? {}).map(([key, settings]) => ({ key, dir: Path.resolve(baseDir, key), settings }))
  const wanted = layers.dirs === undefined ? undefined : new Set(layers.dirs.map((d) => Path.resolve(d)))
  const directories: Array<RetentionPolicy.DirectoryInput> = []
  for (const { dir, settings } of entries) {
    if (wanted !== undefined && !wanted.has(dir)) continue
    directories.push({
      dir,
      ...(settings.maxAgeDays === undefined || over.maxAgeDays !== undefined ? {} : { maxAgeDays: settings.maxAgeDays }),
      ...(settings.compressAgeDays === undefined || over.compressAgeDays !== undefined ? {} : { compressAgeDays: settings.compressAgeDays }),
      ...(settings.maxTotalBytes === undefined || over.maxTotalBytes !== undefined ? {} : { maxTotalBytes: settings.maxTotalBytes }),
      ...(settings.naming === undefined ? {} : { naming: settings.naming })
    })
  }
  const keyOf = new Map(entries.map((e) => [e.dir, e.key]))
  input.directories = directories
  input.dirs = layers.dirs ?? (entries.length > 0 ? [] : base.dirs ?? [])
  if (layers.dirs !== undefined && layers.override?.names?.dirs !== undefined) names.dirs = layers.override.names.dirs
  else if (entries.length > 0) names.dirs = inFile("$.directories")
  return RetentionPolicy.decode(input as RetentionPolicy.Input, {
    ...(names as unknown as RetentionPolicy.Names),
    directory: (dir, field) => inFile(jsonPath(["directories", keyOf.get(Path.resolve(dir)) ?? dir, field]))
  })
}

/**
 * The policy from the environment, with the file `LOG_RETENTION_CONFIG` names (under the host
 * prefix) layered over it when set; without it, what `RetentionPolicy.load` gives.
 *
 * @example
 * ```ts
 * const policy = yield* RetentionConfig.load({ prefix: "TAU" }) // TAU_LOG_RETENTION_CONFIG=/etc/relay/retention.json
 * ```
 *
 * @since 0.2.0
 */
export const load = (options?: { readonly prefix?: string }): Effect.Effect<
  RetentionPolicy.Policy, InvalidConfig | InvalidRetentionConfig, FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    const nest = <A>(c: Config.Config<A>) => underPrefix(c, options?.prefix)
    const path = yield* Effect.mapError(nest(Config.option(Config.string(CONFIG_VARIABLE))), toInvalidConfig)
    if (Option.isNone(path)) return yield* RetentionPolicy.load(options)
    const base = yield* loadChecked(RetentionPolicy.checkedInputConfig, options?.prefix)
    const prefixed = (v: string) => options?.prefix ? `${options.prefix}_${v}` : v
    const names = Object.fromEntries(Object.entries(RetentionPolicy.variables).map(([k, v]) => [k, prefixed(v)]))
    const file = yield* read(path.value)
    return yield* toPolicy(path.value, file, { base: { input: base, names } })
  })

/**
 * The `RetentionPolicy` from `load`: the environment, and the file `LOG_RETENTION_CONFIG` names.
 *
 * @example
 * ```ts
 * RetentionWorker.layer.pipe(Layer.provide(RetentionConfig.layerConfig({ prefix: "TAU" })), Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.2.0
 */
export const layerConfig = (options?: { readonly prefix?: string }): Layer.Layer<
  RetentionPolicy.RetentionPolicy, InvalidConfig | InvalidRetentionConfig, FileSystem.FileSystem
> => Layer.effect(RetentionPolicy.RetentionPolicy, load(options))

/**
 * The `RetentionPolicy` of a configuration file, over the environment (no prefix unless given).
 *
 * @example
 * ```ts
 * RetentionConfig.layerFile("/etc/relay/retention.json")
 * ```
 *
 * @since 0.2.0
 */
export const layerFile = (path: string, options?: { readonly prefix?: string }): Layer.Layer<
  RetentionPolicy.RetentionPolicy, InvalidConfig | InvalidRetentionConfig, FileSystem.FileSystem
> => Layer.effect(RetentionPolicy.RetentionPolicy, Effect.gen(function* () {
  const base = yield* loadChecked(RetentionPolicy.checkedInputConfig, options?.prefix)
  const prefixed = (v: string) => options?.prefix ? `${options.prefix}_${v}` : v
  const names = Object.fromEntries(Object.entries(RetentionPolicy.variables).map(([k, v]) => [k, prefixed(v)]))
  return yield* toPolicy(path, yield* read(path), { base: { input: base, names } })
}))
