/**
 * Executes retention: lists each directory, plans with `RetentionPlan.plan` (today from
 * Effect's `Clock`, UTC), and carries out the plan. A sweep never fails: every per-file
 * failure (and a missing or unreadable directory) is a `SweepFailure` in the report, and the
 * sweep goes on with the next file.
 *
 * Listing never follows a symbolic link inside a directory. The entries of one daily file
 * (`x.ndjson`, `x.ndjson.gz`, `x.ndjson.gz.tmp`) are planned together, and only a daily file the
 * plan would act on is probed: each of its entries with `readLink` first (a link is reported as
 * one and skipped), and only non-links are `stat`ed. Entries the plan skips whatever their type
 * (today's, future, within the compression age, already compressed) are not probed at all and
 * are reported with that reason, even if one is a link or a directory; names that are not
 * managed are not probed either (their type is reported as `"Other"`). A directory listed in
 * `dirs` may itself be a link. A `dryRun` lists and plans but changes nothing.
 *
 * Work is bounded two ways:
 * - `concurrency` (default `os.availableParallelism()`): files being gzipped at once, the
 *   CPU-bound part (each compression holds one permit only for its zlib work);
 * - `ioConcurrency` (default `max(16, concurrency)`): names probed at once, expired files being
 *   deleted at once, and files in a compression at once (reading, waiting for a CPU permit,
 *   writing, fsync, rename, remove). Deletions have their own pool, so they never queue
 *   behind compressions. Memory is at most about `ioConcurrency` × 2 × the Compressor's
 *   `wholeFileMaxBytes`.
 *
 * Every sweep logs a summary (`Effect.logInfo`, annotated with counts, bytes freed and
 * duration) and each failure as a warning annotated with its path, operation and error; the
 * counters below are updated as files are handled.
 *
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { Compressor, Sweeper } from "effect-logrotate"
 *
 * const report = await Effect.runPromise(
 *   Sweeper.sweep(["/var/log/relay", "/var/log/relay/dlq"], { maxAgeDays: 30, compressAgeDays: 7 }).pipe(
 *     Effect.provide(Sweeper.layer.pipe(Layer.provide(Compressor.layer), Layer.provide(NodeFileSystem.layer)))
 *   )
 * )
 * console.log(report.compressed.length, report.deleted.length, report.failed.map((f) => f.message))
 * ```
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Context, Effect, Either, Layer, Metric, Option } from "effect"
import * as os from "node:os"
import * as Path from "node:path"
import { Compressor } from "./Compressor.js"
import * as DatedFile from "./DatedFile.js"
import { SweepFailure } from "./Errors.js"
import * as RetentionPlan from "./RetentionPlan.js"

/** Files gzipped (including interrupted compressions finished by removing the original). */
export const filesCompressed = Metric.counter("effect_logrotate_retention_files_compressed_total", {
  description: "daily files replaced by their .gz", incremental: true
})
/** Files deleted (expired files, and stale `.gz.tmp` files). */
export const filesDeleted = Metric.counter("effect_logrotate_retention_files_deleted_total", {
  description: "files deleted by retention", incremental: true
})
/** Per-file (and per-directory) failures. */
export const filesFailed = Metric.counter("effect_logrotate_retention_files_failed_total", {
  description: "retention operations that failed", incremental: true
})
/** Bytes freed: sizes of deleted files plus original minus compressed size of compressed ones. */
export const bytesFreed = Metric.counter("effect_logrotate_retention_bytes_freed_total", {
  description: "bytes freed by retention", incremental: true
})
/** Sweeps run (dry runs included). */
export const sweeps = Metric.counter("effect_logrotate_retention_sweeps_total", {
  description: "retention sweeps run", incremental: true
})

export interface SweepOptions {
  /** List and plan only; change nothing. Default false. */
  readonly dryRun?: boolean
  /**
   * Files being gzipped (or their `.gz` verified) at once: the CPU-bound part of a compression,
   * the zlib work. Default `os.availableParallelism()`.
   */
  readonly concurrency?: number
  /**
   * File-system work at once, for each of: probing listed names, deleting expired files (a pool
   * of its own, beside the compressions), and files in a compression (read, wait for a CPU
   * permit, write, fsync, rename, remove). Each file in a compression holds at most about twice
   * the Compressor's `wholeFileMaxBytes`. Default `max(16, concurrency)`.
   */
  readonly ioConcurrency?: number
}

/** Default `ioConcurrency` (at least `concurrency`). */
export const DEFAULT_IO_CONCURRENCY = 16

export interface CompressedFile {
  /** The original, now removed. */
  readonly path: string
  readonly gzip: string
  readonly bytesBefore: number
  readonly bytesAfter: number
  readonly reason: RetentionPlan.CompressReason | RetentionPlan.FinishReason
}

export interface DeletedFile {
  readonly path: string
  readonly bytes: number
  readonly reason: RetentionPlan.DeleteReason
}

export interface SkippedFile {
  readonly path: string
  readonly reason: RetentionPlan.SkipReason
}

export interface SweepReport {
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

export interface Service {
  readonly sweep: (
    dirs: ReadonlyArray<string>,
    policy: RetentionPlan.Thresholds,
    options?: SweepOptions
  ) => Effect.Effect<SweepReport>
}

/** The sweep service. */
export class Sweeper extends Context.Tag("effect-logrotate/Sweeper")<Sweeper, Service>() {}

type Outcome =
  | { readonly _tag: "Compressed"; readonly file: CompressedFile }
  | { readonly _tag: "Deleted"; readonly file: DeletedFile }

const failure = (path: string, operation: SweepFailure["operation"]) => (error: SweepFailure["error"]) =>
  new SweepFailure({ path, operation, error })

const isNotFound = (e: PlatformError) => e._tag === "SystemError" && e.reason === "NotFound"

/**
 * Builds the service over the `FileSystem` and `Compressor` in context.
 *
 * @example
 * ```ts
 * const sweeper = yield* Sweeper.make
 * const report = yield* sweeper.sweep(["/var/log/relay"], policy, { dryRun: true })
 * ```
 */
export const make: Effect.Effect<Service, never, FileSystem.FileSystem | Compressor> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const compressor = yield* Compressor

  type Probe =
    | { readonly _tag: "Entry"; readonly entry: RetentionPlan.Entry; readonly size: number }
    | { readonly _tag: "Vanished" }
    | { readonly _tag: "Failed"; readonly failure: SweepFailure }

  /** The type and size of managed `name` without following a link. A name gone since `readDirectory` is dropped. */
  const probe = (dir: string, name: string): Effect.Effect<Probe> => {
    const path = Path.join(dir, name)
    return fs.readLink(path).pipe(
      Effect.as<Probe>({ _tag: "Entry", entry: { name, type: "SymbolicLink" }, size: 0 }),
      Effect.catchAll((e): Effect.Effect<Probe> =>
        isNotFound(e) ? Effect.succeed({ _tag: "Vanished" }) : fs.stat(path).pipe(
          Effect.map((info): Probe => ({
            _tag: "Entry",
            entry: { name, type: info.type === "File" || info.type === "Directory" ? info.type : "Other" },
            size: Number(info.size)
          })),
          Effect.catchAll((e) =>
            Effect.succeed<Probe>(isNotFound(e) ? { _tag: "Vanished" } : { _tag: "Failed", failure: failure(path, "stat")(e) })
          )
        )
      )
    )
  }

  const execute = (
    action: Exclude<RetentionPlan.Action, RetentionPlan.Skip>,
    sizes: ReadonlyMap<string, number>,
    cpu: Effect.Semaphore
  ): Effect.Effect<Outcome, SweepFailure> => {
    const size = sizes.get(action.path) ?? 0
    switch (action._tag) {
      case "Delete":
        return fs.remove(action.path).pipe(
          Effect.mapError(failure(action.path, "delete")),
          Effect.as<Outcome>({ _tag: "Deleted", file: { path: action.path, bytes: size, reason: action.reason } })
        )
      case "Compress":
        return compressor.gzipFile(action.path, { cpu }).pipe(
          Effect.mapError(failure(action.path, "compress")),
          Effect.map((c): Outcome => ({
            _tag: "Compressed",
            file: { path: c.path, gzip: c.gzip, bytesBefore: c.bytesIn, bytesAfter: c.bytesOut, reason: action.reason }
          }))
        )
      case "FinishCompression":
        return cpu.withPermits(1)(compressor.verifyGzip(action.gzip, size)).pipe(
          Effect.mapError(failure(action.gzip, "verify")),
          Effect.zipRight(fs.remove(action.path).pipe(Effect.mapError(failure(action.path, "delete")))),
          Effect.as<Outcome>({
            _tag: "Compressed",
            file: {
              path: action.path, gzip: action.gzip, bytesBefore: size,
              bytesAfter: sizes.get(action.gzip) ?? 0, reason: action.reason
            }
          })
        )
    }
  }

  interface GroupResult {
    readonly outcomes: ReadonlyArray<Outcome>
    readonly failure: Option.Option<SweepFailure>
  }

  /** Runs one group's actions in order; the first failure ends the group (later steps depend on it). */
  const runGroup = (
    group: ReadonlyArray<Exclude<RetentionPlan.Action, RetentionPlan.Skip>>,
    sizes: ReadonlyMap<string, number>,
    cpu: Effect.Semaphore
  ): Effect.Effect<GroupResult> =>
    Effect.gen(function* () {
      const outcomes: Array<Outcome> = []
      for (const action of group) {
        const result = yield* Effect.either(execute(action, sizes, cpu))
        if (Either.isLeft(result)) {
          yield* Metric.increment(filesFailed)
          return { outcomes, failure: Option.some(result.left) }
        }
        const outcome = result.right
        if (outcome._tag === "Deleted") {
          yield* Metric.increment(filesDeleted)
          yield* Metric.incrementBy(bytesFreed, outcome.file.bytes)
        } else {
          yield* Metric.increment(filesCompressed)
          yield* Metric.incrementBy(bytesFreed, Math.max(0, outcome.file.bytesBefore - outcome.file.bytesAfter))
        }
        outcomes.push(outcome)
      }
      return { outcomes, failure: Option.none<SweepFailure>() }
    })

  type Actions = ReadonlyArray<Exclude<RetentionPlan.Action, RetentionPlan.Skip>>

  interface Listed {
    readonly listings: ReadonlyArray<RetentionPlan.Listing>
    /** The size of each probed regular file (and directory), by path. */
    readonly sizes: ReadonlyMap<string, number>
    readonly failed: ReadonlyArray<SweepFailure>
  }

  /**
   * Lists `dirs`. The entries of one daily file (`x.ndjson`, `x.ndjson.gz`, `x.ndjson.gz.tmp`)
   * form a group whose actions depend on nothing else. A group is probed (`readLink`, then
   * `stat`) only when the plan would act on it if its entries were regular files. Otherwise the
   * plan skips every entry in it whatever their types (today's, future, within the compression
   * age, already compressed), so it is listed without a file-system call, as regular files, and
   * reported with those reasons: a symbolic link or directory among them is skipped all the
   * same, never followed, and never `stat`ed. In a steady state (one new file a day per prefix)
   * that is almost every entry. Names that are not managed are never probed either.
   */
  const list = (
    dirs: ReadonlyArray<string>,
    policy: RetentionPlan.Thresholds,
    today: Date,
    concurrency: number
  ): Effect.Effect<Listed> =>
    Effect.gen(function* () {
      const listings: Array<RetentionPlan.Listing> = []
      const sizes = new Map<string, number>()
      const failed: Array<SweepFailure> = []
      for (const dir of dirs) {
        const names = yield* Effect.either(fs.readDirectory(dir))
        if (Either.isLeft(names)) {
          failed.push(failure(dir, "list")(names.left))
          continue
        }
        const entries: Array<RetentionPlan.Entry> = []
        const groups = new Map<string, Array<RetentionPlan.Entry>>()
        for (const name of names.right) {
          const parsed = DatedFile.parse(name)
          if (Either.isLeft(parsed)) {
            entries.push({ name, type: "Other" })
            continue
          }
          const group = groups.get(parsed.right.original)
          if (group) group.push({ name, type: "File" })
          else groups.set(parsed.right.original, [{ name, type: "File" }])
        }
        const toProbe: Array<RetentionPlan.Entry> = []
        for (const group of groups.values()) {
          const acted = RetentionPlan.plan([{ dir, entries: group }], policy, today).actions.some((a) => a._tag !== "Skip")
          if (acted) toProbe.push(...group)
          else entries.push(...group)
        }
        const probes = yield* Effect.forEach(toProbe, (e) => probe(dir, e.name), { concurrency })
        for (const p of probes) {
          if (p._tag === "Failed") failed.push(p.failure)
          if (p._tag !== "Entry") continue
          entries.push(p.entry)
          sizes.set(Path.join(dir, p.entry.name), p.size)
        }
        listings.push({ dir, entries })
      }
      return { listings, sizes, failed }
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
    sizes: ReadonlyMap<string, number>,
    concurrency: number,
    ioConcurrency: number
  ): Effect.Effect<ReadonlyArray<GroupResult>> =>
    Effect.flatMap(Effect.makeSemaphore(concurrency), (cpu) => {
      const results: Array<GroupResult> = new Array(groups.length)
      const compressing: Array<number> = []
      const deleting: Array<number> = []
      groups.forEach((group, i) => (group.every((a) => a._tag === "Delete") ? deleting : compressing).push(i))
      const run = (indices: ReadonlyArray<number>) =>
        Effect.forEach(indices, (i) => Effect.map(runGroup(groups[i]!, sizes, cpu), (r) => void (results[i] = r)), {
          concurrency: ioConcurrency, discard: true
        })
      return Effect.as(Effect.all([run(compressing), run(deleting)], { concurrency: 2, discard: true }), results)
    })

  const sweep: Service["sweep"] = (dirs, policy, options = {}) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const today = new Date(started)
      const dryRun = options.dryRun ?? false
      const concurrency = Math.max(1, options.concurrency ?? os.availableParallelism())
      const ioConcurrency = Math.max(1, options.ioConcurrency ?? Math.max(DEFAULT_IO_CONCURRENCY, concurrency))
      const uniqueDirs = [...new Set(dirs)]
      const listed = yield* list(uniqueDirs, policy, today, ioConcurrency)
      yield* Metric.incrementBy(filesFailed, listed.failed.length)
      const plan = RetentionPlan.plan(listed.listings, policy, today)
      const skipped = plan.actions.flatMap((a) => a._tag === "Skip" ? [{ path: a.path, reason: a.reason }] : [])
      const results = dryRun ? [] : yield* runAll(RetentionPlan.groups(plan), listed.sizes, concurrency, ioConcurrency)
      const compressed: Array<CompressedFile> = []
      const deleted: Array<DeletedFile> = []
      const failed: Array<SweepFailure> = [...listed.failed]
      for (const { outcomes, failure } of results) {
        for (const o of outcomes) {
          if (o._tag === "Compressed") compressed.push(o.file)
          else deleted.push(o.file)
        }
        if (Option.isSome(failure)) failed.push(failure.value)
      }
      const freed = deleted.reduce((n, d) => n + d.bytes, 0) +
        compressed.reduce((n, c) => n + Math.max(0, c.bytesBefore - c.bytesAfter), 0)
      const durationMs = (yield* Clock.currentTimeMillis) - started
      yield* Metric.increment(sweeps)
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
 * The sweeper over the `FileSystem` and `Compressor` in context.
 *
 * @example
 * ```ts
 * Sweeper.layer.pipe(Layer.provide(Compressor.layer), Layer.provide(NodeFileSystem.layer))
 * ```
 */
export const layer: Layer.Layer<Sweeper, never, FileSystem.FileSystem | Compressor> = Layer.effect(Sweeper, make)

/**
 * Sweeps with the `Sweeper` in context.
 *
 * @example
 * ```ts
 * const report = yield* Sweeper.sweep(policy.dirs, policy, { dryRun: true })
 * ```
 */
export const sweep = (
  dirs: ReadonlyArray<string>,
  policy: RetentionPlan.Thresholds,
  options?: SweepOptions
): Effect.Effect<SweepReport, never, Sweeper> => Effect.flatMap(Sweeper, (s) => s.sweep(dirs, policy, options))
