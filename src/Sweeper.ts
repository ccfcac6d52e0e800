/**
 * Executes retention: lists each directory, plans with `RetentionPlan.plan` (today from
 * Effect's `Clock`, UTC), and carries out the plan. A sweep never fails: every per-file
 * failure (and a missing or unreadable directory) is a `SweepFailure` in the report, and the
 * sweep goes on with the next file. Compressions of different files run concurrently, at most
 * `concurrency` at a time (default: `os.availableParallelism()`).
 *
 * Listing never follows a symbolic link inside a directory: each entry whose name is managed
 * is first probed with `readLink` (a link is reported as one and skipped), and only non-links
 * are `stat`ed. Names that are not managed are not even `stat`ed (their type is reported as
 * `"Other"`). A directory listed in `dirs` may itself be a link. A `dryRun` lists and plans
 * but changes nothing.
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
import { Clock, Context, Effect, Either, Layer, Metric, Option, Queue } from "effect"
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
  /** Compressions (and verifications) at once: CPU-bound work. Default `os.availableParallelism()`. */
  readonly concurrency?: number
  /**
   * File-system calls at once for work that needs no CPU to speak of: probing the listed names
   * and deleting expired files. These run alongside the compressions, not in their slots.
   * Default `max(16, concurrency)`.
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
    | { readonly _tag: "Entry"; readonly entry: RetentionPlan.Entry; readonly info?: FileSystem.File.Info }
    | { readonly _tag: "Vanished" }
    | { readonly _tag: "Failed"; readonly failure: SweepFailure }

  /** The type (and `stat`) of managed `name` without following a link. A name gone since `readDirectory` is dropped. */
  const probe = (dir: string, name: string): Effect.Effect<Probe> => {
    const path = Path.join(dir, name)
    return fs.readLink(path).pipe(
      Effect.as<Probe>({ _tag: "Entry", entry: { name, type: "SymbolicLink" } }),
      Effect.catchAll((e): Effect.Effect<Probe> =>
        isNotFound(e) ? Effect.succeed({ _tag: "Vanished" }) : fs.stat(path).pipe(
          Effect.map((info): Probe => ({
            _tag: "Entry",
            entry: { name, type: info.type === "File" || info.type === "Directory" ? info.type : "Other" },
            info
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
    infos: ReadonlyMap<string, FileSystem.File.Info>,
    cpu: Effect.Semaphore
  ): Effect.Effect<Outcome, SweepFailure> => {
    const info = infos.get(action.path)
    const size = info === undefined ? 0 : Number(info.size)
    switch (action._tag) {
      case "Delete":
        return fs.remove(action.path).pipe(
          Effect.mapError(failure(action.path, "delete")),
          Effect.as<Outcome>({ _tag: "Deleted", file: { path: action.path, bytes: size, reason: action.reason } })
        )
      case "Compress":
        return compressor.gzipFile(action.path, info === undefined ? { cpu } : { cpu, info }).pipe(
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
              bytesAfter: Number(infos.get(action.gzip)?.size ?? 0), reason: action.reason
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
    infos: ReadonlyMap<string, FileSystem.File.Info>,
    cpu: Effect.Semaphore
  ): Effect.Effect<GroupResult> =>
    Effect.gen(function* () {
      const outcomes: Array<Outcome> = []
      for (const action of group) {
        const result = yield* Effect.either(execute(action, infos, cpu))
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

  /** `count` fibers taking groups from `queue` until they take `undefined`. */
  const workers = (
    queue: Queue.Queue<Actions | undefined>,
    count: number,
    run: (group: Actions) => Effect.Effect<void>
  ): Effect.Effect<void> => {
    const work: Effect.Effect<void> = Effect.flatMap(Queue.take(queue), (group) =>
      group === undefined ? Effect.void : Effect.zipRight(run(group), Effect.suspend(() => work)))
    return Effect.all(Array.from({ length: count }, () => work), { concurrency: count, discard: true })
  }

  const sweep: Service["sweep"] = (dirs, policy, options = {}) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const today = new Date(started)
      const dryRun = options.dryRun ?? false
      const concurrency = Math.max(1, options.concurrency ?? os.availableParallelism())
      const ioConcurrency = Math.max(1, options.ioConcurrency ?? Math.max(DEFAULT_IO_CONCURRENCY, concurrency))
      const uniqueDirs = [...new Set(dirs)]
      const cpu = yield* Effect.makeSemaphore(concurrency)

      // Listing, planning and execution overlap: each daily file's entries (x.ndjson, x.ndjson.gz,
      // x.ndjson.gz.tmp) are probed together and planned as soon as they are, and the group's
      // actions are queued for the workers at once. Planning one group alone gives the same
      // actions as planning the whole listing (an entry's action depends only on its own group),
      // and the plan reported is that of the whole listing, made at the end.
      const entries = uniqueDirs.map((): Array<RetentionPlan.Entry> => [])
      const listed: Array<boolean> = uniqueDirs.map(() => false)
      const infos = new Map<string, FileSystem.File.Info>()
      const listFailures: Array<SweepFailure> = []
      const statFailures: Array<SweepFailure> = []
      const results = new Map<string, GroupResult>()
      const compressions = yield* Queue.unbounded<Actions | undefined>()
      const deletions = yield* Queue.unbounded<Actions | undefined>()

      const probeGroup = (d: number, names: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          const dir = uniqueDirs[d]!
          const probes = yield* Effect.forEach(names, (name) => probe(dir, name))
          const group: Array<RetentionPlan.Entry> = []
          for (const p of probes) {
            if (p._tag === "Failed") {
              statFailures.push(p.failure)
              yield* Metric.increment(filesFailed)
            }
            if (p._tag !== "Entry") continue
            group.push(p.entry)
            if (p.info !== undefined) infos.set(Path.join(dir, p.entry.name), p.info)
          }
          entries[d]!.push(...group)
          if (dryRun) return
          const actions = RetentionPlan.groups(RetentionPlan.plan([{ dir, entries: group }], policy, today))
          for (const g of actions) yield* Queue.offer(g.every((a) => a._tag === "Delete") ? deletions : compressions, g)
        })

      const produce = Effect.forEach(uniqueDirs, (dir, d) =>
        Effect.gen(function* () {
          const names = yield* Effect.either(fs.readDirectory(dir))
          if (Either.isLeft(names)) {
            listFailures.push(failure(dir, "list")(names.left))
            return yield* Metric.increment(filesFailed)
          }
          listed[d] = true
          // Names that are not managed need no file-system call: they are only ever skipped.
          const groups = new Map<string, Array<string>>()
          for (const name of names.right) {
            const parsed = DatedFile.parse(name)
            if (Either.isLeft(parsed)) entries[d]!.push({ name, type: "Other" })
            else groups.set(parsed.right.original, [...(groups.get(parsed.right.original) ?? []), name])
          }
          yield* Effect.forEach(groups.values(), (group) => probeGroup(d, group), { concurrency: ioConcurrency, discard: true })
        }), { discard: true }).pipe(
        Effect.ensuring(Effect.forEach(Array.from({ length: ioConcurrency }), () =>
          Effect.zipRight(Queue.offer(compressions, undefined), Queue.offer(deletions, undefined)), { discard: true }))
      )
      const run = (group: Actions) => Effect.map(runGroup(group, infos, cpu), (r) => void results.set(group[0]!.group, r))
      // Deletions have their own workers, so they never wait behind compressions; within a
      // compression only the zlib part holds one of the `concurrency` CPU permits.
      yield* Effect.all([produce, workers(compressions, ioConcurrency, run), workers(deletions, ioConcurrency, run)], {
        concurrency: "unbounded", discard: true
      })

      const listings = uniqueDirs.flatMap((dir, d) => listed[d] ? [{ dir, entries: entries[d]! }] : [])
      const plan = RetentionPlan.plan(listings, policy, today)
      const skipped = plan.actions.flatMap((a) => a._tag === "Skip" ? [{ path: a.path, reason: a.reason }] : [])
      const compressed: Array<CompressedFile> = []
      const deleted: Array<DeletedFile> = []
      const byPath = (a: SweepFailure, b: SweepFailure) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0
      const failed: Array<SweepFailure> = [...listFailures, ...statFailures.sort(byPath)]
      for (const group of dryRun ? [] : RetentionPlan.groups(plan)) {
        const result = results.get(group[0]!.group)
        if (result === undefined) continue
        for (const o of result.outcomes) {
          if (o._tag === "Compressed") compressed.push(o.file)
          else deleted.push(o.file)
        }
        if (Option.isSome(result.failure)) failed.push(result.failure.value)
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
