/**
 * The `effect-logrotate` command: the library as an operator's sidecar.
 *
 * - `append <file>`: stdin lines → size-rotated file (the job of rotatelogs / svlogd).
 * - `sweep <dir>...`: one retention sweep (`--dry-run`, `--json`, `--quiet`); its human output is
 *   `SweepOutput`'s: a line per file, then counts, failures on stderr.
 * - `watch [<dir>...]`: the retention worker as a daemon; `--events` prints each `LogEvents` event of its
 *   sweeps on stdout as one JSON object a line (`LogEvents.toJson`), subscribed before the first sweep.
 * - `logrotate-config <dir>...`: the logrotate configuration doing the same job.
 *
 * Settings: flag > for `sweep`/`watch`/`logrotate-config`, the configuration file (`--config FILE` / `LOG_RETENTION_CONFIG`:
 * a directory's entry, then the file's defaults; see `RetentionConfig`) > environment (`LOG_ROTATION_*`, `LOG_RETENTION_*`, or `<P>_LOG_…` with
 * `--env-prefix P`; `P_` is read as `P`, and a prefix that matches none of the command's variables
 * while one is set under another spelling is a usage error: see `internal/EnvPrefix`) > default. Exit codes: 0 success, 1 a sweep ran but files failed,
 * 2 bad usage or configuration (nothing on disk touched).
 *
 * Before @effect/cli parses the command line, `CliArgs` checks it against the options declared
 * here: an argument starting with `-` that is not an option of the command (or a built-in) is a
 * usage error, and a path starting with `-` goes after `--`; an argument before the command that
 * names none is an unknown command (exit 2). `--help` is rendered by `CliHelp`. Output carries ANSI
 * styles only to a terminal with `NO_COLOR` unset or empty. Logs (`watch`, `append`) go to stderr,
 * as logfmt or, with `--log-format json`, JSON lines. Signals: see `bin.ts`.
 *
 * The commands' code (appender, sweeper, worker) is in `CliCommands.ts`, imported only once a
 * command runs and its settings are resolved: `--help`, `--version` and usage errors do not load it.
 */
import { Args, type CliApp, Command, Options, ValidationError } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Path from "node:path"
import * as ByteSize from "../ByteSize.js"
import * as CliArgs from "./CliArgs.js"
import * as CliHelp from "./CliHelp.js"
import { type Checked, decodeInteger, decodeList, load as loadChecked, setting, toInvalidConfig, underPrefix } from "../ConfigValue.js"
import { InvalidConfig, InvalidSu } from "../Errors.js"
import * as FileNaming from "../retention/FileNaming.js"
import { ACCEPTED as LOCK_NAMES_ACCEPTED, reservedReason } from "../platform/internal/LockNames.js"
import * as LogrotateConfig from "../retention/LogrotateConfig.js"
import * as RetentionConfig from "../retention/RetentionConfig.js"
import type * as RetentionPlan from "../retention/RetentionPlan.js"
import * as RetentionPolicy from "../retention/RetentionPolicy.js"
import type * as RotatingAppender from "../rotation/RotatingAppender.js"
import * as RotationPolicy from "../rotation/RotationPolicy.js"
import * as EnvPrefix from "./EnvPrefix.js"
import { numericId, parseUserGroup, resolveIds, SU_FORM } from "../retention/internal/UserIds.js"
import * as SweepOutput from "./SweepOutput.js"
import type * as Sweeper from "../retention/Sweeper.js"
import { VERSION } from "../version.js"

/** Bad usage that the argument parser cannot see (e.g. no directory from flags or environment). */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Reading the input failed; what was read before has been written. */
export class ReadFailed extends Data.TaggedError("ReadFailed")<{ readonly message: string }> {}

/** Set when a run stopped by a signal failed to write what it had read: it must not exit 0. */
let failedAtShutdown = false

/** A sweep ran and some files failed; they have been reported. */
export class FilesFailed extends Data.TaggedError("FilesFailed")<{ readonly count: number }> {}

export const EXIT = { ok: 0, filesFailed: 1, usage: 2 } as const

// ---------------------------------------------------------------------------------------
// Settings: a flag wins; otherwise the (optionally prefixed) variable; otherwise the default.

const envPrefix = Options.text("env-prefix").pipe(
    Options.withPseudoName("PREFIX"),
  Options.withDescription("read LOG_* variables under this host prefix, e.g. TAU reads TAU_LOG_ROTATION_MAX_BYTES (TAU_ is read as TAU); a prefix that matches no variable while a similar one is set is a usage error"),
  Options.optional
)

/**
 * `--env-prefix`, checked against the environment (see EnvPrefix): normalised (`TAU_` is `TAU`), and
 * a usage error when malformed or when it matches no variable of the command while a similar one is set.
 */
const checkedPrefix = (raw: Option.Option<string>, family: EnvPrefix.Family) =>
  Option.match(raw, {
    onNone: () => Effect.succeed(Option.none<string>()),
    onSome: (value) => Effect.flatMap(Effect.sync(() => EnvPrefix.check(value, family, process.env)), Either.match({
      onLeft: (message) => Effect.fail(new UsageError({ message })),
      onRight: (prefix) => Effect.succeed(Option.some(prefix))
    }))
  })

const nested = <A>(config: Config.Config<A>, prefix: Option.Option<string>) => underPrefix(config, Option.getOrUndefined(prefix))

/** A checked setting from the environment, under the prefix: `InvalidConfig` names the variable as set. */
const fromEnv = <A>(config: Config.Config<Checked<A>>, prefix: Option.Option<string>) =>
  loadChecked(config, Option.getOrUndefined(prefix))

const envName = (variable: string, prefix: Option.Option<string>) =>
  Option.match(prefix, { onNone: () => variable, onSome: (p) => `${p}_${variable}` })

/** A flag's value, else the variable's (undefined when unset), with the name to blame in errors. */
const pick = <A>(flag: Option.Option<A>, flagName: string, config: Config.Config<Checked<A | undefined>>, variable: string,
  prefix: Option.Option<string>) =>
  Option.match(flag, {
    onSome: (value) => Effect.succeed({ value: value as A | undefined, name: flagName }),
    onNone: () => Effect.map(fromEnv(config, prefix), (value) => ({ value, name: envName(variable, prefix) }))
  })

const rotationOptions = {
  maxBytes: Options.text("max-bytes").pipe(
    Options.withPseudoName("SIZE"),
    Options.withDescription(`rotate before the file passes this size: ${ByteSize.BYTE_SIZE_FORM}; 0 = never (env LOG_ROTATION_MAX_BYTES, default 10MiB)`),
    Options.optional),
  maxFiles: Options.text("max-files").pipe(
    Options.withPseudoName("N"),
    Options.withDescription("backups kept, like logrotate's `rotate` (env LOG_ROTATION_MAX_FILES, default 5)"),
    Options.optional)
}

/** A flag's whole number, decoded like its environment variable, so errors read the same. */
const integerFlag = (flag: string, raw: Option.Option<string>, min: number, form: string) =>
  Option.match(raw, {
    onNone: () => Effect.succeed(Option.none<number>()),
    onSome: (value) => Either.match(decodeInteger(min, form)(value), {
      onLeft: (expected) => Effect.fail(new InvalidConfig({ variable: flag, value, expected })),
      onRight: (n) => Effect.succeed(Option.some(n))
    })
  })

const resolveRotation = (flags: {
  readonly maxBytes: Option.Option<string>
  readonly maxFiles: Option.Option<string>
  /** `--compress` given (a flag turns it on; without it, LOG_ROTATION_COMPRESS decides). */
  readonly compress: boolean
}, prefix: Option.Option<string>) =>
  Effect.gen(function* () {
    const maxBytes = yield* Option.match(flags.maxBytes, {
      onNone: () => fromEnv(RotationPolicy.checkedSettings.maxBytes, prefix),
      onSome: (raw) => Either.match(ByteSize.parse(raw), {
        onLeft: (expected) => Effect.fail(new InvalidConfig({ variable: "--max-bytes", value: raw, expected })),
        onRight: Effect.succeed
      })
    })
    const maxFiles = yield* Option.match(yield* integerFlag("--max-files", flags.maxFiles, 0, RotationPolicy.MAX_FILES_FORM), {
      onNone: () => fromEnv(RotationPolicy.checkedSettings.maxFiles, prefix),
      onSome: Effect.succeed
    })
    const compress = flags.compress || (yield* fromEnv(RotationPolicy.checkedSettings.compress, prefix))
    return RotationPolicy.unsafeMake(compress ? { maxBytes, maxFiles, compress } : { maxBytes, maxFiles })
  })

const retentionOptions = {
  maxAgeDays: Options.text("max-age-days").pipe(
    Options.withPseudoName("DAYS"),
    Options.withDescription("delete dated files older than this many days, like logrotate's `maxage` (env LOG_RETENTION_MAX_AGE_DAYS, default 30)"),
    Options.optional),
  compressAgeDays: Options.text("compress-age-days").pipe(
    Options.withPseudoName("DAYS"),
    Options.withDescription("gzip dated files older than this many days; 0 = never (env LOG_RETENTION_COMPRESS_AGE_DAYS, default 0)"),
    Options.optional)
}

/** `--max-total-size SIZE` of sweep, watch and logrotate-config: the size cap of every directory. */
const maxTotalSizeOption = Options.text("max-total-size").pipe(
  Options.withPseudoName("SIZE"),
  Options.withDescription(`after the age rules, delete the oldest dated files (never today's) until each directory's dated files take at most SIZE: ${ByteSize.BYTE_SIZE_FORM} (env LOG_RETENTION_MAX_TOTAL_BYTES, default no cap)`),
  Options.optional)

/** `--config FILE` of sweep, watch and logrotate-config: defaults and per-directory settings (see RetentionConfig). */
const configOption = Options.text("config").pipe(
  Options.withPseudoName("FILE"),
  Options.withDescription("a JSON file of defaults and per-directory settings (maxAgeDays, compressAgeDays, maxTotalBytes, naming); its directories are swept; a flag wins over the file, the file over the environment (env LOG_RETENTION_CONFIG)"),
  Options.optional)

/** `--su USER:GROUP` of sweep and watch: act as that user and group (logrotate's `su`). */
const suOption = Options.text("su").pipe(
  Options.withPseudoName("USER:GROUP"),
  Options.withDescription("sweep as this user and group (names or ids), like logrotate's `su`; needed as root for directories others can write"),
  Options.optional)

/**
 * `--su`, checked and resolved once, before anything runs: a malformed value, a numeric id outside
 * 0..4294967294 or a name missing from /etc/passwd or /etc/group is a usage error (exit 2), not a
 * failure of every directory (or, for `watch`, a warning every interval). The policy then carries the
 * numeric ids, so the sweep looks nothing up again.
 */
const withSu = (policy: RetentionPolicy.Policy, raw: Option.Option<string>): Effect.Effect<RetentionPolicy.Policy, UsageError | InvalidSu> =>
  Option.match(raw, {
    onNone: () => Effect.succeed(policy),
    onSome: (value) => Either.match(parseUserGroup(value), {
      onLeft: (reason) => Effect.fail(new UsageError({ message: `--su ${JSON.stringify(value)}: ${reason}; expected ${SU_FORM}` })),
      onRight: (su) => Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const read = (file: string, needed: boolean) => needed
          ? fs.readFileString(file).pipe(Effect.mapError((e) => new InvalidSu({ value, reason: "unreadable", detail: `cannot read ${file}: ${e.message}` })))
          : Effect.succeed("")
        const passwd = yield* read("/etc/passwd", numericId(su.user) === undefined)
        const group = yield* read("/etc/group", numericId(su.group) === undefined)
        const ids = yield* Either.match(resolveIds(su, () => passwd, () => group), {
          onLeft: (unresolved) => Effect.fail(new InvalidSu({ value, ...unresolved })),
          onRight: Effect.succeed
        })
        return { ...policy, su: { user: String(ids.uid), group: String(ids.gid) } } satisfies RetentionPolicy.Policy
      }).pipe(Effect.provide(FileSystemLive))
    })
  })

/** `--naming PATTERN` of sweep, watch and logrotate-config: how the dated files are named. */
const namingOption = Options.text("naming").pipe(
  Options.withPseudoName("PATTERN"),
  Options.withDescription(`how the dated files are named: {prefix}, {date} and optionally {hour} (hourly files) in text, e.g. "{prefix}.{date}.log" or "{prefix}-{date}-{hour}.ndjson" (default "${FileNaming.DEFAULT_PATTERN}")`),
  Options.optional)

/** `--naming`, built once before anything runs: a pattern that cannot be parsed back is a usage error (exit 2). */
const resolveNaming = (raw: Option.Option<string>): Effect.Effect<FileNaming.FileNaming | undefined, InvalidConfig> =>
  Option.match(raw, {
    onNone: () => Effect.succeed(undefined),
    onSome: (pattern) => Either.match(FileNaming.fromPattern(pattern), {
      onLeft: (e) => Effect.fail(new InvalidConfig({
        variable: "--naming", value: pattern,
        expected: `a pattern that can be parsed back (${e.reason}: ${e.detail}), with {prefix} and {date} once each and optionally {hour} once, no / or \\, e.g. "{prefix}.{date}.log" or "{prefix}-{date}-{hour}.ndjson"`
      })),
      onRight: Effect.succeed
    })
  })

const dirsArg = Args.text({ name: "dir" }).pipe(
  Args.withDescription("a directory of <prefix>-YYYY-MM-DD.ndjson(.gz) files (default: LOG_RETENTION_DIRS)"),
  Args.repeated
)

const optionalInteger = (variable: string, min: number, form: string) =>
  setting<number | undefined>(variable, decodeInteger(min, form), undefined)

const resolveRetention = (flags: {
  readonly dirs: ReadonlyArray<string>
  readonly maxAgeDays: Option.Option<string>
  readonly compressAgeDays: Option.Option<string>
  readonly intervalSeconds?: Option.Option<string>
  readonly maxTotalSize?: Option.Option<string>
  /** Absent for a command without `--config`: then `LOG_RETENTION_CONFIG` is not read either. */
  readonly config?: Option.Option<string>
}, prefix: Option.Option<string>) =>
  Effect.gen(function* () {
    const v = RetentionPolicy.variables
    const resolveInteger = (flag: string, raw: Option.Option<string> | undefined, variable: string, min: number, form: string) =>
      Effect.flatMap(integerFlag(flag, raw ?? Option.none(), min, form), (value) =>
        pick(value, flag, optionalInteger(variable, min, form), variable, prefix))
    const maxAge = yield* resolveInteger("--max-age-days", flags.maxAgeDays, v.maxAgeDays, 1, RetentionPolicy.MAX_AGE_DAYS_FORM)
    const compressAge = yield* resolveInteger("--compress-age-days", flags.compressAgeDays, v.compressAgeDays, 0,
      RetentionPolicy.COMPRESS_AGE_DAYS_FORM)
    const interval = yield* resolveInteger("--interval-seconds", flags.intervalSeconds, v.checkIntervalSeconds, 1,
      RetentionPolicy.CHECK_INTERVAL_SECONDS_FORM)
    const cap = yield* Option.match(flags.maxTotalSize ?? Option.none(), {
      onSome: (raw) => Either.match(ByteSize.parse(raw), {
        onLeft: (expected) => Effect.fail(new InvalidConfig({ variable: "--max-total-size", value: raw, expected })),
        onRight: (value) => Effect.succeed({ value: value as number | undefined, name: "--max-total-size" })
      }),
      onNone: () => pick(Option.none(), "--max-total-size", setting<number | undefined>(v.maxTotalBytes,
        (raw) => Either.mapLeft(ByteSize.parse(raw), () => RetentionPolicy.MAX_TOTAL_BYTES_FORM), undefined), v.maxTotalBytes, prefix)
    })
    const dirs = flags.dirs.length > 0
      ? { value: flags.dirs, name: "<dir>" }
      : yield* Effect.map(
        fromEnv(setting<ReadonlyArray<string>>(v.dirs, decodeList, []), prefix),
        (value) => ({ value, name: envName(v.dirs, prefix) }))
    const settings = { maxAgeDays: maxAge, compressAgeDays: compressAge, checkIntervalSeconds: interval, maxTotalBytes: cap }
    const names = { enabled: "enabled", dirs: dirs.name, maxAgeDays: maxAge.name, compressAgeDays: compressAge.name,
      checkIntervalSeconds: interval.name, maxTotalBytes: cap.name }
    // --config, else LOG_RETENTION_CONFIG (only for the commands that take --config).
    const configPath = flags.config === undefined ? Option.none<{ value: string; name: string }>() : Option.isSome(flags.config)
      ? Option.some({ value: flags.config.value, name: "--config" })
      : Option.map(yield* Effect.mapError(nested(Config.option(Config.string(RetentionConfig.CONFIG_VARIABLE)), prefix), toInvalidConfig),
        (value) => ({ value, name: envName(RetentionConfig.CONFIG_VARIABLE, prefix) }))
    if (Option.isSome(configPath)) {
      const path = configPath.value.value
      if (path.trim() === "") {
        return yield* new InvalidConfig({ variable: configPath.value.name, value: path, expected: "the path of a JSON configuration file" })
      }
      const file = yield* RetentionConfig.read(path).pipe(Effect.provide(FileSystemLive))
      // Precedence: flag > the file (a directory's entry, then its defaults) > environment > default.
      const fromFlags = (f: { readonly name: string }) => f.name.startsWith("--")
      const layer = (pickFlags: boolean) => Object.fromEntries(Object.entries(settings)
        .filter(([, f]) => f.value !== undefined && fromFlags(f) === pickFlags).map(([k, f]) => [k, f.value]))
      const policy = yield* RetentionConfig.toPolicy(path, file, {
        override: { input: layer(true), names },
        base: { input: { ...layer(false), ...(flags.dirs.length > 0 ? {} : { dirs: dirs.value }) }, names },
        ...(flags.dirs.length > 0 ? { dirs: flags.dirs } : {})
      })
      if (policy.dirs.length === 0) {
        return yield* new UsageError({
          message: `no directory given: pass <dir>..., name them under "directories" in ${path}, or set ${envName(v.dirs, prefix)} (comma-separated)`
        })
      }
      return { ...policy, enabled: true }
    }
    if (dirs.value.length === 0) {
      return yield* new UsageError({ message: `no directory given: pass <dir>... or set ${envName(v.dirs, prefix)} (comma-separated)` })
    }
    const input: RetentionPolicy.Input = {
      enabled: true,
      dirs: dirs.value,
      ...(maxAge.value === undefined ? {} : { maxAgeDays: maxAge.value }),
      ...(compressAge.value === undefined ? {} : { compressAgeDays: compressAge.value }),
      ...(interval.value === undefined ? {} : { checkIntervalSeconds: interval.value }),
      ...(cap.value === undefined ? {} : { maxTotalBytes: cap.value })
    }
    // The library names the environment variables; the CLI says where each value came from (a flag,
    // the prefixed variable, the <dir> arguments).
    return yield* Either.mapLeft(RetentionPolicy.decode(input), (error) => asGiven(error, names))
  })

/** `error` naming the flag or prefixed variable a setting came from, instead of the library's variable. */
const asGiven = (error: InvalidConfig, names: Partial<Record<keyof typeof RetentionPolicy.variables, string>>): InvalidConfig => {
  const field = (Object.keys(RetentionPolicy.variables) as Array<keyof typeof RetentionPolicy.variables>)
    .find((k) => RetentionPolicy.variables[k] === error.variable)
  const given = field === undefined ? undefined : names[field]
  return given === undefined || given === error.variable ? error
    : new InvalidConfig({ variable: given, value: error.value, expected: error.expected })
}

// ---------------------------------------------------------------------------------------
// Logs and output

/** Logs of `watch` and `append` go to stderr, as logfmt unless `--log-format json`. */
const logfmtStderr = Logger.withConsoleError(Logger.logfmtLogger)
const jsonStderr = Logger.withConsoleError(Logger.jsonLogger)

export const LOG_FORMATS = ["logfmt", "json"] as const
export type LogFormat = typeof LOG_FORMATS[number]

const logFormatOption = Options.choice("log-format", LOG_FORMATS).pipe(
  Options.withDescription("how logs are written to stderr: logfmt (key=value pairs, the default) or json (one JSON object a line, with a \"message\" field)"),
  Options.withDefault("logfmt" as LogFormat)
)

const withLogFormat = (format: LogFormat) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  format === "json" ? Effect.provide(self, Logger.replace(logfmtStderr, jsonStderr)) : self

const ANSI = /\x1b\[[0-9;]*m/g

/** Whether a stream may carry ANSI styles: a terminal, with `NO_COLOR` unset or empty (no-color.org). */
export const colorAllowed = (isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean =>
  isTTY === true && (env.NO_COLOR ?? "") === ""

/**
 * The console the CLI writes through: Node's, with ANSI styles (of `@effect/cli`'s help and
 * messages) removed from stdout and/or stderr.
 */
export const plainConsole = (base: Console.Console, plainOut: boolean, plainErr: boolean): Console.Console => {
  const strip = (on: boolean) => (args: ReadonlyArray<unknown>) =>
    on ? args.map((a) => typeof a === "string" ? a.replace(ANSI, "") : a) : args
  const out = strip(plainOut)
  const err = strip(plainErr)
  const log = (...args: ReadonlyArray<unknown>) => console.log(...out(args))
  const error = (...args: ReadonlyArray<unknown>) => console.error(...err(args))
  const unsafe: Console.UnsafeConsole = Object.assign(Object.create(console) as Console.UnsafeConsole,
    { log, info: log, error, warn: error })
  return {
    ...base,
    log: (...args) => Effect.sync(() => log(...args)),
    info: (...args) => Effect.sync(() => log(...args)),
    error: (...args) => Effect.sync(() => error(...args)),
    warn: (...args) => Effect.sync(() => error(...args)),
    unsafe
  }
}

// ---------------------------------------------------------------------------------------
// Commands

const FileSystemLive = NodeFileSystem.layer

/** The commands' code (appender, sweeper, ...), loaded when a command runs, not for `--help`. */
const commandsCode = Effect.promise(() => import("./CliCommands.js"))

/** For the scope's life, SIGHUP flushes and reopens the active file (after an outside `mv`), as sidecars do. */
const reopenOnSighup = (appender: RotatingAppender.RotatingAppender) =>
  Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const onHup = () =>
          void Runtime.runFork(runtime)(appender.reopen.pipe(
            Effect.catchAll((error) =>
              Effect.logWarning("reopen on SIGHUP failed").pipe(Effect.annotateLogs({ path: appender.path, error: error.message })))
          ))
        process.on("SIGHUP", onHup)
        return onHup
      }),
      (onHup) => Effect.sync(() => void process.off("SIGHUP", onHup))
    ))

/**
 * `<file>` must name a file: an empty path or a directory is a usage error (exit 2), not a raw
 * ENOENT/EISDIR from the open (exit 1). Anything else about the path is the appender's to report.
 */
const checkAppendPath = (file: string) =>
  Effect.gen(function* () {
    if (file.trim() === "") {
      return yield* new UsageError({ message: `append: <file> is empty or blank; expected the active file's path, e.g. logs/app.jsonl` })
    }
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.option(fs.stat(file))
    if (file.endsWith("/") || (Option.isSome(info) && info.value.type === "Directory")) {
      return yield* new UsageError({
        message: `append: ${JSON.stringify(file)} is a directory; expected the active file's path, e.g. ${JSON.stringify(`${file.replace(/\/+$/, "")}/app.jsonl`)}`
      })
    }
  }).pipe(Effect.provide(FileSystemLive))

const append = Command.make("append", {
  file: Args.text({ name: "file" }).pipe(Args.withDescription("the active file, e.g. logs/app.jsonl; backups are <file>.1 … <file>.N")),
  ...rotationOptions,
  compress: Options.boolean("compress").pipe(Options.withDescription(
    "gzip the backups from <file>.2 up in the background (<file>.2.gz …), <file>.1 stays plain: logrotate's compress + delaycompress (env LOG_ROTATION_COMPRESS, default false)")),
  stopGraceSeconds: Options.text("stop-grace-seconds").pipe(
    Options.withPseudoName("N"),
    Options.withDescription("on SIGTERM/SIGINT, keep reading up to N seconds for the end of an unfinished line (default 2; 0 = none); after that it is written with a final newline and a warning"),
    Options.optional),
  logFormat: logFormatOption,
  envPrefix
}, (args) =>
  Effect.gen(function* () {
    const policy = yield* resolveRotation(args, yield* checkedPrefix(args.envPrefix, "LOG_ROTATION"))
    yield* checkAppendPath(args.file)
    const grace = Option.getOrElse(yield* integerFlag("--stop-grace-seconds", args.stopGraceSeconds, 0, "a whole number of seconds >= 0"), () => 2)
    // A name of one of our lock files: writing it would collide with a claim or the sweep's lock.
    if (reservedReason(Path.basename(args.file)) !== undefined) {
      return yield* new InvalidConfig({ variable: "<file>", value: args.file, expected: LOCK_NAMES_ACCEPTED })
    }
    const { LineReader, RenameShift, RotatingAppender } = yield* commandsCode
    const stop = yield* Deferred.make<void>()
    // A signal makes the pump stop reading and write what it has, instead of interrupting it.
    const result = yield* Effect.scoped(Effect.gen(function* () {
      // Claims the file (a second writer fails here, with FileClaimed: exit 2) before stdin is read.
      const appender = yield* RotatingAppender.make(args.file, { policy })
      yield* reopenOnSighup(appender)
      // A daemon: a child fiber would be interrupted with its parent, before it could finish.
      const pumping = yield* Effect.forkDaemon(LineReader.pumpStdin(appender, stop, { grace: Duration.seconds(grace) }))
      return yield* pumping.await.pipe(
        Effect.onInterrupt(() =>
          Deferred.succeed(stop, undefined).pipe(
            Effect.zipRight(pumping.await),
            // The signal's exit code is 0 unless writing what was read failed.
            Effect.flatMap((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.zipRight(
              Console.error(`effect-logrotate: ${Cause.pretty(exit.cause)}`),
              Effect.sync(() => void (failedAtShutdown = true))
            ))
          ))
      )
    })).pipe(Effect.provide(RenameShift.layer.pipe(Layer.provideMerge(FileSystemLive))))
    const value = yield* result
    if (value.readError) return yield* new ReadFailed({ message: `reading stdin failed: ${value.readError.message}` })
  }).pipe(withLogFormat(args.logFormat))).pipe(Command.withDescription("append stdin's lines to <file>, rotating it by size (like rotatelogs)"))

/** The report as plain JSON: errors become their messages. */
export const reportToJson = (report: Sweeper.SweepReport) => ({
  ...report,
  failed: report.failed.map((f) => ({ path: f.path, operation: f.operation, error: f.error.message,
    reason: "reason" in f.error ? f.error.reason : f.error._tag }))
})

const printReport = (report: Sweeper.SweepReport, options: { readonly json: boolean; readonly quiet: boolean }) =>
  Effect.gen(function* () {
    if (options.json) return yield* Console.log(JSON.stringify(reportToJson(report)))
    const output = SweepOutput.render(report, { quiet: options.quiet })
    yield* Console.log(output.stdout.join("\n"))
    if (output.stderr.length > 0) yield* Console.error(output.stderr.join("\n"))
  })

const sweep = Command.make("sweep", {
  dirs: dirsArg,
  ...retentionOptions,
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print what would be compressed, deleted or verified; change nothing")),
  json: Options.boolean("json").pipe(Options.withDescription("print the SweepReport as one JSON object instead of lines")),
  quiet: Options.boolean("quiet").pipe(Options.withDescription("print the counts only, not a line per file (failures are still listed on stderr)")),
  maxTotalSize: maxTotalSizeOption,
  config: configOption,
  su: suOption,
  naming: namingOption,
  envPrefix
}, (args) =>
  Effect.gen(function* () {
    const policy = yield* Effect.flatMap(resolveRetention(args, yield* checkedPrefix(args.envPrefix, "LOG_RETENTION")), (p) => withSu(p, args.su))
    const naming = yield* resolveNaming(args.naming)
    const { Sweeper, SweeperLive, tuneHeapForSweeps } = yield* commandsCode
    yield* tuneHeapForSweeps
    const report = yield* Sweeper.sweep(policy.dirs, withNamingFlag(policy, naming), { dryRun: args.dryRun }).pipe(
      Effect.provide(SweeperLive),
      Logger.withMinimumLogLevel(LogLevel.None) // the report says it all, once
    )
    yield* printReport(report, args)
    if (report.failed.length > 0) return yield* new FilesFailed({ count: report.failed.length })
  })).pipe(Command.withDescription("one retention sweep: gzip, then delete, dated NDJSON files by the date in their names"))

const watch = Command.make("watch", {
  dirs: dirsArg,
  ...retentionOptions,
  intervalSeconds: Options.text("interval-seconds").pipe(
    Options.withPseudoName("SECONDS"),
    Options.withDescription("seconds between sweeps, 1 to 2147483 (env LOG_RETENTION_CHECK_INTERVAL_SECONDS, default 3600)"),
    Options.optional),
  maxTotalSize: maxTotalSizeOption,
  config: configOption,
  su: suOption,
  events: Options.boolean("events").pipe(Options.withDescription(
    "print what each sweep does on stdout, one JSON object a line with _tag its name (Compressed, Deleted, FileFailed, SweepCompleted, Missed)")),
  naming: namingOption,
  logFormat: logFormatOption,
  envPrefix
}, (args) =>
  Effect.gen(function* () {
    const policy = yield* Effect.flatMap(resolveRetention(args, yield* checkedPrefix(args.envPrefix, "LOG_RETENTION")), (p) => withSu(p, args.su))
    const naming = yield* resolveNaming(args.naming)
    const { LogEvents, printEvents, RetentionWorker, SweeperLive, tuneHeapForSweeps } = yield* commandsCode
    yield* tuneHeapForSweeps
    yield* Effect.logInfo("watching").pipe(Effect.annotateLogs({
      dirs: policy.dirs.join(","), maxAgeDays: policy.maxAgeDays, compressAgeDays: policy.compressAgeDays,
      intervalSeconds: policy.checkIntervalSeconds, naming: naming?.pattern ?? policy.naming ?? FileNaming.default.pattern, events: args.events,
      ...(policy.maxTotalBytes === undefined ? {} : { maxTotalBytes: policy.maxTotalBytes })
    }))
    const worker = (sweeper: typeof SweeperLive) => RetentionWorker.layer.pipe(
      // This process runs nothing but the worker: switching its effective ids affects no one else.
      Layer.provide(Layer.succeed(RetentionPolicy.RetentionPolicy, { ...withNamingFlag(policy, naming), allowProcessWideSu: true })),
      Layer.provide(sweeper)
    )
    if (!args.events) return yield* Layer.launch(worker(SweeperLive))
    return yield* Effect.scoped(Effect.gen(function* () {
      const events = yield* LogEvents.make()
      // Subscribed before the worker starts, so the first sweep's events are printed too.
      yield* printEvents(events)
      return yield* Layer.launch(worker(SweeperLive.pipe(Layer.provide(Layer.succeed(LogEvents.LogEvents, events)))))
    }))
  }).pipe(withLogFormat(args.logFormat))).pipe(Command.withDescription("the retention worker as a daemon: sweep now, then every interval, until SIGTERM/SIGINT"))

/**
 * The logrotate configuration of a policy: one block for the directories that share the policy's
 * settings, and one for each group of directories with settings of their own (a stanza per
 * directory in the common case). logrotate has no total-size cap: a cap is named in a comment.
 */
/** `--naming` wins over the configuration's, as every flag does: the defaults' and each directory's. */
const withNamingFlag = (policy: RetentionPolicy.Policy, naming: FileNaming.FileNaming | undefined): RetentionPolicy.Policy =>
  naming === undefined ? policy : {
    ...policy,
    naming: naming.pattern,
    ...(policy.directories === undefined ? {} : { directories: policy.directories.map(({ naming: _, ...own }) => own) })
  }

/** A validated policy's naming (a pattern checked by RetentionPolicy.decode, or a built naming). */
const namingOf = (naming: FileNaming.FileNaming | string | undefined): FileNaming.FileNaming | undefined =>
  typeof naming === "string" ? Either.getOrThrow(FileNaming.fromPattern(naming)) : naming

/** One logrotate block per group of directories with the same settings (thresholds and naming). */
const renderLogrotate = (
  policy: RetentionPolicy.Policy,
  thresholdsFor: (dir: string) => RetentionPlan.Thresholds & { readonly naming?: FileNaming.FileNaming | string | undefined }
): string => {
  const groups = new Map<string, { dirs: Array<string>; thresholds: RetentionPlan.Thresholds; naming: FileNaming.FileNaming | undefined }>()
  for (const dir of policy.dirs) {
    const thresholds = thresholdsFor(dir)
    const naming = namingOf(thresholds.naming)
    const key = `${thresholds.maxAgeDays}/${thresholds.compressAgeDays}/${thresholds.maxTotalBytes ?? ""}/${naming?.pattern ?? ""}`
    const group = groups.get(key)
    if (group) group.dirs.push(dir)
    else groups.set(key, { dirs: [dir], thresholds, naming })
  }
  return [...groups.values()].map(({ dirs, thresholds, naming }) => [
    ...(thresholds.maxTotalBytes === undefined || thresholds.maxTotalBytes === 0 ? [] : [
      `# maxTotalBytes=${thresholds.maxTotalBytes}: logrotate has no cap on a directory's total size; the closest is rotate (a file count)`,
      "# with size/maxsize (each file's size): see docs/logrotate.md, \"A total-size cap with standard tools\""
    ]),
    LogrotateConfig.render({
      dirs, maxAgeDays: thresholds.maxAgeDays, compressAgeDays: thresholds.compressAgeDays, ...(naming === undefined ? {} : { naming })
    }).trimEnd()
  ].join("\n")).join("\n\n")
}

const logrotateConfig = Command.make("logrotate-config", {
  dirs: dirsArg,
  ...retentionOptions,
  naming: namingOption,
  maxTotalSize: maxTotalSizeOption,
  config: configOption,
  envPrefix
}, (args) =>
  Effect.gen(function* () {
    const policy = yield* resolveRetention(args, yield* checkedPrefix(args.envPrefix, "LOG_RETENTION"))
    const naming = yield* resolveNaming(args.naming)
    const { Sweeper } = yield* commandsCode
    const withFlag = withNamingFlag(policy, naming)
    yield* Console.log(renderLogrotate(withFlag, (dir) => Sweeper.thresholdsFor(withFlag, dir)))
  })).pipe(Command.withDescription("print the logrotate configuration that does the same job as the built-in retention"))

/** The commands, in the order help and errors list them. */
const COMMANDS = ["append", "sweep", "watch", "logrotate-config"]

export const command = Command.make("effect-logrotate").pipe(
  Command.withDescription("size rotation and age retention for NDJSON logs"),
  Command.withSubcommands([append, sweep, watch, logrotateConfig])
)

const runCommand = Command.run(command, { name: "effect-logrotate", version: VERSION, executable: "effect-logrotate" })

/** Every command's options, read from the definitions above: see CliArgs for the rule. */
const grammar = CliArgs.grammarOf(command, COMMANDS)

/**
 * An unknown, repeated or valueless option is a usage error before anything runs; what passes is
 * handed to @effect/cli with its built-in options first, where it finds them (see CliArgs).
 */
const checkArgv = (argv: ReadonlyArray<string>) =>
  Effect.mapBoth(CliArgs.check(grammar, argv.slice(2)), {
    onFailure: (e) => new UsageError({ message: e.message }),
    onSuccess: (args) => [...argv.slice(0, 2), ...args]
  })

const APP = { name: "effect-logrotate", version: VERSION, commands: COMMANDS }

/** `--help` and `--version` are answered here (see CliHelp, CliArgs.versionRequest); everything else goes to @effect/cli. */
const dispatch = (argv: ReadonlyArray<string>) => {
  const help = CliArgs.helpRequest(grammar, argv.slice(2))
  if (help !== undefined) return Console.log(CliHelp.render(command, APP, help.command))
  return CliArgs.versionRequest(argv.slice(2)) ? Console.log(VERSION) : runCommand(argv)
}

/**
 * Runs the CLI on a full argv (`process.argv`) and returns the exit code. Errors are
 * printed to stderr here, once.
 */
export const main = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  checkArgv(argv).pipe(
    Effect.flatMap(dispatch),
    Effect.as(EXIT.ok),
    Effect.catchIf(ValidationError.isValidationError, () => Effect.succeed(EXIT.usage)), // @effect/cli printed it
    Effect.catchTags({
      InvalidConfig: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.usage),
      InvalidRetentionConfig: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.usage),
      // Two writers pointed at one file: a configuration error, found before reading stdin.
      FileClaimed: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.usage),
      UsageError: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.usage),
      InvalidSu: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.usage),
      FilesFailed: () => Effect.succeed(EXIT.filesFailed),
      ReadFailed: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.filesFailed),
      InvalidLine: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.filesFailed),
      RotateError: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.filesFailed),
      WriteError: (e) => Effect.as(Console.error(`effect-logrotate: ${e.message}`), EXIT.filesFailed)
    }),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause)
        : Effect.as(Console.error(`effect-logrotate: ${Cause.pretty(cause)}`), EXIT.filesFailed)),
    Logger.withMinimumLogLevel(LogLevel.Info),
    Effect.provide(Logger.replace(Logger.defaultLogger, logfmtStderr)),
    (run) => Console.consoleWith((base) => Effect.withConsole(run,
      plainConsole(base, !colorAllowed(process.stdout.isTTY, process.env), !colorAllowed(process.stderr.isTTY, process.env))))
  )

/** The exit code of a finished run; a run interrupted by a signal exits 0. */
export const exitCode = (exit: Exit.Exit<number, unknown>): number =>
  Exit.isSuccess(exit)
    ? exit.value
    : Cause.isInterruptedOnly(exit.cause) && !failedAtShutdown
    ? EXIT.ok
    : EXIT.filesFailed
