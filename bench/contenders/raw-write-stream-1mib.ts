/**
 * Not in the default set (`--only raw-write-stream-1mib`): `raw-write-stream` with a 1 MiB
 * highWaterMark (ours buffers up to 1 MiB by default) instead of Node's 16 KiB default, to show
 * how much of a gap to the raw stream is buffer size alone.
 */
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { type ContenderOptions, writeAllLines } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = createWriteStream(join(opts.dir, "app.log"), { flags: "a", highWaterMark: 1 << 20 })
  await once(out, "open")
  await writeAllLines(out, opts)
  out.end()
  await once(out, "close")
}
