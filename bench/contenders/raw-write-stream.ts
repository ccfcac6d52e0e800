/** Upper limit: `fs.createWriteStream`, no rotation, default highWaterMark (16 KiB), awaits 'drain' when write() returns false. */
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { type ContenderOptions, lineGenerator } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  const out = createWriteStream(join(opts.dir, "app.log"), { flags: "a" })
  await once(out, "open")
  opts.startClock()
  for (let i = 0; i < opts.lines; i++) {
    if (!out.write(line(i) + "\n")) await once(out, "drain")
  }
  out.end()
  await once(out, "close")
}
