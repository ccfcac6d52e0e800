/**
 * `npm run bench` — writers compared on one machine in one run (issue 6).
 *
 *   npm run bench -- [--lines 300000] [--line-bytes 200] [--max-bytes 10485760] [--max-files 5]
 *                    [--rounds 3] [--only a,b] [--json out.json]
 *                    [--sweep-files 2000] [--no-sweep] [--no-startup] [--no-pipe] [--rotation-cost] [--timeout s] [--no-cap] [--tsx] [--all]
 *
 * Every run of every contender is its own child process, so its peak RSS is its own, writing into
 * a fresh temp directory that is removed afterwards. The children run plain `node` on bench/ and
 * src/ transpiled to JavaScript (TypeScript's transpileModule, no typecheck) in bench/.out/run-<pid>/,
 * because the tsx loader costs the child 35–70 MiB of RSS (its hooks thread grows with every module
 * loaded, so more for Effect's many modules than for a one-file library) — that would blur the RSS
 * column and the RSS target. `--tsx` runs the children as `node --import tsx bench/contender.ts`.
 * Rounds alternate direction (A B C, C B A, A B C, …) so drift hits all contenders alike.
 * A run that does not finish within --timeout seconds (default max(60, 120 per million lines))
 * is killed and reported as an error; a contender that fails is skipped in later rounds.
 * Slow per-line baselines are capped (see `cap`; --no-cap runs the full workload for all).
 * The child measures the write phase (first write → flushed and closed) and its peak RSS; this
 * process then reads every file the contender left and checks the lines (see `verify`).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { createReadStream, existsSync, rmSync, writeFileSync } from "node:fs"
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import * as os from "node:os"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import type { ChildArgs, ChildResult } from "./contender.js"
import { packageMemoryPart } from "./package-memory.js"
import { startupPart } from "./startup.js"
import { boundTarget, checkTarget, printTargets, ratioTarget, type Target } from "./targets.js"

const root = dirname(dirname(fileURLToPath(import.meta.url)))

// ---------------------------------------------------------------------------------------------
// Contenders

type Kind = "upper" | "peer" | "naive" | "ours" | "floor"
/** Entries the logger contenders log at least (issue 10: peak RSS for a burst of 1M entries). */
const LOGGER_BURST = 1_000_000
interface Contender {
  readonly name: string
  readonly kind: Kind
  /** Rotates by size with the run's maxBytes/maxFiles (retention decides which lines must be on disk). */
  readonly rotating: boolean
  /**
   * At most this many lines per run unless --no-cap: for contenders so slow that the full workload
   * would blow the 3-minute budget. Their cost is per line (a syscall or open/close per line), so
   * lines/s from fewer lines compares as is; the row is marked. A capped rotating contender still
   * rotates (and prunes) several times at the default sizes.
   */
  readonly cap?: number
  /** At least this many lines per run, whatever --lines says (the logger's 1M-entry burst). */
  readonly minLines?: number
  /** Writes no file (a floor): nothing to verify. */
  readonly writesNothing?: boolean
}

/**
 * The default set: what issue 10's writer and logger targets compare (and the CLI pipe). With
 * the logger burst at 1M entries it stays under 3 minutes on 2 cores; `--all` adds `EXTRA`.
 */
const CONTENDERS: ReadonlyArray<Contender> = [
  // Issue 10, target 1: the same batches as ours-append-all-<n>, joined into one write each.
  { name: "raw-1mib-joined-64", kind: "upper", rotating: false },
  { name: "raw-1mib-joined-1000", kind: "upper", rotating: false },
  { name: "rfs-joined-64", kind: "peer", rotating: true },
  { name: "rfs-joined-1000", kind: "peer", rotating: true },
  { name: "file-stream-rotator", kind: "peer", rotating: true },
  { name: "pino-roll", kind: "peer", rotating: true },
  { name: "pino-roll-logger", kind: "peer", rotating: true },
  { name: "ours-append-all-64", kind: "ours", rotating: true },
  { name: "ours-append-all-1000", kind: "ours", rotating: true },
  { name: "ours-append", kind: "ours", rotating: true },
  // The logger's floor and the logger: at least 1M entries, the burst of issue 10's RSS target.
  { name: "ours-noop-logger", kind: "floor", rotating: false, minLines: LOGGER_BURST, writesNothing: true },
  { name: "ours-ndjson-logger", kind: "ours", rotating: true, minLines: LOGGER_BURST },
  { name: "ours-cli-pipe", kind: "ours", rotating: true }
]
/** With `--all` (or by name with --only): the other peers and modes of earlier issues. */
const EXTRA: ReadonlyArray<Contender> = [
  { name: "raw-write-stream", kind: "upper", rotating: false },
  { name: "sonic-boom", kind: "upper", rotating: false },
  // 350k lines = 70 MB: 6 rotations, so its pruning runs too.
  { name: "rotating-file-stream", kind: "peer", rotating: true, cap: 350_000 },
  { name: "winston-daily-rotate-file", kind: "peer", rotating: true },
  { name: "append-file-sync", kind: "naive", rotating: false, cap: 200_000 },
  { name: "ours-append-8-fibers", kind: "ours", rotating: true }
]
/**
 * Runnable with --only, never by default: RSS floors (noop, ours-idle), the raw stream with ours'
 * buffer size fed line by line (raw-write-stream-1mib), and a deliberately lossy writer that checks `verify`.
 */
const HIDDEN: ReadonlyArray<Contender> = [
  { name: "noop", kind: "naive", rotating: false },
  { name: "ours-idle", kind: "naive", rotating: true },
  { name: "raw-write-stream-1mib", kind: "upper", rotating: false },
  { name: "selftest-lossy", kind: "naive", rotating: true }
]
/** The ratio column: raw createWriteStream (1 MiB buffer) given batches of 64 joined lines. */
const RAW = "raw-1mib-joined-64"

// ---------------------------------------------------------------------------------------------
// Flags

const { values: flags } = parseArgs({
  options: {
    // Small by default (under 3 minutes on 2 cores); the issue's full workload is --lines 1000000.
    lines: { type: "string", default: "300000" },
    "line-bytes": { type: "string", default: "200" },
    "max-bytes": { type: "string", default: String(10 * 1024 * 1024) },
    "max-files": { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    only: { type: "string" },
    json: { type: "string" },
    "sweep-files": { type: "string", default: "2000" },
    "no-sweep": { type: "boolean", default: false },
    "no-startup": { type: "boolean", default: false },
    "no-pipe": { type: "boolean", default: false },
    "no-cap": { type: "boolean", default: false },
    "rotation-cost": { type: "boolean", default: false },
    timeout: { type: "string" },
    tsx: { type: "boolean", default: false },
    all: { type: "boolean", default: false },
    help: { type: "boolean", default: false }
  },
  strict: true
})

if (flags.help) {
  console.log(fileHeader())
  process.exit(0)
}

function fileHeader(): string {
  return [
    "usage: npm run bench -- [--lines N] [--line-bytes N] [--max-bytes N] [--max-files N] [--rounds N]",
    "                        [--only a,b] [--json out.json] [--sweep-files N] [--no-sweep] [--no-startup] [--no-pipe] [--rotation-cost]",
    "                        [--timeout seconds-per-run] [--no-cap] [--tsx] [--all]",
    `contenders: ${CONTENDERS.map((c) => c.name).join(", ")}`,
    `also with --all: ${EXTRA.map((c) => c.name).join(", ")}`,
    `also with --only: ${HIDDEN.map((c) => c.name).join(", ")}`
  ].join("\n")
}

const whole = (flag: string, value: string, min: number): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`--${flag}=${value}: expected a whole number >= ${min}`)
    process.exit(2)
  }
  return n
}
const config = {
  lines: whole("lines", flags.lines, 1),
  lineBytes: whole("line-bytes", flags["line-bytes"], 32),
  maxBytes: whole("max-bytes", flags["max-bytes"], 0),
  maxFiles: whole("max-files", flags["max-files"], 0),
  rounds: whole("rounds", flags.rounds, 1)
}
// A run that hangs (a deadlock in a contender) is killed and shown as an error, not waited for.
const timeoutS = flags.timeout ? whole("timeout", flags.timeout, 1) : Math.max(60, Math.ceil(120 * config.lines / 1e6))
let selected = flags.all ? [...EXTRA, ...CONTENDERS] : CONTENDERS
if (flags.only) {
  const names = flags.only.split(",").map((s) => s.trim()).filter(Boolean)
  const all = [...EXTRA, ...CONTENDERS, ...HIDDEN]
  const unknown = names.filter((n) => !all.some((c) => c.name === n))
  if (unknown.length > 0) {
    console.error(`--only: unknown contender(s) ${unknown.join(", ")}\n${fileHeader()}`)
    process.exit(2)
  }
  selected = all.filter((c) => names.includes(c.name))
}

// ---------------------------------------------------------------------------------------------
// One run

interface Verification {
  readonly files: number
  readonly bytesOnDisk: number
  readonly linesOnDisk: number
  /** Distinct seqs found. */
  readonly found: number
  /** Lines that are not whole JSON (including bytes after a file's last "\n"). */
  readonly torn: number
  /** Whole JSON lines without a seq of ours (e.g. a logger's own messages). */
  readonly foreign: number
  readonly duplicates: number
  /** Seqs missing between the oldest seq on disk and the last seq written. */
  readonly holes: number
  /** Rotating only: backups (files besides the active one) on disk, and how many the policy keeps. */
  readonly backups?: number
  readonly expectedBackups?: number
  /** Lines of the backups that retention should have kept but that are gone (estimate, see `verify`). */
  readonly shortfall: number
  readonly lost: number
}

interface RunRecord {
  readonly contender: string
  readonly round: number
  readonly ok: boolean
  readonly error?: string
  readonly wallMs?: number
  readonly linesWritten?: number
  readonly linesPerSec?: number
  readonly maxRssKiB?: number
  readonly note?: string
  readonly verification?: Verification
}

let currentTemp: string | undefined
const compiled = join(root, "bench", ".out", `run-${process.pid}`)
process.on("SIGINT", () => {
  if (currentTemp) rmSync(currentTemp, { recursive: true, force: true })
  rmSync(compiled, { recursive: true, force: true })
  process.exit(130)
})

/** Transpiles bench/ and src/ (TypeScript only, no typecheck) into `compiled`, mirroring the layout. */
const transpile = async (): Promise<void> => {
  const ts = (await import("typescript")).default
  const walk = async (dir: string): Promise<Array<string>> => {
    const out: Array<string> = []
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) out.push(...(await walk(p)))
      else if (e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p)
    }
    return out
  }
  // Only what the children load: the runner, the generator, the contenders, and src/.
  const files = [
    join(root, "bench", "contender.ts"),
    join(root, "bench", "lines.ts"),
    ...(await walk(join(root, "bench", "contenders"))),
    ...(existsSync(join(root, "src")) ? await walk(join(root, "src")) : [])
  ]
  for (const file of files) {
    let source: string
    try {
      source = await readFile(file, "utf8")
    } catch {
      continue // removed while we listed (others edit src/ concurrently)
    }
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true
      }
    })
    const target = join(compiled, relative(root, file)).replace(/\.ts$/, ".js")
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, outputText)
  }
}

const childCommand = (name: string, argsJson: string): Array<string> =>
  flags.tsx
    ? ["--import", "tsx", join(root, "bench", "contender.ts"), name, argsJson]
    : [join(compiled, "bench", "contender.js"), name, argsJson]

const tail = (s: string, n = 2000) => s.length > n ? s.slice(-n) : s

const runChild = async (name: string, lines: number): Promise<{ result: ChildResult; dir: string; base: string }> => {
  const base = await mkdtemp(join(os.tmpdir(), "elr-bench-"))
  currentTemp = base
  const dir = join(base, "logs")
  const scratch = join(base, "scratch")
  await mkdir(dir)
  await mkdir(scratch)
  const args: ChildArgs = {
    dir,
    scratch,
    lines,
    lineBytes: config.lineBytes,
    maxBytes: config.maxBytes,
    maxFiles: config.maxFiles,
    root,
    resultFile: join(scratch, "result.json")
  }
  const child: ChildProcess = spawn(process.execPath, childCommand(name, JSON.stringify(args)), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (d: Buffer) => { output = tail(output + d.toString()) })
  child.stderr!.on("data", (d: Buffer) => { output = tail(output + d.toString()) })
  let timedOut = false
  const killer = setTimeout(() => {
    timedOut = true
    child.kill("SIGKILL")
  }, timeoutS * 1000)
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null]
  clearTimeout(killer)
  let result: ChildResult
  try {
    result = JSON.parse(await readFile(args.resultFile, "utf8")) as ChildResult
  } catch {
    const lastLine = output.trim().split("\n").filter(Boolean).slice(-1)[0] ?? ""
    result = {
      ok: false,
      error: timedOut
        ? `timed out after ${timeoutS} s (killed; raise with --timeout)`
        : `child exited with ${code ?? signal} and no result${lastLine ? `: ${lastLine}` : ""}`
    }
  }
  return { result, dir, base }
}

const listFiles = async (dir: string): Promise<Array<string>> => {
  const out: Array<string> = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(p)))
    else if (entry.isFile()) out.push(p)
  }
  return out
}

// A seq of ours: top-level `"seq":123`, or inside a string-encoded message `\"seq\":123`.
const SEQ = /\\?"seq\\?":(\d+)/

/** Consecutive seqs that must all be on disk where the hole count starts (see `verify`). */
const RUN = 1000

/**
 * Reads every file the contender left and checks its lines. Lines lost = holes + shortfall:
 *
 * - torn: a line that is not whole JSON, or bytes after the last "\n" of a file.
 * - Every line written carries a unique `seq` (0 … written-1), taken in the order lines are offered.
 * - holes: seqs missing from [lo, written). Without rotation lo = 0, so holes = written - found.
 *   With rotation, retention deletes the oldest lines, so lo = the first seq from which RUN
 *   consecutive seqs are all on disk (for a sequential writer, the first line of the oldest file
 *   kept; a concurrent writer may leave a few early seqs as stragglers in newer files, which must
 *   not turn the deleted lines between them into "holes"). A hole is then a line dropped in the
 *   middle (e.g. at a rotation) or at the end (close).
 * - shortfall (rotating only): retention must keep the active file and `maxFiles` backups. When the
 *   bytes written (written × mean line length on disk, so a logger's extra fields count) fill at
 *   least maxFiles + 1 files, expectedBackups = min(maxFiles, floor(bytes / maxBytes) - 1). If fewer
 *   backups are on disk AND fewer lines are kept (from lo) than the active file plus expectedBackups
 *   files of floor(maxBytes / line length) lines, the difference is lost. Files need not be exactly
 *   maxBytes: writers that coalesce writes rotate a chunk early or late (pino-roll: about ±5%), and a
 *   writer whose files grow past maxBytes keeps more lines in fewer files; neither loses a line.
 */
const verify = async (dir: string, written: number, rotating: boolean): Promise<Verification> => {
  const seen = new Uint8Array(written)
  let bytesOnDisk = 0
  let linesOnDisk = 0
  let torn = 0
  let foreign = 0
  let duplicates = 0
  let found = 0
  let minSeq = written
  let maxSeq = -1
  let activeLines = 0
  const files = await listFiles(dir)
  for (const file of files) {
    let fileLines = 0
    let fileMax = -1
    const check = (s: string) => {
      try {
        JSON.parse(s)
      } catch {
        torn++
        return
      }
      const m = SEQ.exec(s)
      const seq = m ? Number(m[1]) : -1
      if (seq < 0 || seq >= written) {
        foreign++
        return
      }
      if (seen[seq]) duplicates++
      else {
        seen[seq] = 1
        found++
      }
      if (seq < minSeq) minSeq = seq
      if (seq > fileMax) fileMax = seq
    }
    let rest: Buffer | undefined
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      bytesOnDisk += chunk.length
      const buf = rest ? Buffer.concat([rest, chunk]) : chunk
      let start = 0
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        fileLines++
        check(buf.toString("utf8", start, nl))
        start = nl + 1
      }
      rest = start < buf.length ? buf.subarray(start) : undefined
    }
    if (rest) {
      fileLines++
      torn++
    }
    linesOnDisk += fileLines
    if (fileMax > maxSeq) {
      maxSeq = fileMax
      activeLines = fileLines
    }
  }
  let lo = 0
  if (rotating) {
    lo = minSeq
    for (let s = minSeq, streak = 0; s < written; s++) {
      streak = seen[s] ? streak + 1 : 0
      if (streak === Math.min(RUN, written - minSeq)) {
        lo = s - streak + 1
        break
      }
    }
  }
  let holes = 0
  for (let s = lo; s < written; s++) if (!seen[s]) holes++
  let shortfall = 0
  let retention: { backups: number; expectedBackups: number } | undefined
  if (rotating && config.maxBytes > 0) {
    const meanLine = linesOnDisk > 0 ? bytesOnDisk / linesOnDisk : config.lineBytes
    const expectedBackups = Math.min(config.maxFiles, Math.max(0, Math.floor((written * meanLine) / config.maxBytes) - 1))
    const backups = Math.max(0, files.length - 1)
    retention = { backups, expectedBackups }
    if (backups < expectedBackups) {
      const kept = written - lo - holes
      const required = Math.min(written, activeLines + expectedBackups * Math.floor(config.maxBytes / meanLine))
      shortfall = Math.max(0, required - kept)
    }
  }
  return {
    files: files.length,
    bytesOnDisk,
    linesOnDisk,
    found,
    torn,
    foreign,
    duplicates,
    holes,
    ...retention,
    shortfall,
    lost: holes + shortfall
  }
}

const nothingWritten: Verification = {
  files: 0, bytesOnDisk: 0, linesOnDisk: 0, found: 0, torn: 0, foreign: 0, duplicates: 0, holes: 0, shortfall: 0, lost: 0
}

const runOnce = async (c: Contender, round: number): Promise<RunRecord> => {
  const lines = c.cap !== undefined && !flags["no-cap"]
    ? Math.min(c.cap, config.lines)
    : Math.max(c.minLines ?? 0, config.lines)
  const { result, dir, base } = await runChild(c.name, lines)
  try {
    if (!result.ok) return { contender: c.name, round, ok: false, error: result.error }
    const verification = c.writesNothing ? nothingWritten : await verify(dir, result.linesWritten, c.rotating)
    return {
      contender: c.name,
      round,
      ok: true,
      wallMs: result.wallMs,
      linesWritten: result.linesWritten,
      linesPerSec: result.linesWritten / (result.wallMs / 1000),
      maxRssKiB: result.maxRssKiB,
      ...(result.note || lines < config.lines
        ? { note: [lines < config.lines ? `capped at ${int(lines)} lines` : "", result.note ?? ""].filter(Boolean).join("; ") }
        : lines > config.lines
        ? { note: [`ran ${int(lines)} lines (a burst of at least ${int(c.minLines!)})`, result.note ?? ""].filter(Boolean).join("; ") }
        : {}),
      verification
    }
  } finally {
    await rm(base, { recursive: true, force: true })
    currentTemp = undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Summary

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const int = (x: number) => Math.round(x).toLocaleString("en-US")
const fix = (x: number, d = 1) => x.toFixed(d)
const range = (xs: ReadonlyArray<number>, f: (x: number) => string = String) => {
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  return lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`
}

interface Summary {
  readonly contender: string
  readonly kind: Kind
  readonly runs: number
  readonly error?: string
  readonly medianLinesPerSec?: number
  readonly mbPerSec?: number
  readonly ratioToRaw?: number
  readonly medianRssMiB?: number
  readonly minLinesPerSec?: number
  readonly maxLinesPerSec?: number
  readonly lost?: ReadonlyArray<number>
  readonly torn?: ReadonlyArray<number>
  readonly notes: ReadonlyArray<string>
}

const summarize = (records: ReadonlyArray<RunRecord>): Array<Summary> => {
  const rawRuns = records.filter((r) => r.contender === RAW && r.ok)
  const rawMedian = rawRuns.length ? median(rawRuns.map((r) => r.linesPerSec!)) : undefined
  return selected.map((c) => {
    const mine = records.filter((r) => r.contender === c.name)
    const ok = mine.filter((r) => r.ok)
    const failed = mine.filter((r) => !r.ok)
    const notes = new Set<string>()
    for (const r of ok) {
      if (r.note) notes.add(r.note)
      const v = r.verification!
      if (v.duplicates) notes.add(`${v.duplicates} duplicate lines`)
      if (v.foreign) notes.add(`${v.foreign} lines without a seq`)

    }
    const backups = Math.max(...ok.map((r) => r.verification!.backups ?? 0))
    if (c.rotating && backups > config.maxFiles) {
      notes.add(`left up to ${backups} backups on disk, policy ${config.maxFiles}: retention did not prune (not counted as loss)`)
    }
    if (failed.length && ok.length) notes.add(`${failed.length} run(s) failed: ${failed[0]!.error}`)
    if (!ok.length) {
      const error = failed[0]?.error ?? "not run"
      if (error.length > 60) notes.add(`error: ${error}`)
      return { contender: c.name, kind: c.kind, runs: 0, error, notes: [...notes] }
    }
    const lps = ok.map((r) => r.linesPerSec!)
    const med = median(lps)
    return {
      contender: c.name,
      kind: c.kind,
      runs: ok.length,
      medianLinesPerSec: med,
      mbPerSec: (med * config.lineBytes) / 1e6,
      ...(rawMedian ? { ratioToRaw: med / rawMedian } : {}),
      medianRssMiB: median(ok.map((r) => r.maxRssKiB! / 1024)),
      minLinesPerSec: Math.min(...lps),
      maxLinesPerSec: Math.max(...lps),
      lost: ok.map((r) => r.verification!.lost),
      torn: ok.map((r) => r.verification!.torn),
      notes: [...notes]
    }
  })
}

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, right: ReadonlySet<number>) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join(" | ")} |`
  const rule = `|${widths.map((w, i) => right.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2)).join("|")}|`
  return [line(header), rule, ...rows.map(line)].join("\n")
}

const machine = () => {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, Node ${process.version}, ` +
    `${fix(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, temp dir ${os.tmpdir()}`
}

/**
 * Issue 10's targets 1 (library writer) and 2 (logger), from the medians of this run. Ratios are
 * of median lines/s measured in the same run (interleaved rounds). Other parts (sweep, CLI,
 * start-up, package) add their rows with the helpers of bench/targets.ts.
 */
const targets = (summaries: ReadonlyArray<Summary>): Array<Target> => {
  const lps = (name: string) => summaries.find((s) => s.contender === name)?.medianLinesPerSec
  const missing = (...names: Array<string>) => `no result for ${names.filter((n) => lps(n) === undefined).join(", ")}`
  const speed = (id: string, description: string, ours: string, base: string, min: number) =>
    ratioTarget({ id, description, ours: lps(ours), base: lps(base), min, unit: "lines/s", missing: missing(ours, base) })
  const logger = summaries.find((s) => s.contender === "ours-ndjson-logger")
  const out: Array<Target> = [
    speed("1.all64-rfs", "appendAll@64 vs rfs@64 joined", "ours-append-all-64", "rfs-joined-64", 1.2),
    speed("1.all1000-rfs", "appendAll@1000 vs rfs@1000 joined", "ours-append-all-1000", "rfs-joined-1000", 1.2),
    speed("1.all64-raw", "appendAll@64 vs raw createWriteStream 1 MiB @64 joined", "ours-append-all-64", "raw-1mib-joined-64", 1.0),
    speed("1.all1000-raw", "appendAll@1000 vs raw createWriteStream 1 MiB @1000 joined", "ours-append-all-1000", "raw-1mib-joined-1000", 1.0),
    speed("1.append-pinoroll", "append (per line) vs pino-roll", "ours-append", "pino-roll", 2.0),
    speed("2.logger-floor", "Effect.log via NdjsonLogger vs Effect.log into a no-op logger", "ours-ndjson-logger", "ours-noop-logger", 0.7),
    speed("2.logger-pino", "Effect.log via NdjsonLogger vs pino + pino-roll logger", "ours-ndjson-logger", "pino-roll-logger", 1.5),
    boundTarget({
      id: "2.logger-rss",
      description: `NdjsonLogger peak RSS, burst of ${int(Math.max(LOGGER_BURST, config.lines))} entries from one fiber`,
      value: logger?.medianRssMiB,
      max: 200,
      unit: "MiB",
      missing: "no result for ours-ndjson-logger"
    })
  ]
  for (const s of summaries.filter((x) => x.kind === "ours")) {
    const lost = s.lost ? Math.max(...s.lost) : undefined
    const torn = s.torn ? Math.max(...s.torn) : undefined
    out.push(checkTarget({
      id: `lossless.${s.contender}`,
      description: `${s.contender} loses no line`,
      ok: lost === undefined ? undefined : lost === 0 && torn === 0,
      measured: lost === undefined ? undefined : `lost ${lost}, torn ${torn} (worst run)`,
      target: "0 lost, 0 torn"
    }))
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Main

const runScript = async (script: string, args: ReadonlyArray<string>): Promise<number | null> => {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "bench", script), ...args], {
    cwd: root,
    stdio: "inherit"
  })
  const [code] = (await once(child, "exit")) as [number | null]
  return code
}

const main = async () => {
  const started = Date.now()
  const log = (s: string) => process.stderr.write(s + "\n")
  log(`bench: ${config.lines.toLocaleString("en-US")} lines × ${config.lineBytes} B, rotate at ${config.maxBytes} B, ` +
    `keep ${config.maxFiles}, ${config.rounds} round(s), contenders: ${selected.map((c) => c.name).join(", ")}`)

  if (!flags.tsx) await transpile()

  // RSS floor of a child that loads nothing (node + the tsx loader), for reading the RSS column.
  const floor = await runChild("noop", 1)
  await rm(floor.base, { recursive: true, force: true })
  const floorMiB = floor.result.ok ? floor.result.maxRssKiB / 1024 : undefined

  const records: Array<RunRecord> = []
  const broken = new Set<string>()
  for (let round = 1; round <= config.rounds; round++) {
    const order = round % 2 === 1 ? selected : [...selected].reverse()
    for (const c of order) {
      if (broken.has(c.name)) continue
      const r = await runOnce(c, round)
      records.push(r)
      if (!r.ok) {
        broken.add(c.name) // an error (e.g. a module not written yet) will not fix itself next round
        log(`[round ${round}] ${c.name}: error: ${r.error}`)
      } else {
        const v = r.verification!
        log(`[round ${round}] ${c.name}: ${fix(r.wallMs! / 1000, 2)} s, ${int(r.linesPerSec!)} lines/s, ` +
          `RSS ${fix(r.maxRssKiB! / 1024)} MiB, ${v.files} file(s)` +
          (v.backups === undefined ? "" : ` (${v.backups} backups, ${v.expectedBackups} required)`) +
          `, ${int(v.found)} lines on disk, holes ${v.holes}, shortfall ${v.shortfall}, torn ${v.torn}`)
      }
    }
  }

  const summaries = summarize(records)
  const rows = summaries.map((s) => {
    const capped = s.notes.some((n) => n.startsWith("capped"))
    const name = `${s.contender}${capped ? " *" : ""}`
    if (s.error) return [name, `error: ${s.error.length > 60 ? s.error.slice(0, 59) + "…" : s.error}`, "", "", "", "", ""]
    return [
      name,
      int(s.medianLinesPerSec!),
      fix(s.mbPerSec!),
      s.ratioToRaw === undefined ? "n/a" : `${fix(s.ratioToRaw, 2)}×`,
      fix(s.medianRssMiB!),
      range(s.lost!),
      range(s.torn!)
    ]
  })
  const out: Array<string> = []
  out.push(`## Writers`, "")
  out.push(`${config.lines.toLocaleString("en-US")} NDJSON lines of ${config.lineBytes} bytes, size rotation at ` +
    `${config.maxBytes.toLocaleString("en-US")} bytes keeping ${config.maxFiles} backups, ${config.rounds} round(s), ` +
    `medians over rounds. Children run ${flags.tsx ? "under tsx" : "transpiled JS on plain node"}.`, "")
  out.push(`Machine: ${machine()}`, "")
  out.push(table(
    ["contender", "median lines/s", "MB/s", `× ${RAW}`, "peak RSS MiB", "lines lost", "torn lines"],
    rows,
    new Set([1, 2, 3, 4, 5, 6])
  ))
  out.push("")
  out.push("Spread over rounds (min–max lines/s):", "")
  for (const s of summaries) {
    if (s.error) continue
    out.push(`- ${s.contender}: ${int(s.minLinesPerSec!)}–${int(s.maxLinesPerSec!)} (${s.runs} run(s))`)
  }
  const notes = summaries.flatMap((s) => s.notes.map((n) => `- ${s.contender}: ${n}`))
  out.push("")
  out.push(
    "Notes:",
    "",
    "- MB/s = lines/s × line bytes (payload, 10^6 B); loggers write extra fields on top.",
    "- lines lost = holes (lines missing between the oldest line kept and the last written; all lines without rotation) " +
      "+ lines of backups retention should have kept but deleted; range over rounds. torn = lines on disk that are not whole JSON.",
    `- peak RSS = the child's own peak (VmHWM on Linux: getrusage maxRSS would include this process's RSS at spawn; ` +
      `ours-cli-pipe: the CLI process's VmHWM); a child that writes nothing peaks at ` +
      `${floorMiB === undefined ? "n/a" : fix(floorMiB)} MiB.`,
    ...(summaries.some((s) => s.notes.some((n) => n.startsWith("capped")))
      ? ["- * ran fewer lines (see below); lines/s is a rate, so it compares as is."]
      : []),
    ...notes
  )
  // Issue 10 targets 4 (start-up) and 6 (package memory) are measured here so that their rows join
  // this table; their own sections are printed below.
  const startup = flags["no-startup"] ? undefined : await startupPart()
  const packageMemory = await packageMemoryPart()
  const t = [...targets(summaries), ...(startup?.targets ?? []), ...packageMemory.targets]
  out.push("", printTargets("Targets (issue 10: writer, logger, start-up, package memory)", t))
  out.push("", `(writers part took ${fix((Date.now() - started) / 1000)} s)`)
  console.log(out.join("\n"))

  if (flags.json) {
    writeFileSync(flags.json, JSON.stringify({ machine: machine(), config, rssFloorMiB: floorMiB, records, summaries, targets: t }, null, 2))
    log(`wrote ${flags.json}`)
  }

  if (flags["rotation-cost"]) {
    console.log("\n## Rotation cost\n")
    const code = await runScript("rotation-cost.ts", [])
    if (code !== 0) console.log(`(rotation-cost exited with ${code})`)
  }

  // CLI start-up against `node -e 0` (bench/startup.ts) and the package's RSS (bench/package-memory.ts):
  // both need `npm run build`; measured above, with the targets.
  if (startup) console.log(`\n## Start-up\n\n${startup.section}`)
  console.log(`\n## Package memory\n\n${packageMemory.section}`)

  // The pipe sidecar against svlogd, rotatelogs and a bare Node loop (bench/cli-pipe.ts; target 3 rows included).
  if (!flags["no-pipe"]) {
    console.log("\n## Pipe sidecar\n")
    if (existsSync(join(root, "dist", "bin.js"))) {
      const code = await runScript("cli-pipe.ts", ["--lines", String(config.lines), "--line-bytes", String(config.lineBytes),
        "--rounds", String(config.rounds), "--max-bytes", String(config.maxBytes), "--max-files", String(config.maxFiles)])
      if (code !== 0) console.log(`(cli-pipe exited with ${code})`)
    } else {
      console.log("dist/bin.js not found: run `npm run build` first; pipe part skipped")
    }
  }

  const sweep = join(root, "bench", "sweep.ts")
  if (!flags["no-sweep"]) {
    if (existsSync(sweep)) {
      console.log("\n## Sweep\n")
      const code = await runScript("sweep.ts", ["--files", String(whole("sweep-files", flags["sweep-files"], 1)), "--rounds", "2"])
      if (code !== 0) console.log(`(sweep exited with ${code})`)
    } else {
      log("bench/sweep.ts not found: sweep part skipped")
    }
  }
}

try {
  await main()
} finally {
  rmSync(compiled, { recursive: true, force: true })
}
