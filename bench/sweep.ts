/**
 * Retention sweep benchmark: our `Sweeper` (NodeFileSystem) against `find | xargs gzip` + `rm`
 * doing the same job on identical data, measured in one run.
 *
 *   npx tsx bench/sweep.ts [--files 10000] [--kib 64] [--concurrency <cpus>] [--io-concurrency N] [--big-mib 256] [--keep]
 *
 * It generates `--files` dated NDJSON files of `--kib` KiB (20 prefix families, dates spread
 * over the last 60 days, every 10th file already gzipped) into three identical directories,
 * then: (a) sweeps the first with our Sweeper, compress after 7 days / delete after 30;
 * (b) runs the shell baseline on the second, selecting by the date in the name (plain gzip,
 * which does not fsync); (c) the same baseline with `gzip --synchronous`, which fsyncs each
 * output like our Compressor does. Each contender starts after a `sync` (not timed), so none
 * pays for another's writeback. It checks the three end states have the same names and that
 * a sample of .gz files decompress to the same bytes, then prints wall times, CPU seconds
 * (ours: this process; baselines: their process trees, from /proc on Linux), ratios and our
 * RSS before and at peak. Finally it compresses one `--big-mib` file alone to show our memory
 * does not grow with the file size. Not a test.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as zlib from "node:zlib"
import * as Compressor from "../src/Compressor.js"
import * as SafeFs from "../src/SafeFs.js"
import * as Sweeper from "../src/Sweeper.js"

export interface SweepBenchOptions {
  readonly files: number
  readonly kib: number
  /** Our `concurrency` (zlib calls at once) and the baselines' `xargs -P`. */
  readonly concurrency: number
  /** Our `ioConcurrency`; undefined = the Sweeper's default. */
  readonly ioConcurrency?: number
  readonly maxAgeDays: number
  readonly compressAgeDays: number
  /** Keep the generated directories (printed) instead of removing them. */
  readonly keep: boolean
  /** Size of the single large file compressed for the memory check; 0 skips it. */
  readonly bigMiB: number
}

export interface SweepBenchResult {
  readonly options: SweepBenchOptions
  readonly planned: { readonly compress: number; readonly delete: number; readonly untouched: number }
  readonly ours: {
    readonly ms: number; readonly cpuMs: number; readonly compressed: number; readonly deleted: number; readonly failed: number
    readonly rssBeforeMiB: number; readonly peakRssMiB: number; readonly maxRssMiB: number
  }
  /** One `bigMiB` file compressed alone: our RSS before and at peak (bounded-memory check). */
  readonly big?: { readonly mib: number; readonly ms: number; readonly rssBeforeMiB: number; readonly peakRssMiB: number }
  /** `cpuMs` is undefined where /proc/self/stat is not available. */
  readonly baseline: { readonly ms: number; readonly cpuMs: number | undefined }
  readonly baselineSync: { readonly ms: number; readonly cpuMs: number | undefined }
  readonly sameNames: boolean
  readonly sampleContentsEqual: boolean
}

export const defaults: SweepBenchOptions = {
  files: 10_000, kib: 64, concurrency: os.availableParallelism(), maxAgeDays: 30, compressAgeDays: 7, keep: false, bigMiB: 256
}

const FAMILIES = [
  "relay", "dlq", "orders-eu", "orders-us", "billing", "auth", "gateway", "search", "dlq-orders-eu", "notifications",
  "payments", "inventory", "shipping", "users", "sessions", "audit", "metrics-export", "ingest", "webhooks", "reports"
]
const DAYS = 60

/** Deterministic PRNG (mulberry32). */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `size` bytes of log-like NDJSON (compresses roughly 5–8x with gzip -6, like real logs). */
const ndjsonBlock = (size: number, seed: number): Buffer => {
  const random = rng(seed)
  const levels = ["info", "info", "info", "debug", "warn", "error"]
  const routes = ["/v1/orders", "/v1/users/:id", "/v1/payments", "/healthz", "/v2/search", "/v1/inventory/:sku"]
  const lines: Array<string> = []
  let total = 0
  for (let i = 0; total < size; i++) {
    const line = JSON.stringify({
      ts: new Date(1_767_225_600_000 + Math.floor(random() * 86_400_000)).toISOString(),
      level: levels[Math.floor(random() * levels.length)],
      route: routes[Math.floor(random() * routes.length)],
      status: [200, 200, 200, 201, 204, 400, 404, 500][Math.floor(random() * 8)],
      ms: Math.floor(random() * 2000) / 10,
      req: Math.floor(random() * 0xffffffff).toString(16).padStart(8, "0"),
      msg: `handled request ${i} for tenant ${Math.floor(random() * 500)}`
    }) + "\n"
    lines.push(line)
    total += line.length
  }
  return Buffer.from(lines.join("")).subarray(0, size)
}

const dayString = (today: Date, age: number) =>
  new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - age)).toISOString().slice(0, 10)

/** Writes the same files into every dir in `dirs`; returns what a 7/30 policy should do with them. */
const generate = (dirs: ReadonlyArray<string>, options: SweepBenchOptions, today: Date) => {
  const blocks = Array.from({ length: 32 }, (_, i) => ndjsonBlock(options.kib * 1024, i + 1))
  const gzBlocks = blocks.map((b) => zlib.gzipSync(b))
  const planned = { compress: 0, delete: 0, untouched: 0 }
  for (let i = 0; i < options.files; i++) {
    const family = FAMILIES[i % FAMILIES.length]!
    const age = Math.floor(i / FAMILIES.length) % DAYS
    const shard = Math.floor(i / (FAMILIES.length * DAYS))
    const gz = i % 10 === 9
    const name = `${family}-n${shard}-${dayString(today, age)}.ndjson${gz ? ".gz" : ""}`
    const data = gz ? gzBlocks[i % gzBlocks.length]! : blocks[i % blocks.length]!
    for (const dir of dirs) fs.writeFileSync(path.join(dir, name), data)
    if (age > options.maxAgeDays) planned.delete++
    else if (!gz && age > options.compressAgeDays) planned.compress++
    else planned.untouched++
  }
  return planned
}

/**
 * The baseline: logrotate-style tools cannot read a date from a file name, so `find` lists
 * the managed names, awk keeps those whose date is before the cut-off (YYYY-MM-DD compares as
 * a string), `rm` deletes, `gzip` compresses (it keeps mode and mtime and removes the original).
 */
const baselineScript = (gzipFlags: string) => `
set -eu
dir="$1"; cpus="$2"; today="$3"; max="$4"; compress="$5"
del_before=$(date -u -d "$today -$max days" +%F)
gz_before=$(date -u -d "$today -$compress days" +%F)
pat='*-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].ndjson'
older() { awk -v cut="$1" -v dir="$dir" '{ n = $0; sub(/\\.ndjson(\\.gz)?$/, "", n); if (substr(n, length(n) - 9) < cut) print dir "/" $0 }'; }
find "$dir" -maxdepth 1 -type f \\( -name "$pat" -o -name "$pat.gz" \\) -printf '%f\\n' | older "$del_before" | xargs -r -d '\\n' rm -f --
find "$dir" -maxdepth 1 -type f -name "$pat" -printf '%f\\n' | older "$gz_before" | xargs -r -d '\\n' -P "$cpus" -n 32 gzip ${gzipFlags} --
`

/** CPU milliseconds of the waited-for children of this process (cutime + cstime), Linux only. */
const childrenCpuMs = (): number | undefined => {
  try {
    const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")
    // After "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) * 10 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

const runBaseline = (dir: string, options: SweepBenchOptions, today: Date, gzipFlags: string) => {
  const cpuBefore = childrenCpuMs()
  const started = performance.now()
  const result = spawnSync("bash", ["-c", baselineScript(gzipFlags), "baseline", dir, String(options.concurrency),
    today.toISOString().slice(0, 10), String(options.maxAgeDays), String(options.compressAgeDays)], { stdio: "inherit" })
  const ms = performance.now() - started
  const cpuAfter = childrenCpuMs()
  if (result.status !== 0) throw new Error(`baseline failed with status ${result.status}`)
  return { ms, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore }
}

const MiB = 2 ** 20

/** Runs `f`, sampling RSS every 20 ms. */
const measured = async <A>(f: () => Promise<A>) => {
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => void (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  const cpu = process.cpuUsage()
  const started = performance.now()
  try {
    const value = await f()
    const ms = performance.now() - started
    const { user, system } = process.cpuUsage(cpu)
    return { value, ms, cpuMs: (user + system) / 1000, rssBeforeMiB: before / MiB, peakRssMiB: Math.max(peak, process.memoryUsage().rss) / MiB }
  } finally {
    clearInterval(sampler)
  }
}

const CompressorLive = Compressor.layer.pipe(Layer.provide(SafeFs.layerNode))
const SweeperLive = Sweeper.layer.pipe(Layer.provide(CompressorLive), Layer.provide(SafeFs.layerNode), Layer.provide(NodeFileSystem.layer))

const runOurs = async (dir: string, options: SweepBenchOptions) => {
  const { value: report, ...m } = await measured(() => Effect.runPromise(
    Sweeper.sweep([dir], { maxAgeDays: options.maxAgeDays, compressAgeDays: options.compressAgeDays }, {
      concurrency: options.concurrency, ...(options.ioConcurrency === undefined ? {} : { ioConcurrency: options.ioConcurrency })
    })
      .pipe(Effect.provide(SweeperLive), Logger.withMinimumLogLevel(LogLevel.Warning))
  ))
  return {
    ...m, compressed: report.compressed.length, deleted: report.deleted.length, failed: report.failed.length,
    maxRssMiB: process.resourceUsage().maxRSS / 1024
  }
}

/** Compresses one `mib` MiB file with our Compressor, to show memory does not grow with file size. */
const runBig = async (dir: string, mib: number) => {
  const file = path.join(dir, "big-2000-01-01.ndjson")
  const block = ndjsonBlock(MiB, 99)
  const fd = fs.openSync(file, "w")
  for (let i = 0; i < mib; i++) fs.writeSync(fd, block)
  fs.closeSync(fd)
  execFileSync("sync")
  const { value: _, cpuMs: _cpu, ...m } = await measured(() => Effect.runPromise(Compressor.gzipFile(file).pipe(Effect.provide(CompressorLive))))
  fs.rmSync(`${file}.gz`)
  return { mib, ...m }
}

/** Generates the data, runs both, checks they agree. */
export const runSweepBench = async (overrides: Partial<SweepBenchOptions> = {}): Promise<SweepBenchResult> => {
  const options = { ...defaults, ...overrides }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "retention-bench-"))
  const [ours, base, baseSync] = ["ours", "baseline", "baseline-sync"].map((d) => path.join(root, d)) as [string, string, string]
  for (const d of [ours, base, baseSync]) fs.mkdirSync(d)
  try {
    const today = new Date()
    const planned = generate([ours, base, baseSync], options, today)
    execFileSync("sync")
    const oursResult = await runOurs(ours, options)
    execFileSync("sync")
    const baseline = runBaseline(base, options, today, "")
    execFileSync("sync")
    const baselineSync = runBaseline(baseSync, options, today, "--synchronous")
    const big = options.bigMiB > 0 ? await runBig(root, options.bigMiB) : undefined
    const names = (d: string) => fs.readdirSync(d).sort()
    const [a, b, c] = [names(ours), names(base), names(baseSync)]
    const sameNames = JSON.stringify(a) === JSON.stringify(b) && JSON.stringify(b) === JSON.stringify(c)
    const gzNames = a.filter((n) => n.endsWith(".gz"))
    const sample = gzNames.filter((_, i) => i % Math.max(1, Math.floor(gzNames.length / 50)) === 0)
    const sampleContentsEqual = sample.every((n) =>
      zlib.gunzipSync(fs.readFileSync(path.join(ours, n))).equals(zlib.gunzipSync(fs.readFileSync(path.join(base, n)))))
    return { options, planned, ours: oursResult, ...(big ? { big } : {}), baseline, baselineSync, sameNames, sampleContentsEqual }
  } finally {
    if (options.keep) console.log(`kept ${root}`)
    else fs.rmSync(root, { recursive: true, force: true })
  }
}

const parseArgs = (argv: ReadonlyArray<string>): Partial<SweepBenchOptions> => {
  const out: { -readonly [K in keyof SweepBenchOptions]?: SweepBenchOptions[K] } = {}
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = Number(argv[i + 1])
    if (flag === "--keep") out.keep = true
    else if (flag === "--files") (out.files = value, i++)
    else if (flag === "--kib") (out.kib = value, i++)
    else if (flag === "--concurrency") (out.concurrency = value, i++)
    else if (flag === "--io-concurrency") (out.ioConcurrency = value, i++)
    else if (flag === "--big-mib") (out.bigMiB = value, i++)
    else throw new Error(`unknown argument ${flag}; usage: npx tsx bench/sweep.ts [--files 10000] [--kib 64] [--concurrency N] [--io-concurrency N] [--big-mib 256] [--keep]`)
  }
  return out
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runSweepBench(parseArgs(process.argv.slice(2)))
  const { files, kib, concurrency, ioConcurrency } = r.options
  const cpu = (ms: number | undefined) => ms === undefined ? "" : `, CPU ${(ms / 1000).toFixed(1)} s`
  console.log([
    `retention sweep: ${files} files x ${kib} KiB, compress > ${r.options.compressAgeDays} d, delete > ${r.options.maxAgeDays} d, ` +
      `concurrency ${concurrency}, io concurrency ${ioConcurrency ?? "default"} (${os.availableParallelism()} CPUs, node ${process.version})`,
    `planned:            compress ${r.planned.compress}, delete ${r.planned.delete}, untouched ${r.planned.untouched}`,
    `ours (Sweeper):     ${r.ours.ms.toFixed(0)} ms  (compressed ${r.ours.compressed}, deleted ${r.ours.deleted}, failed ${r.ours.failed}; fsync per .gz${cpu(r.ours.cpuMs)})`,
    `find+xargs gzip:    ${r.baseline.ms.toFixed(0)} ms  (no fsync${cpu(r.baseline.cpuMs)})`,
    `  ... --synchronous: ${r.baselineSync.ms.toFixed(0)} ms  (fsync per .gz${cpu(r.baselineSync.cpuMs)})`,
    `ratio ours/baseline: ${(r.ours.ms / r.baseline.ms).toFixed(2)}x; ours/baseline --synchronous: ${(r.ours.ms / r.baselineSync.ms).toFixed(2)}x`,
    `our RSS during the sweep: ${r.ours.rssBeforeMiB.toFixed(0)} MiB before, ${r.ours.peakRssMiB.toFixed(0)} MiB peak ` +
      `(process maxRSS ${r.ours.maxRssMiB.toFixed(0)} MiB, includes tsx)`,
    ...(r.big ? [`one ${r.big.mib} MiB file compressed alone: ${r.big.ms.toFixed(0)} ms, RSS ${r.big.rssBeforeMiB.toFixed(0)} MiB before, ` +
      `${r.big.peakRssMiB.toFixed(0)} MiB peak`] : []),
    `same end state (names): ${r.sameNames}; sampled .gz contents equal: ${r.sampleContentsEqual}`
  ].join("\n"))
  if (!r.sameNames || !r.sampleContentsEqual || r.ours.failed > 0) process.exitCode = 1
}
