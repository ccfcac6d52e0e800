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
 * - The file is opened once (one `stat` for its size, one read of its last byte) and kept
 *   open; the size is tracked in memory. Lines are buffered and written in batches by a background fiber; an append
 *   waits only when `highWaterMark` bytes are already pending (backpressure), and then only until the write in
 *   progress ends and the next batch is taken: one buffer fills while the other is written.
 * - `appendAll` encodes its lines as one joined string (in parts of 256 lines) with one UTF-8 encode each, and
 *   checks for line breaks in one scan of that string; the byte offsets of single lines are looked up only when
 *   a rotation falls inside the batch.
 * - Appends from many fibers are serialized: no interleaving inside a line, no lost line.
 * - `flush` waits until everything accepted so far has been handed to the OS. Closing the
 *   scope flushes and closes the file.
 * - A failed write or rotation keeps the pending lines in memory (retried by the next
 *   flush) and surfaces as a typed error from `flush`, or from an `append` that had to
 *   wait; an append that fails was not accepted. Lines already on disk are never touched.
 *
 * Compressed backups (a policy with `compress`, logrotate's `compress` + `delaycompress`):
 * - The backups from `<name>.2` up become `<name>.2.gz` …; the newest, `<name>.1`, stays plain.
 *   `maxFiles` counts backups whatever their form (`RenameShift.shift(…, { compressed: true })`).
 * - Compression runs in a background fiber through the `Compressor` (temp, fsync, link publish;
 *   the plain backup is removed only after its `.gz` is published), never on the write path: a
 *   rotation stops the compression in progress (waiting only for its publish step), shifts, and
 *   starts a new round. Backups that rotations keep overtaking stay plain, counted and whole.
 * - Closing the scope waits for the round in progress (after the final flush): a clean close
 *   leaves every backup from `.2` up gzipped. A crash leaves plain backups (or a `.gz.tmp`, or a
 *   `.gz` next to its original) that the next open's round completes (`finishCompression`
 *   compares before it removes an original). A failed compression is a warning, never an
 *   append error; the backup stays plain until the next rotation or open.
 * - The `Compressor` in context is used; without one, the default one over the `SafeFs` in
 *   context, else over the in-memory one when `MemoryFileSystem` is in context, else over
 *   `SafeFs.layerNode`. Without `compress`, none of this is built.
 *
 * One writer per file:
 * - `make` claims the file before opening it, with the lock file `<dir>/.<name>.lock`, `<dir>`
 *   being the directory's real path (pid, host, time, purpose; see `internal/LockFile`): a
 *   second appender on the same path, or on an alias of it through a symlinked directory,
 *   in this process or another one on this host, fails at `make` with `FileClaimed` naming
 *   the path and the holder. The claim is released after the final flush and close; one
 *   left by a crash is taken over when its pid is dead. The hidden name is never a backup
 *   name (`RenameShift` only touches `<name>.<N>`). Not for network file systems.
 * - The active path itself is never a symbolic link (as logrotate refuses symlinked logs):
 *   every open (`make`, `reopen`, after a rotation) probes it with `readLink` before and right
 *   after the open and fails with `WriteError` ("is a symbolic link…") on a link. A link swapped
 *   in and out between the two probes is opened through once (no `O_NOFOLLOW` on `FileSystem`);
 *   hard links to the active file are not detected.
 * - A name of one of effect-logrotate's lock files (`.<x>.lock`, `.<x>.lock.break`,
 *   `.<x>.lock.<id>.stale`, `effect-logrotate`, see `internal/LockNames`) is not an active file
 *   name: `make` fails with `WriteError` (operation `"claim"`) before creating anything.
 *
 * What others may do to the file:
 * - A last line without its `\n` (a crash, another tool) is terminated with `\n` at open,
 *   before anything is appended, so it stays a line of its own; that byte counts toward
 *   `maxBytes`. Logged as a warning and counted in `tornTailsTerminated`. (The file is
 *   opened `"a+"`: it must be readable as well as writable.)
 * - After each written batch (one `stat` of the path, never per line) the path is compared
 *   with the open file (device and inode). If the file was removed (`fstat` of the handle:
 *   `nlink` 0), the path is opened again (a fresh file, or whatever now has the name) and the
 *   batch, still in memory, is written again there: a removal at any moment loses no line
 *   written after it. If the file was moved away, the batch just written stays in the moved
 *   file and later ones go to the path (a fresh file, or whatever now has the name, rotated
 *   first if the next lines would pass `maxBytes`). Either is a warning, counted in
 *   `activeFileReopened`. A rotation whose source vanished starts a fresh file instead of failing.
 * - `reopen` flushes and reopens the path on request (the CLI does it on `SIGHUP`).
 *
 * Events and metrics: with a `LogEvents` layer in context at `make`, each rotation publishes
 * `Rotated` and, per backup it removed past `maxFiles`, `BackupRemoved` (sized by one `stat`
 * each, only then); without one (the default) nothing is published. Never per line. The
 * counters below carry a `directory` tag: the active file's directory.
 * - Another process appending to the file behind our back (without the claim) makes the
 *   tracked size wrong: rotation may come early or late.
 *
 * In context: `layer(path)` needs a `FileSystem`, `RenameShift` and the `RotationPolicy`
 * (`make(path, { policy })` needs a `Scope` instead of the policy); optional: `LogEvents` (events),
 * `Compressor`/`SafeFs` (for `compress`). It fails at make with `WriteError` or `FileClaimed`, and
 * an append with `AppendError`. The guarantees, each with its test: docs/reliability.md.
 *
 * @since 0.1.0
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
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { SystemError } from "@effect/platform/Error"
import * as Path from "node:path"
import * as Compressor from "../retention/Compressor.js"
import { type AppendError, FileClaimed, InvalidLine, type InvalidLineReason, WriteError } from "../Errors.js"
import * as BackupCompression from "./internal/BackupCompression.js"
import { planByteCuts } from "./internal/ByteCuts.js"
import { type Batch, LineBuffer } from "./internal/LineBuffer.js"
import * as LockFile from "../platform/internal/LockFile.js"
import { ACCEPTED, reservedReason } from "../platform/internal/LockNames.js"
import { BackupRemoved, Compressed, LogEvents, Rotated } from "../logging/LogEvents.js"
import { MemoryFileSystem } from "../platform/MemoryFileSystem.js"
import { RenameShift, type ShiftResult } from "./RenameShift.js"
import { type Policy, RotationPolicy } from "./RotationPolicy.js"
import * as SafeFs from "../platform/SafeFs.js"

/** @since 0.1.0 */
export interface RotatingAppender {
  readonly path: string
  readonly policy: Policy
  /** Accepts one NDJSON line (without the trailing `\n`). */
  readonly append: (line: string) => Effect.Effect<void, AppendError>
  /** Accepts lines as one unit: all, or (on `InvalidLine` or a failed wait) none. */
  readonly appendAll: (lines: Iterable<string>) => Effect.Effect<void, AppendError>
  /** `JSON.stringify(value)` as one line; a value JSON cannot represent is `InvalidLine`. */
  readonly appendJson: (value: unknown) => Effect.Effect<void, AppendError>
  /**
   * The byte-level path (the CLI's `append`): writes `bytes` as they are, no decoding; lines end
   * at `\n` (0x0A) only, so `\r` and invalid UTF-8 pass through unchanged. Rotation follows the
   * rules above, at line ends. Bytes after the last `\n` leave a line open: it starts in a fresh
   * file (a rotation first, unless the active file is empty), and the next call continues it
   * (never rotating inside it) until its `\n`, so a line longer than any buffer streams into its
   * own file in bounded memory and may pass `maxBytes`. Waits until the bytes are handed to the
   * OS (after any pending lines): the caller's backpressure. A failure leaves the unwritten rest
   * pending (written by the next flush); do not send it again. Do not `append` strings while a
   * line is open: they would be written inside it. A reopen (`reopen`, or the file found
   * removed/moved) ends an open line: its rest is written as a line of its own.
   */
  readonly appendBytes: (bytes: Uint8Array) => Effect.Effect<void, AppendError>
  /**
   * Lines already encoded: `bytes` holds whole NDJSON lines, each ending in `\n` (0x0A), as a
   * formatter writes them into a reused buffer (`NdjsonLogger` does). Accepted as one unit, as
   * `appendAll`: all, or none (`InvalidLine` when a line contains `\r` or the bytes do not end in
   * `\n`; or a failed wait). The bytes are written as they are (no decoding); rotation follows the
   * rules above, at line ends, each line planned as `append` would. The bytes are copied when
   * accepted: the caller may reuse its buffer once the effect completes.
   *
   * @since 0.2.0
   * @example
   * ```ts
   * yield* appender.appendEncoded(Buffer.from('{"a":1}\n{"a":2}\n'))
   * ```
   */
  readonly appendEncoded: (bytes: Uint8Array) => Effect.Effect<void, AppendError>
  /** Waits until every accepted line has been written to the file. */
  readonly flush: Effect.Effect<void, AppendError>
  /**
   * Flushes, closes the active file and opens `path` again (a new file if it was moved or
   * removed): what `SIGHUP` does to a sidecar after an outside rotation. Fails with the
   * flush's error, after reopening anyway.
   */
  readonly reopen: Effect.Effect<void, AppendError>
}

/** @since 0.1.0 */
export const RotatingAppender = Context.GenericTag<RotatingAppender>("effect-logrotate/RotatingAppender")

/** @since 0.1.0 */
export interface Options {
  readonly policy: Policy
  /**
   * Pending bytes at which an append waits: for the write in progress to end and the background
   * fiber to take the buffer (it keeps at most about twice this in memory). Default 1 MiB.
   */
  readonly highWaterMark?: number
  /** Permission bits for a newly created file. Default 0o644. */
  readonly mode?: number
  /**
   * The caller already holds a claim covering this file (as `DailyAppender` holds
   * `.<prefix>.lock`): take no `.<name>.lock` of its own. Default false.
   */
  readonly claimedByCaller?: boolean
}

/**
 * Torn last lines (no final `\n`) found at open and terminated with `\n`.
 *
 * @since 0.1.0
 */
export const tornTailsTerminated = Metric.counter("effect_logrotate_appender_torn_tails_terminated_total", {
  description: "active files opened with a last line missing its \\n (a crash, another tool), terminated before appending",
  incremental: true
})

/**
 * Active files found removed or replaced by someone else, and opened again at their path.
 *
 * @since 0.1.0
 */
export const activeFileReopened = Metric.counter("effect_logrotate_appender_active_file_reopened_total", {
  description: "times the active file was found removed or moved away (checked once per written batch) and reopened",
  incremental: true
})

/** Lines joined into one string at most (see `appendAll`). */
const JOIN_LINES = 256

/**
 * The lock file claiming `path` for one appender: `<dir>/.<name>.lock` (hidden, never a backup name).
 *
 * @since 0.1.0
 */
export const lockPathOf = (path: string): string => Path.join(Path.dirname(path), `.${Path.basename(path)}.lock`)

interface Identity {
  readonly dev: number
  readonly ino: Option.Option<number>
}

/**
 * Whether `info` is the file `id` describes; unknown inode numbers count as the same. Pure.
 *
 * @since 0.1.0
 */
export const sameFile = (id: Identity, info: FileSystem.File.Info): boolean =>
  id.dev === info.dev && (Option.isNone(id.ino) || Option.isNone(info.ino) || id.ino.value === info.ino.value)

const NEWLINE = new Uint8Array([10])

/**
 * The `Compressor` of a policy with `compress`: the one in context; else one over the `SafeFs`
 * in context; else over `SafeFs.layerMemory` when the `MemoryFileSystem` is in context (so an
 * appender on the in-memory file system compresses there), else over `SafeFs.layerNode`.
 */
const compressorInContext: Effect.Effect<Compressor.Service> = Effect.gen(function* () {
  const given = yield* Effect.serviceOption(Compressor.Compressor)
  if (Option.isSome(given)) return given.value
  const safe = yield* Effect.serviceOption(SafeFs.SafeFs)
  if (Option.isSome(safe)) return yield* Effect.provideService(Compressor.make(), SafeFs.SafeFs, safe.value)
  const memory = yield* Effect.serviceOption(MemoryFileSystem)
  return yield* Option.match(memory, {
    onNone: () => Effect.provide(Compressor.make(), SafeFs.layerNode),
    onSome: (mem) => Effect.provide(Compressor.make(), SafeFs.layerMemory.pipe(Layer.provide(Layer.succeed(MemoryFileSystem, mem))))
  })
})

/**
 * Opens (creating parent directories) an appender for `path`, closed with the scope.
 * Requires the `FileSystem` and `RenameShift` services.
 *
 * @since 0.1.0
 */
export const make = (
  path: string,
  options: Options
): Effect.Effect<RotatingAppender, WriteError | FileClaimed, Scope.Scope | FileSystem.FileSystem | RenameShift> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const renameShift = yield* RenameShift
    // The default publishes nowhere (LogEvents.none); events are published per rotation, never per line.
    const events = yield* LogEvents
    const scope = yield* Effect.scope
    const { maxBytes, maxFiles } = options.policy
    const highWaterMark = options.highWaterMark ?? 1024 * 1024
    // The appender's counters carry the directory of its file (`directory` tag).
    const tornTails = Metric.tagged(tornTailsTerminated, "directory", Path.dirname(path))
    const reopened = Metric.tagged(activeFileReopened, "directory", Path.dirname(path))
    const writeError = (operation: WriteError["operation"]) =>
      Effect.mapError((cause: WriteError["cause"]) => new WriteError({ path, operation, cause }))

    let file: {
      readonly handle: FileSystem.File
      readonly scope: Scope.CloseableScope
      /** What the path pointed at when it was opened; compared once per written batch. */
      readonly identity: Identity
    } | undefined
    /** Bytes on disk in the active file. */
    let written = 0
    /** Bytes the active file will hold once everything pending is written: drives rotation. */
    let projected = 0
    const pending = new LineBuffer(Math.min(highWaterMark, 1024 * 1024) + 64 * 1024)
    let spare: Buffer | undefined
    /** `appendBytes` left a line open: its start is in the active file, its `\n` not yet. */
    let byteLineOpen = false
    /** Set once the scope has closed: using the appender after that is a bug (a defect). */
    let closed = false
    /** Opened by every accepted line; the flusher fiber waits on it. */
    const wake = yield* Effect.makeLatch(false)
    /** Open while what is pending is under `highWaterMark` or a write just failed; see `waitForRoom`. */
    const room = yield* Effect.makeLatch(true)
    /** The last write failed and its lines are pending again; cleared by a successful write. */
    let failed = false
    const lock = yield* Effect.makeSemaphore(1)
    /** With `compress`: the background gzip of the backups (see `internal/BackupCompression`). */
    /** After each backup compressed: a `Compressed` event (reason "backup"). */
    const onBackupCompressed = (done: Compressor.Compressed): Effect.Effect<void> =>
      events.emit((at) => new Compressed({
        path: done.path, gzip: done.gzip, bytesBefore: done.bytesIn, bytesAfter: done.bytesOut, reason: "backup", at
      }))
    const backups = options.policy.compress === true
      ? yield* BackupCompression.make(path, yield* compressorInContext, onBackupCompressed)
      : undefined
    // Backups' sizes are measured (a stat each) only when someone listens for BackupRemoved.
    const measureRemoved = events.enabled ? { measureRemoved: true } : {}
    /**
     * One rotation's renames. With `compress`, the compression in progress is stopped first
     * (only its publish step is waited for, never gzip) and a new round starts after.
     */
    const shiftBackups = backups === undefined
      ? renameShift.shift(path, maxFiles, measureRemoved)
      : backups.pause.pipe(
        Effect.zipRight(renameShift.shift(path, maxFiles, { compressed: true, ...measureRemoved })),
        Effect.ensuring(backups.resume)
      )

    /** Terminates a last line missing its `\n` (left by a crash or another tool); returns the new size. */
    const terminateTornTail = (handle: FileSystem.File, size: number): Effect.Effect<number, WriteError> =>
      Effect.gen(function* () {
        if (size === 0) return size
        yield* handle.seek(size - 1, "start")
        const last = new Uint8Array(1)
        const n = yield* handle.read(last).pipe(writeError("open"))
        if (Number(n) !== 1 || last[0] === 10) return size
        yield* handle.writeAll(NEWLINE).pipe(writeError("write"))
        yield* Metric.increment(tornTails)
        yield* Effect.logWarning("the active file ended in a torn line: terminated it with \\n before appending").pipe(
          Effect.annotateLogs({ path, size })
        )
        return size + 1
      })

    /**
     * Fails when `path` is a symbolic link (logrotate refuses them too): appending through a
     * link planted in a directory others can write would write wherever it points. Checked
     * before every open and again right after it (narrowing, not closing, a swap in between).
     */
    const refuseLink = Effect.flatMap(
      fs.readLink(path).pipe(Effect.as(true), Effect.orElseSucceed(() => false)),
      (isLink) => isLink ? Effect.fail(new WriteError({ path, operation: "open", cause: new SystemError({
        module: "FileSystem", method: "open", reason: "BadResource", pathOrDescriptor: path,
        description: "is a symbolic link; effect-logrotate does not follow links at the active path: " +
          "point it at the file itself"
      }) })) : Effect.void
    )

    const open: Effect.Effect<number, WriteError> = Effect.gen(function* () {
      yield* fs.makeDirectory(Path.dirname(path), { recursive: true }).pipe(writeError("makeDirectory"))
      yield* refuseLink
      // Its own scope, not a child of the appender's: the final flush (which may reopen
      // after a rotation) runs while the appender's scope is already closing.
      const fileScope = yield* Scope.make()
      const closeOnError = <A, E>(self: Effect.Effect<A, E>) => Effect.tapError(self, () => Scope.close(fileScope, Exit.void))
      // "a+": writes always append; reads let us check the last byte.
      const handle = yield* fs.open(path, { flag: "a+", mode: options.mode ?? 0o644 }).pipe(
        Scope.extend(fileScope),
        writeError("open"),
        closeOnError
      )
      yield* refuseLink.pipe(closeOnError)
      const info = yield* handle.stat.pipe(writeError("stat"), closeOnError)
      const size = yield* terminateTornTail(handle, Number(info.size)).pipe(closeOnError)
      file = { handle, scope: fileScope, identity: { dev: info.dev, ino: info.ino } }
      byteLineOpen = false
      return size
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

    /**
     * Whether the path still names the open file: `"removed"`, `"replaced"` (moved away,
     * another file in its place) or undefined. One `stat`; a failing stat proves nothing.
     */
    const pathChange = Effect.suspend(() => {
      const current = file
      if (current === undefined) return Effect.succeed(undefined)
      return fs.stat(path).pipe(
        Effect.map((info) => sameFile(current.identity, info) ? undefined : "replaced" as const),
        Effect.catchAll((error) =>
          Effect.succeed(error._tag === "SystemError" && error.reason === "NotFound" ? "removed" as const : undefined))
      )
    })

    /**
     * The file the path was just checked to name (`checkWritten`, after a piece), so that a rotation
     * right after it needs no second `stat`; cleared by the next write, rotation or batch.
     */
    let checkedFile: typeof file = undefined

    /** Closes the open file and opens the path again; `written` becomes the new file's size. */
    const reopenFile = Effect.zipRight(closeFile, ensureOpen)

    const reopenNow = (reason: string): Effect.Effect<void, WriteError> =>
      Effect.gen(function* () {
        yield* reopenFile
        yield* Metric.increment(reopened)
        yield* Effect.logWarning(`the active file was ${reason}: reopened ${path}`).pipe(
          Effect.annotateLogs({ path, size: written })
        )
      })

    /**
     * After `written` changed behind the planned cuts (a reopen, or an extra rotation): with
     * no rotation marked ahead, everything still to write goes into this file.
     */
    const replan = (rest: number, cutsAhead: boolean) => {
      if (!cutsAhead && !pending.hasCuts) projected = written + rest + pending.length
    }

    // The handle stays open during the renames (it follows the inode to `.1`) and is
    // closed only once they succeeded, so a failed rotation can keep appending.
    const rotate: Effect.Effect<void, AppendError> = Effect.gen(function* () {
      // Right after a written piece's check (the usual case: a cut follows a piece) the path is
      // known to name the file: no second `stat` (a move in between is the same race either way).
      const checked = checkedFile !== undefined && checkedFile === file
      checkedFile = undefined
      const change = checked ? undefined : yield* pathChange
      if (change !== undefined) {
        // Our file was moved or removed by someone else: rotating it is moot; start afresh.
        yield* reopenNow(change === "removed" ? "removed by someone else" : "moved away and replaced")
        if (written === 0) return
      }
      if (file === undefined && !(yield* fs.exists(path).pipe(Effect.orElseSucceed(() => true)))) return
      if (file !== undefined && written === 0) return // nothing to rotate: the segment fits the empty file
      const shifted = yield* shiftBackups.pipe(
        // The source vanished during the rotation: a fresh file, not a rotation failing forever.
        Effect.catchTag("RotateError", (error) =>
          Effect.flatMap(pathChange, (now) => now === "removed"
            ? Effect.logWarning("the active file vanished during a rotation: starting a fresh one").pipe(
              Effect.annotateLogs({ path, error: error.message }),
              Effect.zipRight(Metric.increment(reopened)),
              Effect.as(undefined)
            )
            : Effect.fail(error)))
      )
      yield* closeFile
      const bytes = written
      written = 0
      if (shifted !== undefined && events.enabled) yield* publishRotation(shifted, bytes)
    })

    /** `Rotated`, then a `BackupRemoved` for each backup the shift removed (not the active file when `maxFiles` is 0). */
    const publishRotation = (shifted: ShiftResult, bytes: number) =>
      Effect.gen(function* () {
        // The active file's rename is the last one; with maxFiles 0 it was removed (the last of `removed`).
        const backup = maxFiles === 0 ? undefined : shifted.renamed[shifted.renamed.length - 1]?.[1]
        yield* events.emit((at) => new Rotated({ path, backup, bytes, at }))
        const backups = maxFiles === 0 ? shifted.removed.length - 1 : shifted.removed.length
        for (let i = 0; i < backups; i++) {
          const removed = shifted.removed[i]!
          const removedBytes = shifted.removedBytes[i]
          yield* events.emit((at) => new BackupRemoved({ path: removed, active: path, bytes: removedBytes, at }))
        }
      })

    const write = (data: Buffer) =>
      Effect.flatMap(ensureOpen, (handle) => {
        checkedFile = undefined
        return handle.writeAll(data).pipe(
          writeError("write"),
          // A partial write would leave a torn line: cut the file back to its last whole line,
          // but never extend it (after an outside truncation, e.g. copytruncate, it is shorter).
          Effect.tapError(() =>
            Effect.ignore(Effect.flatMap(handle.stat, (info) => Number(info.size) > written ? handle.truncate(written) : Effect.void))),
          Effect.map(() => void (written += data.length))
        )
      })

    /**
     * After a piece was written (once per piece: per batch, and per rotation within it), never
     * per line: does the path still name the file it went into? One `stat` of the path. Only
     * when it does not, an `fstat` of the handle tells removed (no name left, `nlink` 0: the
     * piece, still in memory, is written again into a fresh file at the path, and checked
     * again) from moved away (the piece is on disk under its new name; what follows goes to a
     * fresh file at the path). Checking after the write, not before, leaves no moment in which
     * a removal loses a written piece.
     */
    const checkWritten = (
      piece: Buffer,
      progress: { offset: number },
      rest: number,
      cutsAhead: boolean
    ): Effect.Effect<void, WriteError> =>
      Effect.gen(function* () {
        for (let attempt = 0; attempt < 3; attempt++) {
          const current = file
          const change = yield* pathChange
          if (change === undefined || current === undefined) {
            checkedFile = current
            return
          }
          const unlinked = yield* current.handle.stat.pipe(
            Effect.map((info) => Option.getOrElse(info.nlink, () => 1) === 0),
            Effect.orElseSucceed(() => false)
          )
          // Until it is written again, the piece is not on disk: a failure puts it back in front.
          const end = progress.offset
          if (unlinked) progress.offset -= piece.length
          yield* reopenNow(unlinked ? "removed by someone else" : change === "removed" ? "moved away" : "moved away and replaced")
          if (unlinked) yield* write(piece)
          progress.offset = end
          replan(rest, cutsAhead)
          if (!unlinked) return
        }
      })

    /**
     * Writes a batch piece by piece, rotating at its cuts; `progress` says how far it got.
     * `bytesOpen` (for `appendBytes`): whether the batch continues a line left open by the last
     * one; then no rotation goes in front of a piece that continues a line, and the cuts stay as
     * planned.
     */
    const writeBatch = (
      batch: Batch,
      progress: { offset: number; cut: number },
      bytesOpen?: boolean
    ): Effect.Effect<void, AppendError> =>
      Effect.gen(function* () {
        // A check from an earlier batch says nothing about now (time has passed): see `rotate`.
        checkedFile = undefined
        while (true) {
          const cut = batch.cuts[progress.cut]
          const end = cut ?? batch.length
          if (end > progress.offset) {
            // Open first, so `written` is the size of the file the piece goes into (a rotation
            // that found its source gone closed it; the path may have a file again).
            yield* ensureOpen
            const startsLine = bytesOpen === undefined ||
              (progress.offset === 0 ? !bytesOpen : batch.bytes[progress.offset - 1] === 10)
            // Only after a reopen onto a longer file can a planned piece not fit: rotate first.
            if (startsLine && maxBytes > 0 && written > 0 && written + (end - progress.offset) > maxBytes) {
              yield* rotate
              if (bytesOpen === undefined) replan(batch.length - progress.offset, progress.cut < batch.cuts.length)
            }
            const piece = batch.bytes.subarray(progress.offset, end)
            yield* write(piece)
            progress.offset = end
            yield* checkWritten(piece, progress, batch.length - end, progress.cut < batch.cuts.length)
          }
          if (cut === undefined) return
          yield* rotate
          progress.cut++
        }
      })

    /**
     * Writes everything pending, in order; what a failure leaves unwritten goes back in front.
     * Each batch is written uninterruptibly, but between batches it can be interrupted: a
     * producer that keeps pace with the writes (it fills the next buffer during each write)
     * must not keep the flusher from stopping when the scope closes.
     */
    const drain: Effect.Effect<void, AppendError> = Effect.suspend(() => {
      if (pending.isEmpty) return Effect.void
      return Effect.zipRight(drainOnce, drain)
    })

    const drainOnce: Effect.Effect<void, AppendError> = Effect.suspend(() => {
      if (pending.isEmpty) return Effect.void
      const batch = pending.take(spare)
      spare = undefined
      // The buffer is free again: a producer waiting for room goes on filling it during this write.
      room.unsafeOpen()
      const progress = { offset: 0, cut: 0 }
      return writeBatch(batch, progress).pipe(
        Effect.matchEffect({
          onFailure: (error) => {
            pending.restore(batch, progress.offset, progress.cut)
            failed = true
            room.unsafeOpen() // waiters see the failure and flush themselves (see waitForRoom)
            return Effect.fail(error)
          },
          onSuccess: () => {
            failed = false
            spare = batch.bytes
            return Effect.void
          }
        }),
        Effect.uninterruptible
      )
    })

    const appendBytes = (bytes: Uint8Array): Effect.Effect<void, AppendError> =>
      Effect.suspend(() =>
        closed ? useAfterClose : lock.withPermits(1)(Effect.gen(function* () {
          yield* drain
          if (bytes.length === 0) return
          yield* ensureOpen
          const startsOpen = byteLineOpen
          const plan = planByteCuts(bytes, written, maxBytes, startsOpen)
          const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
          const batch: Batch = { bytes: data, length: data.length, cuts: plan.cuts }
          const progress = { offset: 0, cut: 0 }
          const result = yield* Effect.exit(writeBatch(batch, progress, startsOpen))
          byteLineOpen = plan.open
          if (result._tag === "Failure") pending.restore(batch, progress.offset, progress.cut)
          replan(0, false)
          return yield* result
        }).pipe(Effect.uninterruptible)))

    const flush = lock.withPermits(1)(drain)
    const publicFlush = Effect.suspend(() => (closed ? useAfterClose : flush))

    const reopen: Effect.Effect<void, AppendError> = Effect.suspend(() =>
      closed ? useAfterClose : lock.withPermits(1)(Effect.gen(function* () {
        const flushed = yield* Effect.exit(drain)
        yield* reopenFile
        replan(0, false)
        yield* Effect.logInfo("reopened the active file on request").pipe(Effect.annotateLogs({ path, size: written }))
        return yield* flushed
      }).pipe(Effect.uninterruptible)))

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

    /** Rotation planning for one line of `bytes` bytes starting at offset `at` of what is pending. */
    const plan = (at: number, bytes: number) => {
      if (maxBytes > 0 && projected > 0 && projected + bytes > maxBytes) {
        pending.cutAt(at)
        projected = 0
      }
      projected += bytes
    }

    const accept = (line: string) => {
      const at = pending.length
      plan(at, pending.push(line))
    }

    /**
     * Accepts `count` lines given as one string joined with `\n`: one UTF-8 encode. Only when a
     * rotation may fall inside the batch are its line ends looked up (in the encoded bytes), so
     * each line is planned as `accept` would.
     */
    const acceptJoined = (joined: string, count: number) => {
      const start = pending.length
      const bytes = pending.pushJoined(joined)
      if (maxBytes === 0 || projected + bytes <= maxBytes) {
        projected += bytes
        return
      }
      for (let at = start, k = 0; k < count; k++) {
        const end = pending.lineEnd(at)
        plan(at, end - at)
        at = end
      }
    }

    const invalid = (reason: InvalidLineReason, detail: string) => Effect.fail(new InvalidLine({ path, reason, detail }))

    // The hot path allocates one suspended effect per call and otherwise returns shared values.
    const afterAccept = (): Effect.Effect<void> => {
      wake.unsafeOpen()
      return Effect.void
    }
    const useAfterClose = Effect.dieMessage(`RotatingAppender(${path}) used after its scope closed`)

    /**
     * Waits until what is pending is under `highWaterMark`. While the flusher writes one batch,
     * the next fills: a full buffer waits only for the write in progress to end and the flusher
     * to take the buffer, not for its own write. After a failed write (nothing is being taken
     * any more) the caller flushes itself, so the failure rejects the new lines.
     */
    const waitForRoom: Effect.Effect<void, AppendError> = Effect.suspend(() => {
      if (!full()) return Effect.void
      if (failed) return Effect.zipRight(flush, waitForRoom)
      room.unsafeClose()
      wake.unsafeOpen()
      return Effect.zipRight(room.await, waitForRoom)
    })

    /** Whether what is pending reached `highWaterMark` (never when nothing is pending). */
    const full = () => pending.length > 0 && pending.length >= highWaterMark

    /** Whether `line` contains a line break. Two native scans; no RegExp. */
    const hasBreak = (line: string) => line.indexOf("\n") !== -1 || line.indexOf("\r") !== -1

    /** A full buffer waits first, so a failed wait rejects the new lines. */
    const append = (line: string): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (closed) return useAfterClose
        if (hasBreak(line)) return invalid("line-break", "the line contains a line break")
        if (full()) return Effect.zipRight(waitForRoom, append(line))
        accept(line)
        return afterAccept()
      })

    /**
     * The first line of `batch` (joined into `joined`) that contains a line break, or -1. One
     * forward scan of `joined`: in a good batch the next `\n` after a line's start is its
     * separator, at the offset the line's length predicts; `\r` is one more scan.
     */
    const firstBadLine = (batch: ReadonlyArray<string>, joined: string): number => {
      let start = 0
      for (let k = 0; k < batch.length; k++) {
        const end = start + batch[k]!.length
        const nl = joined.indexOf("\n", start)
        if (nl !== -1 && nl < end) return k
        start = end + 1
      }
      if (joined.indexOf("\r") === -1) return -1
      return batch.findIndex((line) => line.indexOf("\r") !== -1)
    }

    /** Accepts checked parts (each `JOIN_LINES` lines or fewer, joined) as one unit. */
    const acceptAll = (parts: ReadonlyArray<string>, counts: ReadonlyArray<number>): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (full()) return Effect.zipRight(waitForRoom, acceptAll(parts, counts))
        for (let k = 0; k < parts.length; k++) acceptJoined(parts[k]!, counts[k]!)
        return afterAccept()
      })

    const appendAll = (lines: Iterable<string>): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (closed) return useAfterClose
        const batch = Array.isArray(lines) ? lines as ReadonlyArray<string> : Array.from(lines)
        if (batch.length === 0) return Effect.void
        if (batch.length <= JOIN_LINES) { // the common case: one part, accepted at once unless the buffer is full
          const joined = batch.length === 1 ? String(batch[0]) : batch.join("\n")
          const bad = firstBadLine(batch, joined)
          if (bad >= 0) return invalid("line-break", `line ${bad + 1} of ${batch.length} contains a line break`)
          if (full()) return acceptAll([joined], [batch.length])
          acceptJoined(joined, batch.length)
          return afterAccept()
        }
        // Joined in parts of at most JOIN_LINES lines: a string past ~128 KiB is allocated in
        // V8's large-object space, which costs more than the join itself (see docs/performance.md).
        const parts: Array<string> = []
        const counts: Array<number> = []
        for (let from = 0; from < batch.length; from += JOIN_LINES) {
          const part = batch.slice(from, from + JOIN_LINES)
          const joined = part.join("\n")
          const bad = firstBadLine(part, joined)
          if (bad >= 0) return invalid("line-break", `line ${from + bad + 1} of ${batch.length} contains a line break`)
          parts.push(joined)
          counts.push(part.length)
        }
        return acceptAll(parts, counts)
      })

    /**
     * `appendEncoded`: the lines are copied into what is pending in one copy; only when a rotation
     * may fall inside them are their line ends looked up, so each line is planned as `accept` would.
     */
    const acceptEncoded = (bytes: Uint8Array) => {
      const start = pending.length
      const added = pending.pushBytes(bytes)
      if (maxBytes === 0 || projected + added <= maxBytes) {
        projected += added
        return
      }
      for (let at = start, end = start + added; at < end;) {
        const lineEnd = pending.lineEnd(at)
        plan(at, lineEnd - at)
        at = lineEnd
      }
    }

    /** Why `bytes` are not whole lines without `\r` (the line, counted from 1), or undefined. Two native scans. */
    const encodedFault = (bytes: Uint8Array): string | undefined => {
      const lineOf = (offset: number) => {
        let line = 1
        for (let at = bytes.indexOf(10); at !== -1 && at < offset; at = bytes.indexOf(10, at + 1)) line++
        return line
      }
      const cr = bytes.indexOf(13)
      if (cr !== -1) return `encoded line ${lineOf(cr)} contains a line break (\\r)`
      if (bytes[bytes.length - 1] !== 10) return `encoded line ${lineOf(bytes.length)} does not end in \\n`
      return undefined
    }

    const acceptAllEncoded = (bytes: Uint8Array): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (full()) return Effect.zipRight(waitForRoom, acceptAllEncoded(bytes))
        acceptEncoded(bytes)
        return afterAccept()
      })

    const appendEncoded = (bytes: Uint8Array): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        if (closed) return useAfterClose
        if (bytes.length === 0) return Effect.void
        const fault = encodedFault(bytes)
        if (fault !== undefined) return invalid("line-break", fault)
        return acceptAllEncoded(bytes)
      })

    const appendJson = (value: unknown): Effect.Effect<void, AppendError> =>
      Effect.suspend(() => {
        let line: string | undefined
        try {
          line = JSON.stringify(value)
        } catch (error) {
          return invalid("not-serializable", `the value cannot be serialized as JSON (${String(error)})`)
        }
        return line === undefined ? invalid("not-serializable", "the value has no JSON representation") : append(line)
      })

    const reserved = reservedReason(Path.basename(path))
    if (reserved !== undefined) {
      return yield* new WriteError({ path, operation: "claim", cause: new SystemError({
        module: "FileSystem", method: "open", reason: "InvalidData", pathOrDescriptor: path,
        description: `not an active file name: ${reserved}; expected ${ACCEPTED}`
      }) })
    }
    // The claim comes first, so it is released last: after the final flush and close.
    yield* fs.makeDirectory(Path.dirname(path), { recursive: true }).pipe(writeError("makeDirectory"))
    // The claim names the directory's real path: two appenders reaching one file through a
    // symlinked alias claim one lock file (LockFile also compares lock files by inode).
    const realDir = yield* fs.realPath(Path.dirname(path)).pipe(writeError("claim"))
    const lockPath = lockPathOf(Path.join(realDir, Path.basename(path)))
    if (options.claimedByCaller !== true) {
      yield* LockFile.acquire(lockPath, "append").pipe(
        Effect.catchTags({
          LockHeld: (held) => Effect.fail(new FileClaimed({ path, lockPath, holder: held.holder })),
          LockError: (error) => Effect.fail(new WriteError({ path, operation: "claim", cause: error.cause }))
        })
      )
    }
    // With `compress`: background rounds gzip the backups from .2 up. Added before the final
    // flush's finalizer, so it runs after it: the rotation that flush may do is compressed too.
    if (backups !== undefined) yield* Effect.addFinalizer(() => backups.finish)
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
    // What a crash or kill left plain (or half compressed) is compressed now.
    if (backups !== undefined) yield* backups.resume

    return RotatingAppender.of({ path, policy: options.policy, append, appendAll, appendJson, appendBytes, appendEncoded, flush: publicFlush, reopen })
  })

/**
 * An appender for `path` under the program's `RotationPolicy`, as the `RotatingAppender` service.
 *
 * @since 0.1.0
 */
export const layer = (
  path: string,
  options?: Omit<Options, "policy">
): Layer.Layer<RotatingAppender, WriteError | FileClaimed, RotationPolicy | FileSystem.FileSystem | RenameShift> =>
  Layer.scoped(RotatingAppender, Effect.flatMap(RotationPolicy, (policy) => make(path, { ...options, policy })))

/**
 * An appender under your own tag, for programs that write several files, each with its
 * own policy (or the program's `RotationPolicy` when `policy` is left out).
 *
 * @example
 * ```ts
 * class Audit extends Context.Tag("Audit")<Audit, RotatingAppender.RotatingAppender>() {}
 * const AuditLive = RotatingAppender.layerAs(Audit, "logs/audit.jsonl", { policy: RotationPolicy.unsafeMake({ maxBytes: 1e6, maxFiles: 20 }) })
 * ```
 *
 * @since 0.1.0
 */
export function layerAs<Id>(
  tag: Context.Tag<Id, RotatingAppender>,
  path: string,
  options: Partial<Options> & { readonly policy: Policy }
): Layer.Layer<Id, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift>
export function layerAs<Id>(
  tag: Context.Tag<Id, RotatingAppender>,
  path: string,
  options?: Partial<Options>
): Layer.Layer<Id, WriteError | FileClaimed, RotationPolicy | FileSystem.FileSystem | RenameShift>
export function layerAs<Id>(
  tag: Context.Tag<Id, RotatingAppender>,
  path: string,
  options?: Partial<Options>
): Layer.Layer<Id, WriteError | FileClaimed, RotationPolicy | FileSystem.FileSystem | RenameShift> {
  return Layer.scoped(
    tag,
    Effect.flatMap(
      options?.policy ? Effect.succeed(options.policy) : RotationPolicy,
      (policy) => make(path, { ...options, policy })
    )
  )
}
