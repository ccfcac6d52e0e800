/**
 * Upper limit: `fs.createWriteStream` with a 1 MiB highWaterMark, no rotation, given batches of 64
 * lines joined into ONE write() each: the same batches `ours-append-all-64` gets. Awaits 'drain'
 * when write() returns false.
 */
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { type ContenderOptions, writeJoinedBatches } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = createWriteStream(join(opts.dir, "app.log"), { flags: "a", highWaterMark: 1 << 20 })
  await once(out, "open")
  await writeJoinedBatches(out, opts, 64)
  out.end()
  await once(out, "close")
}
