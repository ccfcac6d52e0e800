/**
 * Child process of the bench: runs ONE contender and writes its result as JSON to `resultFile`.
 *
 *   node bench/.out/bench/contender.js <name> '<args-json>'   (as run.ts runs it: transpiled, no loader)
 *   node --import tsx bench/contender.ts <name> '<args-json>'  (run.ts --tsx)
 *
 * Wall time: from the contender's `startClock()` (right before its first write) until its `run`
 * resolves (everything flushed and closed). Peak RSS: see `peakRssKiB`; or the worker process's
 * peak when the contender reports one (the CLI).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { extname, join } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { ContenderOptions, Run } from "./lines.js"

export interface ChildArgs extends Omit<ContenderOptions, "startClock"> {
  readonly resultFile: string
}

export type ChildResult =
  | {
    readonly ok: true
    readonly wallMs: number
    readonly linesWritten: number
    readonly maxRssKiB: number
    readonly ownMaxRssKiB: number
    readonly rssSource: "VmHWM" | "maxRSS"
    readonly note?: string
  }
  | { readonly ok: false; readonly error: string }

/**
 * Peak RSS of this process in KiB. On Linux this is VmHWM from /proc/self/status, NOT
 * `process.resourceUsage().maxRSS`: getrusage's maxrss survives fork+exec, so a child inherits
 * the parent's RSS at spawn time as a floor (a child of a 300 MiB parent reports >= 300 MiB even
 * if it only ever touched 40 MiB). VmHWM belongs to the address space exec created. Elsewhere
 * (no /proc) it falls back to maxRSS.
 */
export const peakRssKiB = (): { readonly kib: number; readonly source: "VmHWM" | "maxRSS" } => {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"))
    if (m) return { kib: Number(m[1]), source: "VmHWM" }
  } catch {
    // not Linux
  }
  return { kib: process.resourceUsage().maxRSS, source: "maxRSS" }
}

const [name, json] = process.argv.slice(2)
if (!name || !json || !/^[a-z0-9-]+$/.test(name)) {
  console.error("usage: node bench/contender.(js|ts) <name> '<args-json>'")
  process.exit(2)
}
const args = JSON.parse(json) as ChildArgs

let result: ChildResult
try {
  const self = fileURLToPath(import.meta.url)
  const file = join(self, "..", "contenders", name + extname(self))
  const mod = (await import(pathToFileURL(file).href)) as { run: Run }
  let t0: number | undefined
  const called = performance.now()
  const info = await mod.run({ ...args, startClock: () => { t0 ??= performance.now() } })
  const wallMs = performance.now() - (t0 ?? called)
  const own = peakRssKiB()
  result = {
    ok: true,
    wallMs,
    linesWritten: info?.linesWritten ?? args.lines,
    maxRssKiB: info?.workerMaxRssKiB ?? own.kib,
    ownMaxRssKiB: own.kib,
    rssSource: own.source,
    ...(info?.note ? { note: info.note } : {})
  }
} catch (e) {
  const error = e instanceof Error ? `${e.message}` : String(e)
  result = { ok: false, error: error.split("\n")[0]!.slice(0, 300) || String(e) }
  process.exitCode = 1
}
writeFileSync(args.resultFile, JSON.stringify(result))
// Let pending I/O finish naturally; if a library leaves a handle open, do not hang the bench.
setTimeout(() => process.exit(), 10_000).unref()
