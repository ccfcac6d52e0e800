/**
 * `effect-logrotate append` fed by a pipe, next to `cat file > out` on the same data, in one run
 * (issue 5's figure). Needs `npm run build` first (it runs dist/bin.js, as an operator would).
 *   npx tsx bench/cli-pipe.ts [--lines 1000000] [--line-bytes 200] [--rounds 3]
 * Rotation at 10 MiB with 5 backups; afterwards the last kept line on disk must be the last one sent.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { lineGenerator } from "./lines.js"

const { values } = parseArgs({
  options: { lines: { type: "string", default: "1000000" }, "line-bytes": { type: "string", default: "200" }, rounds: { type: "string", default: "3" } }
})
const lines = Number(values.lines), lineBytes = Number(values["line-bytes"]), rounds = Number(values.rounds)
const bin = path.resolve(import.meta.dirname, "../dist/bin.js")
if (!fs.existsSync(bin)) throw new Error("run `npm run build` first: dist/bin.js is missing")

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cli-pipe-"))
const input = path.join(dir, "input.ndjson")
const line = lineGenerator(lineBytes)
const out = fs.createWriteStream(input)
for (let i = 0; i < lines; i++) if (!out.write(line(i) + "\n")) await new Promise<void>((r) => out.once("drain", () => r()))
await new Promise<void>((r) => out.end(() => r()))
const bytes = fs.statSync(input).size

const time = (label: string, script: string) => {
  const start = performance.now()
  const result = spawnSync("/bin/sh", ["-c", script], { cwd: dir, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, LOG_ROTATION_MAX_BYTES: "10MiB", LOG_ROTATION_MAX_FILES: "5" } })
  if (result.status !== 0) throw new Error(`${label} exited ${result.status}`)
  return (performance.now() - start) / 1000
}
const results: Record<string, Array<number>> = { "cat file > out": [], "cat file | effect-logrotate append": [] }
for (let r = 0; r < rounds; r++) {
  for (const [label, script] of (r % 2 === 0 ? Object.entries(results) : Object.entries(results).reverse()).map(([label]) => [
    label, label.startsWith("cat file >") ? "cat input.ndjson > out.ndjson" : `cat input.ndjson | node ${bin} append logs/app.jsonl`
  ] as const)) {
    fs.rmSync(path.join(dir, "logs"), { recursive: true, force: true })
    fs.rmSync(path.join(dir, "out.ndjson"), { force: true })
    results[label]!.push(time(label, script))
  }
}
const active = fs.readFileSync(path.join(dir, "logs", "app.jsonl"), "utf8").trimEnd().split("\n")
if (active[active.length - 1] !== line(lines - 1)) throw new Error("the last line on disk is not the last line sent")
fs.rmSync(dir, { recursive: true, force: true })

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`${lines} lines of ${lineBytes} B (${(bytes / 1e6).toFixed(0)} MB), ${rounds} rounds, median wall time (includes process start):\n`)
console.log("| command | median s | lines/s | MB/s |\n|---|--:|--:|--:|")
for (const [label, xs] of Object.entries(results)) {
  const s = median(xs)
  console.log(`| \`${label}\` | ${s.toFixed(2)} | ${Math.round(lines / s).toLocaleString("en-US")} | ${(bytes / s / 1e6).toFixed(0)} |`)
}
