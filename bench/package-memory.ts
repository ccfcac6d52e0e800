/**
 * Memory of the package (issue 10, target 6): what `import "effect-logrotate"` adds to the RSS of
 * a process that already imports `effect`. Needs `npm run build` first (it imports the built
 * `dist/` through the package's own `exports`, as a user's app would).
 *
 *   npx tsx bench/package-memory.ts [--rounds 5] [--per-module] [--modules] [--json out.json]
 *
 * Each case is a fresh `node --input-type=module -e …` child (cwd = the package root, so the
 * package name resolves to this checkout by self-reference) that imports the case's specifiers
 * in order and then reports `process.memoryUsage().rss` (and VmHWM). Cases run in rounds whose
 * order alternates, so drift and the load of a shared machine hit all alike; the figures are
 * medians over rounds, and "adds" is the median of the per-round differences.
 *
 * - The target row: `effect` + `effect-logrotate` minus `effect` alone, ≤ 10 MiB.
 * - `--per-module`: also each subpath export alone (and a few effect/platform modules), to show
 *   where the memory goes (docs/performance.md quotes that table).
 * - `--modules`: also the modules each case loads, counted by package (a second, traced child per
 *   case: a `module.register` load hook that appends every URL to a file; the hook thread costs
 *   RSS, so traced runs are never the measured ones).
 *
 * Exports `packageMemoryPart` for `npm run bench` (returns its Markdown section and its Targets
 * rows); run directly it prints both. Exits 0 whether or not the target is met (a benchmark, not a test).
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"

import type { Target } from "./targets.js"
export type { Target }

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
/** The target: import "effect-logrotate" adds at most this much RSS over import "effect". */
export const MAX_ADDED_MIB = 10

interface Case {
  readonly name: string
  readonly specifiers: ReadonlyArray<string>
}

const BASE: ReadonlyArray<Case> = [
  { name: "node (imports nothing)", specifiers: [] },
  { name: "effect", specifiers: ["effect"] },
  { name: "effect-logrotate", specifiers: ["effect-logrotate"] },
  { name: "effect + effect-logrotate", specifiers: ["effect", "effect-logrotate"] }
]

/** Subpath exports of package.json, each as its own case, plus the dependencies they are built on. */
const perModuleCases = (): Array<Case> => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { exports: Record<string, unknown> }
  const subpaths = Object.keys(pkg.exports).filter((k) => k !== "." && k !== "./package.json")
  return [
    { name: "effect/Effect", specifiers: ["effect/Effect"] },
    { name: "effect/Layer + effect/Stream", specifiers: ["effect/Layer", "effect/Stream"] },
    { name: "effect/Schema", specifiers: ["effect/Schema"] },
    { name: "@effect/platform/FileSystem", specifiers: ["@effect/platform/FileSystem"] },
    { name: "@effect/platform (barrel)", specifiers: ["@effect/platform"] },
    { name: "@effect/platform-node/NodeFileSystem", specifiers: ["@effect/platform-node/NodeFileSystem"] },
    { name: "@effect/cli (barrel)", specifiers: ["@effect/cli"] },
    ...subpaths.map((s) => ({ name: `effect-logrotate${s.slice(1)}`, specifiers: [`effect-logrotate${s.slice(1)}`] }))
  ]
}

interface Sample {
  readonly rssMiB: number
  readonly hwmMiB: number | undefined
}

const CHILD = `
const specs = JSON.parse(process.argv[1])
for (const s of specs) await import(s)
let hwm
try { hwm = Number(/VmHWM:\\s+(\\d+)/.exec((await import("node:fs")).readFileSync("/proc/self/status", "utf8"))[1]) / 1024 } catch {}
process.stdout.write(JSON.stringify({ rssMiB: process.memoryUsage().rss / 2 ** 20, hwmMiB: hwm }))
`

const runChild = async (c: Case, execArgv: ReadonlyArray<string> = [], env: NodeJS.ProcessEnv = {}): Promise<Sample> => {
  const child = spawn(process.execPath, [...execArgv, "--input-type=module", "-e", CHILD, JSON.stringify(c.specifiers)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  child.stdout.setEncoding("utf8").on("data", (s: string) => void (out += s))
  child.stderr.setEncoding("utf8").on("data", (s: string) => void (err += s))
  const [code] = (await once(child, "exit")) as [number | null]
  if (code !== 0) throw new Error(`importing ${c.specifiers.join(", ") || "nothing"} exited ${code}: ${err.trim().split("\n").slice(0, 5).join(" / ")}`)
  return JSON.parse(out) as Sample
}

/** Modules loaded by a case, counted by package (`effect`, `@effect/platform`, `dist` for ours, `node:*`). */
const tracedModules = async (c: Case, dir: string): Promise<Map<string, number>> => {
  const hooks = path.join(dir, "hooks.mjs")
  const register = path.join(dir, "register.mjs")
  if (!fs.existsSync(hooks)) {
    fs.writeFileSync(
      hooks,
      `import { appendFileSync } from "node:fs"\n` +
        `export async function load(url, context, next) { appendFileSync(process.env.TRACE_MODULES_OUT, url + "\\n"); return next(url, context) }\n`
    )
    fs.writeFileSync(register, `import { register } from "node:module"\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
  }
  const out = path.join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`)
  fs.writeFileSync(out, "")
  await runChild(c, ["--import", pathToFileURL(register).href], { TRACE_MODULES_OUT: out })
  return countByPackage(fs.readFileSync(out, "utf8").split("\n").filter(Boolean))
}

/** `file:///…/node_modules/@effect/platform/dist/esm/Foo.js` → `@effect/platform`; this package's files → `effect-logrotate (dist)`. */
export const packageOf = (url: string): string => {
  if (url.startsWith("node:")) return "node:*"
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (m) return m[1]!
  return url.startsWith(pathToFileURL(root).href) ? "effect-logrotate (dist)" : url
}
const countByPackage = (urls: ReadonlyArray<string>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const u of urls) counts.set(packageOf(u), (counts.get(packageOf(u)) ?? 0) + 1)
  return counts
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const fix = (x: number, d = 1) => x.toFixed(d)

export interface PackageMemoryOptions {
  readonly rounds?: number
  readonly perModule?: boolean
  readonly modules?: boolean
}
export interface CaseResult {
  readonly name: string
  readonly specifiers: ReadonlyArray<string>
  readonly rssMiB: ReadonlyArray<number>
  readonly hwmMiB: ReadonlyArray<number>
  readonly medianRssMiB: number
  /** Median per-round RSS over `node (imports nothing)`. */
  readonly overNodeMiB: number
  /** Median per-round RSS over `effect`. */
  readonly overEffectMiB: number
  readonly modules?: Readonly<Record<string, number>>
}
export interface PackageMemoryPart {
  readonly section: string
  readonly targets: ReadonlyArray<Target>
  readonly results: ReadonlyArray<CaseResult>
}

/** Runs the cases and returns the Markdown section and the Targets rows (n/a rows when dist/ is missing). */
export const packageMemoryPart = async (options: PackageMemoryOptions = {}): Promise<PackageMemoryPart> => {
  const rounds = options.rounds ?? 5
  const description = `import "effect-logrotate" adds RSS over import "effect"`
  const na = (why: string): PackageMemoryPart => ({
    section: `n/a: ${why}`,
    targets: [{ id: "6.package-rss", description, measured: undefined, target: `<= ${MAX_ADDED_MIB} MiB`, met: undefined, detail: why }],
    results: []
  })
  if (!fs.existsSync(path.join(root, "dist", "index.js"))) return na("dist/index.js not found: run `npm run build` first")
  const cases = [...BASE, ...(options.perModule ? perModuleCases() : [])]
  const samples = new Map<string, Array<Sample>>(cases.map((c) => [c.name, []]))
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) samples.get(c.name)!.push(await runChild(c))
    }
  } catch (e) {
    return na(e instanceof Error ? e.message : String(e))
  }
  const traceDir = options.modules ? fs.mkdtempSync(path.join(os.tmpdir(), "bench-package-memory-")) : undefined
  const perRound = (name: string) => samples.get(name)!.map((s) => s.rssMiB)
  const over = (name: string, base: string) => median(perRound(name).map((x, i) => x - perRound(base)[i]!))
  const results: Array<CaseResult> = []
  try {
    for (const c of cases) {
      const xs = samples.get(c.name)!
      results.push({
        name: c.name,
        specifiers: c.specifiers,
        rssMiB: xs.map((x) => x.rssMiB),
        hwmMiB: xs.flatMap((x) => x.hwmMiB === undefined ? [] : [x.hwmMiB]),
        medianRssMiB: median(xs.map((x) => x.rssMiB)),
        overNodeMiB: over(c.name, BASE[0]!.name),
        overEffectMiB: over(c.name, BASE[1]!.name),
        ...(traceDir ? { modules: Object.fromEntries(await tracedModules(c, traceDir)) } : {})
      })
    }
  } finally {
    if (traceDir) fs.rmSync(traceDir, { recursive: true, force: true })
  }
  const get = (name: string) => results.find((r) => r.name === name)!
  const added = get("effect + effect-logrotate").overEffectMiB
  const alone = get("effect-logrotate").overEffectMiB
  const targets: Array<Target> = [{
    id: "6.package-rss",
    description,
    measured: `${added >= 0 ? "+" : ""}${fix(added)} MiB`,
    target: `<= ${MAX_ADDED_MIB} MiB`,
    met: added <= MAX_ADDED_MIB,
    detail: `effect + effect-logrotate ${fix(get("effect + effect-logrotate").medianRssMiB)} MiB vs effect ` +
      `${fix(get("effect").medianRssMiB)} MiB; effect-logrotate alone ${alone >= 0 ? "+" : ""}${fix(alone)} MiB over effect`
  }]
  const lines = [
    `RSS right after the imports, ${rounds} interleaved rounds, medians (MiB); "over" columns are medians of per-round differences. ` +
    `Imports resolve through package.json "exports" to dist/ (npm run build). ${os.cpus().length} cores, load average ` +
    `${os.loadavg().map((x) => fix(x, 2)).join(" ")}.`,
    "",
    `| import | RSS MiB | min–max | over node | over effect |${options.modules ? " modules loaded |" : ""}`,
    `|---|--:|--:|--:|--:|${options.modules ? "---|" : ""}`,
    ...results.map((r) =>
      `| \`${r.specifiers.join(" + ") || "(nothing)"}\` | ${fix(r.medianRssMiB)} | ${fix(Math.min(...r.rssMiB))}–${fix(Math.max(...r.rssMiB))} | ` +
      `${fix(r.overNodeMiB)} | ${fix(r.overEffectMiB)} |` +
      (r.modules
        ? ` ${Object.entries(r.modules).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")} |`
        : "")
    ),
    "",
    `Target: ${description} ≤ ${MAX_ADDED_MIB} MiB: ${targets[0]!.measured} (${targets[0]!.met ? "met" : "MISSED"}).`
  ]
  return { section: lines.join("\n"), targets, results }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      "per-module": { type: "boolean", default: false },
      modules: { type: "boolean", default: false },
      json: { type: "string" }
    },
    strict: true
  })
  const rounds = Number(values.rounds)
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds=${values.rounds}: expected a whole number >= 1`)
  const part = await packageMemoryPart({ rounds, perModule: values["per-module"], modules: values.modules })
  console.log(part.section)
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(part, null, 2))
}
