/**
 * Feeds the bytes of a Node readable (stdin for `effect-logrotate append`) into an appender,
 * byte for byte: nothing is decoded or re-encoded, lines end at `\n` (0x0A) only (`\r`, invalid
 * UTF-8 and NUL bytes pass through unchanged), and the slices written are the read buffers
 * themselves (`RotatingAppender.appendBytes`). The files, oldest to newest, concatenated equal
 * the input, plus a final `\n` if the input lacked one.
 *
 * - Backpressure: it hands the appender the next piece only after the previous one is written,
 *   and reads only while a buffer has room, so stdin stays unread (and its writer blocks) while
 *   the disk is slower.
 * - `pumpStdin` reads a pipe or socket on fd 0 into two fixed buffers (`ArenaSplitter`): no
 *   allocation per read, whole lines written straight from one while reads fill the other; any
 *   other stdin (a file, a terminal) and `pump` go through a Node `Readable` and `ByteSplitter`.
 * - Memory is bounded: the start of a line waits in memory for its `\n` up to `lineBuffer`
 *   bytes (default 1 MiB); a longer line is streamed into a fresh file as it arrives (the
 *   appender rotates before it unless the active file is empty, and never inside it).
 * - On `stop` (SIGTERM/SIGINT in the CLI) it writes every complete line already read. If a line
 *   is unfinished (read without its `\n`), it keeps reading for up to `grace` (default 2 s) until
 *   the input reaches a line end or ends; then it stops. A line still unfinished after the grace
 *   period is written with a final `\n` (so the file stays whole lines) and a warning is logged:
 *   nothing that left the pipe is dropped. At end of input a last line without `\n` gets one,
 *   without a warning.
 *
 * Needs nothing in context: it is given the appender (a `RotatingAppender` service value) and a
 * `Deferred` to stop on; it fails only with the appender's `AppendError`s (a read error ends the
 * input and is returned in the result, after what was read is written).
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Deferred, Effect, Layer } from "effect"
 * import { LineReader, RenameShift, RotatingAppender, RotationPolicy } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const appender = yield* RotatingAppender.RotatingAppender
 *   const stop = yield* Deferred.make<void>()
 *   process.once("SIGTERM", () => Deferred.unsafeDone(stop, Effect.void))
 *   const { bytes, ended } = yield* LineReader.pumpStdin(appender, stop)
 *   yield* Effect.logInfo(`${bytes} bytes, ${ended ? "end of input" : "stopped"}`)
 * })
 * const Live = RotatingAppender.layer("logs/app.jsonl").pipe(
 *   Layer.provide(Layer.mergeAll(RenameShift.layer, RotationPolicy.layerConfig())),
 *   Layer.provide(NodeFileSystem.layer))
 * Effect.runPromise(program.pipe(Effect.provide(Live)))
 * ```
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as Net from "node:net"
import type { Readable } from "node:stream"
import type { AppendError } from "../Errors.js"
import type { RotatingAppender } from "./RotatingAppender.js"

const NEWLINE = Buffer.from([10])

/**
 * Cuts a byte stream at `\n` into runs of whole lines, keeping the start of an unfinished line
 * for later, up to `lineBuffer` bytes; past that, the line's bytes are handed over as they come
 * (`open`), to be continued by later pieces. Concatenating every piece returned equals the input
 * (then `end()` adds the final `\n`). One backward search per chunk, never a pass per line.
 *
 * @since 0.1.0
 */
export class ByteSplitter {
  private tail: Array<Uint8Array> = []
  private tailBytes = 0
  /** A line longer than `lineBuffer` has been handed over without its `\n`. */
  private open = false

  constructor(readonly lineBuffer: number = 1024 * 1024) {}

  /** Whether a line has started (in memory or handed over) without its `\n`. */
  get unfinished(): boolean {
    return this.open || this.tailBytes > 0
  }

  /** The bytes to write now (whole lines, or a long line's next piece), or undefined. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (chunk.length === 0) return undefined
    const last = chunk.lastIndexOf(10)
    if (last === -1) {
      if (this.open) return chunk
      this.tail.push(chunk)
      this.tailBytes += chunk.length
      if (this.tailBytes <= this.lineBuffer) return undefined
      this.open = true
      return this.takeTail()
    }
    const lines = chunk.subarray(0, last + 1)
    const out = this.tailBytes === 0 ? lines : Buffer.concat([...this.tail, lines])
    this.tail = []
    this.tailBytes = 0
    this.open = false
    if (last + 1 < chunk.length) {
      const rest = chunk.subarray(last + 1)
      this.tail.push(rest)
      this.tailBytes = rest.length
    }
    return out
  }

  /** At the end: what is left of an unfinished line, with its final `\n`; or undefined. */
  end(): Uint8Array | undefined {
    if (!this.unfinished) return undefined
    this.open = false
    this.tail.push(NEWLINE)
    return this.takeTail()
  }

  private takeTail(): Uint8Array {
    const out = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail)
    this.tail = []
    this.tailBytes = 0
    return out
  }
}

/**
 * The bytes of a pipe kept in two fixed buffers of `lineBuffer + 2 × read` bytes each: reads are
 * copied in behind what is in the current one; `next` hands out the longest prefix that ends with
 * `\n` (or, once an unfinished line passes `lineBuffer`, everything: a long line's next piece) as
 * a view of that buffer, and moves what follows (the start of a line) to the front of the other
 * buffer, which takes the reads from then on. So reading goes on while the piece is written
 * (double buffering), and only the unfinished line's start is ever copied. No allocation per read
 * or per write; the view stays valid until `written`, which frees its buffer for the next swap.
 * `room` says how much a read may bring.
 *
 * @since 0.1.0
 */
export class ArenaSplitter {
  /** The buffer reads go into. */
  private arena: Buffer
  /** The other buffer: free, or holding the piece handed out by `next` until `written`. */
  private spare: Buffer
  private fill = 0
  private handed = false
  /** A line longer than `lineBuffer` has been handed over without its `\n`. */
  private open = false

  constructor(readonly lineBuffer: number = 1024 * 1024, readonly readSize: number = 64 * 1024) {
    this.arena = Buffer.allocUnsafe(lineBuffer + 2 * readSize)
    this.spare = Buffer.allocUnsafe(lineBuffer + 2 * readSize)
  }

  /** Free bytes behind the data. */
  get room(): number {
    return this.arena.length - this.fill
  }

  get unfinished(): boolean {
    return this.open || this.fill > 0
  }

  /** Copies `bytes` (at most `room`) in behind the data. */
  push(bytes: Uint8Array): void {
    this.arena.set(bytes, this.fill)
    this.fill += bytes.length
  }

  /** The next piece to write, or undefined; call `written` once it is written. */
  next(): Uint8Array | undefined {
    if (this.handed || this.fill === 0) return undefined
    const last = this.arena.lastIndexOf(10, this.fill - 1)
    let end: number
    if (last >= 0) {
      this.open = false
      end = last + 1
    } else if (this.open || this.fill > this.lineBuffer) {
      this.open = true
      end = this.fill
    } else {
      return undefined
    }
    const full = this.arena
    // What follows the piece (an unfinished line's start) goes to the front of the other buffer.
    full.copy(this.spare, 0, end, this.fill)
    this.arena = this.spare
    this.spare = full
    this.fill -= end
    this.handed = true
    return full.subarray(0, end)
  }

  /** The piece from `next` is written: its buffer is free again. */
  written(): void {
    this.handed = false
  }

  /** At the end: what is left of an unfinished line, with its final `\n`; or undefined. */
  end(): Uint8Array | undefined {
    if (!this.unfinished) return undefined
    const out = Buffer.concat([this.arena.subarray(0, this.fill), NEWLINE])
    this.open = false
    this.fill = 0
    return out
  }
}

/** Where the bytes come from: a Node `Readable` with a `ByteSplitter`, or fd 0's socket with an `ArenaSplitter`. */
interface Source {
  readonly next: () => Uint8Array | undefined
  readonly written: () => void
  readonly unfinished: () => boolean
  readonly end: () => Uint8Array | undefined
  readonly bytes: () => number
  /** Whether the input has ended (or failed). */
  readonly ended: () => boolean
  /** Listens for data (`wake`) and the end or an error (`finished`); returns the undo. */
  readonly attach: (wake: () => void, finished: (error?: Error) => void) => () => void
}

const readableSource = (readable: Readable, lineBuffer: number | undefined): Source => {
  const splitter = new ByteSplitter(lineBuffer)
  let bytes = 0
  return {
    next: () => {
      let chunk: Buffer | string | null
      while ((chunk = readable.read()) !== null) {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk
        bytes += buffer.length
        const out = splitter.push(buffer)
        if (out !== undefined) return out
      }
      return undefined
    },
    written: () => {},
    unfinished: () => splitter.unfinished,
    end: () => splitter.end(),
    bytes: () => bytes,
    ended: () => readable.readableEnded || !readable.readable,
    attach: (wake, finished) => {
      const onEnd = () => finished()
      const onError = (error: Error) => finished(error)
      readable.on("readable", wake)
      readable.on("end", onEnd)
      readable.on("error", onError)
      return () => {
        readable.off("readable", wake)
        readable.off("end", onEnd)
        readable.off("error", onError)
      }
    }
  }
}

/** fd `fd` (a pipe or socket) read straight into an `ArenaSplitter` (`net.Socket`'s `onread`). */
const socketSource = (fd: number, lineBuffer: number | undefined): Source => {
  const splitter = new ArenaSplitter(lineBuffer)
  const readBuffer = Buffer.allocUnsafe(splitter.readSize)
  let bytes = 0
  let paused = false
  let ended = false
  let wake: () => void = () => {}
  const socket = new Net.Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: readBuffer,
      callback: (n: number, buffer: Uint8Array) => {
        splitter.push(buffer.subarray(0, n))
        bytes += n
        wake()
        // Backpressure: no read while the buffer could not take a whole one.
        if (splitter.room >= splitter.readSize) return true
        paused = true
        return false
      }
    }
  } as Net.SocketConstructorOpts)
  /** Reading starts again once the current buffer can take a whole read. */
  const resume = () => {
    if (paused && splitter.room >= splitter.readSize) {
      paused = false
      socket.read(0)
    }
  }
  return {
    next: () => {
      const piece = splitter.next()
      // The piece left the buffer reads go into: read on while it is written.
      if (piece !== undefined) resume()
      return piece
    },
    written: () => {
      splitter.written()
      resume()
    },
    unfinished: () => splitter.unfinished,
    end: () => {
      socket.pause()
      return splitter.end()
    },
    bytes: () => bytes,
    ended: () => ended,
    attach: (onData, finished) => {
      wake = onData
      const onEnd = () => {
        ended = true
        finished()
      }
      const onError = (error: Error) => {
        ended = true
        finished(error)
      }
      socket.on("end", onEnd)
      socket.on("error", onError)
      socket.resume()
      return () => {
        wake = () => {}
        socket.off("end", onEnd)
        socket.off("error", onError)
        socket.pause()
      }
    }
  }
}

/**
 * Standard input as a stream that buffers up to `highWaterMark` bytes (default 1 MiB) while a
 * write is in progress; used by `pumpStdin` when fd 0 is not a pipe or socket: a regular file
 * gets a read stream on fd 0, anything else (a terminal) is `process.stdin`.
 *
 * @since 0.1.0
 */
export const openStdin = (highWaterMark: number = 1024 * 1024): Readable => {
  try {
    if (NodeFs.fstatSync(0).isFile()) return NodeFs.createReadStream("", { fd: 0, highWaterMark, autoClose: false })
  } catch {
    // fall through: whatever Node makes of it
  }
  return process.stdin
}

/** @since 0.1.0 */
export interface PumpOptions {
  /** The longest line start kept in memory while waiting for its `\n`. Default 1 MiB. */
  readonly lineBuffer?: number
  /** After `stop`, how long to keep reading for the `\n` of an unfinished line. Default 2 seconds. */
  readonly grace?: Duration.DurationInput
}

/** @since 0.1.0 */
export interface PumpResult {
  /** Bytes read from the input. */
  readonly bytes: number
  /** True when input ended; false when `stop` cut it short. */
  readonly ended: boolean
  /** `stop`'s grace period ran out inside a line: it was written with a final `\n`. */
  readonly cutLine: boolean
}

/**
 * Appends the bytes of `readable` to `appender` until the input ends or `stop` completes (then
 * with the grace rule above). A read error ends the input like EOF would, after writing what was
 * read, and is returned. Listeners stay attached for the whole pump (as `NodeStream.fromReadable`
 * does), so no `readable`/`end` event can fall between two waits.
 *
 * @since 0.1.0
 */
export const pump = (
  readable: Readable,
  appender: RotatingAppender,
  stop: Deferred.Deferred<void>,
  options: PumpOptions = {}
): Effect.Effect<PumpResult & { readonly readError?: Error }, AppendError> =>
  Effect.suspend(() => run(readableSource(readable, options.lineBuffer), appender, stop, options))

/**
 * `pump` for the process's standard input: a pipe or socket is read with no allocation per read
 * (`ArenaSplitter`); a file or terminal goes through `openStdin`.
 *
 * @since 0.1.0
 */
export const pumpStdin = (
  appender: RotatingAppender,
  stop: Deferred.Deferred<void>,
  options: PumpOptions = {}
): Effect.Effect<PumpResult & { readonly readError?: Error }, AppendError> =>
  Effect.suspend(() => {
    let kind: "socket" | "other" = "other"
    try {
      const info = NodeFs.fstatSync(0)
      if (info.isFIFO() || info.isSocket()) kind = "socket"
    } catch {
      // not a descriptor we can inspect: let Node handle it
    }
    return run(kind === "socket" ? socketSource(0, options.lineBuffer) : readableSource(openStdin(), options.lineBuffer), appender, stop, options)
  })

const run = (
  source: Source,
  appender: RotatingAppender,
  stop: Deferred.Deferred<void>,
  options: PumpOptions
): Effect.Effect<PumpResult & { readonly readError?: Error }, AppendError> =>
  Effect.gen(function* () {
    const grace = Duration.decode(options.grace ?? Duration.seconds(2))
    let outcome: { readonly ended: true; readonly error?: Error } | undefined
    const wake = yield* Effect.makeLatch(false)
    /** Writes every piece ready now, without waiting for input. */
    const drainBuffered = Effect.gen(function* () {
      let piece: Uint8Array | undefined
      while ((piece = source.next()) !== undefined) {
        yield* appender.appendBytes(piece)
        source.written()
      }
    })
    const finish = (ended: boolean, readError?: Error) =>
      Effect.gen(function* () {
        yield* drainBuffered
        const cutLine = !ended && source.unfinished()
        const rest = source.end()
        if (rest !== undefined) yield* appender.appendBytes(rest)
        if (cutLine) {
          yield* Effect.logWarning(
            `stopped inside an unfinished line: its newline did not arrive within the ${Duration.format(grace)} grace period; wrote it with a final \\n`
          ).pipe(Effect.annotateLogs({ path: appender.path }))
        }
        yield* appender.flush
        const result = { bytes: source.bytes(), ended, cutLine }
        return readError ? { ...result, readError } : result
      })
    const loop: Effect.Effect<PumpResult & { readonly readError?: Error }, AppendError> = Effect.gen(function* () {
      let stopping = false
      let graceEnd = 0
      while (true) {
        yield* wake.close
        yield* drainBuffered
        if (outcome || source.ended()) return yield* finish(true, outcome?.error)
        if (stopping) {
          const left = graceEnd - (yield* Clock.currentTimeMillis)
          if (!source.unfinished() || left <= 0) return yield* finish(false)
          const woke = yield* Effect.raceFirst(Effect.as(wake.await, "data" as const), Effect.as(Effect.sleep(left), "timeout" as const))
          if (woke === "timeout") return yield* finish(false)
        } else {
          const woke = yield* Effect.raceFirst(Effect.as(wake.await, "data" as const), Effect.as(Deferred.await(stop), "stop" as const))
          if (woke === "stop") {
            stopping = true
            graceEnd = (yield* Clock.currentTimeMillis) + Duration.toMillis(grace)
            if (source.unfinished() && Duration.toMillis(grace) > 0) {
              yield* Effect.logInfo(`stopping: waiting up to ${Duration.format(grace)} for the end of an unfinished line`).pipe(
                Effect.annotateLogs({ path: appender.path })
              )
            }
          }
        }
      }
    })
    return yield* Effect.acquireUseRelease(
      Effect.sync(() =>
        source.attach(() => wake.unsafeOpen(), (error) => {
          outcome = error ? { ended: true, error } : { ended: true }
          wake.unsafeOpen()
        })),
      () => loop,
      (detach) => Effect.sync(detach)
    )
  })
