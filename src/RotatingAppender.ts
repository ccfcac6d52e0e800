/**
 * An append-only NDJSON writer for one file that rotates by size (Plan #2268).
 *
 * Rules:
 * - Before a line is written, if the active file is non-empty and its size plus the line
 *   (with `\n`) would pass `maxBytes`, the file rotates first (see `RenameShift`). The
 *   active file therefore never passes `maxBytes`, except that a single line larger than
 *   `maxBytes` goes alone into a fresh file. `maxBytes` 0 means never rotate.
 * - A line is never split across files. A line containing `\n` or `\r` is rejected with
 *   `InvalidLine` and nothing is written.
 * - The file is opened once (one `stat` for its size) and kept open; the size is tracked
 *   in memory. Lines are buffered and written in batches by a background fiber; an append
 *   waits only when `highWaterMark` bytes are already pending (backpressure).
 * - Appends from many fibers are serialized: no interleaving inside a line, no lost line.
 * - `flush` waits until everything accepted so far has been handed to the OS. Closing the
 *   scope flushes and closes the file.
 * - A failed write or rotation keeps the pending lines in memory (retried by the next
 *   flush) and surfaces as a typed error from `flush`, or from an `append` that had to
 *   wait; an append that fails was not accepted. Lines already on disk are never touched.
 *
 * Assumes it is the only writer of its files (as lumberjack does): another process
 * appending to or moving the active file makes the tracked size wrong.
 *
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { RenameShift, RotatingAppender, RotationPolicy } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const log = yield* RotatingAppender.RotatingAppender
 *   yield* log.appendJson({ event: "started" })
 * })
 * const Live = RotatingAppender.layer("logs/app.jsonl").pipe(
 *   Layer.provide(Layer.mergeAll(RenameShift.layer, RotationPolicy.layerConfig())),
 *   Layer.provide(NodeFileSystem.layer))
 * Effect.runPromise(program.pipe(Effect.provide(Live)))
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Path from "node:path"
import { type AppendError, InvalidLine, WriteError } from "./Errors.js"
import { type Batch, LineBuffer } from "./internal/LineBuffer.js"
import { RenameShift } from "./RenameShift.js"
import { type Policy, RotationPolicy } from "./RotationPolicy.js"

export interface RotatingAppender {
  readonly path: string
  readonly policy: Policy
  /** Accepts one NDJSON line (without the trailing `\n`). */
  readonly append: (line: string) => Effect.Effect<void, AppendError>
  /** Accepts lines as one unit: all, or (on `InvalidLine` or a failed wait) none. */
  readonly appendAll: (lines: Iterable<string>) => Effect.Effect<void, AppendError>
  /** `JSON.stringify(value)` as one line; a value JSON cannot represent is `InvalidLine`. */
  readonly appendJson: (value: unknown) => Effect.Effect<void, AppendError>
  /** Waits until every accepted line has been written to the file. */
  readonly flush: Effect.Effect<void, AppendError>
}

export const RotatingAppender = Context.GenericTag<RotatingAppender>("effect-logrotate/RotatingAppender")

export interface Options {
  readonly policy: Policy
  /** Pending bytes at which an append waits for a flush. Default 256 KiB. */
  readonly highWaterMark?: number
  /** Permission bits for a newly created file. Default 0o644. */
  readonly mode?: number
}

const hasLineBreak = /[\n\r]/

/**
 * Opens (creating parent directories) an appender for `path`, closed with the scope.
 * Requires the `FileSystem` and `RenameShift` services.
 */
export const make = (
  path: string,
  options: Options
): Effect.Effect<RotatingAppender, WriteError, Scope.Scope | FileSystem.FileSystem | RenameShift> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const renameShift = yield* RenameShift
    const scope = yield* Effect.scope
    const { maxBytes, maxFiles } = options.policy
    const highWaterMark = options.highWaterMark ?? 256 * 1024
    const writeError = (operation: WriteError["operation"]) =>
      Effect.mapError((cause: WriteError["cause"]) => new WriteError({ path, operation, cause }))

    let file: { readonly handle: FileSystem.File; readonly scope: Scope.CloseableScope } | undefined
    /** Bytes on disk in the active file. */
    let written = 0
    /** Bytes the active file will hold once everything pending is written: drives rotation. */
    let projected = 0
    const pending = new LineBuffer(Math.min(highWaterMark, 1024 * 1024) + 64 * 1024)
    let spare: Buffer | undefined
    /** Set once the scope has closed: using the appender after that is a bug (a defect). */
    let closed = false
    /** Opened by every accepted line; the flusher fiber waits on it. */
    const wake = yield* Effect.makeLatch(false)
    const lock = yield* Effect.makeSemaphore(1)

    const open = Effect.gen(function* () {
      yield* fs.makeDirectory(Path.dirname(path), { recursive: true }).pipe(writeError("makeDirectory"))
      // Its own scope, not a child of the appender's: the final flush (which may reopen
      // after a rotation) runs while the appender's scope is already closing.
      const fileScope = yield* Scope.make()
      const handle = yield* fs.open(path, { flag: "a", mode: options.mode ?? 0o644 }).pipe(
        Scope.extend(fileScope),
        writeError("open"),
        Effect.tapError(() => Scope.close(fileScope, Exit.void))
      )
      const info = yield* handle.stat.pipe(writeError("stat"), Effect.tapError(() => Scope.close(fileScope, Exit.void)))
      file = { handle, scope: fileScope }
      return Number(info.size)
    })

    const ensureOpen = Effect.suspend(() => (file ? Effect.succeed(file.handle) : open.pipe(
      Effect.map((size) => {
        written = size
        return file!.handle
      })
    )))

    const closeFile = Effect.suspend(() => {
      const current = file
      file = undefined
      return current ? Scope.close(current.scope, Exit.void) : Effect.void
    })

    // The handle stays open during the renames (it follows the inode to `.1`) and is
    // closed only once they succeeded, so a failed rotation can keep appending.
    const rotate = Effect.gen(function* () {
      if (file === undefined && !(yield* fs.exists(path).pipe(Effect.orElseSucceed(() => true)))) return
      yield* renameShift.shift(path, maxFiles)
      yield* closeFile
      written = 0
    })

    const write = (data: Buffer) =>
      Effect.flatMap(ensureOpen, (handle) =>
        handle.writeAll(data).pipe(
          writeError("write"),
          // A partial write would leave a torn line: cut the file back to its last whole line,
          // but never extend it (after an outside truncation, e.g. copytruncate, it is shorter).
          Effect.tapError(() =>
            Effect.ignore(Effect.flatMap(handle.stat, (info) => Number(info.size) > written ? handle.truncate(written) : Effect.void))),
          Effect.map(() => void (written += data.length))
        ))

    /** Writes a batch piece by piece, rotating at its cuts; `progress` says how far it got. */
    const writeBatch = (batch: Batch, progress: { offset: number; cut: number }) =>
      Effect.gen(function* () {
        while (true) {
          const cut = batch.cuts[progress.cut]
          const end = cut ?? batch.length
          if (end > progress.offset) {
            yield* write(batch.bytes.subarray(progress.offset, end))
            progress.offset = end
          }
          if (cut === undefined) return
          yield* rotate
          progress.cut++
        }
      })

    /** Writes everything pending, in order; what a failure leaves unwritten goes back in front. */
    const drain: Effect.Effect<void, AppendError> = Effect.suspend(() => {
      if (pending.isEmpty) return Effect.void
      const batch = pending.take(spare)
      spare = undefined
      const progress = { offset: 0, cut: 0 }
      return writeBatch(batch, progress).pipe(
        Effect.matchEffect({
          onFailure: (error) => {
            pending.restore(batch, progress.offset, progress.cut)
            return Effect.fail(error)
          },
          onSuccess: () => {
            spare = batch.bytes
            return drain
          }
        }),
        Effect.uninterruptible
      )
    })

    const flush = lock.withPermits(1)(drain)
    const publicFlush = Effect.suspend(() => (closed ? useAfterClose : flush))

    // One long-lived fiber writes in the background; a line only opens the latch (no fork per batch).
    // Closing the latch before the flush means a line accepted during the write wakes the next round.
    const flusher = wake.await.pipe(
      Effect.zipRight(wake.close),
      Effect.zipRight(flush),
      Effect.catchAll((error) =>
        Effect.logWarning("background flush failed; lines stay buffered and are retried").pipe(
          Effect.annotateLogs({ path, error: error.message })
        )
      ),
      Effect.forever
    )

    const accept = (line: string) => {
      const at = pending.length
      const bytes = pending.push(line)
      if (maxBytes > 0 && projected > 0 && projected + bytes > maxBytes) {
        pending.cutAt(at)
        projected = 0
      }
      projected += bytes
    }

    const invalid = (reason: string) => Effect.fail(new InvalidLine({ path, reason }))

    // The hot path allocates one suspended effect per call and otherwise returns shared values.
    const afterAccept = (): Effect.Effect<void> => {
      wake.unsafeOpen()
      return Effect.void
    }
    const useAfterClose = Effect.dieMessage(`RotatingAppender(${path}) used after its scope closed`)

    /** A full buffer waits for a flush first, so a failed wait rejects the new lines. */
    const append = (line: string): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (closed) return useAfterClose
        if (hasLineBreak.test(line)) return invalid("the line contains a line break")
        if (pending.length >= highWaterMark) return Effect.zipRight(flush, append(line))
        accept(line)
        return afterAccept()
      })

    const acceptAll = (batch: ReadonlyArray<string>): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (pending.length >= highWaterMark) return Effect.zipRight(flush, acceptAll(batch))
        for (const line of batch) accept(line)
        return afterAccept()
      })

    const appendAll = (lines: Iterable<string>): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (closed) return useAfterClose
        const batch = Array.isArray(lines) ? lines as ReadonlyArray<string> : Array.from(lines)
        const bad = batch.findIndex((line) => hasLineBreak.test(line))
        if (bad >= 0) return invalid(`line ${bad + 1} of ${batch.length} contains a line break`)
        return acceptAll(batch)
      })

    const appendJson = (value: unknown): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        let line: string | undefined
        try {
          line = JSON.stringify(value)
        } catch (error) {
          return invalid(`the value cannot be serialized as JSON (${String(error)})`)
        }
        return line === undefined ? invalid("the value has no JSON representation") : append(line)
      })

    projected = written = yield* open
    // Finalizers run last-added first: the flusher fiber is interrupted (waiting for a write in
    // progress, which is uninterruptible) before the final flush writes the rest and closes.
    // `closed` is set first, under the lock: an append racing the close either got in before
    // (and is in the final drain) or is refused; none is accepted and then dropped.
    yield* Effect.addFinalizer(() =>
      lock.withPermits(1)(Effect.suspend(() => {
        closed = true
        return drain
      })).pipe(
        Effect.catchAll((error) =>
          Effect.logError("lines lost at close: final flush failed").pipe(
            Effect.annotateLogs({ path, error: error.message, pendingBytes: pending.length })
          )
        ),
        Effect.zipRight(closeFile)
      )
    )
    // Interruptible even when the appender is made inside an uninterruptible region (a fork
    // inherits it), or closing the scope would wait forever for the idle flusher.
    yield* Effect.forkIn(Effect.interruptible(flusher), scope)

    return RotatingAppender.of({ path, policy: options.policy, append, appendAll, appendJson, flush: publicFlush })
  })

/** An appender for `path` under the program's `RotationPolicy`, as the `RotatingAppender` service. */
export const layer = (
  path: string,
  options?: Omit<Options, "policy">
): Layer.Layer<RotatingAppender, WriteError, RotationPolicy | FileSystem.FileSystem | RenameShift> =>
  Layer.scoped(RotatingAppender, Effect.flatMap(RotationPolicy, (policy) => make(path, { ...options, policy })))

/**
 * An appender under your own tag, for programs that write several files, each with its
 * own policy (or the program's `RotationPolicy` when `policy` is left out).
 *
 * @example
 * ```ts
 * class Audit extends Context.Tag("Audit")<Audit, RotatingAppender.RotatingAppender>() {}
 * const AuditLive = RotatingAppender.layerAs(Audit, "logs/audit.jsonl", { policy: RotationPolicy.make({ maxBytes: 1e6, maxFiles: 20 }) })
 * ```
 */
export function layerAs<Id>(
  tag: Context.Tag<Id, RotatingAppender>,
  path: string,
  options: Partial<Options> & { readonly policy: Policy }
): Layer.Layer<Id, WriteError, FileSystem.FileSystem | RenameShift>
export function layerAs<Id>(
  tag: Context.Tag<Id, RotatingAppender>,
  path: string,
  options?: Partial<Options>
): Layer.Layer<Id, WriteError, RotationPolicy | FileSystem.FileSystem | RenameShift>
export function layerAs<Id>(
  tag: Context.Tag<Id, RotatingAppender>,
  path: string,
  options?: Partial<Options>
): Layer.Layer<Id, WriteError, RotationPolicy | FileSystem.FileSystem | RenameShift> {
  return Layer.scoped(
    tag,
    Effect.flatMap(
      options?.policy ? Effect.succeed(options.policy) : RotationPolicy,
      (policy) => make(path, { ...options, policy })
    )
  )
}
