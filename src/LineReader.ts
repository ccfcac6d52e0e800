/**
 * Feeds lines from a Node readable (stdin for `effect-logrotate append`) into an appender,
 * with backpressure: it reads only after the appender has accepted the previous chunk.
 *
 * On `stop` it stops waiting for input but still writes every byte Node has already read
 * (a final partial line included), so a SIGTERM loses nothing that left the pipe.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { Readable } from "node:stream"
import type { AppendError } from "./Errors.js"
import type { RotatingAppender } from "./RotatingAppender.js"

/** A lone `\r` is a line break too (the appender rejects it inside a line). */
const pushLine = (lines: Array<string>, line: string) => {
  if (line.includes("\r")) lines.push(...line.split("\r"))
  else lines.push(line)
}

/** Splits bytes into lines (`\n`, with a `\r` before it dropped, or a lone `\r`); keeps a partial last line for later. */
export class LineSplitter {
  private tail: Buffer | undefined

  push(chunk: Buffer): Array<string> {
    const data = this.tail ? Buffer.concat([this.tail, chunk]) : chunk
    const lines: Array<string> = []
    let start = 0
    let newline = data.indexOf(10, start)
    while (newline !== -1) {
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline
      pushLine(lines, data.toString("utf8", start, end))
      start = newline + 1
      newline = data.indexOf(10, start)
    }
    this.tail = start < data.length ? data.subarray(start) : undefined
    return lines
  }

  /** The final line without a `\n`, if any. */
  end(): Array<string> {
    const tail = this.tail
    this.tail = undefined
    const lines: Array<string> = []
    if (tail !== undefined) pushLine(lines, tail.toString("utf8").replace(/\r$/, ""))
    return lines
  }
}

export interface PumpResult {
  readonly lines: number
  readonly bytes: number
  /** True when input ended; false when `stop` cut it short. */
  readonly ended: boolean
}

/**
 * Appends every line of `readable` to `appender` until the input ends or `stop` completes.
 * A read error ends the input like EOF would, after writing what was read, and is returned.
 * Listeners stay attached for the whole pump (as `NodeStream.fromReadable` does), so no
 * `readable`/`end` event can fall between two waits.
 */
export const pump = (
  readable: Readable,
  appender: RotatingAppender,
  stop: Deferred.Deferred<void>
): Effect.Effect<PumpResult & { readonly readError?: Error }, AppendError> =>
  Effect.gen(function* () {
    const splitter = new LineSplitter()
    let lines = 0
    let bytes = 0
    let outcome: { readonly ended: true; readonly error?: Error } | undefined
    const wake = yield* Effect.makeLatch(false)
    const onReadable = () => wake.unsafeOpen()
    const onEnd = () => {
      outcome = { ended: true }
      wake.unsafeOpen()
    }
    const onError = (error: Error) => {
      outcome = { ended: true, error }
      wake.unsafeOpen()
    }
    const write = (batch: Array<string>) => {
      lines += batch.length
      return batch.length === 0 ? Effect.void : appender.appendAll(batch)
    }
    /** Everything Node has buffered, without waiting. */
    const drainBuffered = Effect.gen(function* () {
      let chunk: Buffer | string | null
      while ((chunk = readable.read()) !== null) {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk
        bytes += buffer.length
        yield* write(splitter.push(buffer))
      }
    })
    const finish = (ended: boolean, readError?: Error) =>
      Effect.gen(function* () {
        yield* drainBuffered
        yield* write(splitter.end())
        yield* appender.flush
        return readError ? { lines, bytes, ended, readError } : { lines, bytes, ended }
      })
    const loop: Effect.Effect<PumpResult & { readonly readError?: Error }, AppendError> = Effect.gen(function* () {
      while (true) {
        yield* wake.close
        yield* drainBuffered
        if (outcome || readable.readableEnded || !readable.readable) return yield* finish(true, outcome?.error)
        const woke = yield* Effect.raceFirst(Effect.as(wake.await, "data" as const), Effect.as(Deferred.await(stop), "stop" as const))
        if (woke === "stop") return yield* finish(false)
      }
    })
    return yield* Effect.acquireUseRelease(
      Effect.sync(() => {
        readable.on("readable", onReadable)
        readable.on("end", onEnd)
        readable.on("error", onError)
      }),
      () => loop,
      () =>
        Effect.sync(() => {
          readable.off("readable", onReadable)
          readable.off("end", onEnd)
          readable.off("error", onError)
        })
    )
  })
