/**
 * Time of ONE rotation (`RenameShift.shift(path, maxFiles)`) as a function of maxFiles, with the
 * active file and every backup small or large, to show it does not grow with file size.
 *
 *   npx tsx bench/rotation-cost.ts [--max-files 1,10,100] [--sizes 1024,10485760] [--reps 15]
 *   (or `npm run bench -- --rotation-cost`, after the writers)
 *
 * Setup per (maxFiles, size): a fresh temp directory with `app.log` and a full set of backups
 * `app.log.1 … app.log.<maxFiles>`, each `size` bytes of real data (not sparse). Each rep then
 * rewrites `app.log` (a shift turned it into `.1` and dropped the oldest, so this restores the full
 * set) and times the shift alone: one removal of the oldest backup and maxFiles renames. One
 * untimed warm-up rep, then the median (and min–max) of `reps`. Every file is fsynced when written
 * (the backups at setup, the active file before each timed shift), so no writeback of freshly
 * written data (up to 1 GiB at maxFiles 100 × 10 MiB) runs during the timed shift: it made the
 * large case slower for a reason that is not the rotation. Metadata operations on a VM disk are
 * noisy at the millisecond scale; compare the min columns as well as the medians.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import * as RenameShift from "../src/rotation/RenameShift.js"

const { values } = parseArgs({
  options: {
    "max-files": { type: "string", default: "1,10,100" },
    sizes: { type: "string", default: `${1024},${10 * 1024 * 1024}` },
    reps: { type: "string", default: "15" }
  },
  strict: true
})
const list = (s: string) => s.split(",").map((x) => Number(x.trim())).filter((n) => Number.isSafeInteger(n) && n >= 0)
const maxFilesList = list(values["max-files"])
const sizes = list(values.sizes)
const reps = Math.max(1, Number(values.reps) || 15)

const human = (bytes: number) =>
  bytes >= 1 << 20 ? `${bytes / (1 << 20)} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`

/** `size` bytes of NDJSON-ish text (newline-terminated 100-byte lines), generated once per size. */
const contents = new Map<number, Buffer>()
const content = (size: number): Buffer => {
  let buf = contents.get(size)
  if (!buf) {
    const line = Buffer.from(`{"msg":"rotation-cost","pad":"${"x".repeat(70)}"}`.padEnd(99, " ") + "\n")
    buf = Buffer.alloc(size)
    for (let at = 0; at < size; at += line.length) line.copy(buf, at, 0, Math.min(line.length, size - at))
    contents.set(size, buf)
  }
  return buf
}

/** Writes `data` to `path` (truncating) and fsyncs it. */
const writeSynced = (path: string, data: Buffer) => {
  const fd = openSync(path, "w")
  try {
    for (let at = 0; at < data.length;) at += writeSync(fd, data, at)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const runtime = ManagedRuntime.make(RenameShift.layer.pipe(Layer.provideMerge(NodeFileSystem.layer)))

interface Row {
  readonly maxFiles: number
  readonly size: number
  readonly medianMs?: number
  readonly minMs?: number
  readonly maxMs?: number
  readonly renamed?: number
  readonly removed?: number
  readonly error?: string
}

const measure = async (maxFiles: number, size: number): Promise<Row> => {
  const dir = mkdtempSync(join(os.tmpdir(), "elr-rotation-cost-"))
  try {
    const path = join(dir, "app.log")
    const data = content(size)
    for (let i = 1; i <= maxFiles; i++) writeSynced(`${path}.${i}`, data)
    const times: Array<number> = []
    let last: RenameShift.ShiftResult | undefined
    for (let rep = 0; rep <= reps; rep++) {
      writeSynced(path, data)
      const t0 = performance.now()
      last = await runtime.runPromise(Effect.flatMap(RenameShift.RenameShift, (r) => r.shift(path, maxFiles)))
      const ms = performance.now() - t0
      if (rep > 0) times.push(ms)
    }
    return {
      maxFiles,
      size,
      medianMs: median(times),
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      renamed: last!.renamed.length,
      removed: last!.removed.length
    }
  } catch (e) {
    return { maxFiles, size, error: (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 200) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Median ms of deleting one fsynced file of `size` bytes: the part of a rotation that does depend on size. */
const measureUnlink = async (size: number): Promise<number> => {
  const dir = mkdtempSync(join(os.tmpdir(), "elr-rotation-cost-"))
  try {
    const times: Array<number> = []
    for (let rep = 0; rep <= reps; rep++) {
      const file = join(dir, `f${rep}`)
      writeSynced(file, content(size))
      const t0 = performance.now()
      await runtime.runPromise(Effect.flatMap(FileSystem.FileSystem, (fs) => fs.remove(file)))
      if (rep > 0) times.push(performance.now() - t0)
    }
    return median(times)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const rows: Array<Row> = []
for (const maxFiles of maxFilesList) {
  for (const size of sizes) {
    const row = await measure(maxFiles, size)
    rows.push(row)
    process.stderr.write(`rotation-cost: maxFiles ${maxFiles}, ${human(size)}: ${row.error ? `error: ${row.error}` : `${row.medianMs!.toFixed(3)} ms`}\n`)
  }
}
const unlinks = new Map<number, number>()
for (const size of sizes) unlinks.set(size, await measureUnlink(size))
await runtime.dispose()

const cells = rows.map((r) => [
  String(r.maxFiles),
  human(r.size),
  r.error ? `error: ${r.error}` : r.medianMs!.toFixed(3),
  r.error ? "" : `${r.minMs!.toFixed(3)}–${r.maxMs!.toFixed(3)}`,
  r.error ? "" : `${r.removed} / ${r.renamed}`
])
const header = ["maxFiles", "each file", "median ms", "min–max ms", "removed / renamed"]
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
const line = (c: ReadonlyArray<string>) => `| ${c.map((x, i) => (i === 0 || i >= 2 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join(" | ")} |`
console.log(`One rotation (RenameShift.shift) with a full set of backups; median of ${reps} reps after one warm-up; temp dir ${os.tmpdir()}.\n`)
console.log(line(header))
console.log(`|${widths.map((w, i) => (i === 0 || i >= 2 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`)
for (const c of cells) console.log(line(c))
const bySize = new Map<number, Array<Row>>()
for (const r of rows) if (!r.error) bySize.set(r.maxFiles, [...(bySize.get(r.maxFiles) ?? []), r])
const ratios = [...bySize.entries()].flatMap(([maxFiles, rs]) => {
  if (rs.length < 2) return []
  const small = rs.reduce((a, b) => (a.size <= b.size ? a : b))
  const large = rs.reduce((a, b) => (a.size >= b.size ? a : b))
  return [
    `maxFiles ${maxFiles}: ${(large.medianMs! / small.medianMs!).toFixed(2)}× (min ${(large.minMs! / small.minMs!).toFixed(2)}×)`
  ]
})
if (ratios.length) console.log(`\nLargest vs smallest files, median (min): ${ratios.join("; ")}.`)
console.log(
  `Deleting one fsynced file (the oldest backup's removal, the one size-dependent step), median: ` +
    [...unlinks.entries()].map(([size, ms]) => `${human(size)} ${ms.toFixed(3)} ms`).join(", ") + "."
)
if (rows.some((r) => r.error)) process.exitCode = 1
