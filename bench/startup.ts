/**
 * CLI start-up against a bare `node -e 0` (issue 10, target 4): interleaved rounds, medians.
 * Needs `npm run build` first (it runs the built CLI, as an operator would).
 *
 *   npx tsx bench/startup.ts [--runs 10] [--bin dist/bin.js] [--json out.json]
 *
 * Each round runs, in an order that alternates between rounds (so drift and the load of a shared
 * machine hit all alike):
 * - `node -e 0`: spawn → exit.
 * - `node <bin> --help`: spawn → exit (stdout read to its end).
 * - `node <bin> append <file>` with one line already in its stdin pipe: spawn → the first byte of
 *   that line in the file (time to first byte; watched with `fs.watch`, checked by `stat`); then
 *   stdin is closed and the run must exit 0 with exactly that line in the file.
 *
 * Wall times come from `performance.now()` around the child. CPU (user + sys) is the child's own,
 * read as the growth of this process's `cutime + cstime` in `/proc/self/stat` once the child has
 * been reaped (Linux only; 10 ms ticks, so the median of 10 runs is meaningful, one run is not).
 * The target: `--help` and the first byte of `append` within 3× `node -e 0` (wall medians).
 * Exports `startupPart` for `npm run bench` (its Markdown section and its Targets rows); run
 * directly it prints the section. Exits 0 whether or not the target is met (a benchmark, not a test).
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

import type { Target } from "./targets.js"
export type { Target }

/** The target: each CLI case's median wall time within this many times `node -e 0`'s. */
export const MAX_RATIO = 3
const DEFAULT_BIN = path.resolve(import.meta.dirname, "../dist/bin.js")

const TICKS_PER_SECOND = 100 // USER_HZ on Linux
/** This process's reaped children's user + sys CPU in ms, or undefined off Linux. */
const childrenCpuMs = (): number | undefined => {
  try {
    // Fields after the `(comm)`: state is field 3; cutime and cstime are fields 16 and 17.
    const stat = fs.readFileSync("/proc/self/stat", "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[13]) + Number(fields[14])) * 1000 / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

interface Sample {
  readonly wallMs: number
  readonly cpuMs: number | undefined
}

/** Runs `node args`, returning the wall time until `until` resolves (default: exit) and the child's CPU. */
const measure = async (
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly until?: (stop: () => void) => () => void } = {}
): Promise<Sample> => {
  const cpuBefore = childrenCpuMs()
  let reached: number | undefined
  const cancel = options.until?.(() => reached ??= performance.now())
  const start = performance.now()
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] })
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (s: string) => void (stderr += s))
  child.stdout.resume()
  if (options.stdin !== undefined) child.stdin.write(options.stdin)
  if (options.until === undefined) child.stdin.end()
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>
  if (options.until !== undefined) {
    // Wait for the first byte, then let the run finish.
    while (reached === undefined && child.exitCode === null) await new Promise((r) => setTimeout(r, 1))
    child.stdin.end()
  }
  const [code, signal] = await exited
  const end = performance.now()
  cancel?.()
  if (code !== 0) throw new Error(`node ${args.join(" ")} exited ${code ?? signal}: ${stderr}`)
  const cpuAfter = childrenCpuMs()
  const stopAt = options.until === undefined ? end : reached
  if (stopAt === undefined) throw new Error(`node ${args.join(" ")}: exited before its first byte`)
  return { wallMs: stopAt - start, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore }
}

export interface StartupPart {
  readonly section: string
  readonly targets: ReadonlyArray<Target>
  readonly json: unknown
}

/** Runs the interleaved rounds; n/a rows (not an error) when the built CLI is missing or a run fails. */
export const startupPart = async (options: { readonly runs?: number; readonly bin?: string } = {}): Promise<StartupPart> => {
  const runs = options.runs ?? 10
  const bin = path.resolve(options.bin ?? DEFAULT_BIN)
  const na = (why: string): StartupPart => ({
    section: `n/a: ${why}`,
    targets: ["--help", "append: first byte"].map((c): Target => ({
      id: c === "--help" ? "4.startup-help" : "4.startup-append",
      description: `effect-logrotate ${c} vs node -e 0 (median wall)`,
      measured: undefined,
      target: `<= ${MAX_RATIO}x`,
      met: undefined,
      detail: why
    })),
    json: undefined
  })
  if (!fs.existsSync(bin)) return na(`${bin} not found: run \`npm run build\` first`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-startup-"))
  const LINE = `{"msg":"first"}\n`
  let appendRun = 0

  type Case = { readonly name: string; readonly run: () => Promise<Sample> }
  const cases: ReadonlyArray<Case> = [
    { name: "node -e 0", run: () => measure(["-e", "0"]) },
    { name: "effect-logrotate --help", run: () => measure([bin, "--help"]) },
    {
      name: "effect-logrotate append: first byte",
      run: async () => {
        const file = path.join(dir, `app-${appendRun++}.jsonl`)
        const size = () => {
          try {
            return fs.statSync(file).size
          } catch {
            return 0
          }
        }
        const sample = await measure([bin, "append", file], {
          stdin: LINE,
          until: (reached) => {
            // inotify on the directory: every create/write in it wakes us to stat the file.
            const watcher = fs.watch(dir, () => void (size() > 0 && reached()))
            return () => watcher.close()
          }
        })
        const written = fs.readFileSync(file, "utf8")
        if (written !== LINE) throw new Error(`append wrote ${JSON.stringify(written)}, expected ${JSON.stringify(LINE)}`)
        return sample
      }
    }
  ]

  const samples = new Map<string, Array<Sample>>(cases.map((c) => [c.name, []]))
  try {
    for (let round = 0; round < runs; round++) {
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) samples.get(c.name)!.push(await c.run())
    }
  } catch (e) {
    // A run that failed (exit code, wrong bytes) is reported, not thrown: `npm run bench` goes on.
    return na(e instanceof Error ? e.message.slice(0, 300) : String(e))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }

  const median = (xs: ReadonlyArray<number>) => {
    const s = [...xs].sort((a, b) => a - b)
    const m = Math.floor(s.length / 2)
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
  }
  const summary = cases.map((c) => {
    const xs = samples.get(c.name)!
    const cpu = xs.map((x) => x.cpuMs).filter((x): x is number => x !== undefined)
    return {
      name: c.name,
      wallMs: median(xs.map((x) => x.wallMs)),
      minWallMs: Math.min(...xs.map((x) => x.wallMs)),
      maxWallMs: Math.max(...xs.map((x) => x.wallMs)),
      cpuMs: cpu.length === xs.length ? median(cpu) : undefined
    }
  })
  const base = summary[0]!
  const load = os.loadavg().map((x) => x.toFixed(2)).join(" ")
  const lines = [
    `${runs} interleaved runs each, medians; ${bin}; ${os.cpus().length} cores, load average ${load}`,
    "",
    `| command | median wall ms | min–max | × node -e 0 (wall) | median CPU ms | × node -e 0 (CPU) | target ≤ ${MAX_RATIO}× |`,
    "|---|--:|--:|--:|--:|--:|---|"
  ]
  for (const s of summary) {
    const ratio = s.wallMs / base.wallMs
    const cpuRatio = s.cpuMs !== undefined && base.cpuMs ? (s.cpuMs / base.cpuMs).toFixed(2) + "×" : "n/a"
    lines.push(`| \`${s.name}\` | ${s.wallMs.toFixed(0)} | ${s.minWallMs.toFixed(0)}–${s.maxWallMs.toFixed(0)} | ` +
      `${ratio.toFixed(2)}× | ${s.cpuMs?.toFixed(0) ?? "n/a"} | ${cpuRatio} | ${s === base ? "" : ratio <= MAX_RATIO ? "met" : "MISSED"} |`)
  }
  const targets = summary.slice(1).map((s): Target => {
    const ratio = s.wallMs / base.wallMs
    return {
      id: s.name.includes("--help") ? "4.startup-help" : "4.startup-append",
      description: `${s.name} vs node -e 0 (median wall)`,
      measured: ratio,
      target: `<= ${MAX_RATIO}x`,
      met: ratio <= MAX_RATIO,
      detail: `${s.wallMs.toFixed(0)} vs ${base.wallMs.toFixed(0)} ms; CPU ${s.cpuMs?.toFixed(0) ?? "n/a"} vs ${base.cpuMs?.toFixed(0) ?? "n/a"} ms`
    }
  })
  return { section: lines.join("\n"), targets, json: { runs, bin, load: os.loadavg(), summary, samples: Object.fromEntries(samples) } }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "10" },
      bin: { type: "string", default: DEFAULT_BIN },
      json: { type: "string" }
    },
    strict: true
  })
  const runs = Number(values.runs)
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs=${values.runs}: expected a whole number >= 1`)
  const bin = path.resolve(values.bin)
  if (!fs.existsSync(bin)) throw new Error(`run \`npm run build\` first: ${bin} is missing`)
  const part = await startupPart({ runs, bin })
  console.log(part.section)
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(part.json, null, 2))
}
