/**
 * Peer: `file-stream-rotator` (what winston-daily-rotate-file builds on) with size rotation only:
 * `size: "<maxBytes/1024>k"` (its units are k/m/g), `max_logs: maxFiles + 1` (its count includes the
 * active file), audit file kept out of the counted directory, no date frequency. Files are named
 * `app.log.<date>.<n>`. One write() per line, as a stream is normally fed. Version 1 wraps an
 * fs.WriteStream (16 KiB highWaterMark) but its write() returns nothing, so the loop awaits 'drain'
 * on that inner stream (internal field `fs`) when it needs draining.
 *
 * It is only a transitive dependency (of winston-daily-rotate-file) today: when the module cannot be
 * loaded, this contender fails with a message saying so, and the bench reports it as skipped.
 */
import { once } from "node:events"
import { join } from "node:path"
import { type ContenderOptions, lineGenerator } from "../lines.js"

/** v1: an EventEmitter whose write() returns nothing; `fs` (internal) is the current fs.WriteStream. */
interface Rotator extends NodeJS.EventEmitter {
  write(chunk: string): void
  end(chunk?: string): void
  readonly fs?: NodeJS.WritableStream & { readonly writableNeedDrain: boolean }
}
type GetStream = (options: Record<string, unknown>) => Rotator

export const run = async (opts: ContenderOptions): Promise<void> => {
  let getStream: GetStream | undefined
  try {
    const name = "file-stream-rotator" // a variable: tsc must not require the module to be installed
    const mod = (await import(name)) as { getStream?: GetStream; default?: { getStream?: GetStream } }
    getStream = mod.getStream ?? mod.default?.getStream
  } catch {
    // reported below
  }
  if (!getStream) {
    throw new Error("skipped: the module file-stream-rotator is not installed (npm i -D file-stream-rotator@^1.0.0)")
  }
  const out = getStream({
    filename: join(opts.dir, "app.log"),
    size: `${Math.max(1, Math.round(opts.maxBytes / 1024))}k`,
    max_logs: String(opts.maxFiles + 1),
    audit_file: join(opts.scratch, "fsr-audit.json"),
    verbose: false,
    end_stream: true
  })
  // Its write() returns nothing (no backpressure signal): wait on its current fs.WriteStream instead.
  const line = lineGenerator(opts.lineBytes)
  opts.startClock()
  for (let i = 0; i < opts.lines; i++) {
    out.write(line(i) + "\n")
    const ws = out.fs
    if (ws?.writableNeedDrain) await once(ws, "drain")
  }
  const closed = once(out, "finish")
  out.end("")
  await closed
}
