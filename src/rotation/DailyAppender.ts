/**
 * An append-only NDJSON writer that starts a new file every UTC day:
 * `<dir>/<prefix>-YYYY-MM-DD.ndjson`, exactly the names the retention sweep manages
 * (`FileNaming.default.parse` accepts every name it writes, with the same prefix). With the
 * option `naming` (a `FileNaming`) it writes that naming's names instead, e.g.
 * `<prefix>.YYYY-MM-DD.log`; an hourly naming (`{prefix}-{date}-{hour}.ndjson`) starts a new
 * file every UTC hour. Give the sweep the same naming.
 *
 * Rules (for an hourly naming, read "hour" for "day"):
 * - The day of a line is the UTC date of Effect's `Clock` when `append` (or `appendAll`,
 *   `appendJson`) is called; `TestClock` drives it in tests. All lines of one `appendAll`
 *   share one day.
 * - Calls are serialized: the clock is read and the line accepted in one step, so lines are
 *   in call order in each file and a line never lands in another day's file. At the first
 *   call on a new day, the previous day's file is flushed and closed, then the new one
 *   opened; if that flush fails the call fails with its error and nothing switches (the
 *   lines stay buffered and the next call retries). If the clock goes back a day (a wall
 *   clock step), lines go back to that day's file.
 * - Underneath, each day's file is a `RotatingAppender` with the same rules (whole lines,
 *   backpressure, typed errors, one writer per file). The directory and prefix are claimed
 *   once, at make, with `<dir>/.<prefix>.lock` (dir's real path), held across day switches
 *   and released at close: a second appender on the same directory and prefix fails at make
 *   with `FileClaimed`, and a crash leaves that one lock file, which the next make recovers. Its policy is `maxBytes` 0 (no size rotation) unless you
 *   pass one; note that size-rotated backups (`…ndjson.1`) are not names retention manages.
 * - Today's file is opened when the appender is made (so a bad directory fails at startup).
 *   Closing the scope flushes and closes the current file. Using the appender after its
 *   scope closed is a defect.
 *
 * In context: `layer(dir, prefix)` needs a `FileSystem` (`make` also a `Scope`); it fails at make
 * with `InvalidPrefix`, `WriteError` or `FileClaimed`. The option `naming` since 0.2.0.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { DailyAppender } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const events = yield* DailyAppender.DailyAppender
 *   yield* events.appendJson({ event: "order-placed", id: 42 }) // logs/events-2026-01-31.ndjson
 * })
 * Effect.runPromise(program.pipe(
 *   Effect.provide(DailyAppender.layer("logs", "events").pipe(Layer.provide(NodeFileSystem.layer)))))
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Path from "node:path"
import * as FileNaming from "../retention/FileNaming.js"
import { type AppendError, FileClaimed, InvalidPrefix, WriteError } from "../Errors.js"
import * as LockFile from "../platform/internal/LockFile.js"
import * as RenameShift from "./RenameShift.js"
import * as RotatingAppender from "./RotatingAppender.js"
import { type Policy, make as makePolicy } from "./RotationPolicy.js"

export { InvalidPrefix }

/** @since 0.1.0 */
export interface DailyAppender {
  readonly dir: string
  readonly prefix: string
  readonly policy: Policy
  /** Accepts one NDJSON line (without the trailing `\n`) into today's file. */
  readonly append: (line: string) => Effect.Effect<void, AppendError>
  /** Accepts lines as one unit into today's file: all, or none. */
  readonly appendAll: (lines: Iterable<string>) => Effect.Effect<void, AppendError>
  /** `JSON.stringify(value)` as one line; a value JSON cannot represent is `InvalidLine`. */
  readonly appendJson: (value: unknown) => Effect.Effect<void, AppendError>
  /** Waits until every accepted line has been written to its file. */
  readonly flush: Effect.Effect<void, AppendError>
  /** The path a line appended now would go to (from the `Clock`; opens nothing). */
  readonly currentPath: Effect.Effect<string>
}

/** @since 0.1.0 */
export const DailyAppender = Context.GenericTag<DailyAppender>("effect-logrotate/DailyAppender")

/** @since 0.1.0 */
export interface Options {
  /** Size rotation within a day. Default `{ maxBytes: 0, maxFiles: 0 }`: none. */
  readonly policy?: Policy
  /** Pending bytes at which an append waits for the write in progress (see `RotatingAppender.Options`). Default 1 MiB. */
  readonly highWaterMark?: number
  /** Permission bits for a newly created file. Default 0o644. */
  readonly mode?: number
  /**
   * How the files are named, and so how long each one's period is: a day, or an hour when the
   * pattern has `{hour}`. Default `FileNaming.default` (`<prefix>-YYYY-MM-DD.ndjson`).
   *
   * @since 0.2.0
   */
  readonly naming?: FileNaming.FileNaming
}

const noRotation = makePolicy({ maxBytes: 0, maxFiles: 0 })

/**
 * The file name for `prefix` on the UTC day of `instant`, by `FileNaming.default`
 * (`FileNaming.nameAt(naming, prefix, instant)` for another naming).
 *
 * @example
 * ```ts
 * DailyAppender.fileName("events", new Date("2026-01-31T23:59:59.999Z")) // "events-2026-01-31.ndjson"
 * ```
 *
 * @since 0.1.0
 */
export const fileName = (prefix: string, instant: Date): string => FileNaming.nameAt(FileNaming.default, prefix, instant)

/**
 * Checks that `prefix` names files the retention sweep manages: not empty, no path separator,
 * no control character, and `<prefix>-YYYY-MM-DD.ndjson` parses back to the same prefix
 * (`FileNaming.validatePrefix(naming, prefix)` for another naming).
 *
 * @example
 * ```ts
 * DailyAppender.validatePrefix("dlq-orders") // Either.right("dlq-orders")
 * DailyAppender.validatePrefix("a/b") // Either.left(InvalidPrefix)
 * ```
 *
 * @since 0.1.0
 */
export const validatePrefix = (prefix: string): Either.Either<string, InvalidPrefix> =>
  FileNaming.validatePrefix(FileNaming.default, prefix)

/** The names a claim covers, as a glob: `events-*.ndjson`. */
const claimedNames = (naming: FileNaming.FileNaming, prefix: string): string =>
  naming.segments.map((s) => s._tag === "Literal" ? s.text : s.name === "prefix" ? prefix : "*").join("")

interface Day {
  /** Start of the day (or hour), epoch ms. */
  readonly start: number
  /** Start of the next one, epoch ms. */
  readonly end: number
  readonly path: string
  readonly appender: RotatingAppender.RotatingAppender
  readonly scope: Scope.CloseableScope
}

/**
 * Opens a daily appender for `<dir>/<prefix>-YYYY-MM-DD.ndjson` (or the names of
 * `options.naming`), creating `dir`, closed with the scope. Requires only `FileSystem` (a
 * `RenameShift` in context is used when rotating by size; otherwise one is built over the
 * `FileSystem`).
 *
 * @since 0.1.0
 */
export const make = (
  dir: string,
  prefix: string,
  options?: Options
): Effect.Effect<DailyAppender, InvalidPrefix | WriteError | FileClaimed, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const { naming = FileNaming.default, ...appenderOptions } = options ?? {}
    yield* FileNaming.validatePrefix(naming, prefix)
    const renameShift = yield* Effect.serviceOption(RenameShift.RenameShift).pipe(
      Effect.flatMap(Option.match({ onNone: () => RenameShift.make, onSome: Effect.succeed }))
    )
    const fs = yield* FileSystem.FileSystem
    const policy = options?.policy ?? noRotation
    // One claim for the (directory, prefix), held across day switches: a crash leaves one
    // `.<prefix>.lock`, healed by the next make, not one lock per past day that no one
    // reopens. The days' RotatingAppenders skip their own claims.
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(
      Effect.mapError((cause) => new WriteError({ path: dir, operation: "makeDirectory", cause }))
    )
    const realDir = yield* fs.realPath(dir).pipe(Effect.mapError((cause) => new WriteError({ path: dir, operation: "claim", cause })))
    const lockPath = Path.join(realDir, `.${prefix}.lock`)
    yield* LockFile.acquire(lockPath, "append daily").pipe(
      Effect.catchTags({
        LockHeld: (held) => Effect.fail(new FileClaimed({ path: Path.join(dir, claimedNames(naming, prefix)), lockPath, holder: held.holder })),
        LockError: (error) => Effect.fail(new WriteError({ path: lockPath, operation: "claim", cause: error.cause }))
      })
    )
    const lock = yield* Effect.makeSemaphore(1)
    let current: Day | undefined
    let closed = false

    const open = (now: number) =>
      Effect.gen(function* () {
        const period = naming.periodOf(now)
        const start = FileNaming.periodStart(period)
        const end = FileNaming.periodEnd(period)
        const path = Path.join(dir, naming.format(prefix, period))
        const scope = yield* Scope.make()
        const appender = yield* RotatingAppender.make(path, { ...appenderOptions, policy, claimedByCaller: true }).pipe(
          Scope.extend(scope),
          Effect.provideService(RenameShift.RenameShift, renameShift),
          Effect.provideService(FileSystem.FileSystem, fs),
          Effect.onError(() => Scope.close(scope, Exit.void))
        )
        current = { start, end, path, appender, scope }
        return current
      })

    /** The day for `now`, switching (flush, close, open) when it is not the current one. */
    const dayAt = (now: number): Effect.Effect<Day, AppendError> =>
      Effect.suspend(() => {
        const day = current
        if (day !== undefined && now >= day.start && now < day.end) return Effect.succeed(day)
        return Effect.gen(function* () {
          if (day !== undefined) {
            yield* day.appender.flush
            current = undefined
            yield* Scope.close(day.scope, Exit.void)
          }
          return yield* open(now)
        }).pipe(Effect.uninterruptible)
      })

    const withDay = <A>(f: (day: Day) => Effect.Effect<A, AppendError>): Effect.Effect<A, AppendError> =>
      lock.withPermits(1)(Effect.suspend(() =>
        closed
          ? Effect.dieMessage(`DailyAppender ${dir}/${prefix}: used after its scope closed`)
          : Clock.currentTimeMillis.pipe(Effect.flatMap(dayAt), Effect.flatMap(f))
      ))

    yield* open(yield* Clock.currentTimeMillis)
    yield* Effect.addFinalizer(() =>
      lock.withPermits(1)(Effect.suspend(() => {
        closed = true
        const day = current
        current = undefined
        return day === undefined ? Effect.void : Scope.close(day.scope, Exit.void)
      }))
    )

    return DailyAppender.of({
      dir,
      prefix,
      policy,
      append: (line) => withDay((day) => day.appender.append(line)),
      appendAll: (lines) => withDay((day) => day.appender.appendAll(lines)),
      appendJson: (value) => withDay((day) => day.appender.appendJson(value)),
      flush: lock.withPermits(1)(Effect.suspend(() => current === undefined ? Effect.void : current.appender.flush)),
      currentPath: Effect.map(Clock.currentTimeMillis, (now) => Path.join(dir, FileNaming.nameAt(naming, prefix, now)))
    })
  })

/**
 * A daily appender as the `DailyAppender` service.
 *
 * @example
 * ```ts
 * DailyAppender.layer("logs", "events").pipe(Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  dir: string,
  prefix: string,
  options?: Options
): Layer.Layer<DailyAppender, InvalidPrefix | WriteError | FileClaimed, FileSystem.FileSystem> =>
  Layer.scoped(DailyAppender, make(dir, prefix, options))

/**
 * A daily appender under your own tag, for programs that write several daily files.
 *
 * @example
 * ```ts
 * class Audit extends Context.Tag("Audit")<Audit, DailyAppender.DailyAppender>() {}
 * const AuditLive = DailyAppender.layerAs(Audit, "logs", "audit")
 * ```
 *
 * @since 0.1.0
 */
export const layerAs = <Id>(
  tag: Context.Tag<Id, DailyAppender>,
  dir: string,
  prefix: string,
  options?: Options
): Layer.Layer<Id, InvalidPrefix | WriteError | FileClaimed, FileSystem.FileSystem> => Layer.scoped(tag, make(dir, prefix, options))
