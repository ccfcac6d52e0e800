/**
 * Peer, logger path: `pino` (default options: adds level, time, pid, hostname) writing
 * `logger.info({ seq, pad })` into an in-process `pino-roll` stream configured as in `pino-roll`.
 * Lines on disk are ~60 bytes longer than the payload (pino's fields); MB/s counts the payload only.
 * pino itself ignores backpressure, so the destination handed to pino is a thin wrapper that
 * records SonicBoom's write() result, and the loop awaits 'drain' when it was false.
 * Compare with ours-ndjson-logger.
 */
import { once } from "node:events"
import { join } from "node:path"
import { pino } from "pino"
import pinoRoll from "pino-roll"
import { type ContenderOptions, objectGenerator } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const object = objectGenerator(opts.lineBytes)
  const out = await pinoRoll({
    file: join(opts.dir, "app.log"),
    size: `${opts.maxBytes}b`,
    limit: { count: opts.maxFiles },
    sync: false,
    minLength: 4096
  })
  if ((out as unknown as { fd: number }).fd < 0) await once(out, "ready")
  let ok = true
  const logger = pino({}, { write: (s: string) => { ok = out.write(s) } })
  opts.startClock()
  for (let i = 0; i < opts.lines; i++) {
    logger.info(object(i))
    if (!ok) {
      await once(out, "drain")
      ok = true
    }
  }
  out.end()
  await once(out, "close")
}
