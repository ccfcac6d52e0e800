/**
 * Executes retention: lists each directory, plans with `RetentionPlan.plan` (today from
 * Effect's `Clock`, UTC), and carries out the plan. A sweep never fails: every per-file
 * failure (and a missing, locked or refused directory) is a `SweepFailure` in the report, and
 * the sweep goes on with the next file or directory.
 *
 * Directories are resolved (`realPath`) and each swept once, one after another, each with its
 * own thresholds (`thresholdsFor`: its entry in `policy.directories`, else the policy's). For each:
 * - run as root without `su`, a directory writable by every user or by a group other than
 *   root is refused (`permissions`, `InsecureDirectory`), as logrotate does; with `su` (policy
 *   field, CLI `--su`) every directory is swept acting as that user (`seteuid`/`setegid`,
 *   back to root after; effective ids are process-wide, hence one directory at a time);
 * - a real sweep holds `<dir>/.effect-logrotate.lock` (`LockFile`: cross-process, recovered
 *   after a crash) from before the listing to the end; held by someone else, the directory is
 *   a `lock` failure and skipped. So a `.gz.tmp` it finds belongs to no live sweep;
 * - names are listed as bytes; one that is not valid UTF-8 is a `list` failure
 *   (`InvalidFileName`, escaped), never acted on. The lock files are not listed.
 *
 * Names are read with the policy's `naming` (`FileNaming.default`, `<prefix>-YYYY-MM-DD.ndjson`,
 * when absent; a custom pattern or hourly files otherwise). The entries of one daily (or hourly)
 * file (`x.ndjson`, `x.ndjson.gz`, `x.ndjson.gz.tmp`) are planned
 * together, and only a file the plan would act on is probed: one `lstat` per entry
 * (never following a link), which also records device and inode, so the `Compressor` acts only
 * on the file probed. A probe that fails (other than NotFound) is reported and its whole daily
 * file is left alone (`probe-failed`). Entries the plan skips whatever their type (today's,
 * future, within the compression age, already compressed) are not probed at all and are
 * reported with that reason; names that are not managed are not probed either (type
 * `"Other"`). With a size cap (`maxTotalBytes`), every managed entry is probed instead, as the
 * cap needs every size; the probe's `lstat` gives it, so no further call is made. An original next to an existing `.gz` is removed only after the gunzipped `.gz`
 * compared byte-equal to it (`check: "compared"`). A `dryRun` lists and plans but changes
 * nothing and takes no lock.
 *
 * Work is bounded two ways:
 * - `concurrency` (default `os.availableParallelism()`): files being gzipped at once, the
 *   CPU-bound part (each compression holds one permit only for its zlib work);
 * - `ioConcurrency` (default `max(16, concurrency)`): names probed at once, expired files being
 *   deleted at once, and files in a compression at once (reading, waiting for a CPU permit,
 *   writing, fsync, link, remove). Deletions have their own pool, so they never queue
 *   behind compressions. Memory is at most about `ioConcurrency` × 2 × the Compressor's
 *   `wholeFileMaxBytes`.
 *
 * Every sweep logs a summary (`Effect.logInfo`, annotated with counts, bytes freed and
 * duration) and each failure as a warning annotated with its path, operation and error; the
 * counters below are updated as files are handled, each with a `directory` tag (`forDirectory`).
 * With a `LogEvents` layer in context when the sweeper is built, it also publishes one
 * `Compressed`, `Deleted` or `FileFailed` event per entry of the report's `compressed`, `deleted`
 * and `failed`, as each happens, then one `SweepCompleted`; without one (the default), nothing.
 *
 * In context: `layer` needs a `FileSystem`, `SafeFs` and a `Compressor`; `sweep` needs the
 * `Sweeper`. Optional: `LogEvents` (events), and `layerWithNaming` (since 0.2.0) for a naming the
 * policy lacks. The failure kinds it reports (`SweepFailure`), each with its test: docs/reliability.md.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { Compressor, SafeFs, Sweeper } from "effect-logrotate"
 *
 * const report = await Effect.runPromise(
 *   Sweeper.sweep(["/var/log/relay", "/var/log/relay/dlq"], { maxAgeDays: 30, compressAgeDays: 7 }).pipe(
 *     Effect.provide(Sweeper.layer.pipe(
 *       Layer.provide(Compressor.layer), Layer.provide(SafeFs.layerNode), Layer.provide(NodeFileSystem.layer)))
 *   )
 * )
 * console.log(report.compressed.length, report.deleted.length, report.failed.map((f) => f.message))
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as os from "node:os"
import * as Path from "node:path"
import { type Compressed, Compressor, type Identity } from "./Compressor.js"
import * as FileNaming from "./FileNaming.js"
import * as PlanWording from "./internal/PlanWording.js"
import { DirectoryNamedTwice, InsecureDirectory, InvalidFileName, InvalidSu, SweepFailure } from "../Errors.js"
import * as LockFile from "../platform/internal/LockFile.js"
import { Compressed as CompressedEvent, Deleted, FileFailed, LogEvents, SweepCompleted } from "../logging/LogEvents.js"
import { SWEEP_LOCK_NAME } from "../platform/internal/LockNames.js"
import { lookupId, numericId, outOfRange, unknownName } from "./internal/UserIds.js"
import * as RetentionPlan from "./RetentionPlan.js"
import * as SafeFs from "../platform/SafeFs.js"

/**
 * Files gzipped (including interrupted compressions finished by removing the original).
 *
 * @since 0.1.0
 */
export const filesCompressed = Metric.counter("effect_logrotate_retention_files_compressed_total", {
  description: "daily files replaced by their .gz", incremental: true
})
/**
 * Files deleted (expired files, and stale `.gz.tmp` files).
 *
 * @since 0.1.0
 */
export const filesDeleted = Metric.counter("effect_logrotate_retention_files_deleted_total", {
  description: "files deleted by retention", incremental: true
})
/**
 * Per-file (and per-directory) failures.
 *
 * @since 0.1.0
 */
export const filesFailed = Metric.counter("effect_logrotate_retention_files_failed_total", {
  description: "retention operations that failed", incremental: true
})
/**
 * Bytes freed: sizes of deleted files plus original minus compressed size of compressed ones.
 *
 * @since 0.1.0
 */
export const bytesFreed = Metric.counter("effect_logrotate_retention_bytes_freed_total", {
  description: "bytes freed by retention", incremental: true
})
/**
 * The counters above as updated for one directory: each sweep counter carries a `directory` tag
 * (the directory swept, resolved; as given when it could not be resolved). `sweeps` does not.
 *
 * @example
 * ```ts
 * const compressedHere = yield* Metric.value(Sweeper.forDirectory("/var/log/relay").filesCompressed)
 * ```
 *
 * @since 0.2.0
 */
export const forDirectory = (directory: string) => ({
  filesCompressed: Metric.tagged(filesCompressed, "directory", directory),
  filesDeleted: Metric.tagged(filesDeleted, "directory", directory),
  filesFailed: Metric.tagged(filesFailed, "directory", directory),
  bytesFreed: Metric.tagged(bytesFreed, "directory", directory)
})

/**
 * Sweeps run (dry runs included).
 *
 * @since 0.1.0
 */
export const sweeps = Metric.counter("effect_logrotate_retention_sweeps_total", {
  description: "retention sweeps run", incremental: true
})

/**
 * The lock a sweep holds in each directory it changes (`LockFile`: pid and host inside,
 * recovered when its holder is dead), and the `.break` file of a recovery. Neither is ever
 * listed as a managed or skipped file.
 *
 * @since 0.1.0
 */
export const LOCK_NAME = SWEEP_LOCK_NAME
const LOCK_NAMES: ReadonlySet<string> = new Set([LOCK_NAME, `${LOCK_NAME}.break`])

/** @since 0.1.0 */
export interface SweepOptions {
  /** List and plan only; change nothing. Default false. */
  readonly dryRun?: boolean
  /**
   * Files being gzipped (or their `.gz` compared) at once: the CPU-bound part of a compression,
   * the zlib work. Default `os.availableParallelism()`.
   */
  readonly concurrency?: number
  /**
   * File-system work at once, for each of: probing listed names, deleting expired files (a pool
   * of its own, beside the compressions), and files in a compression (read, wait for a CPU
   * permit, write, fsync, link, remove). Each file in a compression holds at most about twice
   * the Compressor's `wholeFileMaxBytes`. Default `max(16, concurrency)`.
   */
  readonly ioConcurrency?: number
}

/**
 * The user and group a sweep acts as (logrotate's `su`): names or numeric ids.
 *
 * @since 0.1.0
 */
export interface Su {
  readonly user: string
  readonly group: string
}

/**
 * One directory's own settings: each field set here wins over the policy's for that directory.
 *
 * @since 0.2.0
 */
export interface DirectoryThresholds {
  /** Matched against each swept directory as given, both resolved (`Path.resolve`). */
  readonly dir: string
  readonly maxAgeDays?: number | undefined
  readonly compressAgeDays?: number | undefined
  readonly maxTotalBytes?: number | undefined
  /** How this directory's managed files are named (a naming, or its pattern); default the policy's. */
  readonly naming?: NamingSetting | undefined
}

/**
 * A naming, or the pattern to build it from (as a policy read from a file holds it).
 *
 * @since 0.2.0
 */
export type NamingSetting = FileNaming.FileNaming | string

/**
 * What the sweep reads of the policy: the thresholds and the naming (the defaults of every
 * directory), the per-directory `directories` overrides, and `su` when set.
 *
 * @since 0.1.0
 */
export interface SweepPolicy extends RetentionPlan.Thresholds {
  readonly su?: Su | undefined
  /**
   * How the managed files are named (a naming, or its pattern). Default `FileNaming.default`
   * (`<prefix>-YYYY-MM-DD.ndjson`). A pattern that cannot be parsed back fails the directories
   * that use it (reported), not the sweep.
   *
   * @since 0.2.0
   */
  readonly naming?: NamingSetting | undefined
  /** @since 0.2.0 */
  readonly directories?: ReadonlyArray<DirectoryThresholds> | undefined
}

/**
 * One directory's settings, merged: its thresholds and naming.
 *
 * @since 0.2.0
 */
export interface DirectoryPolicy extends RetentionPlan.Thresholds {
  readonly naming?: NamingSetting | undefined
}

/** One directory's settings, ready to sweep with: the naming built. */
interface ResolvedDirectory extends RetentionPlan.Thresholds {
  readonly naming: FileNaming.FileNaming
}

const resolveDirectory = (policy: DirectoryPolicy): Either.Either<ResolvedDirectory, FileNaming.InvalidPattern> =>
  typeof policy.naming === "string"
    ? Either.map(FileNaming.fromPattern(policy.naming), (naming) => ({ ...policy, naming }))
    : Either.right({ ...policy, naming: policy.naming ?? FileNaming.default })

/**
 * The thresholds and naming `dir` is swept with: its entry in `policy.directories` (matched by
 * resolved path) over the policy's own. Pure.
 *
 * @example
 * ```ts
 * Sweeper.thresholdsFor({ maxAgeDays: 30, compressAgeDays: 7, directories: [{ dir: "/a", maxAgeDays: 90 }] }, "/a/")
 * // { maxAgeDays: 90, compressAgeDays: 7, maxTotalBytes: undefined, naming: undefined }
 * ```
 *
 * @since 0.2.0
 */
export const thresholdsFor = (policy: SweepPolicy, dir: string): DirectoryPolicy => {
  const resolved = Path.resolve(dir)
  const own = policy.directories?.find((d) => Path.resolve(d.dir) === resolved)
  return {
    maxAgeDays: own?.maxAgeDays ?? policy.maxAgeDays,
    compressAgeDays: own?.compressAgeDays ?? policy.compressAgeDays,
    maxTotalBytes: own?.maxTotalBytes ?? policy.maxTotalBytes,
    naming: own?.naming ?? policy.naming
  }
}

/**
 * Default `ioConcurrency` (at least `concurrency`).
 *
 * @since 0.1.0
 */
export const DEFAULT_IO_CONCURRENCY = 16

/** @since 0.1.0 */
export interface CompressedFile {
  /** The original, now removed. */
  readonly path: string
  readonly gzip: string
  readonly bytesBefore: number
  readonly bytesAfter: number
  readonly reason: RetentionPlan.CompressReason | RetentionPlan.FinishReason
  /**
   * `"written"`: this sweep wrote the `.gz`; `"compared"`: the `.gz` was there already, and was
   * gunzipped and found byte-equal to the original before the original was removed.
   */
  readonly check: "written" | "compared"
}

/** @since 0.1.0 */
export interface DeletedFile {
  readonly path: string
  readonly bytes: number
  readonly reason: RetentionPlan.DeleteReason
}

/** @since 0.1.0 */
export interface SkippedFile {
  readonly path: string
  readonly reason: RetentionPlan.SkipReason
}

/** @since 0.1.0 */
export interface SweepReport {
  /** The directories swept, resolved (`realPath`), each once. */
  readonly dirs: ReadonlyArray<string>
  readonly dryRun: boolean
  /** What was planned; in a dry run, what would have been done. */
  readonly plan: RetentionPlan.Plan
  /** Empty in a dry run. */
  readonly compressed: ReadonlyArray<CompressedFile>
  /** Empty in a dry run. */
  readonly deleted: ReadonlyArray<DeletedFile>
  readonly skipped: ReadonlyArray<SkippedFile>
  /** Each with `path`, `operation` and `error`. */
  readonly failed: ReadonlyArray<SweepFailure>
  readonly bytesFreed: number
  readonly durationMs: number
}

/** @since 0.1.0 */
export interface Service {
  readonly sweep: (
    dirs: ReadonlyArray<string>,
    policy: SweepPolicy,
    options?: SweepOptions
  ) => Effect.Effect<SweepReport>
}

/**
 * The sweep service.
 *
 * @since 0.1.0
 */
export class Sweeper extends Context.Tag("effect-logrotate/Sweeper")<Sweeper, Service>() {}

/**
 * Numeric user and group ids.
 *
 * @since 0.1.0
 */
export interface Ids {
  readonly uid: number
  readonly gid: number
}

/**
 * The process's effective user id, and acting as another user for the length of an effect.
 * Effective ids are process-wide: every fiber and thread of the process acts as that user
 * meanwhile, which is why the sweep runs such directories one after another.
 *
 * @since 0.1.0
 */
export interface ProcessIds {
  readonly euid: () => number
  readonly asUser: (ids: Ids) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * The real process: `process.geteuid`, and `setgroups([gid])`, `setegid`, `seteuid` (back to root after).
 *
 * @since 0.1.0
 */
export const nodeProcessIds: ProcessIds = {
  euid: () => process.geteuid?.() ?? -1,
  asUser: (ids) => (self) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const groups = process.getgroups!()
        try {
          process.setgroups!([ids.gid])
          process.setegid!(ids.gid)
          process.seteuid!(ids.uid)
        } catch (error) {
          // Never left half switched: back to root, then let the defect surface.
          process.seteuid!(0)
          process.setegid!(0)
          process.setgroups!(groups)
          throw error
        }
        return groups
      }),
      () => self,
      (groups) => Effect.sync(() => {
        process.seteuid!(0)
        process.setegid!(0)
        process.setgroups!(groups)
      })
    )
}

/**
 * Which process ids the sweep sees; `nodeProcessIds` unless a test provides another.
 *
 * @since 0.1.0
 */
export class ProcessIdentity extends Context.Reference<ProcessIdentity>()("effect-logrotate/ProcessIdentity", {
  defaultValue: (): ProcessIds => nodeProcessIds
}) {}

/**
 * logrotate's rule for a sweep run as root: a directory writable by every user, or by a group
 * other than root (gid 0), is refused unless the sweep acts as another user (`su`).
 *
 * @since 0.1.0
 */
export const isInsecureDirectory = (dir: { readonly mode: number; readonly gid: number }): boolean =>
  (dir.mode & 0o002) !== 0 || ((dir.mode & 0o020) !== 0 && dir.gid !== 0)

/**
 * A directory where other users may create files but not remove others' (sticky, writable by
 * group or others): there the size cap counts only the sweeping user's files. Pure.
 *
 * @since 0.2.0
 */
export const isSharedSticky = (dir: { readonly mode: number }): boolean =>
  (dir.mode & 0o1000) !== 0 && (dir.mode & 0o022) !== 0

/**
 * A name's bytes as text: printable ASCII as is, everything else (and `\`) as `\xNN`.
 *
 * @since 0.1.0
 */
export const escapeName = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`).join("")

/**
 * One line of a dry run for an action the sweep would take (none for a skip). An existing
 * `.gz` is only said to be verified, never complete: the dry run does not read it.
 *
 * @example
 * ```ts
 * for (const a of report.plan.actions) Option.map(Sweeper.describePlanned(a), console.log)
 * ```
 *
 * @since 0.1.0
 */
export const describePlanned: (action: RetentionPlan.Action) => Option.Option<string> = PlanWording.describePlanned

/**
 * Why a `Delete` is planned, in a few words: `31 days old`, `stale temporary file`, `over the size cap, 3 days old`.
 *
 * @since 0.2.0
 */
export const deleteWhy = PlanWording.deleteWhy

type Outcome =
  | { readonly _tag: "Compressed"; readonly file: CompressedFile }
  | { readonly _tag: "Deleted"; readonly file: DeletedFile }

/** A compression's outcome, as the report lists it (for `Compress` and `FinishCompression` alike). */
const compressedOutcome = (reason: CompressedFile["reason"]) => (c: Compressed): Outcome => ({
  _tag: "Compressed",
  file: { path: c.path, gzip: c.gzip, bytesBefore: c.bytesIn, bytesAfter: c.bytesOut, reason, check: c.check }
})

const failure = (path: string, operation: SweepFailure["operation"]) => (error: SweepFailure["error"]) =>
  new SweepFailure({ path, operation, error })

/**
 * Runs `f(0)` … `f(count - 1)` on at most `n` fibers, each taking the next index when it is
 * done with one: `n` forks in all, where `Effect.forEach` with `concurrency` forks (and joins
 * the fiber refs of) one fiber per item, which cost more than a probe or an unlink.
 */
const inPool = (n: number, count: number, f: (i: number) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.suspend(() => {
    let next = 0
    const worker = Effect.whileLoop({ while: () => next < count, body: () => f(next++), step: () => undefined })
    return Effect.all(Array.from({ length: Math.max(0, Math.min(n, count)) }, () => worker), {
      concurrency: "unbounded", discard: true
    })
  })

const isNotFound = (e: PlatformError) => e._tag === "SystemError" && e.reason === "NotFound"

/**
 * Builds the service over the `FileSystem`, `SafeFs` and `Compressor` in context.
 *
 * @example
 * ```ts
 * const sweeper = yield* Sweeper.make
 * const report = yield* sweeper.sweep(["/var/log/relay"], policy, { dryRun: true })
 * ```
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Service, never, FileSystem.FileSystem | SafeFs.SafeFs | Compressor> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const safe = yield* SafeFs.SafeFs
  const compressor = yield* Compressor
  // The default publishes nowhere (LogEvents.none).
  const events = yield* LogEvents
  const decoder = new TextDecoder("utf-8", { fatal: true })

  type Probe =
    | { readonly _tag: "Entry"; readonly entry: RetentionPlan.Entry; readonly stat?: SafeFs.Stat }
    | { readonly _tag: "Vanished" }

  /** The type, size and identity of managed `name`, by one `lstat` (never follows a link). A name gone since the listing is dropped. */
  const probe = (dir: string, name: string, failed: Array<SweepFailure>): Effect.Effect<Probe> => {
    const path = Path.join(dir, name)
    return safe.lstat(path).pipe(
      Effect.map((stat): Probe => ({ _tag: "Entry", entry: { name, type: stat.type, size: stat.size }, stat })),
      Effect.catchAll((e) => Effect.sync((): Probe => {
        if (isNotFound(e)) return { _tag: "Vanished" }
        failed.push(failure(path, "stat")(e))
        return { _tag: "Entry", entry: { name, type: "Unprobed" } }
      }))
    )
  }

  const identity = (stats: ReadonlyMap<string, SafeFs.Stat>, path: string): { expect?: Identity } => {
    const s = stats.get(path)
    return s === undefined ? {} : { expect: { dev: s.dev, ino: s.ino } }
  }

  const execute = (
    action: Exclude<RetentionPlan.Action, RetentionPlan.Skip>,
    stats: ReadonlyMap<string, SafeFs.Stat>,
    cpu: Effect.Semaphore
  ): Effect.Effect<Outcome, SweepFailure> => {
    const size = stats.get(action.path)?.size ?? 0
    switch (action._tag) {
      case "Delete":
        return safe.unlink(action.path).pipe(
          Effect.mapError(failure(action.path, "delete")),
          Effect.as<Outcome>({ _tag: "Deleted", file: { path: action.path, bytes: size, reason: action.reason } })
        )
      case "Compress":
        return compressor.gzipFile(action.path, { cpu, ...identity(stats, action.path) }).pipe(
          Effect.mapError(failure(action.path, "compress")),
          Effect.map(compressedOutcome(action.reason))
        )
      case "FinishCompression": {
        const gz = identity(stats, action.gzip).expect
        return compressor.finishCompression(action.path, { cpu, ...identity(stats, action.path), ...(gz ? { expectGzip: gz } : {}) }).pipe(
          Effect.mapError((e) => failure(e.path, e.step === "verify" || e.path === action.gzip ? "verify" : "compress")(e)),
          Effect.map(compressedOutcome(action.reason))
        )
      }
    }
  }

  interface GroupResult {
    readonly outcomes: ReadonlyArray<Outcome>
    readonly failure: Option.Option<SweepFailure>
  }

  /** Runs one group's actions in order; the first failure ends the group (later steps depend on it). */
  const runGroup = (
    group: ReadonlyArray<Exclude<RetentionPlan.Action, RetentionPlan.Skip>>,
    stats: ReadonlyMap<string, SafeFs.Stat>,
    cpu: Effect.Semaphore,
    metrics: ReturnType<typeof forDirectory>
  ): Effect.Effect<GroupResult> =>
    Effect.gen(function* () {
      const outcomes: Array<Outcome> = []
      for (const action of group) {
        const result = yield* Effect.either(execute(action, stats, cpu))
        if (Either.isLeft(result)) {
          yield* Metric.increment(metrics.filesFailed)
          yield* publishFailure(result.left)
          return { outcomes, failure: Option.some(result.left) }
        }
        const outcome = result.right
        if (outcome._tag === "Deleted") {
          const { path, bytes, reason } = outcome.file
          yield* Metric.increment(metrics.filesDeleted)
          yield* Metric.incrementBy(metrics.bytesFreed, bytes)
          yield* events.emit((at) => new Deleted({ path, bytes, reason, at }))
        } else {
          const { path, gzip, bytesBefore, bytesAfter, reason } = outcome.file
          yield* Metric.increment(metrics.filesCompressed)
          yield* Metric.incrementBy(metrics.bytesFreed, Math.max(0, bytesBefore - bytesAfter))
          yield* events.emit((at) => new CompressedEvent({ path, gzip, bytesBefore, bytesAfter, reason, at }))
        }
        outcomes.push(outcome)
      }
      return { outcomes, failure: Option.none<SweepFailure>() }
    })

  const publishFailure = (f: SweepFailure) =>
    events.emit((at) => new FileFailed({ path: f.path, operation: f.operation, error: f.error, at }))

  /** A directory's failures outside its actions (resolve, su, permissions, lock, listing): counted and published. */
  const reportFailures = (dir: string, failures: ReadonlyArray<SweepFailure>) =>
    Effect.gen(function* () {
      if (failures.length === 0) return
      yield* Metric.incrementBy(forDirectory(dir).filesFailed, failures.length)
      for (const f of failures) yield* publishFailure(f)
    })

  type Actions = ReadonlyArray<Exclude<RetentionPlan.Action, RetentionPlan.Skip>>

  interface Listed {
    readonly listing: Option.Option<RetentionPlan.Listing>
    /** What `lstat` said of each probed entry, by path. */
    readonly stats: ReadonlyMap<string, SafeFs.Stat>
    readonly failed: ReadonlyArray<SweepFailure>
  }

  /**
   * Lists `dir`, names as bytes: a name that is not valid UTF-8 is reported (`InvalidFileName`)
   * and left alone; the sweep's lock file is left out. The entries of one daily file
   * (`x.ndjson`, `x.ndjson.gz`, `x.ndjson.gz.tmp`) form a group whose actions depend on nothing
   * else. A group is probed (one `lstat` per entry) only when the plan would act on it if its
   * entries were regular files. Otherwise the plan skips every entry in it whatever their types
   * (today's, future, within the compression age, already compressed), so it is listed without
   * a file-system call, as regular files, and reported with those reasons. An entry whose probe
   * fails is `Unprobed`, and the planner then leaves its whole group alone (`probe-failed`).
   */
  const list = (
    dir: string,
    policy: ResolvedDirectory,
    today: Date,
    concurrency: number
  ): Effect.Effect<Listed> =>
    Effect.gen(function* () {
      const naming = policy.naming
      const stats = new Map<string, SafeFs.Stat>()
      const failed: Array<SweepFailure> = []
      const raw = yield* Effect.either(safe.readDirectory(dir))
      if (Either.isLeft(raw)) return { listing: Option.none(), stats, failed: [failure(dir, "list")(raw.left)] }
      const entries: Array<RetentionPlan.Entry> = []
      const groups = new Map<string, Array<RetentionPlan.Entry>>()
      for (const bytes of raw.right) {
        let name: string
        try {
          name = decoder.decode(bytes)
        } catch {
          const escaped = escapeName(bytes)
          failed.push(failure(Path.join(dir, escaped), "list")(new InvalidFileName({ dir, name: escaped })))
          continue
        }
        if (LOCK_NAMES.has(name)) continue
        const parsed = naming.parse(name)
        if (Either.isLeft(parsed)) {
          entries.push({ name, type: "Other" })
          continue
        }
        const group = groups.get(parsed.right.original)
        if (group) group.push({ name, type: "File" })
        else groups.set(parsed.right.original, [{ name, type: "File" }])
      }
      // One plan of every group as if its entries were regular files (groups are independent,
      // so this is what planning each alone would say): the groups it acts on get probed.
      // With a size cap, every group is probed: the cap needs every managed file's size (the
      // probe's `lstat` has it), and may act on any group dated before today.
      const toProbe: Array<RetentionPlan.Entry> = []
      if (policy.maxTotalBytes !== undefined && policy.maxTotalBytes > 0) {
        for (const group of groups.values()) toProbe.push(...group)
      } else {
        const acted = new Set<string>()
        const asFiles = RetentionPlan.plan([{ dir, entries: [...groups.values()].flat(), naming }], policy, today)
        for (const a of asFiles.actions) if (a._tag !== "Skip") acted.add(a.group)
        for (const [original, group] of groups) {
          if (acted.has(Path.join(dir, original))) toProbe.push(...group)
          else entries.push(...group)
        }
      }
      const probes: Array<Probe> = new Array(toProbe.length)
      yield* inPool(concurrency, toProbe.length, (i) => Effect.map(probe(dir, toProbe[i]!.name, failed), (p) => void (probes[i] = p)))
      // In a shared sticky directory, another user's files do not count toward the cap (their
      // owner can plant a large or future-dated file the cap never deletes, to make it delete
      // files they cannot delete themselves). One lstat of the directory, with a cap only.
      const capped = policy.maxTotalBytes !== undefined && policy.maxTotalBytes > 0
      const dirStat = capped ? Option.getRight(yield* Effect.either(safe.lstat(dir))) : Option.none()
      const sweeper = (yield* ProcessIdentity).euid()
      const shared = Option.isSome(dirStat) && isSharedSticky(dirStat.value)
      for (const p of probes) {
        if (p._tag !== "Entry") continue
        entries.push(shared && p.stat !== undefined && p.stat.uid !== sweeper ? { ...p.entry, foreign: true } : p.entry)
        if (p.stat) stats.set(Path.join(dir, p.entry.name), p.stat)
      }
      return { listing: Option.some({ dir, entries, naming, thresholds: policy }), stats, failed }
    })

  /**
   * Runs every group, in two pools side by side, each `ioConcurrency` groups at a time: groups
   * with a compression or a verification, and groups of deletions only, so thousands of
   * deletions do not queue behind the compressions. Within a compression only the zlib work
   * holds one of the `concurrency` CPU permits; its file-system calls overlap with other files'
   * gzipping. Results come back in plan order.
   */
  const runAll = (
    groups: ReadonlyArray<Actions>,
    stats: ReadonlyMap<string, SafeFs.Stat>,
    concurrency: number,
    ioConcurrency: number,
    metrics: ReturnType<typeof forDirectory>
  ): Effect.Effect<ReadonlyArray<GroupResult>> =>
    Effect.flatMap(Effect.makeSemaphore(concurrency), (cpu) => {
      const results: Array<GroupResult> = new Array(groups.length)
      const compressing: Array<number> = []
      const deleting: Array<number> = []
      groups.forEach((group, i) => (group.every((a) => a._tag === "Delete") ? deleting : compressing).push(i))
      const run = (indices: ReadonlyArray<number>) =>
        inPool(ioConcurrency, indices.length, (k) => {
          const i = indices[k]!
          return Effect.map(runGroup(groups[i]!, stats, cpu, metrics), (r) => void (results[i] = r))
        })
      return Effect.as(Effect.all([run(compressing), run(deleting)], { concurrency: 2, discard: true }), results)
    })

  /** The ids of `su`: numeric as given, names from /etc/passwd and /etc/group. */
  const resolveSu = (su: Su): Effect.Effect<Ids, InvalidSu> =>
    Effect.gen(function* () {
      const value = `${su.user}:${su.group}`
      const lookup = (file: string, name: string) => Effect.gen(function* () {
        const range = outOfRange(name, file === "/etc/passwd" ? "uid" : "gid")
        if (range !== undefined) return yield* Effect.fail(new InvalidSu({ value, reason: "out-of-range", detail: range }))
        const numeric = numericId(name)
        if (numeric !== undefined) return numeric
        const text = yield* fs.readFileString(file).pipe(
          Effect.mapError((e) => new InvalidSu({ value, reason: "unreadable", detail: `cannot read ${file}: ${e.message}` })))
        const id = lookupId(text, name)
        if (id === undefined) return yield* Effect.fail(new InvalidSu({ value, ...unknownName(name, file) }))
        return id
      })
      return { uid: yield* lookup("/etc/passwd", su.user), gid: yield* lookup("/etc/group", su.group) }
    })

  interface DirResult {
    /** The directory's plan (`RetentionPlan.plan` of its listing alone); none when it was not listed. */
    readonly plan: Option.Option<RetentionPlan.Plan>
    readonly results: ReadonlyArray<GroupResult>
    readonly failed: ReadonlyArray<SweepFailure>
  }

  const emptyDir = (failed: ReadonlyArray<SweepFailure>): DirResult => ({ plan: Option.none(), results: [], failed })
  /** A directory not swept: its failures counted and published. */
  const refused = (dir: string, failed: ReadonlyArray<SweepFailure>): Effect.Effect<DirResult> =>
    Effect.as(reportFailures(dir, failed), emptyDir(failed))

  /**
   * Lists, plans and (unless a dry run) carries out one directory's plan, holding the
   * directory's lock from before the listing to the end: a `.gz.tmp` it finds is then no live
   * sweeper's, and is deleted as stale. A held lock skips the directory (reported). A dry run
   * takes no lock, so it never stands in a real sweep's way.
   */
  const sweepDir = (
    dir: string, policy: ResolvedDirectory, today: Date, dryRun: boolean, concurrency: number, ioConcurrency: number
  ): Effect.Effect<DirResult> =>
    Effect.gen(function* () {
      if (!dryRun) {
        const lockPath = Path.join(dir, LOCK_NAME)
        const locked = yield* Effect.either(LockFile.acquire(lockPath, `effect-logrotate sweep of ${dir}`, { safe }).pipe(
          Effect.provideService(FileSystem.FileSystem, fs)))
        if (Either.isLeft(locked)) {
          const failed = [failure(dir, "lock")(locked.left)]
          yield* reportFailures(dir, failed)
          return emptyDir(failed)
        }
      }
      const listed = yield* list(dir, policy, today, ioConcurrency)
      yield* reportFailures(dir, listed.failed)
      if (Option.isNone(listed.listing)) return { plan: Option.none(), results: [], failed: listed.failed }
      const plan = RetentionPlan.plan([listed.listing.value], policy, today)
      if (dryRun) return { plan: Option.some(plan), results: [], failed: listed.failed }
      const results = yield* runAll(RetentionPlan.groups(plan), listed.stats, concurrency, ioConcurrency, forDirectory(dir))
      return { plan: Option.some(plan), results, failed: listed.failed }
    }).pipe(Effect.scoped)

  const sweep: Service["sweep"] = (dirs, policy, options = {}) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const today = new Date(started)
      const dryRun = options.dryRun ?? false
      const concurrency = Math.max(1, options.concurrency ?? os.availableParallelism())
      const ioConcurrency = Math.max(1, options.ioConcurrency ?? Math.max(DEFAULT_IO_CONCURRENCY, concurrency))
      const ids = yield* ProcessIdentity
      const failed: Array<SweepFailure> = []
      // The entries of `directories` by real path, as the directories themselves are swept: an
      // alias (a symlink, another spelling) names the same directory. Two entries for one
      // directory: that directory fails (DirectoryNamedTwice), whichever spelling is swept.
      const entriesByReal = new Map<string, Array<DirectoryThresholds>>()
      for (const entry of policy.directories ?? []) {
        const real = yield* Effect.either(fs.realPath(entry.dir))
        const key = Either.isRight(real) ? real.right : Path.resolve(entry.dir)
        entriesByReal.set(key, [...(entriesByReal.get(key) ?? []), entry])
      }
      const realPolicy: SweepPolicy = {
        ...policy,
        directories: [...entriesByReal].map(([real, [first]]) => ({ ...first!, dir: real }))
      }
      // Each directory once, by its real path: an alias (a symlink to it) is the same directory.
      const uniqueDirs: Array<string> = []
      const thresholds = new Map<string, Either.Either<ResolvedDirectory, FileNaming.InvalidPattern | DirectoryNamedTwice>>()
      for (const dir of new Set(dirs)) {
        const real = yield* Effect.either(fs.realPath(dir))
        if (Either.isLeft(real)) {
          const f = failure(dir, "list")(real.left)
          failed.push(f)
          yield* reportFailures(dir, [f])
        } else if (!uniqueDirs.includes(real.right)) {
          uniqueDirs.push(real.right)
          const entries = entriesByReal.get(real.right) ?? []
          thresholds.set(real.right, entries.length > 1
            ? Either.left(new DirectoryNamedTwice({ path: real.right, names: entries.map((e) => e.dir) }))
            : resolveDirectory(thresholdsFor(realPolicy, real.right)))
        }
      }
      const su = policy.su === undefined ? undefined : yield* Effect.either(resolveSu(policy.su))
      const root = ids.euid() === 0
      const dirResults: Array<DirResult> = []
      // One directory after another: effective ids are process-wide, so a directory swept as
      // the su user must not overlap with any other work of this sweep.
      for (const dir of uniqueDirs) {
        const resolved = thresholds.get(dir)!
        if (Either.isLeft(resolved)) {
          dirResults.push(yield* refused(dir, [failure(dir, "list")(resolved.left)]))
          continue
        }
        const run = sweepDir(dir, resolved.right, today, dryRun, concurrency, ioConcurrency)
        if (su !== undefined) {
          if (Either.isLeft(su)) {
            dirResults.push(yield* refused(dir, [failure(dir, "su")(su.left)]))
          } else if (root) {
            dirResults.push(yield* ids.asUser(su.right)(run))
          } else if (su.right.uid === ids.euid()) {
            dirResults.push(yield* run)
          } else {
            dirResults.push(yield* refused(dir, [failure(dir, "su")(new InvalidSu({
              value: `${policy.su!.user}:${policy.su!.group}`, reason: "needs-root", detail: `acting as uid ${su.right.uid} needs root (euid is ${ids.euid()})`
            }))]))
          }
          continue
        }
        if (root) {
          const st = yield* Effect.either(safe.lstat(dir))
          if (Either.isLeft(st)) {
            dirResults.push(yield* refused(dir, [failure(dir, "list")(st.left)]))
            continue
          }
          if (isInsecureDirectory(st.right)) {
            const { mode, uid, gid } = st.right
            dirResults.push(yield* refused(dir, [failure(dir, "permissions")(new InsecureDirectory({ path: dir, mode, uid, gid }))]))
            continue
          }
        }
        dirResults.push(yield* run)
      }
      // The plan of every listing is the directories' plans one after another (`plan` plans each
      // listing on its own, with its own thresholds, and sorts within it): so each directory's
      // plan, made before its work, is reused rather than the whole sweep planned a second time.
      const plan: RetentionPlan.Plan = {
        today: FileNaming.formatDay(FileNaming.default.periodOf(today)),
        actions: dirResults.flatMap((r) => Option.isSome(r.plan) ? r.plan.value.actions : [])
      }
      const skipped = plan.actions.flatMap((a) => a._tag === "Skip" ? [{ path: a.path, reason: a.reason }] : [])
      const compressed: Array<CompressedFile> = []
      const deleted: Array<DeletedFile> = []
      // Counted and published as they happened (reportFailures, runGroup).
      for (const r of dirResults) failed.push(...r.failed)
      for (const r of dirResults) {
        for (const { outcomes, failure } of r.results) {
          for (const o of outcomes) {
            if (o._tag === "Compressed") compressed.push(o.file)
            else deleted.push(o.file)
          }
          if (Option.isSome(failure)) failed.push(failure.value)
        }
      }
      const freed = deleted.reduce((n, d) => n + d.bytes, 0) +
        compressed.reduce((n, c) => n + Math.max(0, c.bytesBefore - c.bytesAfter), 0)
      const durationMs = (yield* Clock.currentTimeMillis) - started
      yield* Metric.increment(sweeps)
      yield* events.emit((at) => new SweepCompleted({
        dirs: uniqueDirs, dryRun, compressed: compressed.length, deleted: deleted.length, skipped: skipped.length,
        failed: failed.length, bytesFreed: freed, durationMs, at
      }))
      for (const f of failed) {
        yield* Effect.logWarning(`retention ${f.operation} failed`).pipe(
          Effect.annotateLogs({ path: f.path, operation: f.operation, error: f.error.message })
        )
      }
      const planned = RetentionPlan.summary(plan)
      yield* Effect.logInfo(dryRun ? "retention dry run planned" : "retention sweep finished").pipe(
        Effect.annotateLogs({
          dirs: uniqueDirs.join(","), today: plan.today, dryRun,
          compressed: dryRun ? planned.compress + planned.finish : compressed.length,
          deleted: dryRun ? planned.delete : deleted.length,
          skipped: skipped.length, failed: failed.length, bytesFreed: freed, durationMs
        })
      )
      return {
        dirs: uniqueDirs, dryRun, plan, compressed, deleted, skipped, failed, bytesFreed: freed, durationMs
      } satisfies SweepReport
    }).pipe(Effect.annotateLogs({ component: "retention" }), Effect.withSpan("Sweeper.sweep"))

  return { sweep }
})

/**
 * The sweeper over the `FileSystem`, `SafeFs` and `Compressor` in context.
 *
 * @example
 * ```ts
 * Sweeper.layer.pipe(Layer.provide(Compressor.layer), Layer.provide(SafeFs.layerNode), Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Sweeper, never, FileSystem.FileSystem | SafeFs.SafeFs | Compressor> = Layer.effect(Sweeper, make)

/**
 * The `Sweeper` in context, sweeping with `naming` whenever the policy it is given has none: a
 * way to give the `RetentionWorker` (whose policy is read from the environment) custom names.
 *
 * @example
 * ```ts
 * const hourly = Either.getOrThrow(FileNaming.fromPattern("{prefix}-{date}-{hour}.ndjson"))
 * RetentionWorker.layer.pipe(
 *   Layer.provide(Sweeper.layerWithNaming(hourly)),
 *   Layer.provide(Layer.mergeAll(Sweeper.layer, RetentionPolicy.layerConfig())),
 *   Layer.provide(Compressor.layer), Layer.provide(SafeFs.layerNode), Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.2.0
 */
export const layerWithNaming = (naming: FileNaming.FileNaming): Layer.Layer<Sweeper, never, Sweeper> =>
  Layer.effect(Sweeper, Effect.map(Sweeper, (sweeper) => Sweeper.of({
    sweep: (dirs, policy, options) => sweeper.sweep(dirs, { ...policy, naming: policy.naming ?? naming }, options)
  })))

/**
 * Sweeps with the `Sweeper` in context.
 *
 * @example
 * ```ts
 * const report = yield* Sweeper.sweep(policy.dirs, policy, { dryRun: true })
 * ```
 *
 * @since 0.1.0
 */
export const sweep = (
  dirs: ReadonlyArray<string>,
  policy: SweepPolicy,
  options?: SweepOptions
): Effect.Effect<SweepReport, never, Sweeper> => Effect.flatMap(Sweeper, (s) => s.sweep(dirs, policy, options))
