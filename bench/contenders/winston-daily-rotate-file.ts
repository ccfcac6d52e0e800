/**
 * Peer: `winston` (default JSON format, level info) + `winston-daily-rotate-file` with size rotation.
 * Config: `maxSize: maxBytes` (the transport rounds it to KiB), `maxFiles: maxFiles + 1` because its
 * count includes the active file (ours keeps maxFiles backups + the active file), default daily
 * datePattern (no date rollover during a run), audit file kept out of the counted directory.
 * It rotates before a write once the file is > maxSize, so a file passes it by up to one line.
 * Lines on disk carry winston's `"level":"info"` on top of the payload; MB/s counts the payload only.
 *
 * Backpressure: we honour the logger stream's own (await 'drain' when its buffer is full), but the
 * transport's log() calls back immediately and drops the file stream's write() result, so there is
 * no public way to wait for the disk: under a fast producer winston buffers in memory (visible in RSS).
 *
 * Flushed+closed: logger.end() → logger 'finish' (every transport took every line) → end() on the
 * transport's current file stream, whose callback runs once its buffered data is written.
 */
import { once } from "node:events"
import { join } from "node:path"
import winston from "winston"
import DailyRotateFile from "winston-daily-rotate-file"
import { type ContenderOptions, objectGenerator } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const object = objectGenerator(opts.lineBytes)
  const transport = new DailyRotateFile({
    dirname: opts.dir,
    filename: "app-%DATE%.log",
    maxSize: opts.maxBytes,
    maxFiles: opts.maxFiles + 1,
    auditFile: join(opts.scratch, "winston-audit.json")
  })
  const logger = winston.createLogger({ transports: [transport] })
  const state = (logger as unknown as { _writableState: { needDrain: boolean } })._writableState
  opts.startClock()
  for (let i = 0; i < opts.lines; i++) {
    logger.info(object(i))
    if (state.needDrain) await once(logger, "drain")
  }
  const finished = once(logger, "finish")
  logger.end()
  await finished
  const logStream = (transport as unknown as { logStream: { end: (cb: () => void) => void } }).logStream
  await new Promise<void>((resolve) => logStream.end(() => resolve()))
}
