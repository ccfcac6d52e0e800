/**
 * Peer: `rotating-file-stream` with size rotation at `maxBytes` and the classical logrotate
 * naming (`rotate: maxFiles` → `app.log.1 … app.log.<maxFiles>`, the same scheme and retention as ours;
 * no history file). Size is given in bytes (`"<n>B"`), so the threshold is exact.
 * It checks the size after each write() and rotates when it is >= size, so a file can pass
 * `maxBytes` by up to one write. Backpressure: await 'drain' when write() returns false.
 * Note: it writes every chunk with its own `FileHandle.write` (one syscall per line); that is
 * the library's normal path, not something this harness chose.
 */
import { once } from "node:events"
import { createStream } from "rotating-file-stream"
import { type ContenderOptions, writeAllLines } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = createStream("app.log", { path: opts.dir, size: `${opts.maxBytes}B`, rotate: opts.maxFiles })
  await once(out, "open")
  await writeAllLines(out, opts)
  out.end()
  await once(out, "close")
}
