/**
 * Every error effect-logrotate can fail with. Each is a tagged value (match with
 * `Effect.catchTag`) whose message names what was wrong, where, and what is accepted.
 *
 * They are data: nothing is needed in context, and each is also exported by the main entry
 * (`import { FileClaimed } from "effect-logrotate"`). The library fails only with these in the
 * error channel (a function that throws, such as `RotationPolicy.unsafeMake`, says so: a throw is a
 * programming error); each service's doc lists the ones it can fail with.
 *
 * As in `@effect/platform`'s `SystemError`, what code matches on is a literal union: `reason`
 * (why), or `operation` / `step` (which step failed); the words for people are in `detail`
 * and `message`, and may change between versions.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { RenameShift, RotatingAppender, RotationPolicy } from "effect-logrotate"
 *
 * const Live = RotatingAppender.layer("logs/app.jsonl").pipe(
 *   Layer.provide(Layer.mergeAll(RenameShift.layer, RotationPolicy.layer({ maxBytes: 10_000_000, maxFiles: 5 }))),
 *   Layer.provide(NodeFileSystem.layer))
 *
 * const program = Effect.flatMap(RotatingAppender.RotatingAppender, (log) => log.appendJson({ event: "started" })).pipe(
 *   Effect.provide(Live),
 *   Effect.catchTags({
 *     FileClaimed: (e) => Effect.logError(e.message), // another process writes logs/app.jsonl
 *     WriteError: (e) => Effect.logError(e.message),
 *     InvalidLine: (e) => Effect.logError(e.message)
 *   }))
 * ```
 */
import type { PlatformError } from "@effect/platform/Error"
import * as Data from "effect/Data"
import type { InvalidPattern } from "./retention/FileNaming.js"

/**
 * A configuration value that cannot be used. Nothing was touched.
 *
 * @since 0.1.0
 */
export class InvalidConfig extends Data.TaggedError("InvalidConfig")<{
  /** Where the value was given: the variable as set (`TAU_LOG_ROTATION_MAX_BYTES`), or a field as its caller names it. */
  readonly variable: string
  /** The value given, as written. */
  readonly value: string
  /** The accepted form. */
  readonly expected: string
}> {
  override get message() {
    return `${this.variable}=${JSON.stringify(this.value)} is invalid: expected ${this.expected}`
  }
}

/**
 * One problem in a retention configuration file (see `RetentionConfig`).
 *
 * @since 0.2.0
 */
export interface ConfigIssue {
  /**
   * `"unreadable"`: the file could not be read; `"not-json"`: it is not JSON; `"unknown-key"`: a key
   * the format does not have (a typo is never ignored); `"invalid-value"`: a value of the wrong form.
   */
  readonly reason: "unreadable" | "not-json" | "unknown-key" | "invalid-value"
  /** Where, as a JSON path: `$`, `$.defaults.maxAgeDays`, `$.directories["/var/log/relay"].naming`. */
  readonly path: string
  /** The value found there, as JSON (or the reader's or parser's message for `unreadable` and `not-json`). */
  readonly value: string
  /** The accepted form. */
  readonly expected: string
}

/**
 * A retention configuration file that cannot be used: every problem found, each with its JSON path. Nothing was touched.
 *
 * @since 0.2.0
 */
export class InvalidRetentionConfig extends Data.TaggedError("InvalidRetentionConfig")<{
  /** The file. */
  readonly source: string
  /** At least one. */
  readonly issues: ReadonlyArray<ConfigIssue>
}> {
  override get message() {
    return `${this.source}: invalid retention configuration (nothing was swept):` + this.issues.map((i) =>
      i.reason === "unknown-key"
        ? `\n  ${i.path}: unknown key: expected ${i.expected}`
        : i.reason === "unreadable" || i.reason === "not-json"
        // `value` is the reader's or parser's own words here, not a value from the file.
        ? `\n  ${i.path}: ${i.reason === "unreadable" ? "cannot be read" : "not JSON"} (${i.value}): expected ${i.expected}`
        : `\n  ${i.path}: ${i.value} is invalid: expected ${i.expected}`).join("")
  }
}

/**
 * Why a line was refused: `"line-break"`: it contains `\n` or `\r` (it would break NDJSON
 * framing); `"not-serializable"`: a value given to `appendJson` has no JSON form.
 */
export type InvalidLineReason = "line-break" | "not-serializable"

/**
 * A line that would break NDJSON framing, or a value without a JSON form. Nothing was written.
 *
 * @since 0.1.0
 */
export class InvalidLine extends Data.TaggedError("InvalidLine")<{
  readonly path: string
  readonly reason: InvalidLineReason
  /** Which line and what is wrong with it, in words, e.g. `line 2 of 3 contains a line break`. */
  readonly detail: string
}> {
  override get message() {
    const accepted = this.reason === "line-break" ? `a line must not contain "\\n" or "\\r"` : "a value must have a JSON form"
    return `cannot append to ${this.path}: ${this.detail}; ${accepted}`
  }
}

/**
 * A step of a rotation failed. The active file and every backup that existed are still on disk.
 *
 * @since 0.1.0
 */
export class RotateError extends Data.TaggedError("RotateError")<{
  readonly path: string
  readonly operation: "readDirectory" | "remove" | "rename" | "open" | "close" | "makeDirectory"
  readonly target: string
  readonly cause: PlatformError
}> {
  override get message() {
    return `rotating ${this.path}: ${this.operation} ${this.target} failed: ${this.cause.message}`
  }
}

/**
 * Opening or writing the active file failed. Lines not yet written stay buffered and are retried.
 *
 * @since 0.1.0
 */
export class WriteError extends Data.TaggedError("WriteError")<{
  readonly path: string
  /** `"claim"`: taking the file's lock file (see `FileClaimed`) failed with an I/O error. */
  readonly operation: "open" | "stat" | "write" | "sync" | "makeDirectory" | "claim"
  readonly cause: PlatformError
}> {
  override get message() {
    return `${this.operation} ${this.path} failed: ${this.cause.message}`
  }
}

/**
 * Another appender (in this process or another one) already writes `path`: two writers on
 * one file would lose lines. The claim is the lock file `lockPath`; nothing was written.
 *
 * @since 0.1.0
 */
export class FileClaimed extends Data.TaggedError("FileClaimed")<{
  /** The active file both appenders were pointed at. */
  readonly path: string
  /** The lock file that marks the claim (`<dir>/.<name>.lock`). */
  readonly lockPath: string
  /** Who holds it, as its lock file says; `undefined` when it cannot be read yet. */
  readonly holder: LockHolder | undefined
}> {
  override get message() {
    const h = this.holder
    const who = h === undefined
      ? "another appender (its lock file is not readable yet)"
      : `pid ${h.pid} on ${h.hostname} (${h.purpose}, since ${h.acquiredAt})`
    return `${this.path} is already being written by ${who}, claimed through ${this.lockPath}: ` +
      `only one writer per file is accepted; point this one at another file or stop the other`
  }
}

/**
 * Everything `RotatingAppender.append` can fail with.
 *
 * @since 0.1.0
 */
export type AppendError = InvalidLine | RotateError | WriteError | FileClaimed

/**
 * The step of a gzip compression that failed; see `Compressor.gzipFile`.
 *
 * @since 0.1.0
 */
export type CompressStep =
  | "stat" | "open" | "read" | "gzip" | "write" | "sync" | "chown" | "chmod" | "utimes" | "link" | "publish"
  | "unlink" | "remove" | "verify"
  /** The original's size or mtime changed while it was compressed: something still writes it. */
  | "changed"

/**
 * Compressing (or verifying) a file failed. The original is never removed by a failed call.
 * Up to step `"link"` no `.gz` was published and no `.gz.tmp` left behind (a `"link"` that
 * found an existing `.gz` leaves that `.gz` alone); `"publish"` means what the link published
 * was not the file written (a swapped temp): that name was removed again. After a failed
 * `"unlink"`, `"sync"` (of the directory) or `"remove"`, both the original and a complete
 * `.gz` exist, and the next sweep compares them and removes the original.
 *
 * @since 0.1.0
 */
export class CompressError extends Data.TaggedError("CompressError")<{
  readonly path: string
  readonly step: CompressStep
  readonly cause: unknown
  /**
   * What could not be cleaned up after the failure ("could not remove X: …"), e.g. a `.gz.tmp`
   * or a wrongly published `.gz` left behind; `cause` stays the failure itself.
   */
  readonly cleanup?: ReadonlyArray<string>
}> {
  override get message() {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    const cleanup = this.cleanup === undefined || this.cleanup.length === 0 ? "" : `; ${this.cleanup.join("; ")}`
    return `compressing ${this.path}: ${this.step} failed: ${cause}${cleanup}`
  }
}

/**
 * What a sweep was doing to a path when it failed.
 *
 * @since 0.1.0
 */
export type SweepOperation = "list" | "stat" | "delete" | "compress" | "verify" | "permissions" | "lock" | "su"

/**
 * A directory a sweep run as root refused, as logrotate does: it is writable by every user, or
 * by a group other than root's, so another user could swap files under the sweep. Nothing in
 * it was touched. Accepted: a directory writable by its owner (and group root) only, or a sweep
 * that acts as the directory's user (`su` in the policy, `--su USER:GROUP`).
 *
 * @since 0.1.0
 */
export class InsecureDirectory extends Data.TaggedError("InsecureDirectory")<{
  readonly path: string
  /** Permission bits of the directory. */
  readonly mode: number
  readonly uid: number
  readonly gid: number
}> {
  override get message() {
    const who = (this.mode & 0o002) !== 0 ? "writable by every user" : `writable by group ${this.gid}`
    return `${this.path}: parent directory has insecure permissions (mode ${(this.mode & 0o7777).toString(8).padStart(4, "0")}, ` +
      `${who}); not swept as root. Make it writable by its owner only, or sweep as its user with su (--su USER:GROUP)`
  }
}

/**
 * A name in a swept directory that is not valid UTF-8: it is reported, never acted on.
 *
 * @since 0.1.0
 */
export class InvalidFileName extends Data.TaggedError("InvalidFileName")<{
  readonly dir: string
  /** The name, bytes that are not UTF-8 written as `\xNN`. */
  readonly name: string
}> {
  override get message() {
    return `${this.dir}: file name "${this.name}" is not valid UTF-8; left alone (retention handles UTF-8 names only)`
  }
}

/**
 * One directory named by two entries of a policy's `directories` (through a symbolic link, or two
 * spellings of one path), each with its own settings: which to use is not guessed. Nothing in
 * that directory was touched; name it once.
 *
 * @since 0.2.0
 */
export class DirectoryNamedTwice extends Data.TaggedError("DirectoryNamedTwice")<{
  /** The directory's real path. */
  readonly path: string
  /** The entries' directories as written. */
  readonly names: ReadonlyArray<string>
}> {
  override get message() {
    return `${this.path} is named by ${this.names.length} entries of the policy's directories ` +
      `(${this.names.map((n) => JSON.stringify(n)).join(", ")}), each with its own settings: name it once`
  }
}

/**
 * Why an `su` cannot be used: `"out-of-range"`: a numeric id above 4294967294; `"unknown-name"`:
 * a name missing from /etc/passwd or /etc/group; `"unreadable"`: that file could not be read;
 * `"needs-root"`: acting as another user needs a sweep run as root; `"process-wide"`: `su` in a
 * `RetentionWorker` without `allowProcessWideSu` (it would switch the ids of the whole process).
 */
export type InvalidSuReason = "out-of-range" | "unknown-name" | "unreadable" | "needs-root" | "process-wide"

/**
 * The `su` user or group of a sweep that cannot be used. Nothing was swept.
 *
 * @since 0.1.0
 */
export class InvalidSu extends Data.TaggedError("InvalidSu")<{
  readonly value: string
  readonly reason: InvalidSuReason
  /** What is wrong, in words, e.g. `no "www-data" in /etc/passwd`. */
  readonly detail: string
}> {
  override get message() {
    return `su ${JSON.stringify(this.value)}: ${this.detail}; expected USER:GROUP, names from /etc/passwd and ` +
      `/etc/group or numeric ids 0..4294967294, and a sweep run as root (or already as that user)`
  }
}

/**
 * One failure during a retention sweep. The sweep reports it in `SweepReport.failed`
 * and goes on with the next file.
 *
 * @since 0.1.0
 */
export class SweepFailure extends Data.TaggedError("SweepFailure")<{
  readonly path: string
  readonly operation: SweepOperation
  readonly error: PlatformError | CompressError | InsecureDirectory | InvalidFileName | InvalidSu | LockHeld | LockError | InvalidPattern | DirectoryNamedTwice
}> {
  override get message() {
    return `retention ${this.operation} ${this.path} failed: ${this.error.message}`
  }
}

/**
 * Why a prefix is refused: `"empty"`; `"path-separator"` (`/` or `\`); `"control-character"`;
 * `"not-parseable"`: the names it gives would not be parsed back, with the same prefix and period,
 * by the naming (so the sweep would not manage them).
 */
export type InvalidPrefixReason = "empty" | "path-separator" | "control-character" | "not-parseable"

/**
 * A prefix whose file names would not be recognized, with the same prefix, by the naming's `parse` (`DatedFile.parse` by default).
 *
 * @since 0.1.0
 */
export class InvalidPrefix extends Data.TaggedError("InvalidPrefix")<{
  readonly prefix: string
  readonly reason: InvalidPrefixReason
  /** What is wrong, in words, e.g. `it contains a path separator`. */
  readonly detail: string
}> {
  override get message() {
    return `invalid daily file prefix ${JSON.stringify(this.prefix)}: ${this.detail}`
  }
}

/**
 * Who holds a lock file (see `LockFile`): written as JSON into the lock file by its holder.
 *
 * @since 0.1.0
 */
export interface LockHolder {
  readonly pid: number
  readonly hostname: string
  /** ISO 8601 time the lock was taken. */
  readonly acquiredAt: string
  /** What the holder does under the lock, e.g. `"append"` or `"sweep"`. */
  readonly purpose: string
}

/**
 * A lock file is held by a live process (or one that cannot be judged: another host, or a
 * fresh file not yet written). Nothing was touched.
 *
 * @since 0.1.0
 */
export class LockHeld extends Data.TaggedError("LockHeld")<{
  /** The lock file. */
  readonly path: string
  /** What the lock file says; `undefined` when it is empty or unreadable (being created, or left by a crash). */
  readonly holder: LockHolder | undefined
}> {
  override get message() {
    const h = this.holder
    if (h === undefined) {
      return `${this.path} is locked by an unknown holder (the lock file is empty or not valid JSON: ` +
        `being created, or left by a crash; it is treated as stale after a few seconds)`
    }
    return `${this.path} is locked by pid ${h.pid} on ${h.hostname} (${h.purpose}, since ${h.acquiredAt}); ` +
      `only one holder at a time is accepted: stop that process, or remove the lock file if it is gone`
  }
}

/**
 * Taking or releasing a lock file failed for a reason other than contention (an I/O error).
 *
 * @since 0.1.0
 */
export class LockError extends Data.TaggedError("LockError")<{
  readonly path: string
  readonly operation: "create" | "write" | "read" | "remove"
  readonly cause: PlatformError
}> {
  override get message() {
    return `lock ${this.path}: ${this.operation} failed: ${this.cause.message}`
  }
}
