/**
 * Peer: `rotating-file-stream` as in `rotating-file-stream` (size rotation at maxBytes, `rotate: maxFiles`),
 * given batches of 1000 lines joined into ONE write() each (`batch.join("\\n") + "\\n"`): the same
 * batches `ours-append-all-1000` gets, on equal terms (rfs costs one syscall per write(), so batching is
 * its fast mode). Backpressure: await 'drain' when write() returns false.
 */
import { once } from "node:events"
import { createStream } from "rotating-file-stream"
import { type ContenderOptions, writeJoinedBatches } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = createStream("app.log", { path: opts.dir, size: `${opts.maxBytes}B`, rotate: opts.maxFiles })
  await once(out, "open")
  await writeJoinedBatches(out, opts, 1000)
  out.end()
  await once(out, "close")
}
