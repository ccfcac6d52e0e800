/**
 * The CLI's size cap (`--max-total-size`, `LOG_RETENTION_MAX_TOTAL_BYTES`) and per-directory
 * configuration (`--config`, `LOG_RETENTION_CONFIG`), as a process spawned from dist/ (npm test
 * builds first), in real temp dirs (issue 12, items 2 and 3).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { bin, cleanEnv, runner, tempDirs, watchFirstSweep } from "../support/cli.js"

const tempDir = tempDirs("logrotate-policies-")
export const run = runner(tempDir)

const listing = (dir: string) => fs.readdirSync(dir).sort()
const snapshot = (dir: string) => listing(dir).map((name) => [name, fs.readFileSync(path.join(dir, name)).toString("base64")])

/**
 * `app-<date>.ndjson` files of 1000 bytes, `offset` days old by the wall clock now. The names are
 * never recomputed (UTC midnight may pass before the CLI reads its clock), and every offset is at
 * least 2 days from any threshold used, so one day more changes no decision.
 */
const datedDir = (offsets: ReadonlyArray<number>, dir = tempDir()) => {
  const now = Date.now()
  const names = new Map(offsets.map((offset) => [offset, `app-${new Date(now - offset * 86_400_000).toISOString().slice(0, 10)}.ndjson`]))
  for (const [offset, name] of names) fs.writeFileSync(path.join(dir, name), `${JSON.stringify({ day: offset }).padEnd(99, " ")}\n`.repeat(10))
  fs.writeFileSync(path.join(dir, "notes.txt"), "leave me alone")
  return { dir, name: (offset: number) => names.get(offset)! }
}

interface JsonReport {
  readonly deleted: ReadonlyArray<{ readonly path: string; readonly bytes: number; readonly reason: string }>
  readonly plan: { readonly actions: ReadonlyArray<{ readonly _tag: string; readonly path: string; readonly reason: string }> }
}

describe.concurrent("effect-logrotate sweep --max-total-size", { timeout: 60_000 }, () => {
  it("deletes the oldest dated files until the directory fits, never today's; --json names the reason size-cap", async () => {
    const { dir, name } = datedDir([0, 3, 5, 10])
    const result = await run(["sweep", dir, "--max-total-size", "2500", "--json"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(listing(dir)).toEqual([name(0), name(3), "notes.txt"].sort())
    const report = JSON.parse(result.stdout) as JsonReport
    expect(report.deleted.map((d) => [path.basename(d.path), d.bytes, d.reason])).toEqual([
      [name(10), 1000, "size-cap"], [name(5), 1000, "size-cap"]
    ].sort((a, b) => String(a[0]) < String(b[0]) ? -1 : 1))
  })

  it("--dry-run lists the size-cap deletions and changes nothing", async () => {
    const { dir, name } = datedDir([0, 3, 5, 10])
    const before = snapshot(dir)
    const result = await run(["sweep", dir, "--max-total-size", "2KiB", "--dry-run"])
    expect(result.code).toBe(0)
    expect(result.stdout.split("\n").filter((l) => l.startsWith("would"))).toEqual([
      `would delete   ${fs.realpathSync(dir)}/${name(10)} (over the size cap, 10 days old)`,
      `would delete   ${fs.realpathSync(dir)}/${name(5)} (over the size cap, 5 days old)`
    ].sort())
    expect(snapshot(dir)).toEqual(before)
  })

  it("reads LOG_RETENTION_MAX_TOTAL_BYTES; the flag wins over it", async () => {
    const a = datedDir([0, 3, 5, 10])
    const byEnv = await run(["sweep", a.dir, "--json"], { env: { LOG_RETENTION_MAX_TOTAL_BYTES: "3000" } })
    expect(byEnv.code).toBe(0)
    expect(listing(a.dir)).toEqual([a.name(0), a.name(3), a.name(5), "notes.txt"].sort())
    const b = datedDir([0, 3, 5, 10])
    const byFlag = await run(["sweep", b.dir, "--max-total-size", "1000", "--json"], { env: { LOG_RETENTION_MAX_TOTAL_BYTES: "3000" } })
    expect(byFlag.code).toBe(0)
    expect(listing(b.dir)).toEqual([b.name(0), "notes.txt"].sort())
  })

  it("a size of 0 is no cap, as flag or variable (as LOG_ROTATION_MAX_BYTES=0 is no rotation): nothing deleted", async () => {
    const a = datedDir([0, 3, 5, 10])
    const before = snapshot(a.dir)
    expect((await run(["sweep", a.dir, "--max-total-size", "0"])).code).toBe(0)
    expect(snapshot(a.dir)).toEqual(before)
    expect((await run(["sweep", a.dir], { env: { LOG_RETENTION_MAX_TOTAL_BYTES: "0" } })).code).toBe(0)
    expect(snapshot(a.dir)).toEqual(before)
  })

  it("a bad size, as flag or variable, exits 2 naming it, the value and the accepted form; nothing is touched", async () => {
    const { dir } = datedDir([0, 3, 40])
    const before = snapshot(dir)
    const flag = await run(["sweep", dir, "--max-total-size", "10XB"])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain(`--max-total-size="10XB" is invalid: expected a whole number of bytes >= 0`)
    const env = await run(["sweep", dir], { env: { LOG_RETENTION_MAX_TOTAL_BYTES: "-1" } })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain(`LOG_RETENTION_MAX_TOTAL_BYTES="-1" is invalid: expected a whole number of bytes >= 0`)
    expect(snapshot(dir)).toEqual(before)
  })
})

describe.concurrent("effect-logrotate maps the library's errors to where each value was given", { timeout: 60_000 }, () => {
  it("a cross-field error names the flag, or the variable under --env-prefix, and nothing is touched (exit 2)", async () => {
    const { dir } = datedDir([40, 10])
    const before = snapshot(dir)
    const flags = await run(["sweep", dir, "--max-age-days", "7", "--compress-age-days", "7"])
    expect([flags.code, flags.stderr]).toEqual([2, expect.stringContaining('--compress-age-days="7" is invalid: expected 0 (no compression)')])
    const env = await run(["sweep", dir, "--env-prefix", "TAU"],
      { env: { TAU_LOG_RETENTION_MAX_AGE_DAYS: "7", TAU_LOG_RETENTION_COMPRESS_AGE_DAYS: "7" } })
    expect([env.code, env.stderr]).toEqual([2, expect.stringContaining('TAU_LOG_RETENTION_COMPRESS_AGE_DAYS="7" is invalid')])
    const mixed = await run(["sweep", dir, "--max-age-days", "7"], { env: { LOG_RETENTION_COMPRESS_AGE_DAYS: "9" } })
    expect([mixed.code, mixed.stderr]).toEqual([2, expect.stringContaining('LOG_RETENTION_COMPRESS_AGE_DAYS="9" is invalid')])
    expect(snapshot(dir)).toEqual(before)
  })
})

describe.concurrent("effect-logrotate sweep --config / LOG_RETENTION_CONFIG", { timeout: 60_000 }, () => {
  const writeConfig = (json: unknown, dir = tempDir()) => {
    const file = path.join(dir, "retention.json")
    fs.writeFileSync(file, typeof json === "string" ? json : JSON.stringify(json))
    return file
  }

  it("each directory named in the file is swept with its own settings, the others' defaults from the file", async () => {
    const a = datedDir([0, 3, 6, 12])
    const b = datedDir([0, 3, 6, 12])
    const config = writeConfig({ defaults: { maxAgeDays: 9 }, directories: { [a.dir]: { maxAgeDays: 4 }, [b.dir]: {} } })
    const result = await run(["sweep", "--config", config, "--json"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(listing(a.dir)).toEqual([a.name(0), a.name(3), "notes.txt"].sort())
    expect(listing(b.dir)).toEqual([b.name(0), b.name(3), b.name(6), "notes.txt"].sort())
  })

  it("precedence: a flag wins over the file, the file over the environment", async () => {
    const a = datedDir([0, 3, 6, 12])
    const config = writeConfig({ directories: { [a.dir]: { maxAgeDays: 4 } } })
    // The file (4) over the environment (20).
    await run(["sweep", "--config", config], { env: { LOG_RETENTION_MAX_AGE_DAYS: "20" } })
    expect(listing(a.dir)).toEqual([a.name(0), a.name(3), "notes.txt"].sort())
    const b = datedDir([0, 3, 6, 12])
    const config2 = writeConfig({ directories: { [b.dir]: { maxAgeDays: 4 } } })
    // The flag (9) over the file (4), with the file named by LOG_RETENTION_CONFIG.
    const result = await run(["sweep", "--max-age-days", "9"], { env: { LOG_RETENTION_CONFIG: config2 } })
    expect(result.code).toBe(0)
    expect(listing(b.dir)).toEqual([b.name(0), b.name(3), b.name(6), "notes.txt"].sort())
  })

  it("a directory's naming in the file reads its files with that pattern; --naming wins over it, as every flag does", async () => {
    const dotted = (name: string) => name.replace(/^app-(.*)\.ndjson$/, "app.$1.log")
    const both = () => {
      const d = datedDir([0, 12])
      fs.renameSync(path.join(d.dir, d.name(12)), path.join(d.dir, dotted(d.name(12))))
      fs.writeFileSync(path.join(d.dir, d.name(12)), "{}\n")
      return d
    }
    const a = both()
    const config = writeConfig({ defaults: { maxAgeDays: 4 }, directories: { [a.dir]: { naming: "{prefix}.{date}.log" } } })
    expect((await run(["sweep", "--config", config])).code).toBe(0)
    expect(listing(a.dir)).toEqual([a.name(0), a.name(12), "notes.txt"].sort())
    const b = both()
    const config2 = writeConfig({ defaults: { maxAgeDays: 4 }, directories: { [b.dir]: { naming: "{prefix}.{date}.log" } } })
    expect((await run(["sweep", "--config", config2, "--naming", "{prefix}-{date}.ndjson"])).code).toBe(0)
    expect(listing(b.dir)).toEqual([b.name(0), dotted(b.name(12)), "notes.txt"].sort())
  })

  it("with <dir> arguments only those are swept, each with its entry in the file (or the file's defaults)", async () => {
    const a = datedDir([0, 3, 6, 12])
    const b = datedDir([0, 3, 6, 12])
    const c = datedDir([0, 3, 6, 12])
    const config = writeConfig({ defaults: { maxAgeDays: 5 }, directories: { [a.dir]: { maxAgeDays: 2 }, [b.dir]: { maxAgeDays: 2 } } })
    const before = snapshot(b.dir)
    const result = await run(["sweep", "--config", config, a.dir, c.dir])
    expect(result.code).toBe(0)
    expect(listing(a.dir)).toEqual([a.name(0), "notes.txt"].sort())
    expect(snapshot(b.dir)).toEqual(before)
    expect(listing(c.dir)).toEqual([c.name(0), c.name(3), "notes.txt"].sort())
  })

  it("a bad file exits 2 naming the file, each JSON path, value and accepted form; no byte on disk changes", async () => {
    const a = datedDir([0, 3, 40])
    const before = snapshot(a.dir)
    const cases: ReadonlyArray<readonly [unknown, ReadonlyArray<string>]> = [
      [{ defaults: { maxAgeDays: 0 }, directories: { [a.dir]: { maxTotalBytes: "10XB", naming: 3 } }, extra: 1 }, [
        `  $.extra: unknown key: expected one of the keys "defaults" | "checkIntervalSeconds" | "directories"`,
        `  $.defaults.maxAgeDays: 0 is invalid: expected a whole number >= 1 (days a file is kept)`,
        `  $.directories[${JSON.stringify(a.dir)}].maxTotalBytes: "10XB" is invalid: expected a whole number of bytes >= 0`,
        `  $.directories[${JSON.stringify(a.dir)}].naming: 3 is invalid: expected a file-name pattern that can be parsed back: {prefix} and {date} once each`
      ]],
      ["{ not json", [`  $: `]],
      [{ directories: { [a.dir]: { maxAgeDays: 3, compressAgeDays: 5 } } }, [
        `$.directories[${JSON.stringify(a.dir)}].compressAgeDays="5" is invalid: expected 0 (no compression) or a whole number below this directory's maximum age (3 days)`
      ]]
    ]
    for (const [json, lines] of cases) {
      const config = writeConfig(json)
      const result = await run(["sweep", "--config", config])
      expect([result.code, result.stdout]).toEqual([2, ""])
      expect(result.stderr).toContain(config)
      for (const line of lines) expect(result.stderr).toContain(line)
      expect(snapshot(a.dir)).toEqual(before)
    }
    const missing = await run(["sweep", "--config", path.join(tempDir(), "none.json"), a.dir])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/none\.json: invalid retention configuration \(nothing was swept\):\n {2}\$: cannot be read \(.*\): expected a readable file/)
    expect(snapshot(a.dir)).toEqual(before)
  })

  it("watch --config sweeps each directory with its own settings, then exits 0 on SIGTERM", async () => {
    const a = datedDir([0, 3, 6, 12])
    const b = datedDir([0, 3, 6, 12])
    const config = writeConfig({ defaults: { maxAgeDays: 9 }, directories: { [a.dir]: { maxAgeDays: 4 }, [b.dir]: {} } })
    const { code, stderr } = await watchFirstSweep(["--config", config, "--interval-seconds", "3600"])
    expect(code).toBe(0)
    expect(listing(a.dir)).toEqual([a.name(0), a.name(3), "notes.txt"].sort())
    expect(listing(b.dir)).toEqual([b.name(0), b.name(3), b.name(6), "notes.txt"].sort())
  })

  it("a file naming no directory, with no <dir> and no LOG_RETENTION_DIRS, is a usage error (exit 2)", async () => {
    const config = writeConfig({ defaults: { maxAgeDays: 3 } })
    const result = await run(["sweep", "--config", config])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`no directory given: pass <dir>..., name them under "directories" in ${config}, or set LOG_RETENTION_DIRS`)
  })
})

/** CI runs every test: there, a missing logrotate is a failure, not a skip (.ci/run installs it). */
const inCI = (process.env.CI ?? "") !== "" && process.env.CI !== "false" && process.env.CI !== "0"
const logrotate = ["/usr/sbin/logrotate", "/usr/bin/logrotate"].find((p) => fs.existsSync(p))

describe.runIf(logrotate !== undefined || inCI)("docs/logrotate.md: one stanza per directory", () => {
  it("the per-directory stanzas are accepted by logrotate -d, each directory with its own rotate count", () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, "../../docs/logrotate.md"), "utf8")
    const section = doc.slice(doc.indexOf("### Per-directory policies: one stanza per directory"))
    const block = /```\n(# \/etc\/logrotate\.d\/relay\n[\s\S]*?)```/.exec(section)![1]!
    const root = tempDir()
    for (const dir of ["relay", "relay/dlq"]) {
      fs.mkdirSync(path.join(root, "var/log", dir), { recursive: true })
      fs.writeFileSync(path.join(root, "var/log", dir, "app.ndjson"), "{}\n")
    }
    const conf = path.join(root, "relay.conf")
    fs.writeFileSync(conf, block.replaceAll(`"/var/log/`, `"${root}/var/log/`))
    const result = spawnSync(logrotate!, ["-d", "-s", path.join(root, "state"), conf], { encoding: "utf8" })
    expect(result.status).toBe(0)
    expect(result.stderr + result.stdout).toContain(`rotating pattern: "${root}/var/log/relay/*[!0-9].ndjson"  after 1 days (14 rotations)`)
    expect(result.stderr + result.stdout).toContain(`rotating pattern: "${root}/var/log/relay/dlq/*[!0-9].ndjson"  after 1 days (90 rotations)`)
  })

  it("logrotate-config --config prints a stanza per directory with its own settings, a comment for a cap, accepted by logrotate -d", async () => {
    const root = tempDir()
    for (const dir of ["a", "b", "c"]) {
      fs.mkdirSync(path.join(root, dir))
      fs.writeFileSync(path.join(root, dir, "app.ndjson"), "{}\n")
    }
    const config = path.join(root, "retention.json")
    fs.writeFileSync(config, JSON.stringify({
      defaults: { maxAgeDays: 30 }, directories: { a: { maxAgeDays: 14 }, b: { maxAgeDays: 90, maxTotalBytes: "1GiB" }, c: {} }
    }))
    const result = await run(["logrotate-config", "--config", config])
    expect([result.code, result.stderr]).toEqual([0, ""])
    const blocks = result.stdout.trimEnd().split("\n\n")
    expect(blocks).toHaveLength(3)
    const stanza = (dir: string) => blocks.find((b) => b.includes(`"${path.join(root, dir)}/*[!0-9].ndjson" {`))!
    expect(stanza("a")).toContain("    rotate 14\n    maxage 14")
    expect(stanza("b")).toContain("    rotate 90\n    maxage 90")
    expect(stanza("b")).toMatch(/^# maxTotalBytes=1073741824: logrotate has no cap on a directory's total size/)
    expect(stanza("c")).toContain("    rotate 30\n    maxage 30")
    const conf = path.join(root, "relay.conf")
    fs.writeFileSync(conf, result.stdout)
    const checked = spawnSync(logrotate!, ["-d", "-s", path.join(root, "state"), conf], { encoding: "utf8" })
    expect(checked.status).toBe(0)
    for (const [dir, n] of [["a", 14], ["b", 90], ["c", 30]] as const) {
      expect(checked.stderr + checked.stdout).toContain(`rotating pattern: "${path.join(root, dir)}/*[!0-9].ndjson"  after 1 days (${n} rotations)`)
    }
  })
})
