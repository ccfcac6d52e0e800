/**
 * Peer: `file-stream-rotator` (what winston-daily-rotate-file builds on) with size rotation only:
 * `size: "<maxBytes/1024>k"` (its units are k/m/g), `max_logs: maxFiles + 1` (its count includes the
 * active file), audit file kept out of the counted directory, no date frequency. Files are named
 * `app.log.<date>.<n>`. One write() per line, as a stream is normally fed (see `writeAllLines`);
 * it wraps an fs.WriteStream (16 KiB highWaterMark) and honours its backpressure.
 *
 * It is only a transitive dependency (of winston-daily-rotate-file) today: when the module cannot be
 * loaded, this contender fails with a message saying so, and the bench reports it as skipped.
 */
import { once } from "node:events"
import { join } from "node:path"
import { type ContenderOptions, writeAllLines } from "../lines.js"

type GetStream = (options: Record<string, unknown>) => NodeJS.WritableStream & { end: () => void }

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
  await writeAllLines(out as never, opts)
  const closed = once(out, "finish")
  out.end()
  await closed
}
