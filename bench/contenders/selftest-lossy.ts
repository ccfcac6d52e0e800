/**
 * Not a contender: a deliberately broken writer that checks the parent's verification
 * (`npm run bench -- --only selftest-lossy --rounds 1`). Synchronous writes, size rotation with
 * the run's maxBytes, but it (a) drops every line whose seq ends in 999, (b) keeps one backup
 * fewer than maxFiles, (c) leaves a torn half line at the end of the active file, (d) writes one
 * line twice. Expected: lines lost = dropped lines among those kept + about one file's worth
 * (shortfall), torn = 1, a "1 duplicate lines" note.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { type ContenderOptions, lineGenerator } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  const path = join(opts.dir, "app.log")
  const keep = Math.max(0, opts.maxFiles - 1)
  let fd = openSync(path, "a")
  let size = 0
  const rotate = () => {
    closeSync(fd)
    rmSync(`${path}.${keep}`, { force: true })
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameSync(`${path}.${i}`, `${path}.${i + 1}`)
      } catch {
        // not there yet
      }
    }
    if (keep > 0) renameSync(path, `${path}.1`)
    else rmSync(path)
    fd = openSync(path, "a")
    size = 0
  }
  opts.startClock()
  let chunk = ""
  for (let i = 0; i < opts.lines; i++) {
    if (i % 1000 === 999) continue
    const l = line(i) + "\n"
    if (opts.maxBytes > 0 && size + chunk.length + l.length > opts.maxBytes) {
      writeSync(fd, chunk)
      chunk = ""
      rotate()
    }
    chunk += l
    if (i === opts.lines - 2) chunk += l
    if (chunk.length >= 65536) {
      size += writeSync(fd, chunk)
      chunk = ""
    }
  }
  writeSync(fd, chunk + line(opts.lines).slice(0, 20))
  closeSync(fd)
}
