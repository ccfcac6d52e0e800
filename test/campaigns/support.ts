/**
 * What every campaign shares: a seeded PRNG, real `dist/bin.js` processes (spawned as
 * `process.execPath dist/bin.js …`, so a kill hits the node process itself), a pool that runs
 * cases two at a time, directory snapshots, and NDJSON generators. No Effect here: the
 * campaigns drive the CLI from the outside, as an operator (or a crash) would.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as zlib from "node:zlib"

/** The built CLI every campaign runs (`npm run build` first). */
export const BIN = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../dist/bin.js")

// ---------------------------------------------------------------------------------------
// Seeds

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
export const prng = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    /** An integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    /** A float in [min, max). */
    float: (min: number, max: number) => min + next() * (max - min),
    pick: <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)] as A
  }
}
export type Prng = ReturnType<typeof prng>

/** The seed of case `index` of campaign `name` under the run's master seed (stable, so one case can be rerun alone). */
export const caseSeed = (master: number, name: string, index: number): number => {
  const digest = createHash("sha256").update(`${master}/${name}/${index}`).digest()
  return digest.readUInt32LE(0)
}

// ---------------------------------------------------------------------------------------
// Processes

export interface Finished {
  readonly pid: number
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** From spawn to exit. */
  readonly durationMs: number
  /** The watchdog killed it: it did not finish in time. */
  readonly hung: boolean
}

export interface Running {
  readonly child: ChildProcess
  readonly pid: number
  readonly startedAt: number
  readonly done: Promise<Finished>
  /** Whether it has exited (its exit event was seen). */
  readonly exited: () => boolean
  /** SIGKILL to the node process itself. */
  readonly kill: () => void
}

/** Starts `node dist/bin.js …args`; a watchdog SIGKILLs it after `timeoutMs`. */
export const startCli = (args: ReadonlyArray<string>, options: { readonly stdin?: "pipe" | "ignore"; readonly timeoutMs?: number } = {}): Running => {
  const startedAt = performance.now()
  const child = spawn(process.execPath, [BIN, ...args], { stdio: [options.stdin ?? "ignore", "pipe", "pipe"] })
  if (child.pid === undefined) throw new Error(`could not spawn ${process.execPath} ${BIN} ${args.join(" ")}`)
  const pid = child.pid
  let stdout = ""
  let stderr = ""
  let exited = false
  let hung = false
  child.stdout?.setEncoding("utf8").on("data", (s: string) => void (stdout += s))
  child.stderr?.setEncoding("utf8").on("data", (s: string) => void (stderr += s))
  // A killed reader makes our writes fail with EPIPE: expected, not an error of the harness.
  child.stdin?.on("error", () => {})
  const watchdog = setTimeout(() => {
    hung = true
    child.kill("SIGKILL")
  }, options.timeoutMs ?? 120_000)
  const done = new Promise<Finished>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) => {
      exited = true
      clearTimeout(watchdog)
      resolve({ pid, code, signal, stdout, stderr, durationMs: performance.now() - startedAt, hung })
    })
  })
  child.on("exit", () => void (exited = true))
  return { child, pid, startedAt, done, exited: () => exited, kill: () => void child.kill("SIGKILL") }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Resolves when `test()` is true (polled every `everyMs`), or with false once `until` resolves first. */
export const waitFor = async (test: () => boolean, until: Promise<unknown>, everyMs = 4): Promise<boolean> => {
  let over = false
  void until.then(() => void (over = true))
  while (!over) {
    if (test()) return true
    await sleep(everyMs)
  }
  return test()
}

/** A short description of a finished process for a failure message. */
export const describeExit = (f: Finished) =>
  `pid ${f.pid} exit ${f.code ?? "-"}${f.signal ? ` signal ${f.signal}` : ""}${f.hung ? " (hung: killed by the watchdog)" : ""}` +
  `${f.stdout.trim() ? `\n      stdout: ${clip(f.stdout.trim(), 600)}` : ""}${f.stderr.trim() ? `\n      stderr: ${clip(f.stderr.trim(), 600)}` : ""}`

export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s)

// ---------------------------------------------------------------------------------------
// Pools

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; results in index order. */
export const pool = async <A>(count: number, concurrency: number, task: (index: number) => Promise<A>): Promise<Array<A>> => {
  const results: Array<A> = new Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return results
}

// ---------------------------------------------------------------------------------------
// Files

/**
 * `mkdir -p` with every directory it creates 0755 whatever the umask: a sweep (rightly) refuses
 * a directory others can write to, which a umask of 0 would make.
 */
export const makeDir = (dir: string) => {
  const created = fs.mkdirSync(dir, { recursive: true })
  if (created === undefined) return
  for (let d = dir; d.length >= created.length; d = Path.dirname(d)) fs.chmodSync(d, 0o755)
}

/**
 * A lock, whoever writes it: a hidden name ending in `.lock` (`.effect-logrotate.lock`, `.app.jsonl.lock`),
 * the `.lock.break` a stale lock's recovery holds (left by a crash during that recovery), or
 * either renamed aside for its removal (`isLockAside`).
 */
export const isLockName = (name: string) =>
  name.startsWith(".") && (name.endsWith(".lock") || name.endsWith(".lock.break") || isLockAside(name))

/**
 * A lock (or `.break`) renamed aside to be checked before its removal, `<lock>.<pid>-<id>-<n>.stale`
 * (LockFile's `removeIfSame`): a kill between the rename and the removal leaves it; the next
 * acquire in that directory removes it when its pid is dead.
 */
export const isLockAside = (name: string) => name.startsWith(".") && /\.lock(\.break)?\.\d+-[^/]*\.stale$/.test(name)

/** The grace after which an empty or unparseable lock file counts as stale (`LockFile.UNREADABLE_GRACE_MS`). */
export const UNREADABLE_LOCK_GRACE_MS = 5_000
/** LockFile.BREAK_STALE_MS: an unreadable `.break` is stale after this. */
export const BREAK_STALE_MS = 30_000

/**
 * What a lock file left behind holds: the pid of its holder (JSON `{ pid, hostname, … }`), or
 * `undefined` with its mtime when it is empty or not a holder (a crash between create and write).
 */
export const readLock = (path: string): { readonly pid: number; readonly hostname: string } | { readonly pid: undefined; readonly mtimeMs: number } | undefined => {
  let raw: string
  let mtimeMs: number
  try {
    mtimeMs = fs.statSync(path).mtimeMs
    raw = fs.readFileSync(path, "utf8")
  } catch {
    return undefined
  }
  try {
    const v = JSON.parse(raw) as { pid?: unknown; hostname?: unknown }
    if (typeof v.pid === "number" && typeof v.hostname === "string") return { pid: v.pid, hostname: v.hostname }
  } catch {
    // not a holder
  }
  return { pid: undefined, mtimeMs }
}

/**
 * Checks the lock files left in `dir` after a SIGKILL: each names one of `pids` (the killed
 * process, or the dead holder of a planted stale lock) on this host, or is
 * unwritten (killed between create and write). Returns the violations and how long to wait before
 * a recovery run may judge the unwritten ones stale (0 when there are none).
 */
export const checkLeftLocks = (dir: string, pids: ReadonlyArray<number>, at: string): { readonly violations: Array<string>; readonly waitMs: number } => {
  const violations: Array<string> = []
  let waitMs = 0
  for (const name of fs.readdirSync(dir)) {
    if (!isLockName(name)) continue
    const lock = readLock(Path.join(dir, name))
    if (lock === undefined) continue
    // An unwritten `.break` (killed between its create and write, during a stale-lock recovery)
    // is judged stale only after BREAK_STALE_MS, a lock after the shorter grace.
    const grace = name.endsWith(".break") ? BREAK_STALE_MS : UNREADABLE_LOCK_GRACE_MS
    if (lock.pid === undefined) waitMs = Math.max(waitMs, lock.mtimeMs + grace + 200 - Date.now())
    else if (!pids.includes(lock.pid) || lock.hostname !== os.hostname()) {
      violations.push(`${at}: lock file ${name} names pid ${lock.pid} on ${lock.hostname}, not ${pids.join(" or ")} on ${os.hostname()}`)
    }
  }
  return { violations, waitMs: Math.max(0, waitMs) }
}

/** A pid that is not alive: a child that has exited (so a lock naming it is stale). */
export const deadPid = (): number => {
  for (;;) {
    const child = spawnSync(process.execPath, ["-e", ""])
    const pid = child.pid
    if (pid === undefined) throw new Error("could not spawn a child for a dead pid")
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return pid
    }
  }
}
/** A temporary file of some compression: `x.ndjson.gz.tmp` today, any name with `.tmp` in it tomorrow. */
export const isTempName = (name: string) => name.includes(".tmp")

export interface EntrySnapshot {
  readonly type: "file" | "dir" | "link" | "other"
  readonly mode: number
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
  readonly bytes?: Buffer
  readonly target?: string
}

/** Every entry under `dir` (recursively, links not followed), with file bytes: to prove nothing there changed. */
export const snapshotTree = (dir: string): Map<string, EntrySnapshot> => {
  const out = new Map<string, EntrySnapshot>()
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(Path.join(dir, rel)).sort()) {
      const relPath = rel === "" ? name : Path.join(rel, name)
      const full = Path.join(dir, relPath)
      const st = fs.lstatSync(full)
      const base = { mode: st.mode, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
      if (st.isSymbolicLink()) out.set(relPath, { type: "link", ...base, target: fs.readlinkSync(full) })
      else if (st.isFile()) out.set(relPath, { type: "file", ...base, bytes: fs.readFileSync(full) })
      else if (st.isDirectory()) {
        out.set(relPath, { type: "dir", ...base, size: 0, mtimeMs: 0 })
        walk(relPath)
      } else out.set(relPath, { type: "other", ...base })
    }
  }
  walk("")
  return out
}

/** What differs between two snapshots, one line each. */
export const diffSnapshots = (label: string, before: Map<string, EntrySnapshot>, after: Map<string, EntrySnapshot>): Array<string> => {
  const problems: Array<string> = []
  for (const [name, a] of before) {
    const b = after.get(name)
    if (b === undefined) problems.push(`${label}: ${name} was removed`)
    else if (a.type !== b.type) problems.push(`${label}: ${name} changed from ${a.type} to ${b.type}`)
    else if (a.mode !== b.mode) problems.push(`${label}: ${name} mode changed ${a.mode.toString(8)} -> ${b.mode.toString(8)}`)
    else if (a.ino !== b.ino) problems.push(`${label}: ${name} was replaced (inode ${a.ino} -> ${b.ino})`)
    else if (a.type === "file" && (!a.bytes || !b.bytes || !a.bytes.equals(b.bytes))) problems.push(`${label}: ${name} content changed (${a.size} -> ${b.size} bytes)`)
    else if (a.type === "file" && a.mtimeMs !== b.mtimeMs) problems.push(`${label}: ${name} mtime changed`)
    else if (a.type === "link" && a.target !== b.target) problems.push(`${label}: ${name} link target changed ${a.target} -> ${b.target}`)
  }
  for (const name of after.keys()) if (!before.has(name)) problems.push(`${label}: ${name} appeared`)
  return problems
}

/** The gunzipped bytes, or why there are none (a truncated or foreign file). */
export const gunzip = (bytes: Buffer): { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly error: string } => {
  try {
    return { ok: true, bytes: zlib.gunzipSync(bytes) }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}

/** sha256 of the gunzipped stream of `path` (for files too big to hold twice), or the decompression error. */
export const gunzipDigest = (path: string): Promise<{ readonly ok: true; readonly sha256: string; readonly bytes: number } | { readonly ok: false; readonly error: string }> =>
  new Promise((resolve) => {
    const hash = createHash("sha256")
    let bytes = 0
    const input = fs.createReadStream(path)
    const gz = zlib.createGunzip()
    const fail = (error: Error) => resolve({ ok: false, error: error.message })
    input.on("error", fail)
    gz.on("error", fail)
    gz.on("data", (chunk: Buffer) => {
      bytes += chunk.length
      hash.update(chunk)
    })
    gz.on("end", () => resolve({ ok: true, sha256: hash.digest("hex"), bytes }))
    input.pipe(gz)
  })

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex")

// ---------------------------------------------------------------------------------------
// Dates: names are dated relative to the real UTC day (the CLI reads the real clock). Every
// age a campaign uses is at least 2 days from a threshold, so a run that crosses UTC midnight
// (all ages +1) plans the same actions.

export const DAY_MS = 86_400_000

/** `YYYY-MM-DD` of the UTC day `ageDays` before `now`. */
export const datedDay = (ageDays: number, now = Date.now()) => new Date(now - ageDays * DAY_MS).toISOString().slice(0, 10)

// ---------------------------------------------------------------------------------------
// NDJSON

const LEVELS = ["info", "info", "info", "debug", "warn", "error"] as const
const ROUTES = ["/v1/items", "/v1/orders", "/v1/users", "/health", "/v2/search", "/v1/carts"] as const
const HEX = "0123456789abcdef"

/** Plausible, compressible-but-not-trivial NDJSON of about `bytes` bytes (whole lines), dated `day`. */
export const ndjson = (rng: Prng, bytes: number, day: string): Buffer => {
  const parts: Array<string> = []
  let size = 0
  let seq = 0
  while (size < bytes) {
    let id = ""
    for (let k = 0; k < 12; k++) id += HEX[rng.int(0, 15)]
    const ms = rng.int(0, 86_399_999)
    const time = `${String(Math.floor(ms / 3_600_000)).padStart(2, "0")}:${String(Math.floor(ms / 60_000) % 60).padStart(2, "0")}:${String(Math.floor(ms / 1000) % 60).padStart(2, "0")}.${String(ms % 1000).padStart(3, "0")}`
    const line = `{"ts":"${day}T${time}Z","level":"${rng.pick(LEVELS)}","seq":${seq++},"req":"${id}","route":"${rng.pick(ROUTES)}/${rng.int(1, 99999)}","status":${rng.pick([200, 200, 200, 201, 204, 404, 500])},"ms":${rng.float(0, 900).toFixed(2)}}\n`
    parts.push(line)
    size += Buffer.byteLength(line)
  }
  return Buffer.from(parts.join(""))
}
