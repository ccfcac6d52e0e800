/**
 * Lines per second of RotatingAppender into a real temp dir (issue 3's figure).
 *   npx tsx bench/append-all.ts [--lines 1000000] [--line-bytes 200] [--batch 1000] [--mode appendAll|append]
 * Rotation at 10 MiB, 5 backups. Verifies the line count on disk (the last 6 files' worth).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as RenameShift from "../src/rotation/RenameShift.js"
import * as RotatingAppender from "../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../src/rotation/RotationPolicy.js"

const { values } = parseArgs({
  options: {
    lines: { type: "string", default: "1000000" },
    "line-bytes": { type: "string", default: "200" },
    batch: { type: "string", default: "1000" },
    mode: { type: "string", default: "appendAll" }
  }
})
const total = Number(values.lines), lineBytes = Number(values["line-bytes"]), batch = Number(values.batch)
const pad = "x".repeat(lineBytes)
const line = (i: number) => {
  const head = `{"seq":${i},"msg":"`
  return head + pad.slice(0, Math.max(0, lineBytes - head.length - 2)) + '"}'
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-append-"))
const program = Effect.gen(function* () {
  const log = yield* RotatingAppender.make(path.join(dir, "app.jsonl"), {
    policy: RotationPolicy.unsafeMake({ maxBytes: 10 * 1024 * 1024, maxFiles: 5 })
  })
  if (values.mode === "append") {
    for (let i = 0; i < total; i++) yield* log.append(line(i))
  } else {
    for (let i = 0; i < total; i += batch) {
      const chunk: Array<string> = []
      for (let j = i; j < Math.min(total, i + batch); j++) chunk.push(line(j))
      yield* log.appendAll(chunk)
    }
  }
  yield* log.flush
})
const start = performance.now()
await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(RenameShift.layer.pipe(Layer.provideMerge(NodeFileSystem.layer)))))
const seconds = (performance.now() - start) / 1000
const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024) // before the verification reads the files
const files = fs.readdirSync(dir)
const onDisk = files.reduce((n, f) => n + fs.readFileSync(path.join(dir, f), "utf8").split("\n").length - 1, 0)
fs.rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify({
  mode: values.mode, lines: total, lineBytes, seconds: +seconds.toFixed(3),
  linesPerSecond: Math.round(total / seconds), mbPerSecond: +((total * (lineBytes + 1)) / seconds / 1e6).toFixed(1),
  files: files.length, linesOnDisk: onDisk, maxRssMiB
}))
