/**
 * Races between real processes.
 *
 * Sweeps: two `sweep` processes on one directory holding one large compressible file (50–100
 * MiB, seeded), the second started 0–300 ms after the first. While they run, the directory is
 * polled: the original or its `.gz` must be there at every poll. After both exit: each exited 0,
 * or 1 with a report whose only failure is the directory's lock (`lock` on the directory,
 * `LockHeld`, naming `<dir>/.effect-logrotate.lock` and the other sweep's pid, or an unknown
 * holder when it read the lock between its create and its write) and that compressed and
 * deleted nothing; at most one claims the compression;
 * the `.gz` decompresses to the original bytes (sha256), the original is gone, no temp or lock
 * is left, and the sibling directory is untouched.
 *
 * Appends: a second `append` on a file a first one is writing must exit 2, naming the file and
 * the holder (its pid), and write nothing; the first one's lines are all on disk, in order.
 */
import * as fs from "node:fs"
import * as Path from "node:path"
import { checkAppendDir, feed, makeLines, type Run } from "./appendCheck.js"
import { appendArgs } from "./appendKills.js"
import { type CaseResult, cleanup, type Context } from "./report.js"
import {
  caseSeed, clip, datedDay, describeExit, diffSnapshots, type Finished, gunzipDigest, isLockName, isTempName, makeDir, ndjson, prng, sha256, sleep,
  snapshotTree, startCli, waitFor
} from "./support.js"
import { COMPRESS_AGE_DAYS, MAX_AGE_DAYS } from "./sweepKills.js"

const MiB = 1024 * 1024

let bigBuffer: Buffer | undefined
/** 100 MiB of NDJSON, made once; each race writes a prefix of it cut at a line end. */
const big = (master: number) => (bigBuffer ??= ndjson(prng(caseSeed(master, "sweep-races-data", 0)), 100 * MiB + 64 * 1024, datedDay(12)))

/**
 * What a sweep's `--json` output says: whether it claims to have compressed `path`, and, when it
 * reports the lock, what is wrong with that report (`lockProblem`; none for an exact one: the
 * lock on `logs` is its only failure, held by `otherPid` or an unwritten lock's unknown holder,
 * and it compressed and deleted nothing).
 */
const readSweep = (f: Finished, path: string, logs: string, otherPid: number | undefined) => {
  let claimed = false
  let summary: string
  let locked = false
  let lockProblem: string | undefined
  try {
    const report = JSON.parse(f.stdout) as {
      compressed?: ReadonlyArray<{ path?: string }>
      deleted?: ReadonlyArray<{ path?: string; reason?: string }>
      failed?: ReadonlyArray<{ path?: string; operation?: string; error?: string; reason?: string }>
    }
    claimed = (report.compressed ?? []).some((c) => c.path === path)
    const failed = report.failed ?? []
    const lockFailures = failed.filter((e) => e.operation === "lock")
    locked = lockFailures.length > 0
    if (locked) {
      const lockPath = Path.join(logs, ".effect-logrotate.lock")
      const e = lockFailures[0]!
      const holderNamed = (otherPid !== undefined && new RegExp(`\\bpid ${otherPid}\\b`).test(e.error ?? "")) || /unknown holder/.test(e.error ?? "")
      if (failed.length !== 1) lockProblem = `it reports ${failed.length} failures (expected the lock alone)`
      else if (e.path !== logs) lockProblem = `its lock failure names ${e.path}, not the directory ${logs}`
      else if (e.reason !== "LockHeld") lockProblem = `its lock failure's reason is ${e.reason}, not LockHeld`
      else if (!(e.error ?? "").includes(lockPath)) lockProblem = `its lock failure does not name ${lockPath}: ${JSON.stringify(e.error)}`
      else if (!holderNamed) lockProblem = `its lock failure does not name the holder (pid ${otherPid}): ${JSON.stringify(e.error)}`
      else if ((report.compressed ?? []).length > 0 || (report.deleted ?? []).length > 0) lockProblem = "it reports the lock but compressed or deleted files"
    }
    summary = `pid ${f.pid} exit ${f.code}: compressed ${report.compressed?.length ?? 0}` +
      `${(report.deleted ?? []).map((d) => `, deleted ${Path.basename(d.path ?? "?")} (${d.reason})`).join("")}` +
      `${(report.failed ?? []).map((e) => `, failed ${e.operation} ${Path.basename(e.path ?? "?")}: ${e.error}`).join("")}` +
      `${f.stderr.trim() ? `; stderr: ${clip(f.stderr.trim(), 400)}` : ""}`
  } catch {
    claimed = /compressed\s+[1-9]/.test(f.stdout)
    summary = describeExit(f)
    lockProblem = "its output is not the --json report"
  }
  return { claimed, locked, lockProblem, summary }
}

/**
 * Harness check of the lock report reader: an exact lock report passes; one naming another pid,
 * another lock file, a second failure, or a compression is caught. No process is run.
 */
export const lockReportCheck = (ctx: Context): CaseResult => {
  const logs = "/logs"
  const lock = `${logs}/.effect-logrotate.lock`
  const finished = (report: object): Finished => ({ pid: 1, code: 1, signal: null, stdout: JSON.stringify(report), stderr: "", durationMs: 0, hung: false })
  const failure = (error: string, extra: object = {}) => ({ path: logs, operation: "lock", reason: "LockHeld", error, ...extra })
  const held = `${lock} is locked by pid 4242 on host (sweep, since 2026-01-01T00:00:00.000Z); only one holder at a time is accepted`
  const report = (failed: ReadonlyArray<object>, compressed: ReadonlyArray<object> = []) => ({ compressed, deleted: [], failed })
  const cases: ReadonlyArray<[string, object, boolean]> = [
    ["an exact report", report([failure(held)]), true],
    ["an unwritten lock's unknown holder", report([failure(`${lock} is locked by an unknown holder (the lock file is empty …)`)]), true],
    ["another pid", report([failure(held.replace("4242", "4243"))]), false],
    ["another lock file", report([failure(held.replace(lock, `${logs}/.other.lock`))]), false],
    ["a second failure", report([failure(held), { path: `${logs}/x`, operation: "compress", error: "boom" }]), false],
    ["a compression besides the lock", report([failure(held)], [{ path: `${logs}/x` }]), false],
    ["another reason", report([failure(held, { reason: "LockError" })]), false]
  ]
  const violations: Array<string> = []
  for (const [what, r, exact] of cases) {
    const read = readSweep(finished(r), `${logs}/x`, logs, 4242)
    if (!read.locked) violations.push(`the reader did not see the lock in ${what}`)
    else if (exact && read.lockProblem !== undefined) violations.push(`the reader rejected ${what}: ${read.lockProblem}`)
    else if (!exact && read.lockProblem === undefined) violations.push(`the reader did not notice ${what}`)
  }
  return { name: "sweep-race harness: the lock report reader accepts exact reports and catches wrong ones", seed: ctx.master, detail: `${cases.length} reports`, violations }
}

/**
 * One race (or, with `alone`, the harness check: one sweep by itself, on a smaller file, must pass
 * the same checks).
 */
export const sweepRace = async (ctx: Context, index: number, alone = false): Promise<CaseResult> => {
  const seed = caseSeed(ctx.master, alone ? "sweep-race-harness" : "sweep-races", index)
  const rng = prng(seed)
  const data = big(ctx.master)
  const cut = data.lastIndexOf(10, alone ? 20 * MiB : rng.int(50 * MiB, 100 * MiB)) + 1
  const bytes = data.subarray(0, cut)
  const digest = sha256(bytes)
  const offset = rng.int(0, 300)
  const root = Path.join(ctx.root, `sweep-race-${alone ? "alone" : index}`)
  const logs = Path.join(root, "logs")
  const sibling = Path.join(root, "sibling")
  makeDir(logs)
  makeDir(sibling)
  fs.writeFileSync(Path.join(sibling, `app-${datedDay(12)}.ndjson`), bytes.subarray(0, 64 * 1024))
  fs.writeFileSync(Path.join(sibling, "sentinel.txt"), "outside\n")
  const siblingBefore = snapshotTree(sibling)
  const name = `big-${datedDay(12)}.ndjson`
  const original = Path.join(logs, name)
  fs.writeFileSync(original, bytes, { mode: 0o640 })
  const args = ["sweep", logs, "--max-age-days", String(MAX_AGE_DAYS), "--compress-age-days", String(COMPRESS_AGE_DAYS), "--json"]

  const a = startCli(args, { timeoutMs: 300_000 })
  const both = Promise.all(alone ? [a.done] : [a.done, sleep(offset).then(() => startCli(args, { timeoutMs: 300_000 }).done)])
  const gaps: Array<number> = []
  let polls = 0
  // Poll until both have exited: the original or the .gz must be there every time.
  await waitFor(() => {
    polls++
    const names = new Set(fs.readdirSync(logs))
    if (!names.has(name) && !names.has(`${name}.gz`)) gaps.push(Math.round(performance.now() - a.startedAt))
    return false
  }, both, 5)
  const finished = await both
  const violations: Array<string> = []
  if (gaps.length > 0) violations.push(`neither ${name} nor its .gz existed at ${gaps.length} of ${polls} polls (first at ${gaps[0]} ms)`)
  const outs = finished.map((f, i) => ({ f, ...readSweep(f, original, logs, finished[1 - i]?.pid) }))
  outs.forEach(({ f, locked, lockProblem, summary }, i) => {
    const who = i === 0 ? "the first sweep" : "the second sweep"
    if (f.code !== 0 && f.code !== 1) violations.push(`${who} exited ${f.code} (expected 0, or 1 reporting the lock): ${summary}`)
    else if (f.code === 1 && !locked) violations.push(`${who} exited 1 without reporting a lock: ${summary}`)
    else if (f.code === 0 && locked) violations.push(`${who} reports the lock but exited 0: ${summary}`)
    else if (lockProblem !== undefined) violations.push(`${who}'s report: ${lockProblem}: ${summary}`)
  })
  if (outs.length === 2 && outs[0]!.claimed && outs[1]!.claimed) violations.push(`both sweeps claim to have compressed ${name}: ${outs[0]!.summary}; ${outs[1]!.summary}`)
  const left = fs.readdirSync(logs)
  if (left.includes(name)) violations.push(`the original ${name} is still there after the sweeps`)
  for (const n of left) {
    if (isLockName(n)) violations.push(`lock file ${n} left behind`)
    else if (isTempName(n)) violations.push(`temp file ${n} left behind`)
    else if (n !== name && n !== `${name}.gz`) violations.push(`unexpected entry ${n}`)
  }
  if (!left.includes(`${name}.gz`)) violations.push(`${name}.gz is missing after the sweeps${left.includes(name) ? "" : ": the file is LOST"}`)
  else {
    const gz = await gunzipDigest(Path.join(logs, `${name}.gz`))
    if (!gz.ok) violations.push(`${name}.gz does not decompress: ${gz.error} (the original ${left.includes(name) ? "is still there" : "is gone: LOST"})`)
    else if (gz.sha256 !== digest) violations.push(`${name}.gz decompresses to ${gz.bytes} bytes, not the original's ${bytes.length} (sha256 differs; the original ${left.includes(name) ? "is still there" : "is gone: LOST"})`)
  }
  violations.push(...diffSnapshots("outside the swept directory", siblingBefore, snapshotTree(sibling)))
  const rootNames = fs.readdirSync(root).sort().join(",")
  if (rootNames !== "logs,sibling") violations.push(`the parent directory holds ${rootNames}`)
  await cleanup(ctx, root, violations.length > 0)
  const claims = outs.map((o) => `exit ${o.f.code}${o.claimed ? " claims it" : ""}${o.locked ? " reports a lock" : ""}`).join("; ")
  return {
    name: alone ? "sweep-race harness: one sweep alone passes the race checks" : `sweep-races #${index}`, seed,
    detail: `${(bytes.length / MiB).toFixed(1)} MiB${alone ? "" : `, second sweep ${offset} ms after the first`}; ${claims}; ` +
      `${finished.map((f) => `${Math.round(f.durationMs)} ms`).join(" and ")}; ${polls} polls`,
    violations
  }
}

export const appendRace = async (ctx: Context, index: number): Promise<CaseResult> => {
  const seed = caseSeed(ctx.master, "append-races", index)
  const rng = prng(seed)
  const dir = Path.join(ctx.root, `append-race-${index}`, "logs")
  makeDir(dir)
  const file = Path.join(dir, "app.jsonl")
  const linesA = makeLines(rng, "A", 1500)
  const linesB = makeLines(rng, "B", 200)
  const a = startCli(appendArgs(file), { stdin: "pipe" })
  const feedA = feed(a, linesA, 24, 10)
  // B starts once A has written a whole line.
  const started = await waitFor(() => fs.existsSync(file) && fs.readFileSync(file).includes(10), a.done, 2)
  const violations: Array<string> = []
  let b: Finished | undefined
  if (!started) violations.push(`the first writer exited before writing: ${describeExit(await a.done)}`)
  else {
    const runB = startCli(appendArgs(file), { stdin: "pipe", timeoutMs: 60_000 })
    await feed(runB, linesB, linesB.length, 0).end()
    b = await runB.done
  }
  await feedA.end()
  const doneA = await a.done
  if (doneA.code !== 0) violations.push(`the first writer failed: ${describeExit(doneA)}`)
  if (b) {
    if (b.code !== 2) violations.push(`the second writer exited ${b.code} (expected 2: ${file} is held by pid ${a.pid}): ${describeExit(b)}`)
    const said = `${b.stderr}\n${b.stdout}`.trim()
    if (!said.includes(file)) violations.push(`the second writer's message does not name ${file}: ${JSON.stringify(clip(said, 300))}`)
    if (!new RegExp(`\\b${a.pid}\\b`).test(said)) violations.push(`the second writer's message does not name the holder (pid ${a.pid}): ${JSON.stringify(clip(said, 300))}`)
  }
  const runs: Array<Run> = [
    { id: "A", lines: linesA, fed: linesA.length, complete: true },
    { id: "B", lines: linesB, fed: linesB.length, complete: false, forbidden: true }
  ]
  const check = checkAppendDir(file, runs, "final")
  violations.push(...check.violations)
  await cleanup(ctx, Path.dirname(dir), violations.length > 0)
  return {
    name: `append-races #${index}`, seed,
    detail: `first writer pid ${a.pid} (exit ${doneA.code}), second writer ${b ? `pid ${b.pid} exit ${b.code}` : "not started"}; ` +
      `on disk: ${check.onDisk.get("A")}/${linesA.length} of the first, ${check.onDisk.get("B")} of the second`,
    violations
  }
}
