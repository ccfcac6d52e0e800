/**
 * Crash campaign, appends: `append FILE --max-bytes 4KiB --max-files 1000` fed numbered NDJSON
 * lines through a pipe (paced, so it is writing and rotating when killed), SIGKILLed at a
 * seeded moment, then a new `append` with more lines run to completion (stdin closed). The
 * invariants of `appendCheck.ts` are checked after the kill and after the completed run.
 *
 * In 40% of the cases the kill's last write is then torn on purpose (see `TEAR_SHARE`).
 *
 * A lock file the kill left must name the killed pid (or be unwritten: killed between its create
 * and its write; the completed run then starts once the documented grace for such files is over).
 *
 * Kill moments: 30% from spawn, uniform over start-up plus the feed; 70% from the moment the
 * active file appears, uniform over the feed.
 */
import * as fs from "node:fs"
import * as Path from "node:path"
import { checkAppendDir, feed, makeLines, type Run, rotatedSet } from "./appendCheck.js"
import { type CaseResult, cleanup, type Context } from "./report.js"
import { caseSeed, checkLeftLocks, describeExit, makeDir, prng, sleep, startCli, waitFor } from "./support.js"

/** Lines the killed run is fed, and the pace: about a second of feeding. */
export const KILLED_LINES = 2400
export const RECOVERY_LINES = 400
const PER_TICK = 24
const TICK_MS = 10

/**
 * Share of kills whose last write is then torn on purpose. A SIGKILL tears a write only when it
 * lands inside the kernel's copy of a multi-page write, which a few dozen kills almost never
 * hit; cutting the newest file inside its last line leaves exactly what such a kill would.
 */
const TEAR_SHARE = 0.4

/** Cuts the newest file of `file`'s set inside its last line (at `at` of it); what was done, or undefined. */
const tearLastLine = (file: string, at: number): string | undefined => {
  const dir = Path.dirname(file)
  const newest = rotatedSet(dir, Path.basename(file)).files.at(-1)
  // Only the active file is ever written: a backup got its last byte before it was renamed, so a
  // kill between the rename and the next open leaves no torn backup (cutting one would stage a
  // crash no SIGKILL can produce, found by case seed 870722245).
  if (newest === undefined || newest.name !== Path.basename(file)) return undefined
  const path = Path.join(dir, newest.name)
  const bytes = fs.readFileSync(path)
  if (bytes.length < 3 || bytes[bytes.length - 1] !== 10) return undefined
  const start = bytes.lastIndexOf(10, bytes.length - 2) + 1
  const length = bytes.length - 1 - start
  if (length < 2) return undefined
  const keep = 1 + Math.floor(at * (length - 1))
  fs.truncateSync(path, start + keep)
  return `${newest.name} cut to ${start + keep} bytes, ${keep} of its last line's ${length}`
}

export const appendArgs = (file: string) => ["append", file, "--max-bytes", "4KiB", "--max-files", "1000"]

export interface Calibration {
  /** Spawn to the active file's appearance, ms. */
  readonly startMs: number
  /** Active file's appearance to the last line fed, ms. */
  readonly feedMs: number
}

const exists = (path: string) => () => fs.existsSync(path)

/**
 * Harness checks: an undisturbed run (fed as the killed runs are, then stdin closed) and a second
 * run after it must leave every line once, in order (so a violation after a kill is the kill's
 * doing); the checker must catch a glued line, a duplicate, an oversize file and a leftover lock.
 */
export const calibrate = async (ctx: Context): Promise<{ results: Array<CaseResult>; calibration: Calibration }> => {
  const rng = prng(caseSeed(ctx.master, "append-calibrate", 0))
  const dir = Path.join(ctx.root, "append-calibrate", "logs")
  makeDir(dir)
  const file = Path.join(dir, "app.jsonl")
  const first = makeLines(rng, "k", KILLED_LINES)
  const second = makeLines(rng, "r", RECOVERY_LINES)
  const run = startCli(appendArgs(file), { stdin: "pipe" })
  const feeder = feed(run, first, PER_TICK, TICK_MS)
  await waitFor(exists(file), run.done, 2)
  const appearedAt = performance.now()
  await feeder.done
  const feedMs = performance.now() - appearedAt
  const startMs = appearedAt - run.startedAt
  await feeder.end()
  const done = await run.done
  const violations: Array<string> = []
  if (done.code !== 0) violations.push(`an undisturbed append failed: ${describeExit(done)}`)
  const runs: Array<Run> = [{ id: "k", lines: first, fed: first.length, complete: true }]
  violations.push(...checkAppendDir(file, runs, "final").violations)
  const again = startCli(appendArgs(file), { stdin: "pipe" })
  await feed(again, second, second.length, 0).end()
  const doneAgain = await again.done
  if (doneAgain.code !== 0) violations.push(`a second undisturbed append failed: ${describeExit(doneAgain)}`)
  const both: Array<Run> = [...runs, { id: "r", lines: second, fed: second.length, complete: true }]
  violations.push(...checkAppendDir(file, both, "final").violations)
  const results: Array<CaseResult> = [{
    name: "append harness: two undisturbed runs pass every invariant",
    seed: ctx.master,
    detail: `active file after ${Math.round(startMs)} ms, fed for ${Math.round(feedMs)} ms more`,
    violations
  }]

  // The checker must be able to fail.
  const missed: Array<string> = []
  const probe = (what: string, corrupt: () => void) => {
    const before = checkAppendDir(file, both, "final").violations.length
    corrupt()
    if (checkAppendDir(file, both, "final").violations.length <= before) missed.push(`the checker did not notice ${what}`)
  }
  const active = () => fs.readFileSync(file, "utf8")
  probe("two lines glued into one", () => {
    const text = active()
    const at = text.indexOf("\n")
    fs.writeFileSync(file, text.slice(0, at) + text.slice(at + 1))
  })
  probe("a duplicated line", () => {
    const text = fs.readFileSync(`${file}.1`, "utf8")
    fs.writeFileSync(`${file}.1`, text + text.slice(0, text.indexOf("\n") + 1))
  })
  probe("a file past maxBytes with several lines", () => {
    fs.appendFileSync(Path.join(dir, "app.jsonl.4"), fs.readFileSync(Path.join(dir, "app.jsonl.3")))
    fs.rmSync(Path.join(dir, "app.jsonl.3"))
  })
  probe("a leftover lock", () => fs.writeFileSync(Path.join(dir, ".app.jsonl.lock"), "1"))
  probe("a lost backup", () => fs.rmSync(Path.join(dir, "app.jsonl.2")))
  results.push({ name: "append harness: the checker catches a glued line, a duplicate, an oversize file, a lock, a lost backup", seed: ctx.master, detail: "", violations: missed })
  await cleanup(ctx, Path.dirname(dir), results.some((r) => r.violations.length > 0))
  return { results, calibration: { startMs, feedMs } }
}

/** One case: an append killed at a seeded moment, then a completed append. */
export const killCase = async (ctx: Context, calibration: Calibration, index: number): Promise<CaseResult> => {
  const seed = caseSeed(ctx.master, "append-kills", index)
  const rng = prng(seed)
  const mode = rng.next() < 0.3 ? "spawn" : "work"
  const delay = Math.round(rng.next() * (mode === "spawn" ? calibration.startMs + calibration.feedMs : calibration.feedMs))
  const tear = rng.next() < TEAR_SHARE
  const tearAt = rng.next()
  const killedLines = makeLines(rng, "k", KILLED_LINES)
  const recoveryLines = makeLines(rng, "r", RECOVERY_LINES)
  const dir = Path.join(ctx.root, `append-kill-${index}`, "logs")
  makeDir(dir)
  const file = Path.join(dir, "app.jsonl")
  const run = startCli(appendArgs(file), { stdin: "pipe" })
  const feeder = feed(run, killedLines, PER_TICK, TICK_MS)
  let anchored = true
  if (mode === "work") anchored = await waitFor(exists(file), run.done, 2)
  if (anchored) await Promise.race([run.done, sleep(delay)])
  if (!run.exited()) run.kill()
  const killed = await run.done
  feeder.stop()
  await feeder.done
  const landed = killed.signal === "SIGKILL" && !killed.hung
  const torn = tear && landed ? tearLastLine(file, tearAt) : undefined
  const violations: Array<string> = []
  if (!landed) violations.push(`the append exited before the kill (its stdin was still open): ${describeExit(killed)}`)
  const killedRun: Run = { id: "k", lines: killedLines, fed: feeder.fed(), complete: false }
  const afterKill = checkAppendDir(file, [killedRun], "kill")
  violations.push(...afterKill.violations)
  // A claim the kill left names the killed pid, or is unwritten (killed between create and write:
  // judged stale only after the grace, so the completed append waits for it).
  const locks = checkLeftLocks(dir, [killed.pid], "after the kill")
  violations.push(...locks.violations)
  if (locks.waitMs > 0) await sleep(locks.waitMs)
  const recovery = startCli(appendArgs(file), { stdin: "pipe" })
  await feed(recovery, recoveryLines, 50, 0).end()
  const done = await recovery.done
  if (done.code !== 0) violations.push(`the completed append failed: ${describeExit(done)}`)
  const final = checkAppendDir(file, [killedRun, { id: "r", lines: recoveryLines, fed: recoveryLines.length, complete: true }], "final")
  violations.push(...final.violations)
  const detail = `SIGKILL ${delay} ms after ${mode === "spawn" ? "spawn" : "the active file appeared"}; ` +
    `${killedRun.fed} lines fed, ${afterKill.onDisk.get("k")} whole on disk after the kill` +
    `${landed ? ` (killed pid ${killed.pid} at ${Math.round(killed.durationMs)} ms)` : ""}` +
    `${torn ? `; its last write torn: ${torn}` : ""}${locks.waitMs > 0 ? `; it left an unwritten lock: completed run after ${locks.waitMs} ms` : ""}`
  await cleanup(ctx, Path.dirname(dir), violations.length > 0)
  return { name: `append-kills #${index}`, seed, detail, violations, landed, left: [...afterKill.left, ...(afterKill.onDisk.get("k")! > 0 ? ["lines"] : [])] }
}
