/**
 * What `sweep` prints, as a pure function of the report: every line fixed.
 */
import { SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "vitest"
import { InsecureDirectory, SweepFailure } from "../../src/Errors.js"
import type * as RetentionPlan from "../../src/retention/RetentionPlan.js"
import type * as Sweeper from "../../src/retention/Sweeper.js"
import * as SweepOutput from "../../src/cli/SweepOutput.js"

const d = "/var/log/relay"
const actions: ReadonlyArray<RetentionPlan.Action> = [
  { _tag: "Delete", dir: d, name: "app-2026-01-01.ndjson", path: `${d}/app-2026-01-01.ndjson`, group: `${d}/app-2026-01-01.ndjson`, ageDays: 40, reason: "older-than-max-age" },
  { _tag: "Delete", dir: d, name: "app-2026-01-30.ndjson.gz.tmp", path: `${d}/app-2026-01-30.ndjson.gz.tmp`, group: `${d}/app-2026-01-30.ndjson`, ageDays: 11, reason: "stale-temp" },
  { _tag: "Compress", dir: d, name: "app-2026-01-30.ndjson", path: `${d}/app-2026-01-30.ndjson`, group: `${d}/app-2026-01-30.ndjson`, ageDays: 11, reason: "older-than-compress-age" },
  { _tag: "FinishCompression", dir: d, name: "app-2026-01-31.ndjson", path: `${d}/app-2026-01-31.ndjson`, gzip: `${d}/app-2026-01-31.ndjson.gz`, group: `${d}/app-2026-01-31.ndjson`, ageDays: 10, reason: "compressed-copy-exists" },
  { _tag: "Skip", dir: d, name: "app-2026-02-10.ndjson", path: `${d}/app-2026-02-10.ndjson`, group: `${d}/app-2026-02-10.ndjson`, ageDays: 0, reason: "today" },
  { _tag: "Skip", dir: d, name: "notes.txt", path: `${d}/notes.txt`, group: `${d}/notes.txt`, reason: "not-managed" },
  { _tag: "Skip", dir: d, name: "x.txt", path: `${d}/x.txt`, group: `${d}/x.txt`, reason: "not-managed" }
]
const skipped: Array<Sweeper.SkippedFile> = [
  { path: `${d}/app-2026-02-10.ndjson`, reason: "today" },
  { path: `${d}/notes.txt`, reason: "not-managed" },
  { path: `${d}/x.txt`, reason: "not-managed" }
]
const missing = new SweepFailure({
  path: "/var/log/gone", operation: "list",
  error: new SystemError({ reason: "NotFound", module: "FileSystem", method: "realPath", pathOrDescriptor: "/var/log/gone",
    description: "ENOENT: no such file or directory, lstat '/var/log/gone'" })
})
const denied = new SweepFailure({
  path: `${d}/app-2026-01-02.ndjson`, operation: "delete",
  error: new SystemError({ reason: "PermissionDenied", module: "FileSystem", method: "remove", pathOrDescriptor: `${d}/app-2026-01-02.ndjson` })
})
const insecure = new SweepFailure({ path: "/tmp/open", operation: "permissions", error: new InsecureDirectory({ path: "/tmp/open", mode: 0o40777, uid: 0, gid: 0 }) })

const report = (over: Partial<Sweeper.SweepReport>): Sweeper.SweepReport => ({
  dirs: [d], dryRun: false, plan: { today: "2026-02-10", actions }, compressed: [], deleted: [], skipped, failed: [],
  bytesFreed: 0, durationMs: 12, ...over
})

const real = report({
  // in completion order, not the plan's
  compressed: [
    { path: `${d}/app-2026-01-31.ndjson`, gzip: `${d}/app-2026-01-31.ndjson.gz`, bytesBefore: 2048, bytesAfter: 100, reason: "compressed-copy-exists", check: "compared" },
    { path: `${d}/app-2026-01-30.ndjson`, gzip: `${d}/app-2026-01-30.ndjson.gz`, bytesBefore: 3 * 1024 * 1024, bytesAfter: 512, reason: "older-than-compress-age", check: "written" }
  ],
  deleted: [
    { path: `${d}/app-2026-01-30.ndjson.gz.tmp`, bytes: 10, reason: "stale-temp" },
    { path: `${d}/app-2026-01-01.ndjson`, bytes: 4096, reason: "older-than-max-age" }
  ],
  failed: [missing, denied],
  bytesFreed: 3 * 1024 * 1024 + 2048 + 4106 - 612
})

describe("SweepOutput", () => {
  it("a real sweep: one line per file in the plan's order, then counts with skipped broken down by reason; failures on stderr", () => {
    expect(SweepOutput.render(real)).toEqual({
      stdout: [
        `deleted ${d}/app-2026-01-01.ndjson (40 days old)`,
        `deleted ${d}/app-2026-01-30.ndjson.gz.tmp (stale temporary file)`,
        `compressed ${d}/app-2026-01-30.ndjson (3.0 MiB -> 512 B)`,
        `compressed ${d}/app-2026-01-31.ndjson (2.0 KiB -> 100 B, existing .gz verified)`,
        "swept 1 directory in 12 ms",
        "  compressed 2 (3.0 MiB -> 612 B)",
        "  deleted    2",
        "  skipped    3 (1 today, 2 not managed)",
        "  failed     2",
        "  freed      3.0 MiB"
      ],
      stderr: [
        "/var/log/gone: no such directory",
        `failed ${d}/app-2026-01-02.ndjson: delete: permission denied`
      ]
    })
  })

  it("--quiet: the counts only; failures are still listed", () => {
    const out = SweepOutput.render(real, { quiet: true })
    expect(out.stdout[0]).toBe("swept 1 directory in 12 ms")
    expect(out.stdout).toHaveLength(6)
    expect(out.stderr).toHaveLength(2)
  })

  it("a dry run lists the plan and says \"would compress N / would delete N\", never \"compressed 0\"", () => {
    expect(SweepOutput.render(report({ dryRun: true, dirs: [d, "/b"] }))).toEqual({
      stdout: [
        `would delete   ${d}/app-2026-01-01.ndjson (40 days old)`,
        `would delete   ${d}/app-2026-01-30.ndjson.gz.tmp (stale temporary file)`,
        `would compress ${d}/app-2026-01-30.ndjson (11 days old)`,
        `would verify   ${d}/app-2026-01-31.ndjson.gz decompresses to the bytes of ${d}/app-2026-01-31.ndjson, then remove ${d}/app-2026-01-31.ndjson`,
        "dry run: swept 2 directories in 12 ms",
        "  would compress 1",
        "  would delete   2",
        "  would verify   1",
        "  skipped        3 (1 today, 2 not managed)",
        "  failed         0"
      ],
      stderr: []
    })
  })

  it("a failure's reason is a few words: a platform error's kind, else the error's own message", () => {
    expect(SweepOutput.describeFailure(missing)).toBe("/var/log/gone: no such directory")
    expect(SweepOutput.describeFailure(denied)).toBe(`failed ${d}/app-2026-01-02.ndjson: delete: permission denied`)
    expect(SweepOutput.describeFailure(insecure)).toBe(`failed /tmp/open: permissions: ${insecure.error.message}`)
    // a file (not a directory) that vanished mid-sweep is a failure like any other
    const gone = new SweepFailure({ ...denied, operation: "stat", error: new SystemError({ ...missing.error as SystemError }) })
    expect(SweepOutput.describeFailure(gone)).toBe(`failed ${d}/app-2026-01-02.ndjson: stat: no such file or directory`)
  })

  it.each([
    [0, "0 B"], [1023, "1023 B"], [1024, "1.0 KiB"], [1536, "1.5 KiB"], [1024 * 1024, "1.0 MiB"]
  ])("formatBytes(%i) is %s", (n, text) => expect(SweepOutput.formatBytes(n)).toBe(text))

  it("no skips reads 0; every skip reason has words", () => {
    expect(SweepOutput.skippedBreakdown([])).toBe("0")
    expect(new Set(SweepOutput.SKIP_REASONS.map(([r]) => r)).size).toBe(11)
  })
})
