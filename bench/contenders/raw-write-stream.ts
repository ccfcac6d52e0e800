/** Upper limit: `fs.createWriteStream`, no rotation, default highWaterMark (16 KiB), awaits 'drain' when write() returns false. */
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { type ContenderOptions, writeAllLines } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = createWriteStream(join(opts.dir, "app.log"), { flags: "a" })
  await once(out, "open")
  await writeAllLines(out, opts)
  out.end()
  await once(out, "close")
}
