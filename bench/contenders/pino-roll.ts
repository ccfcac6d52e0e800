/**
 * Peer: `pino-roll` (pino's rotating transport) used in-process: `await pinoRoll(...)` returns the
 * SonicBoom stream pino would write to, and we write the pre-serialized lines to it directly
 * (the same input ours-append gets; `pino-roll-logger` measures the `logger.info(obj)` path).
 * Config: `size: "<maxBytes>b"` (exact bytes), `limit.count = maxFiles` (backups kept besides the
 * active file, like ours), SonicBoom async with `minLength: 4096` as for the `sonic-boom` contender.
 * It rotates after a write that brings the file to >= size, so a file can pass `maxBytes` by one write;
 * old files are removed asynchronously after each roll. Files are named `app.1.log`, `app.2.log`, ...
 * Backpressure: await 'drain' when write() returns false.
 */
import { once } from "node:events"
import { join } from "node:path"
import pinoRoll from "pino-roll"
import { type ContenderOptions, writeAllLines } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const out = await pinoRoll({
    file: join(opts.dir, "app.log"),
    size: `${opts.maxBytes}b`,
    limit: { count: opts.maxFiles },
    sync: false,
    minLength: 4096
  })
  if ((out as unknown as { fd: number }).fd < 0) await once(out, "ready")
  await writeAllLines(out, opts)
  out.end()
  await once(out, "close")
}
