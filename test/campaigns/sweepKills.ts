/**
 * Crash campaign, sweeps: `sweep DIR --max-age-days 30 --compress-age-days 7` over a corpus of
 * large (several MiB, streamed) and small dated files, SIGKILLed at a random moment, then a
 * normal sweep run to completion. After each kill and after the recovery:
 * - every managed file still has its original (byte-identical) or a `.gz` that decompresses
 *   to the original bytes; a `.gz` that is there is always complete; a pre-existing `.gz` is
 *   never rewritten; nothing younger than the compression age is touched;
 * - nothing outside the directory changed (a sibling directory of sentinels, one of them the
 *   target of symbolic links inside the swept directory; the parent holds nothing new);
 * - after the recovery: exit 0, no temp file, no lock file, expired files gone, compressible
 *   files compressed, everything else as it was.
 *
 * - a lock file the kill left names the killed pid (or is unwritten: killed between its create and
 *   its write; the recovery sweep then runs once the documented grace for such files is over).
 *
 * Kill moments (seeded): 30% from spawn, uniform over a whole sweep's calibrated duration
 * (start-up included); 70% from the sweep's first change to the directory, uniform over the
 * calibrated time from that change to exit (so most of those land mid-compression).
 * In `STALE_SHARE` of the cases (and in the second harness sweep) the directory starts with a
 * stale `.effect-logrotate.lock` naming a dead pid, as a crashed sweep leaves it, so kills also
 * land in the stale-lock recovery.
 */
import * as fs from "node:fs"
import * as Path from "node:path"
import * as zlib from "node:zlib"
import { type CaseResult, cleanup, type Context } from "./report.js"
import * as Os from "node:os"
import {
  caseSeed, checkLeftLocks, datedDay, deadPid, describeExit, diffSnapshots, type EntrySnapshot, gunzip, isLockName, isTempName, makeDir, ndjson, pool, prng,
  type Prng, readLock, sleep, snapshotTree, startCli, waitFor
} from "./support.js"

export const MAX_AGE_DAYS = 30
export const COMPRESS_AGE_DAYS = 7

type Fate = "keep" | "compress" | "expire"

interface Managed {
  /** The daily file's name, `x-YYYY-MM-DD.ndjson`. */
  readonly base: string
  readonly age: number
  /** The original's bytes (absent for a lone expired temp, whose original is unknown). */
  readonly content?: Buffer
  /** Whether the original is on disk at the start. */
  readonly original: boolean
  /** A `.gz` on disk at the start (must never be rewritten). */
  readonly gz?: Buffer
  /** A `.gz.tmp` on disk at the start (a crash's leftover). */
  readonly tmp?: Buffer
}

export interface Corpus {
  readonly managed: ReadonlyArray<Managed>
  /** Unmanaged files in the swept directory: untouched, always. */
  readonly others: ReadonlyArray<{ readonly name: string; readonly bytes: Buffer }>
  /** Symbolic links in the swept directory, to files of the sibling directory. */
  readonly links: ReadonlyArray<{ readonly name: string; readonly target: string }>
  readonly sibling: ReadonlyArray<{ readonly name: string; readonly bytes: Buffer }>
  readonly totalBytes: number
}

/** Share of kill cases that start with a stale sweep lock (a dead pid's). */
const STALE_SHARE = 0.25
const LOCK = ".effect-logrotate.lock"

/** Writes the lock a sweep killed long ago leaves: its (dead) pid on this host. Returns that pid. */
const plantStaleLock = (logs: string): number => {
  const pid = deadPid()
  const holder = { pid, hostname: Os.hostname(), acquiredAt: new Date(Date.now() - 3_600_000).toISOString(), purpose: "sweep" }
  fs.writeFileSync(Path.join(logs, LOCK), JSON.stringify(holder) + "\n", { mode: 0o644 })
  return pid
}

export const fate = (age: number): Fate => (age > MAX_AGE_DAYS ? "expire" : age > COMPRESS_AGE_DAYS ? "compress" : "keep")

const KiB = 1024
const MiB = 1024 * KiB

/** The corpus, generated once per run. Ages are >= 2 days from both thresholds (see `datedDay`). */
export const makeCorpus = (rng: Prng, scale = 1): Corpus => {
  const name = (prefix: string, age: number) => `${prefix}-${datedDay(age)}.ndjson`
  const file = (prefix: string, age: number, bytes: number, extra: Partial<Managed> = {}): Managed => ({
    base: name(prefix, age), age, content: ndjson(rng, Math.round(bytes), datedDay(age)), original: true, ...extra
  })
  const managed: Array<Managed> = [
    // within the compression age: never touched
    file("app", 0, 8 * KiB),
    file("app", 1, 20 * KiB),
    file("api", 4, 300 * KiB),
    // compressed, streamed (larger than the Compressor's 1 MiB whole-file limit)
    file("big", 10, 4 * MiB * scale),
    file("big", 12, 3 * MiB * scale),
    file("api", 15, 2 * MiB * scale),
    // compressed, read whole
    file("app", 9, 1 * KiB),
    file("app", 13, 64 * KiB),
    file("app", 17, 200 * KiB),
    file("app", 19, 900 * KiB),
    file("dlq-orders-eu", 20, 12 * KiB),
    { base: name("empty", 21), age: 21, content: Buffer.alloc(0), original: true },
    // a crash's leftover temp next to its original: removed, then compressed
    file("app", 11, 100 * KiB),
    // expired: deleted, whatever the kind
    file("app", 40, 30 * KiB),
    file("old", 45, 1.5 * MiB * scale)
  ]
  const withTmp = managed.find((m) => m.age === 11)!
  const index = managed.indexOf(withTmp)
  managed[index] = { ...withTmp, tmp: zlib.gzipSync(withTmp.content!).subarray(0, 1000) }
  // already compressed (only the .gz): left alone
  const pre = ndjson(rng, 50 * KiB, datedDay(14))
  managed.push({ base: name("app", 14), age: 14, content: pre, original: false, gz: zlib.gzipSync(pre) })
  // original and its complete .gz (a crash between publishing the .gz and removing the original)
  const both = ndjson(rng, 40 * KiB, datedDay(16))
  managed.push({ base: name("app", 16), age: 16, content: both, original: true, gz: zlib.gzipSync(both) })
  // expired .gz, and an expired lone temp
  const oldGz = ndjson(rng, 20 * KiB, datedDay(60))
  managed.push({ base: name("app", 60), age: 60, content: oldGz, original: false, gz: zlib.gzipSync(oldGz) })
  managed.push({ base: name("app", 50), age: 50, original: false, tmp: zlib.gzipSync(ndjson(rng, 5 * KiB, datedDay(50))).subarray(0, 200) })

  const others = [
    { name: "notes.txt", bytes: Buffer.from("not a log\n") },
    { name: "app-2026-02-30.ndjson", bytes: ndjson(rng, 2 * KiB, "2026-02-30") },
    { name: `app-${datedDay(12)}.log`, bytes: ndjson(rng, 2 * KiB, datedDay(12)) },
    { name: "README", bytes: Buffer.from("sentinel\n") }
  ]
  const sibling = [
    { name: `secret-${datedDay(40)}.ndjson`, bytes: ndjson(rng, 4 * KiB, datedDay(40)) },
    { name: `app-${datedDay(12)}.ndjson`, bytes: ndjson(rng, 64 * KiB, datedDay(12)) },
    { name: `app-${datedDay(45)}.ndjson`, bytes: ndjson(rng, 8 * KiB, datedDay(45)) },
    { name: "sentinel.txt", bytes: Buffer.from("outside the swept directory\n") }
  ]
  const links = [
    { name: `link-${datedDay(40)}.ndjson`, target: `../sibling/secret-${datedDay(40)}.ndjson` },
    { name: `link-${datedDay(12)}.ndjson`, target: `../sibling/app-${datedDay(12)}.ndjson` }
  ]
  const totalBytes = managed.reduce((n, m) => n + (m.original ? m.content?.length ?? 0 : 0) + (m.gz?.length ?? 0) + (m.tmp?.length ?? 0), 0)
  return { managed, others, links, sibling, totalBytes }
}

export interface Layout {
  readonly root: string
  readonly logs: string
  readonly sibling: string
  readonly siblingBefore: Map<string, EntrySnapshot>
}

/** `root/logs` (the swept directory) and `root/sibling`, written from the corpus. */
export const writeCorpus = (root: string, corpus: Corpus): Layout => {
  const logs = Path.join(root, "logs")
  const sibling = Path.join(root, "sibling")
  makeDir(logs)
  makeDir(sibling)
  for (const s of corpus.sibling) fs.writeFileSync(Path.join(sibling, s.name), s.bytes, { mode: 0o640 })
  for (const m of corpus.managed) {
    if (m.original && m.content) fs.writeFileSync(Path.join(logs, m.base), m.content, { mode: 0o640 })
    if (m.gz) fs.writeFileSync(Path.join(logs, `${m.base}.gz`), m.gz, { mode: 0o640 })
    if (m.tmp) fs.writeFileSync(Path.join(logs, `${m.base}.gz.tmp`), m.tmp, { mode: 0o600 })
  }
  for (const o of corpus.others) fs.writeFileSync(Path.join(logs, o.name), o.bytes, { mode: 0o644 })
  for (const l of corpus.links) fs.symlinkSync(l.target, Path.join(logs, l.name))
  return { root, logs, sibling, siblingBefore: snapshotTree(sibling) }
}

interface Seen {
  readonly type: "file" | "dir" | "link" | "other"
  readonly bytes?: Buffer
  readonly target?: string
}

const list = (dir: string): Map<string, Seen> => {
  const out = new Map<string, Seen>()
  for (const name of fs.readdirSync(dir)) {
    const full = Path.join(dir, name)
    let st: fs.Stats
    try {
      st = fs.lstatSync(full)
    } catch {
      continue
    }
    if (st.isSymbolicLink()) out.set(name, { type: "link", target: fs.readlinkSync(full) })
    else if (st.isFile()) out.set(name, { type: "file", bytes: fs.readFileSync(full) })
    else out.set(name, { type: st.isDirectory() ? "dir" : "other" })
  }
  return out
}

/**
 * The invariants, on the directory as it is now. `phase` "kill": any instant of a sweep (temps and
 * locks allowed); "final": after a sweep that ran to completion.
 */
export const checkSweepDir = (layout: Layout, corpus: Corpus, phase: "kill" | "final"): { violations: Array<string>; left: Array<string> } => {
  const at = phase === "kill" ? "after the kill" : "after recovery"
  const v: Array<string> = []
  const left = new Set<string>()
  const seen = list(layout.logs)
  const known = new Set<string>()
  for (const m of corpus.managed) {
    const gzName = `${m.base}.gz`
    const tmpName = `${m.base}.gz.tmp`
    known.add(m.base).add(gzName).add(tmpName)
    const f = fate(m.age)
    const orig = seen.get(m.base)
    const gz = seen.get(gzName)
    const tmp = seen.get(tmpName)
    let origOk = false
    if (orig) {
      origOk = orig.type === "file" && m.content !== undefined && orig.bytes!.equals(m.content)
      if (!origOk) v.push(`${at}: ${m.base}: the original changed (${orig.type}, ${orig.bytes?.length ?? "?"} bytes, expected ${m.content?.length ?? "none"})`)
    }
    let gzOk = false
    if (gz) {
      if (gz.type !== "file") v.push(`${at}: ${gzName} is a ${gz.type}`)
      else if (m.gz) {
        gzOk = gz.bytes!.equals(m.gz)
        if (!gzOk) v.push(`${at}: ${gzName}: the pre-existing .gz was rewritten (${gz.bytes!.length} bytes, was ${m.gz.length})`)
      } else if (m.content === undefined) v.push(`${at}: ${gzName} appeared for a file that has no original`)
      else {
        const g = gunzip(gz.bytes!)
        gzOk = g.ok && g.bytes.equals(m.content)
        if (!gzOk) {
          v.push(`${at}: ${gzName} is on disk but is not a complete gzip of the original (${g.ok ? `decompresses to ${g.bytes.length} bytes, expected ${m.content.length} identical bytes` : `gunzip: ${g.error}`}; ${gz.bytes!.length} bytes on disk)`)
        }
      }
    }
    if (m.content !== undefined && f !== "expire" && !origOk && !gzOk) {
      v.push(`${at}: LOST ${m.base}: neither the original nor a complete .gz of it exists`)
    }
    if (f === "keep") {
      if (m.original && !orig) v.push(`${at}: ${m.base} (${m.age} days old, within the compression age) was removed`)
      if (!m.gz && gz) v.push(`${at}: ${m.base} (${m.age} days old, within the compression age) was compressed`)
      if (tmp) v.push(`${at}: ${tmpName} was created for a file within the compression age`)
    }
    if (tmp && phase === "kill" && !(m.tmp && tmp.bytes?.equals(m.tmp))) left.add("temp")
    if (orig && gz && !m.gz) left.add("original+gz")
    if (phase === "final") {
      if (tmp) v.push(`${at}: ${tmpName} left behind`)
      if (f === "expire" && (orig || gz)) v.push(`${at}: ${m.base} is ${m.age} days old (max age ${MAX_AGE_DAYS}) but ${orig ? "its original" : "its .gz"} is still there`)
      if (f === "compress" && orig) v.push(`${at}: ${m.base} is ${m.age} days old (compress age ${COMPRESS_AGE_DAYS}) but its original is still there`)
      if (f === "compress" && m.content !== undefined && !gz) v.push(`${at}: ${gzName} is missing`)
    }
  }
  for (const o of corpus.others) {
    known.add(o.name)
    const e = seen.get(o.name)
    if (!e) v.push(`${at}: unmanaged ${o.name} was removed`)
    else if (e.type !== "file" || !e.bytes!.equals(o.bytes)) v.push(`${at}: unmanaged ${o.name} changed`)
  }
  for (const l of corpus.links) {
    known.add(l.name)
    const e = seen.get(l.name)
    if (e && (e.type !== "link" || e.target !== l.target)) v.push(`${at}: the symbolic link ${l.name} was replaced by a ${e.type}`)
  }
  for (const [name] of seen) {
    if (known.has(name)) continue
    if (isLockName(name)) {
      if (phase === "final") v.push(`${at}: lock file ${name} left behind`)
      else left.add("lock")
    } else if (isTempName(name)) {
      if (phase === "final") v.push(`${at}: temp file ${name} left behind`)
      else left.add("temp")
    } else v.push(`${at}: unexpected entry ${name} in the swept directory`)
  }
  v.push(...diffSnapshots(`${at}: outside the swept directory`, layout.siblingBefore, snapshotTree(layout.sibling)))
  const rootNames = fs.readdirSync(layout.root).sort()
  if (rootNames.join(",") !== "logs,sibling") v.push(`${at}: the parent directory holds ${rootNames.join(", ")} (expected logs, sibling)`)
  return { violations: v, left: [...left] }
}

const sweepArgs = (logs: string) => ["sweep", logs, "--max-age-days", String(MAX_AGE_DAYS), "--compress-age-days", String(COMPRESS_AGE_DAYS)]

/** The first change the sweep makes to the directory's names (a lock, a temp, a removal…). */
const firstChange = (logs: string, before: ReadonlyArray<string>) => {
  const initial = [...before].sort().join("\0")
  return () => {
    try {
      return fs.readdirSync(logs).sort().join("\0") !== initial
    } catch {
      return true
    }
  }
}

/**
 * The kill windows. Measured on undisturbed sweeps first, then narrowed to every faster sweep
 * seen (one that finished before its kill), so the windows follow the machine's load and
 * nearly every kill hits a running sweep.
 */
export interface Calibration {
  /** Spawn to exit of an undisturbed sweep, ms. */
  totalMs: number
  /** First change to the directory to exit, ms. */
  workMs: number
}

/**
 * Harness checks: undisturbed sweeps (two at once, as the kills run) must pass the final
 * invariants (so a violation after a kill is the kill's doing), and the checker must catch a
 * truncated `.gz`, a leftover temp and a changed sentinel. They also time a sweep for the kills.
 */
export const calibrate = async (ctx: Context, corpus: Corpus): Promise<{ results: Array<CaseResult>; calibration: Calibration }> => {
  const runs = await pool(2, 2, async (i) => {
    const layout = writeCorpus(Path.join(ctx.root, `sweep-calibrate-${i}`), corpus)
    // The second one starts with a crashed sweep's stale lock: recovering it is part of a normal run.
    if (i === 1) plantStaleLock(layout.logs)
    const changed = firstChange(layout.logs, fs.readdirSync(layout.logs))
    const run = startCli(sweepArgs(layout.logs))
    await waitFor(changed, run.done, 2)
    const anchoredAt = performance.now()
    const done = await run.done
    const workMs = Math.max(0, done.durationMs - (anchoredAt - run.startedAt))
    const violations = [...(done.code === 0 ? [] : [`an undisturbed sweep failed: ${describeExit(done)}`]), ...checkSweepDir(layout, corpus, "final").violations]
    return { layout, done, workMs, violations }
  })
  const results: Array<CaseResult> = runs.map((r, i) => ({
    name: `sweep harness #${i}: an undisturbed sweep${i === 1 ? " (after a crashed sweep's stale lock)" : ""} passes every invariant`,
    seed: ctx.master,
    detail: `took ${Math.round(r.done.durationMs)} ms (${Math.round(r.workMs)} ms from its first change)`,
    violations: r.violations
  }))
  // The checker must be able to fail.
  const first = runs[0]!
  const probes: Array<[string, () => void]> = []
  const gzName = corpus.managed.find((m) => m.age === 10)!.base + ".gz"
  const gzPath = Path.join(first.layout.logs, gzName)
  const sentinel = Path.join(first.layout.sibling, "sentinel.txt")
  if (fs.existsSync(gzPath)) {
    probes.push([`a truncated ${gzName}`, () => fs.truncateSync(gzPath, Math.floor(fs.statSync(gzPath).size / 2))])
  }
  probes.push(["a leftover temp", () => fs.writeFileSync(Path.join(first.layout.logs, `${gzName}.tmp`), "x")])
  probes.push(["a leftover lock", () => fs.writeFileSync(Path.join(first.layout.logs, LOCK), "1")])
  probes.push(["a leftover lock recovery", () => fs.writeFileSync(Path.join(first.layout.logs, `${LOCK}.break`), "1")])
  probes.push(["a changed sentinel outside the directory", () => fs.appendFileSync(sentinel, "!")])
  const missed: Array<string> = []
  let before = checkSweepDir(first.layout, corpus, "final").violations.length
  for (const [what, corrupt] of probes) {
    corrupt()
    const after = checkSweepDir(first.layout, corpus, "final").violations.length
    if (after <= before) missed.push(`the checker did not notice ${what}`)
    before = after
  }
  // The left-lock check: an unwritten lock (the "1" just planted) is waited for; another pid's is caught.
  const lockPath = Path.join(first.layout.logs, LOCK)
  if (checkLeftLocks(first.layout.logs, [1], "probe").waitMs <= 0) missed.push("the lock check did not wait for an unwritten lock's grace")
  fs.writeFileSync(lockPath, JSON.stringify({ pid: 4242, hostname: Os.hostname(), acquiredAt: new Date().toISOString(), purpose: "sweep" }))
  if (checkLeftLocks(first.layout.logs, [1], "probe").violations.length === 0) missed.push("the lock check did not notice a lock of another pid")
  results.push({ name: "sweep harness: the checker catches a truncated .gz, a leftover temp and lock, a changed sentinel; the lock check an unwritten and a foreign lock", seed: ctx.master, detail: "", violations: missed })
  const failed = results.some((r) => r.violations.length > 0)
  for (const r of runs) await cleanup(ctx, r.layout.root, failed)
  const totalMs = Math.max(...runs.map((r) => r.done.durationMs))
  const workMs = Math.max(50, ...runs.map((r) => r.workMs))
  return { results, calibration: { totalMs, workMs } }
}

/** One case: a sweep killed at a seeded moment, then a recovery sweep. */
export const killCase = async (ctx: Context, corpus: Corpus, calibration: Calibration, index: number): Promise<CaseResult> => {
  const seed = caseSeed(ctx.master, "sweep-kills", index)
  const rng = prng(seed)
  const mode = rng.next() < 0.3 ? "spawn" : "work"
  const delay = Math.round(rng.next() * (mode === "spawn" ? calibration.totalMs : calibration.workMs))
  const stale = rng.next() < STALE_SHARE
  const layout = writeCorpus(Path.join(ctx.root, `sweep-kill-${index}`), corpus)
  const stalePid = stale ? plantStaleLock(layout.logs) : undefined
  const run = startCli(sweepArgs(layout.logs))
  let anchored = true
  if (mode === "work") anchored = await waitFor(firstChange(layout.logs, fs.readdirSync(layout.logs)), run.done, 2)
  const anchoredAt = performance.now()
  if (anchored) await Promise.race([run.done, sleep(delay)])
  if (!run.exited()) run.kill()
  const killed = await run.done
  const landed = killed.signal === "SIGKILL" && !killed.hung
  if (!landed && killed.code === 0) {
    if (mode === "spawn") calibration.totalMs = Math.min(calibration.totalMs, killed.durationMs)
    else if (anchored) calibration.workMs = Math.max(50, Math.min(calibration.workMs, killed.durationMs - (anchoredAt - run.startedAt)))
  }
  const violations: Array<string> = []
  if (!landed && killed.code !== 0) violations.push(`the sweep, not killed, failed: ${describeExit(killed)}`)
  const afterKill = checkSweepDir(layout, corpus, "kill")
  violations.push(...afterKill.violations)
  const locks = checkLeftLocks(layout.logs, stalePid === undefined ? [killed.pid] : [killed.pid, stalePid], "after the kill")
  violations.push(...locks.violations)
  // An unwritten lock (killed between create and write) is judged stale only after the grace.
  if (locks.waitMs > 0) await sleep(locks.waitMs)
  const detail = `${stale ? `stale lock of pid ${stalePid}; ` : ""}SIGKILL ${delay} ms after ${mode === "spawn" ? "spawn" : "the sweep's first change to the directory"} ` +
    `(${landed ? `killed pid ${killed.pid} at ${Math.round(killed.durationMs)} ms` : `not killed: it had finished after ${Math.round(killed.durationMs)} ms with exit ${killed.code}`})` +
    `${locks.waitMs > 0 ? `; it left an unwritten lock: recovery after ${locks.waitMs} ms` : ""}`
  const recovery = await startCli(sweepArgs(layout.logs)).done
  if (recovery.code !== 0) violations.push(`the recovery sweep failed: ${describeExit(recovery)}`)
  violations.push(...checkSweepDir(layout, corpus, "final").violations)
  await cleanup(ctx, layout.root, violations.length > 0)
  // A planted stale lock the kill came too early to recover is not something the kill left.
  const leftLock = Path.join(layout.logs, LOCK)
  const plantedOnly = stalePid !== undefined && afterKill.left.includes("lock") && readLock(leftLock)?.pid === stalePid && !fs.existsSync(`${leftLock}.break`)
  const left = plantedOnly ? [...afterKill.left.filter((l) => l !== "lock"), "stale lock unrecovered"] : afterKill.left
  return { name: `sweep-kills #${index}`, seed, detail, violations, landed, left, ...(stale ? { notes: ["started with a stale lock"] } : {}) }
}
