/**
 * Naive baseline: `fs.appendFileSync` per line (open + write + close per line), no rotation.
 * run.ts caps it at 200,000 lines by default (it is a rate; see CAPS in run.ts).
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { type ContenderOptions, lineGenerator } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  const file = join(opts.dir, "app.log")
  opts.startClock()
  for (let i = 0; i < opts.lines; i++) appendFileSync(file, line(i) + "\n")
}
