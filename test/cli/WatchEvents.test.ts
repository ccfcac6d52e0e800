/**
 * `effect-logrotate watch --events` as a process (dist/bin.js: `npm run build` first): each event
 * of the sweeps is one JSON object a line on stdout, from the first sweep on.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const bin = path.resolve(import.meta.dirname, "../../dist/bin.js")
const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** `app-<date>.ndjson`, `days` before today by the wall clock (the tests keep 2+ days from every threshold). */
const dated = (days: number) => `app-${new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10)}.ndjson`

const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.includes("LOG_ROTATION") && !k.includes("LOG_RETENTION")))

describe("watch --events", { timeout: 60_000 }, () => {
  it("prints the first sweep's events as JSON lines on stdout, _tag first: a Deleted, a Compressed, then SweepCompleted", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "watch-events-"))
    dirs.push(dir)
    const old = dated(40)
    const due = dated(10)
    fs.writeFileSync(path.join(dir, old), "{\"old\":1}\n")
    fs.writeFileSync(path.join(dir, due), "{\"due\":1}\n".repeat(100))
    const child = spawn(process.execPath, [bin, "watch", dir, "--events", "--compress-age-days", "7", "--interval-seconds", "3600"], {
      env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    // Until the first sweep's last event (or the process ends on its own, which fails below).
    const deadline = Date.now() + 45_000
    while (Date.now() < deadline && !stdout.includes("\"_tag\":\"SweepCompleted\"") && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50))
    }
    process.kill(child.pid!, "SIGKILL") // the node process itself
    await exited
    const lines = stdout.split("\n").filter((l) => l !== "")
    expect([lines.length, stderr]).toEqual([3, expect.stringContaining("retention sweep finished")])
    for (const line of lines) expect(line).toMatch(/^\{"_tag":"(Deleted|Compressed|SweepCompleted)",/)
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const real = fs.realpathSync(dir)
    // Deletions and compressions run in pools side by side: either may come first; the summary is last.
    const byTag = Object.fromEntries(events.map((e) => [e._tag, e]))
    expect(events[2]!._tag).toBe("SweepCompleted")
    expect(byTag.Deleted).toEqual({
      _tag: "Deleted", path: path.join(real, old), bytes: 10, reason: "older-than-max-age", at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/)
    })
    expect(byTag.Compressed).toEqual({
      _tag: "Compressed", path: path.join(real, due), gzip: path.join(real, `${due}.gz`), bytesBefore: 1000,
      bytesAfter: fs.statSync(path.join(dir, `${due}.gz`)).size, reason: "older-than-compress-age", at: expect.any(String)
    })
    expect(byTag.SweepCompleted).toMatchObject({ dirs: [real], dryRun: false, compressed: 1, deleted: 1, skipped: 0, failed: 0 })
    expect(fs.readdirSync(dir).sort()).toEqual([`${due}.gz`])
  })

  it("without --events, stdout stays empty", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "watch-events-"))
    dirs.push(dir)
    fs.writeFileSync(path.join(dir, dated(40)), "{}\n")
    const child = spawn(process.execPath, [bin, "watch", dir, "--interval-seconds", "3600"], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    const deadline = Date.now() + 45_000
    while (Date.now() < deadline && !stderr.includes("sweep finished") && child.exitCode === null) await new Promise((r) => setTimeout(r, 50))
    process.kill(child.pid!, "SIGTERM")
    expect(await exited).toBe(0)
    expect([stdout, stderr]).toEqual(["", expect.stringContaining("deleted=1")])
  })
})

describe("watch --events with a reader that does not keep up", { timeout: 120_000 }, () => {
  it("the sweep finishes while stdout is full; the reader then gets Missed with the count it lost, and the events after it in order", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "watch-events-"))
    dirs.push(dir)
    // 4000 deletions: ~800 KB of JSON lines, far more than a pipe holds.
    const old = dated(40).replace(/^app-/, "")
    for (let i = 0; i < 4000; i++) fs.writeFileSync(path.join(dir, `a${i}-${old}`), "{}\n")
    const child = spawn(process.execPath, [bin, "watch", dir, "--events", "--interval-seconds", "3600"], {
      env: cleanEnv(), stdio: ["ignore", "pipe", "ignore"]
    })
    child.stdout.pause() // read nothing while the sweep runs
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline && fs.readdirSync(dir).length > 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100))
    expect(fs.readdirSync(dir)).toEqual([]) // the sweep did not wait for the reader
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stdout.resume()
    while (Date.now() < deadline && !stdout.includes("\"_tag\":\"SweepCompleted\"") && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50))
    }
    process.kill(child.pid!, "SIGKILL")
    await exited
    const events = stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { _tag: string; count?: number })
    const missed = events.filter((e) => e._tag === "Missed")
    const deleted = events.filter((e) => e._tag === "Deleted").length
    expect(missed.length).toBeGreaterThanOrEqual(1)
    // Every deletion is either printed or counted as missed, and the summary comes last.
    expect(deleted + missed.reduce((n, e) => n + e.count!, 0)).toBe(4000)
    expect(events.at(-1)!._tag).toBe("SweepCompleted")
  })
})
