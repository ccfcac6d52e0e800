/**
 * Child process of bench/sweep.ts: ONE sweep of one directory with our `Sweeper` over the Node
 * services, as a program using the library would run it, then its figures as JSON on stdout.
 *
 *   node bench/.out/sweep-<pid>/bench/sweep-child.js '<args-json>'   (as bench/sweep.ts runs it)
 *   node --import tsx bench/sweep-child.ts '<args-json>'
 *   ... '{"plan":100000,"maxAgeDays":30,"compressAgeDays":7}'   times the pure planner instead
 *
 * It reports its own peak RSS (VmHWM: see contender.ts `peakRssKiB`), the CPU time of each of its
 * threads (main thread, libuv's thread pool, V8's helpers; from /proc/self/task), and the sweep's
 * counts. Wall time and the process's total CPU are measured by the parent around the process.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as fs from "node:fs"
import * as Compressor from "../src/retention/Compressor.js"
import * as RetentionPlan from "../src/retention/RetentionPlan.js"
import * as SafeFs from "../src/platform/SafeFs.js"
import * as Sweeper from "../src/retention/Sweeper.js"

export interface SweepChildArgs {
  readonly dir: string
  /** Time `RetentionPlan.plan` on this many synthetic names (and twice as many) instead of sweeping `dir`. */
  readonly plan?: number
  readonly maxAgeDays: number
  readonly compressAgeDays: number
  readonly concurrency?: number
  readonly ioConcurrency?: number
}

export interface SweepChildResult {
  readonly sweepMs: number
  readonly compressed: number
  readonly deleted: number
  readonly failed: number
  readonly failures: ReadonlyArray<string>
  readonly peakRssKiB: number
  /** CPU ms of the main thread, and of all other threads (libuv's thread pool: zlib, fsync, unlink; V8's GC helpers). */
  readonly threadCpuMs: { readonly main: number; readonly other: number }
  /**
   * CPU ms (user+sys, all threads) before the sweep started: process start and loading the
   * modules (unbundled: effect, @effect/platform and what they import), which a host pays once.
   */
  readonly startCpuMs: number
  /** CPU ms (user+sys, all threads) of the sweep itself: building the layers, listing, planning, the work. */
  readonly sweepCpuMs: number
}

const vmHwmKiB = (): number => {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))
    if (m) return Number(m[1])
  } catch {
    // no /proc
  }
  return process.resourceUsage().maxRSS
}

/** CPU of each thread of this process, by kind (Linux; zeros elsewhere). */
const threadCpuMs = () => {
  const out = { main: 0, other: 0 }
  try {
    for (const tid of fs.readdirSync("/proc/self/task")) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      const ms = (Number(fields[11]) + Number(fields[12])) * 10 // utime + stime, USER_HZ 100
      if (tid === String(process.pid)) out.main += ms
      else out.other += ms
    }
  } catch {
    // no /proc
  }
  return out
}

export interface PlanChildResult {
  readonly names: number
  readonly ms: number
  readonly doubleMs: number
}

const FAMILIES = ["relay", "dlq", "orders-eu", "orders-us", "billing", "auth", "gateway", "search", "notifications", "audit"]

/** `n` distinct managed names in one directory, dates over 90 days: some to compress, some expired, some .gz and .gz.tmp. */
const planListing = (n: number, today: Date): RetentionPlan.Listing => {
  const entries: Array<RetentionPlan.Entry> = []
  for (let i = 0; i < n; i++) {
    const day = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (i % 90))).toISOString().slice(0, 10)
    const suffix = i % 10 === 9 ? ".ndjson.gz" : i % 97 === 5 ? ".ndjson.gz.tmp" : ".ndjson"
    entries.push({ name: `${FAMILIES[i % FAMILIES.length]}-n${Math.floor(i / 90)}-${day}${suffix}`, type: "File" })
  }
  return { dir: "/var/log/bench", entries }
}

/** Median ms of 5 plans of `n` names, after one warm-up. */
const timePlan = (n: number, thresholds: RetentionPlan.Thresholds): number => {
  const today = new Date()
  const listing = planListing(n, today)
  RetentionPlan.plan([listing], thresholds, today)
  const times: Array<number> = []
  for (let i = 0; i < 5; i++) {
    const started = performance.now()
    const plan = RetentionPlan.plan([listing], thresholds, today)
    times.push(performance.now() - started)
    if (plan.actions.length !== n) throw new Error(`a plan of ${n} names has ${plan.actions.length} actions`)
  }
  return times.sort((a, b) => a - b)[2]!
}

const args = JSON.parse(process.argv[2]!) as SweepChildArgs
if (args.plan !== undefined) {
  const thresholds = { maxAgeDays: args.maxAgeDays, compressAgeDays: args.compressAgeDays }
  const result: PlanChildResult = { names: args.plan, ms: timePlan(args.plan, thresholds), doubleMs: timePlan(2 * args.plan, thresholds) }
  process.stdout.write(JSON.stringify(result) + "\n")
  process.exit(0)
}
const SweeperLive = Sweeper.layer.pipe(
  Layer.provide(Compressor.layer),
  Layer.provide(SafeFs.layerNode),
  Layer.provide(NodeFileSystem.layer)
)
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000
const cpuBefore = process.cpuUsage()
const started = performance.now()
const report = await Effect.runPromise(
  Sweeper.sweep([args.dir], { maxAgeDays: args.maxAgeDays, compressAgeDays: args.compressAgeDays }, {
    ...(args.concurrency === undefined ? {} : { concurrency: args.concurrency }),
    ...(args.ioConcurrency === undefined ? {} : { ioConcurrency: args.ioConcurrency })
  }).pipe(Effect.provide(SweeperLive), Logger.withMinimumLogLevel(LogLevel.None))
)
const result: SweepChildResult = {
  sweepMs: performance.now() - started,
  startCpuMs: cpuMs(cpuBefore),
  sweepCpuMs: cpuMs(process.cpuUsage(cpuBefore)),
  compressed: report.compressed.length,
  deleted: report.deleted.length,
  failed: report.failed.length,
  failures: report.failed.slice(0, 5).map((f) => f.message),
  peakRssKiB: vmHwmKiB(),
  threadCpuMs: threadCpuMs()
}
process.stdout.write(JSON.stringify(result) + "\n")
