/**
 * Upper limit: `sonic-boom`, no rotation, in the asynchronous mode pino documents for speed
 * (`sync: false, minLength: 4096`: writes are coalesced until 4 KiB are buffered).
 * Backpressure: write() returns false past its high-water mark (16 KiB); we then await 'drain'.
 */
import { once } from "node:events"
import { join } from "node:path"
import SonicBoomModule from "sonic-boom"
import { type ContenderOptions, writeAllLines } from "../lines.js"

// sonic-boom is CommonJS (`module.exports = SonicBoom`, with `.default` pointing to itself).
const SonicBoom = SonicBoomModule.default

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = new SonicBoom({ dest: join(opts.dir, "app.log"), sync: false, minLength: 4096, append: true })
  await once(out, "ready")
  await writeAllLines(out, opts)
  out.end()
  await once(out, "close")
}
