/**
 * The CLI as a process: spawned from dist/ (npm test builds first) in real temp dirs.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { gunzipSync } from "node:zlib"
import { afterAll, describe, expect, it } from "vitest"
import { VERSION } from "../../src/version.js"
import { bin, cleanEnv, runner, tempDirs, watchFirstSweep } from "../support/cli.js"

const tempDir = tempDirs("logrotate-cli-")
const run = runner(tempDir)

const listing = (dir: string) => fs.readdirSync(dir).sort()
const snapshot = (dir: string) => listing(dir).map((name) => [name, fs.readFileSync(path.join(dir, name)).toString("base64")])

/**
 * A directory of dated files `app-<date>.ndjson`, `offset` days old by the wall clock now, plus an
 * unrelated file; `name(offset)` is the name given at creation. The CLI reads the clock later: if
 * UTC midnight passes in between, every age it sees is one day more. So the names are never
 * recomputed, and the tests keep every offset at least 2 days from the thresholds they use
 * (compress 7, delete 30), where one day more changes no decision.
 */
const datedDir = (offsets: ReadonlyArray<number>, dir = tempDir()) => {
  const now = Date.now()
  const names = new Map(offsets.map((offset) => [offset, `app-${new Date(now - offset * 86_400_000).toISOString().slice(0, 10)}.ndjson`]))
  for (const [offset, name] of names) fs.writeFileSync(path.join(dir, name), `{"day":${offset}}\n`.repeat(100))
  fs.writeFileSync(path.join(dir, "notes.txt"), "leave me alone")
  return { dir, name: (offset: number) => names.get(offset)! }
}

/** CI runs every test: there, a missing logrotate is a failure, not a skip (.ci/run installs it). */
const inCI = (process.env.CI ?? "") !== "" && process.env.CI !== "false" && process.env.CI !== "0"
const logrotate = ["/usr/sbin/logrotate", "/usr/bin/logrotate"].find((p) => fs.existsSync(p))

// Each case spawns node processes (about a second each on a loaded 2-core machine).
// Concurrent: every test has its own temp directories and processes, and the time goes to
// process start-up and I/O, which overlap well even on 2 cores.
describe.concurrent("effect-logrotate CLI", { timeout: 60_000 }, () => {
  it("--version prints the package version and --help works on every command", async () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }
    expect(VERSION).toBe(pkg.version)
    expect((await run(["--version"])).stdout.trim()).toBe(VERSION)
    for (const command of ["append", "sweep", "watch", "logrotate-config"]) {
      const result = await run([command, "--help"])
      expect([command, result.code]).toEqual([command, 0])
      expect(result.stdout).toContain(command)
    }
  })

  it("--version after a <dir> spelled like a boolean prints the version and sweeps nothing (`sweep 0 --version`)", async () => {
    // Found by the CliArgs property (seed 1571616457): @effect/cli read `sweep --version 0` as a
    // sweep of `--version` and `0`.
    const cwd = tempDir()
    const old = path.join(cwd, "0", "app-2020-01-01.ndjson")
    fs.mkdirSync(path.dirname(old))
    fs.writeFileSync(old, "{\"a\":1}\n")
    for (const args of [["sweep", "0", "--version"], ["sweep", "0", "--log-level", "info", "--version"], ["watch", "no", "--version"]]) {
      const result = await run(args, { cwd })
      expect([args, result.code, result.stdout.trim(), result.stderr]).toEqual([args, 0, VERSION, ""])
    }
    expect(fs.readdirSync(path.dirname(old))).toEqual(["app-2020-01-01.ndjson"])
  })

  it("a bare --wizard moved in front of a <dir> spelled like a boolean is a usage error, nothing swept", async () => {
    const cwd = tempDir()
    const old = path.join(cwd, "0", "app-2020-01-01.ndjson")
    fs.mkdirSync(path.dirname(old))
    fs.writeFileSync(old, "{\"a\":1}\n")
    const result = await run(["sweep", "0", "--wizard"], { cwd })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`option "--wizard" and a <dir> named "0"`)
    expect(fs.readdirSync(path.dirname(old))).toEqual(["app-2020-01-01.ndjson"])
  })

  it("--help of the program and of every command: the usage names the program, every option and argument has its own description", async () => {
    const top = await run(["--help"])
    expect(top.code).toBe(0)
    expect(top.stdout).toContain("$ effect-logrotate <command> [options]")
    for (const command of ["append", "sweep", "watch", "logrotate-config"]) expect(top.stdout).toMatch(new RegExp(`^  ${command} +\\w`, "m"))
    for (const command of ["append", "sweep", "watch", "logrotate-config"]) {
      const help = await run([command, "--help"])
      expect([command, help.code]).toEqual([command, 0])
      expect(help.stdout).toContain(`$ effect-logrotate ${command} [`)
      for (const boilerplate of ["A user-defined piece of text.", "A true or false value.", "This setting is optional."]) {
        expect([command, help.stdout.includes(boilerplate)]).toEqual([command, false])
      }
      // each option's name line is followed by its description
      const lines = help.stdout.split("\n")
      for (const [i, line] of lines.entries()) {
        if (/^(--|\(-)/.test(line)) expect([line, lines[i + 2]]).toEqual([line, expect.stringMatching(/^ {2}\S/)])
      }
    }
  })

  it("output to a pipe has no ANSI escapes: help, version, usage errors and @effect/cli's own messages", async () => {
    for (const args of [["--help"], ["sweep", "--help"], ["--version"], ["frobnicate"], ["sweep", "--dryrun"], ["--completions", "bash"], ["append"]]) {
      const result = await run(args)
      expect([args, result.stdout.includes("\x1b["), result.stderr.includes("\x1b[")]).toEqual([args, false, false])
    }
  })

  // `script` gives the command a terminal: there, styles are on unless NO_COLOR is set.
  const script = ["/usr/bin/script", "/bin/script"].find((p) => fs.existsSync(p))
  it.runIf(script !== undefined || inCI)("on a terminal, help is styled, and NO_COLOR turns the styles off", async () => {
    if (script === undefined) expect.fail("script (util-linux) is not installed")
    const onTty = (env: Record<string, string>) => new Promise<string>((resolve, reject) => {
      const child = spawn(script, ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} sweep --help`, "/dev/null"], {
        env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"]
      })
      let out = ""
      child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
      child.on("error", reject)
      child.on("close", () => resolve(out))
      child.stdin.end()
    })
    const styled = await onTty({})
    expect(styled).toContain("--max-age-days")
    expect(styled).toContain("\x1b[")
    const plain = await onTty({ NO_COLOR: "1" })
    expect(plain).toContain("--max-age-days")
    expect(plain).not.toContain("\x1b[")
  })

  it("an unknown command is a usage error naming what was typed and listing the commands", async () => {
    const result = await run(["frobnicate"])
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" })
    expect(result.stderr.split("\n").slice(0, 2)).toEqual([
      'effect-logrotate: unknown command "frobnicate"',
      "  commands: append, sweep, watch, logrotate-config (each has --help)"
    ])
    const typo = await run(["swep", "/tmp"])
    expect([typo.code, typo.stderr]).toEqual([2, expect.stringContaining('unknown command "swep" (did you mean sweep?)')])
  })

  it("--completions bash prints a completion script for effect-logrotate", async () => {
    const result = await run(["--completions", "bash"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(result.stdout).toContain("_effect-logrotate_bash_completions")
    expect(result.stdout).toContain("complete -F")
    expect(result.stdout).toContain("sweep")
  })

  it("watch logs to stderr in logfmt by default, as JSON lines with --log-format json; a bad format is a usage error", async () => {
    const logs = async (args: ReadonlyArray<string>) => {
      const { dir } = datedDir([40])
      const child = spawn(process.execPath, [bin, "watch", dir, ...args], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })
      let stderr = ""
      let stdout = ""
      child.stderr.on("data", (d) => (stderr += d))
      child.stdout.on("data", (d) => (stdout += d))
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
      await waitFor(() => stderr.includes("sweep finished") || child.exitCode !== null)
      child.kill("SIGTERM")
      const code = await exited
      return { code, stdout, lines: stderr.split("\n").filter((l) => l !== "") }
    }
    const [json, logfmt] = await Promise.all([logs(["--log-format", "json"]), logs([])])
    expect([json.code, json.stdout]).toEqual([0, ""])
    expect(json.lines.length).toBeGreaterThanOrEqual(2)
    const parsed = json.lines.map((l) => JSON.parse(l) as { message: unknown; logLevel: unknown })
    expect(parsed.map((p) => typeof p.message)).toEqual(json.lines.map(() => "string"))
    expect(parsed.map((p) => p.message)).toContain("watching")
    expect([logfmt.code, logfmt.stdout]).toEqual([0, ""])
    expect(logfmt.lines.length).toBeGreaterThanOrEqual(2)
    for (const line of logfmt.lines) expect(line).toMatch(/^timestamp=\S+ level=INFO fiber=\S+ message=/)
    const bad = await run(["watch", "/tmp", "--log-format", "xml"])
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('option "--log-format" takes one of logfmt, json, not "xml"')])
  })

  it("append --log-format json writes its warnings as JSON lines on stderr", async () => {
    const cwd = tempDir()
    fs.writeFileSync(path.join(cwd, "app.jsonl"), '{"torn":') // a torn last line is warned about
    const result = await run(["append", "app.jsonl", "--log-format", "json"], { cwd, input: '{"b":0}\n' })
    expect(result.code).toBe(0)
    const lines = result.stderr.split("\n").filter((l) => l !== "")
    expect(lines.length).toBeGreaterThanOrEqual(1)
    for (const line of lines) expect(typeof (JSON.parse(line) as { message: unknown }).message).toBe("string")
  })

  it("append: every line from a pipe lands whole, in order, with size rotation; a final line without \\n is kept", async () => {
    const cwd = tempDir()
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ seq: i, pad: "x".repeat(i % 50) }))
    const result = await run(["append", "logs/app.jsonl", "--max-bytes", "16KiB", "--max-files", "100"], {
      cwd, input: lines.join("\n") + "\n" + '{"seq":"last"}'
    })
    expect([result.code, result.stderr]).toEqual([0, ""])
    const names = listing(path.join(cwd, "logs"))
    expect(names.length).toBeGreaterThan(10)
    const ordered = ["app.jsonl", ...names.filter((n) => n !== "app.jsonl").sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()))].reverse()
    const onDisk = ordered.flatMap((name) => {
      const text = fs.readFileSync(path.join(cwd, "logs", name), "utf8")
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(16 * 1024)
      return text.split("\n").slice(0, -1)
    })
    expect(onDisk).toEqual([...lines, '{"seq":"last"}'])
  })

  it("append: CRLF input is kept byte for byte (lines end at \\n only; a lone \\r is no line break)", async () => {
    const cwd = tempDir()
    expect((await run(["append", "a.jsonl"], { cwd, input: "{\"a\":1}\r\n{\"b\":2}\r{\"c\":3}\r\n" })).code).toBe(0)
    expect(fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8")).toBe("{\"a\":1}\r\n{\"b\":2}\r{\"c\":3}\r\n")
  })

  it("append: exit 2 on a bad flag or a bad variable, naming it, the value and the accepted form; nothing is created", async () => {
    const cwd = tempDir()
    const badFlag = await run(["append", "a.jsonl", "--max-bytes", "10XB"], { cwd, input: "{}\n" })
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toContain('--max-bytes="10XB" is invalid: expected')
    expect(badFlag.stderr).toContain("MiB")
    const badFiles = await run(["append", "a.jsonl", "--max-files", "abc"], { cwd, input: "{}\n" })
    expect([badFiles.code, badFiles.stderr]).toEqual([2, expect.stringContaining('--max-files="abc" is invalid: expected a whole number >= 0')])
    const badEnv = await run(["append", "a.jsonl", "--env-prefix", "TAU"], { cwd, input: "{}\n", env: { TAU_LOG_ROTATION_MAX_FILES: "-1" } })
    expect([badEnv.code, badEnv.stderr]).toEqual([2, expect.stringContaining('TAU_LOG_ROTATION_MAX_FILES="-1" is invalid')])
    expect(listing(cwd)).toEqual([])
  })

  it("append: the flag wins over the variable, which wins over the default", async () => {
    const cwd = tempDir()
    const input = Array.from({ length: 10 }, (_, i) => `{"i":${i}}`).join("\n") + "\n" // 8 bytes a line
    expect((await run(["append", "a.jsonl"], { cwd, input, env: { LOG_ROTATION_MAX_BYTES: "16", LOG_ROTATION_MAX_FILES: "2" } })).code).toBe(0)
    expect(listing(cwd)).toEqual(["a.jsonl", "a.jsonl.1", "a.jsonl.2"])
    const cwd2 = tempDir()
    expect((await run(["append", "a.jsonl", "--max-files", "1"], { cwd: cwd2, input, env: { LOG_ROTATION_MAX_BYTES: "16", LOG_ROTATION_MAX_FILES: "2" } })).code).toBe(0)
    expect(listing(cwd2)).toEqual(["a.jsonl", "a.jsonl.1"])
  })

  it("append --compress (or LOG_ROTATION_COMPRESS=true): by exit the backups from .2 up are .gz, .1 plain, and all of them, oldest first, then the active file hold every line in order", async () => {
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ seq: i, pad: "x".repeat(i % 40) }))
    const input = lines.join("\n") + "\n"
    for (const [args, env] of [[["--compress"], {}], [[], { LOG_ROTATION_COMPRESS: "true" }]] as const) {
      const cwd = tempDir()
      const result = await run(["append", "a.jsonl", "--max-bytes", "2KiB", "--max-files", "4", ...args], { cwd, input, env })
      expect([result.code, result.stderr]).toEqual([0, ""])
      expect(listing(cwd)).toEqual(["a.jsonl", "a.jsonl.1", "a.jsonl.2.gz", "a.jsonl.3.gz", "a.jsonl.4.gz"])
      const read = (name: string) => {
        const bytes = fs.readFileSync(path.join(cwd, name))
        return (name.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8").split("\n").slice(0, -1)
      }
      const kept = ["a.jsonl.4.gz", "a.jsonl.3.gz", "a.jsonl.2.gz", "a.jsonl.1", "a.jsonl"].flatMap(read)
      expect(kept).toEqual(lines.slice(lines.length - kept.length))
      expect(kept.length).toBeGreaterThan(50)
    }
    const bad = await run(["append", "a.jsonl"], { cwd: tempDir(), input, env: { LOG_ROTATION_COMPRESS: "sometimes" } })
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('LOG_ROTATION_COMPRESS="sometimes" is invalid')])
  })

  it("append: SIGTERM writes what was read, closes, and exits 0; a line still unfinished after --stop-grace-seconds is written with a final \\n and a warning", async () => {
    const cwd = tempDir()
    const child = spawn(process.execPath, [bin, "append", "a.jsonl", "--stop-grace-seconds", "1"], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const sent: Array<string> = []
    for (let i = 0; i < 200; i++) sent.push(`{"i":${i}}`)
    child.stdin.write(sent.join("\n") + "\n" + '{"partial":') // a partial last line, never finished
    // wait until the file holds the complete lines, then stop it
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      const text = fs.existsSync(path.join(cwd, "a.jsonl")) ? fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8") : ""
      if (text.split("\n").length > 200) break
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill("SIGTERM")
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(0)
    expect(stderr).toContain("stopped inside an unfinished line")
    expect(fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8")).toBe(sent.join("\n") + '\n{"partial":\n')
  })

  it("append: on SIGTERM inside an unfinished line it keeps reading until the line's newline, writes the whole line, exits 0", async () => {
    const cwd = tempDir()
    const child = spawn(process.execPath, [bin, "append", "a.jsonl", "--stop-grace-seconds", "30"], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    child.stdin.write('{"a":1}\n{"partial":')
    await waitFor(() => fs.existsSync(path.join(cwd, "a.jsonl")) && fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8") === '{"a":1}\n')
    child.kill("SIGTERM")
    // it says it waits (stderr), and only then gets the rest of the line
    expect(await waitFor(() => stderr.includes("waiting up to"))).toBe(true)
    child.stdin.write('"rest"}\n')
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(0)
    expect(stderr).not.toContain("stopped inside an unfinished line")
    expect(fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8")).toBe('{"a":1}\n{"partial":"rest"}\n')
  })

  it("append is byte-exact: invalid UTF-8, \\r\\n, empty lines, NUL, a line longer than the read buffer and than maxBytes, no final newline: the files oldest to newest concatenated equal the input plus a final \\n", async () => {
    const cwd = tempDir()
    const parts: Array<Buffer> = []
    for (let i = 0; i < 3000; i++) {
      parts.push(Buffer.from(`{"i":${i},"s":"é€"}`))
      if (i % 7 === 0) parts.push(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0]))
      parts.push(Buffer.from(i % 5 === 0 ? "\r\n" : "\n"))
      if (i % 11 === 0) parts.push(Buffer.from("\n"))
      if (i === 1500) parts.push(Buffer.alloc(3 * 1024 * 1024, 0x61), Buffer.from("\n")) // > the 1 MiB read buffer, > maxBytes
    }
    parts.push(Buffer.from('{"last":true}'))
    const input = Buffer.concat(parts)
    const result = await run(["append", "a.jsonl", "--max-bytes", "16KiB", "--max-files", "1000"], { cwd, input })
    expect([result.code, result.stderr]).toEqual([0, ""])
    const backups = listing(cwd).filter((n) => /^a\.jsonl\.\d+$/.test(n)).sort((a, b) => Number(b.split(".").pop()) - Number(a.split(".").pop()))
    expect(backups.length).toBeGreaterThan(3)
    const files = [...backups, "a.jsonl"].map((n) => fs.readFileSync(path.join(cwd, n)))
    expect(Buffer.concat(files).equals(Buffer.concat([input, Buffer.from("\n")]))).toBe(true)
    for (const file of files) {
      expect(file[file.length - 1]).toBe(10)
      if (file.length > 16 * 1024) expect(file.indexOf(10)).toBe(file.length - 1) // an oversize line, alone
    }
  })

  it("append: a 64 MiB line without a newline goes through into a fresh file, its bytes intact, in bounded memory", async () => {
    const cwd = tempDir()
    fs.writeFileSync(path.join(cwd, "a.jsonl"), '{"before":1}\n')
    const child = spawn(process.execPath, [bin, "append", "a.jsonl", "--max-bytes", "1MiB"], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    let peakKiB = 0
    const sample = () => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))
        if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]))
      } catch {
        // exited
      }
    }
    const sampler = setInterval(sample, 20)
    const block = Buffer.alloc(1024 * 1024, 0x62)
    for (let i = 0; i < 64; i++) {
      if (!child.stdin.write(block)) await new Promise((r) => child.stdin.once("drain", r))
    }
    sample()
    child.stdin.end()
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    clearInterval(sampler)
    expect([code, stderr]).toEqual([0, ""])
    expect(fs.readFileSync(path.join(cwd, "a.jsonl.1"), "utf8")).toBe('{"before":1}\n')
    const line = fs.readFileSync(path.join(cwd, "a.jsonl"))
    expect(line.length).toBe(64 * 1024 * 1024 + 1)
    expect(line.indexOf(10)).toBe(line.length - 1)
    expect(line.subarray(0, -1).every((b) => b === 0x62)).toBe(true)
    // Loose: the CLI alone peaks around 60–100 MiB; holding the line (let alone copies of it) would add 64 MiB or more.
    if (peakKiB > 0) expect(peakKiB / 1024).toBeLessThan(140)
  })

  // Defect 8: a signal during start-up (while Effect loads, before its runtime exists) killed the
  // process with Node's default action (143/130). Each run signals itself at a chosen point of its
  // own module loading (test/support/signalDuringLoad.mjs), so the moment is exact, not timed.
  // stdin stays open: only the signal can end the run.
  const hooks = pathToFileURL(path.resolve(import.meta.dirname, "../support/signalDuringLoad.mjs")).href
  // The bundled CLI loads 9 modules after its entry before it runs (2 chunks, then built-ins): 0 is before
  // any of its code is read, 8 after all of it, before it runs.
  it.each([
    ["SIGTERM", 0], ["SIGTERM", 3], ["SIGTERM", 8], ["SIGINT", 0], ["SIGINT", 8]
  ] as const)("append: %s during start-up (at the %ith module loaded after the entry) exits 0 and leaves no partial line", async (signal, at) => {
    const cwd = tempDir()
    const register = `import { register } from "node:module"; register(${JSON.stringify(hooks)}, { data: ${JSON.stringify({ at, signal })} })`
    const child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, bin, "append", "a.jsonl"], {
      cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const lines = Array.from({ length: 50 }, (_, i) => `{"i":${i}}`)
    child.stdin.on("error", () => {}) // the process may be gone before it reads
    child.stdin.write(lines.join("\n") + "\n")
    const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("exit", (c, s) => resolve([c, s])))
    expect({ code, killedBy, stderr }).toEqual({ code: 0, killedBy: null, stderr: "" })
    // It stopped before or while reading: whatever is on disk is whole lines, a prefix of the input.
    const text = fs.existsSync(path.join(cwd, "a.jsonl")) ? fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8") : ""
    expect(text === "" || text.endsWith("\n")).toBe(true)
    expect(lines.slice(0, text.split("\n").length - 1)).toEqual(text.split("\n").slice(0, -1))
  })

  // SIGHUP before the reopen handler exists (start-up) or after it is gone (final flush) killed the process.
  it.each([0, 40, 1500])("append: SIGHUP during start-up (at the %ith module of Effect) is ignored: end of input exits 0 with every line on disk", async (at) => {
    const cwd = tempDir()
    const register = `import { register } from "node:module"; register(${JSON.stringify(hooks)}, { data: ${JSON.stringify({ at, signal: "SIGHUP" })} })`
    const child = spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, bin, "append", "a.jsonl"], {
      cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const lines = Array.from({ length: 50 }, (_, i) => `{"i":${i}}`)
    child.stdin.on("error", () => {})
    child.stdin.end(lines.join("\n") + "\n")
    const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("exit", (c, s) => resolve([c, s])))
    expect({ code, killedBy, stderr }).toEqual({ code: 0, killedBy: null, stderr: "" })
    expect(fs.readFileSync(path.join(cwd, "a.jsonl"), "utf8")).toBe(lines.join("\n") + "\n")
  })

  // The active path is never a symbolic link (a link to /dev/full is refused at open): the
  // failing disk is a /dev/full device node at the path itself, which needs root (CI is).
  it.runIf(process.getuid?.() === 0)("append: a disk that refuses the writes exits 1, at end of input and at once while the input is still open", async () => {
    const cwd = tempDir()
    expect(spawnSync("mknod", [path.join(cwd, "a.jsonl"), "c", "1", "7"]).status).toBe(0) // /dev/full: every write fails with ENOSPC
    const atEof = await run(["append", "a.jsonl"], { cwd, input: '{"a":1}\n' })
    expect([atEof.code, atEof.stderr]).toEqual([1, expect.stringContaining("a.jsonl")])
    const child = spawn(process.execPath, [bin, "append", "a.jsonl"], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    child.stdin.on("error", () => {})
    child.stdin.write('{"a":1}\n') // stdin stays open: the failed write alone ends the run
    expect(await exited).toBe(1)
    expect(stderr).toContain("ENOSPC")
  })

  /** Polls (real processes: no other way to observe them) until `ok()` or 20 s; returns `ok()`. */
  const waitFor = async (ok: () => boolean) => {
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && !ok()) await new Promise((r) => setTimeout(r, 25))
    return ok()
  }
  const readLines = (file: string) => fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : []
  const startAppend = (cwd: string, args: ReadonlyArray<string>) => {
    const child = spawn(process.execPath, [bin, "append", ...args], { cwd, env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] })
    const out = { stderr: "" }
    child.stderr.on("data", (d) => (out.stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
    return { child, out, exited }
  }
  const numbered = (tag: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `{"${tag}":${from + i}}`)

  it("append: a second append on a claimed file exits 2 before reading stdin, naming the file and the holder; the first loses nothing", async () => {
    const cwd = tempDir()
    const first = startAppend(cwd, ["app.jsonl", "--max-bytes", "4KiB", "--max-files", "2000"])
    const before = numbered("first", 0, 500)
    first.child.stdin.write(before.join("\n") + "\n")
    expect(await waitFor(() => fs.existsSync(path.join(cwd, ".app.jsonl.lock")))).toBe(true)
    // stdin stays open: exiting proves it did not wait for (or read) its input.
    const second = startAppend(cwd, ["app.jsonl", "--max-bytes", "4KiB", "--max-files", "2000"])
    second.child.stdin.write('{"second":0}\n')
    const secondCode = await second.exited
    expect(secondCode).toBe(2)
    expect(second.out.stderr).toContain("app.jsonl")
    expect(second.out.stderr).toContain(`pid ${first.child.pid}`)
    const after = numbered("first", 500, 2000)
    first.child.stdin.end(after.join("\n") + "\n")
    expect(await first.exited).toBe(0)
    const names = listing(cwd)
    expect(names).not.toContain(".app.jsonl.lock") // the claim is released at exit
    const ordered = ["app.jsonl", ...names.filter((n) => n !== "app.jsonl").sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()))].reverse()
    expect(ordered.flatMap((n) => readLines(path.join(cwd, n)))).toEqual([...before, ...after])
  })

  it("append: after a SIGKILL, the next append takes over the dead claim and keeps a torn last line a line of its own", async () => {
    const cwd = tempDir()
    const file = path.join(cwd, "app.jsonl")
    const killed = startAppend(cwd, ["app.jsonl"])
    const first = numbered("a", 0, 100)
    killed.child.stdin.write(first.join("\n") + "\n")
    expect(await waitFor(() => readLines(file).length === 100)).toBe(true)
    killed.child.kill("SIGKILL")
    await killed.exited
    expect(JSON.parse(fs.readFileSync(path.join(cwd, ".app.jsonl.lock"), "utf8"))).toMatchObject({ pid: killed.child.pid, purpose: "append" })
    fs.appendFileSync(file, '{"torn":') // as if the crash had cut a write short
    const next = await run(["append", "app.jsonl"], { cwd, input: '{"b":0}\n' })
    expect([next.code, next.stderr]).toEqual([0, expect.stringContaining("torn")])
    expect(readLines(file)).toEqual([...first, '{"torn":', '{"b":0}'])
    expect(listing(cwd)).toEqual(["app.jsonl"])
  })

  it("append: `rm` of the active file while it runs: every later line is on disk in a new file at the path", async () => {
    const cwd = tempDir()
    const file = path.join(cwd, "app.jsonl")
    const run1 = startAppend(cwd, ["app.jsonl"])
    const earlier = numbered("a", 0, 100)
    run1.child.stdin.write(earlier.join("\n") + "\n")
    expect(await waitFor(() => readLines(file).length === 100)).toBe(true)
    fs.rmSync(file)
    const later = numbered("b", 0, 3000)
    run1.child.stdin.end(later.join("\n") + "\n")
    expect([await run1.exited, run1.out.stderr]).toEqual([0, expect.stringContaining("removed")])
    // The rm may land before the check that follows the first batch's write: then that batch,
    // written into the removed file, is written again at the path (never lost, never twice).
    const lines = readLines(file)
    expect(lines.length === later.length ? lines : [lines.slice(0, 100), lines.slice(100)])
      .toEqual(lines.length === later.length ? later : [earlier, later])
  })

  it("append: `mv app.jsonl x; kill -HUP` reopens: later lines go to a new app.jsonl, earlier ones stay in x", async () => {
    const cwd = tempDir()
    const file = path.join(cwd, "app.jsonl")
    const run1 = startAppend(cwd, ["app.jsonl"])
    const earlier = numbered("a", 0, 100)
    run1.child.stdin.write(earlier.join("\n") + "\n")
    expect(await waitFor(() => readLines(file).length === 100)).toBe(true)
    fs.renameSync(file, path.join(cwd, "x"))
    process.kill(run1.child.pid!, "SIGHUP") // without a SIGHUP listener, node would die of it
    expect(await waitFor(() => fs.existsSync(file))).toBe(true)
    const later = numbered("b", 0, 1000)
    run1.child.stdin.end(later.join("\n") + "\n")
    expect(await run1.exited).toBe(0)
    expect(readLines(path.join(cwd, "x"))).toEqual(earlier)
    expect(readLines(file)).toEqual(later)
  })

  it("sweep --json: compresses, deletes, skips, and reports it as one JSON object", async () => {
    const { dir, name: day } = datedDir([0, 3, 10, 40])
    const result = await run(["sweep", dir, "--max-age-days", "30", "--compress-age-days", "7", "--json"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    const report = JSON.parse(result.stdout) as {
      compressed: Array<{ path: string }>; deleted: Array<{ path: string }>; skipped: Array<{ path: string; reason: string }>; failed: Array<unknown>; bytesFreed: number
    }
    expect(report.compressed.map((f) => path.basename(f.path))).toEqual([day(10)])
    expect(report.deleted.map((f) => path.basename(f.path))).toEqual([day(40)])
    expect(report.failed).toEqual([])
    expect(report.skipped.map((s) => path.basename(s.path)).sort()).toEqual([day(0), day(3), "notes.txt"].sort())
    expect(listing(dir)).toEqual([`${day(10)}.gz`, day(3), day(0), "notes.txt"].sort())
    expect(gunzipSync(fs.readFileSync(path.join(dir, `${day(10)}.gz`))).toString()).toBe('{"day":10}\n'.repeat(100))
  })

  it("sweep --dry-run prints the plan and changes nothing", async () => {
    const { dir, name: day } = datedDir([0, 10, 40])
    const before = snapshot(dir)
    const result = await run(["sweep", dir, "--max-age-days", "30", "--compress-age-days", "7", "--dry-run"])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`would compress ${path.join(dir, day(10))}`)
    expect(result.stdout).toContain(`would delete   ${path.join(dir, day(40))}`)
    expect(snapshot(dir)).toEqual(before)
  })

  /** `app.<date>.log` files `offset` days old (same margins as datedDir), plus a default-named file 40 days old. */
  const dottedDir = (offsets: ReadonlyArray<number>) => {
    const { dir, name: defaultName } = datedDir([40])
    const now = Date.now()
    const names = new Map(offsets.map((offset) => [offset, `app.${new Date(now - offset * 86_400_000).toISOString().slice(0, 10)}.log`]))
    for (const [offset, name] of names) fs.writeFileSync(path.join(dir, name), `{"day":${offset}}\n`.repeat(100))
    return { dir, name: (offset: number) => names.get(offset)!, defaultName: defaultName(40) }
  }

  it("sweep --naming {prefix}.{date}.log compresses and deletes those names; default-named files are then not managed", async () => {
    const { dir, name: day, defaultName } = dottedDir([0, 10, 40])
    const result = await run(["sweep", dir, "--max-age-days", "30", "--compress-age-days", "7", "--naming", "{prefix}.{date}.log", "--json"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(listing(dir)).toEqual([day(0), `${day(10)}.gz`, defaultName, "notes.txt"].sort())
    expect(gunzipSync(fs.readFileSync(path.join(dir, `${day(10)}.gz`))).toString()).toBe('{"day":10}\n'.repeat(100))
    const report = JSON.parse(result.stdout) as { skipped: Array<{ path: string; reason: string }> }
    expect(report.skipped.find((s) => path.basename(s.path) === defaultName)?.reason).toBe("not-managed")
  })

  it("watch --naming sweeps with that naming", async () => {
    const { dir, name: day, defaultName } = dottedDir([0, 10, 40])
    const { code, stderr } = await watchFirstSweep([dir, "--compress-age-days", "7", "--interval-seconds", "1", "--naming", "{prefix}.{date}.log"])
    expect(code).toBe(0)
    expect(stderr).toContain('naming={prefix}.{date}.log')
    expect(listing(dir)).toEqual([day(0), `${day(10)}.gz`, defaultName, "notes.txt"].sort())
  })

  it.each([
    ["sweep", "{prefix}-{day}.log", "unknown-placeholder: unknown placeholder {day}"],
    ["watch", "{date}-{prefix}", "ambiguous-compression"],
    ["logrotate-config", "{prefix}.log", "missing-date: it has no {date}"]
  ])("%s --naming %j is a usage error (exit 2) naming --naming, the pattern and why; nothing touched", async (command, pattern, why) => {
    const { dir } = datedDir([10, 40])
    const before = snapshot(dir)
    const result = await run([command, dir, "--naming", pattern], { timeout: 20_000 })
    expect([result.code, result.stdout]).toEqual([2, ""])
    expect(result.stderr).toContain(`--naming=${JSON.stringify(pattern)} is invalid: expected a pattern that can be parsed back (${why}`)
    expect(snapshot(dir)).toEqual(before)
  })

  it("logrotate-config --naming renders the pattern's dateformat and extension", async () => {
    const dir = tempDir()
    const result = await run(["logrotate-config", dir, "--naming", "{prefix}.{date}.log"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(result.stdout).toContain(`${JSON.stringify(path.join(dir, "*[!0-9].log"))} {`)
    for (const directive of ["daily", "dateformat .%Y-%m-%d", "dateyesterday", "extension .log"]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${directive.replace(/[.%]/g, "\\$&")}$`, "m"))
    }
  })

  it("sweep reads LOG_RETENTION_DIRS (under --env-prefix) and exits 2 on a bad variable, touching nothing", async () => {
    const { dir } = datedDir([40])
    const before = snapshot(dir)
    const bad = await run(["sweep", "--env-prefix", "TAU"], { env: { TAU_LOG_RETENTION_DIRS: dir, TAU_LOG_RETENTION_MAX_AGE_DAYS: "0" } })
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('TAU_LOG_RETENTION_MAX_AGE_DAYS="0" is invalid: expected a whole number >= 1')])
    expect(snapshot(dir)).toEqual(before)
    const good = await run(["sweep", "--env-prefix", "TAU", "--json"], { env: { TAU_LOG_RETENTION_DIRS: dir, TAU_LOG_RETENTION_MAX_AGE_DAYS: "7" } })
    expect(good.code).toBe(0)
    expect(listing(dir)).toEqual(["notes.txt"])
  })

  it("--env-prefix: TAU_ is read as TAU; a prefix matching no variable while a similar one is set, or a malformed one, exits 2 touching nothing", async () => {
    const { dir, name: day } = datedDir([40])
    const before = snapshot(dir)
    const env = { TAU_LOG_RETENTION_MAX_AGE_DAYS: "5000" }
    for (const prefix of ["TAU_", "TAU"]) {
      const result = await run(["sweep", dir, "--env-prefix", prefix, "--json"], { env })
      expect([prefix, result.code, (JSON.parse(result.stdout) as { deleted: Array<unknown> }).deleted]).toEqual([prefix, 0, []])
    }
    for (const prefix of ["tau", "TAUX"]) {
      const result = await run(["sweep", dir, "--env-prefix", prefix], { env })
      expect([prefix, result.code, result.stdout, result.stderr]).toEqual([prefix, 2, "", expect.stringContaining(
        `--env-prefix "${prefix}": no variable ${prefix}_LOG_RETENTION_… is set (did you mean --env-prefix TAU? set: TAU_LOG_RETENTION_MAX_AGE_DAYS)`)])
    }
    const malformed = await run(["sweep", dir, "--env-prefix", "TA-U"], { env })
    expect([malformed.code, malformed.stderr]).toEqual([2, expect.stringContaining('--env-prefix "TA-U": expected letters, digits and underscores')])
    expect(snapshot(dir)).toEqual(before)
    // append reads LOG_ROTATION_*: the same rule, before the file is created
    const cwd = tempDir()
    const append = await run(["append", "app.jsonl", "--env-prefix", "TAUX"], { cwd, input: "{}\n", env: { TAU_LOG_ROTATION_MAX_BYTES: "1" } })
    expect([append.code, append.stderr]).toEqual([2, expect.stringContaining("did you mean --env-prefix TAU?")])
    expect(listing(cwd)).toEqual([])
    expect(listing(dir)).toContain(day(40))
  })

  it("sweep exits 1 when a directory is missing, says so in one short line on stderr, and still does the rest", async () => {
    const { dir } = datedDir([40])
    const missing = path.join(dir, "no-such-dir")
    const result = await run(["sweep", missing, dir])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`${missing}: no such directory\n`)
    expect(result.stdout).toMatch(/^ {2}failed {5}1$/m)
    expect(listing(dir)).toEqual(["notes.txt"])
  })

  /** The lines of a sweep's stdout, with its duration (the one varying number) as N. */
  const sweepLines = (stdout: string) => stdout.replace(/ in \d+ ms$/m, " in N ms").split("\n").slice(0, -1)

  it("sweep lists what it did, one line per file, then the counts with skipped broken down by reason", async () => {
    const { dir, name: day } = datedDir([0, 3, 10, 40])
    const real = fs.realpathSync(dir)
    const result = await run(["sweep", dir, "--max-age-days", "30", "--compress-age-days", "7"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    const gz = fs.statSync(path.join(dir, `${day(10)}.gz`)).size
    const size = (n: number) => `${(n / 1024).toFixed(1)} KiB`
    const before = Buffer.byteLength('{"day":10}\n'.repeat(100))
    expect(sweepLines(result.stdout)).toEqual([
      `deleted ${path.join(real, day(40))} (40 days old)`,
      `compressed ${path.join(real, day(10))} (${size(before)} -> ${gz} B)`,
      "swept 1 directory in N ms",
      `  compressed 1 (${size(before)} -> ${gz} B)`,
      "  deleted    1",
      "  skipped    3 (1 today, 1 within compress age, 1 not managed)",
      "  failed     0",
      `  freed      ${size(before - gz + Buffer.byteLength('{"day":40}\n'.repeat(100)))}`
    ])
  })

  it("sweep --quiet prints the counts only", async () => {
    const { dir } = datedDir([0, 10, 40])
    const result = await run(["sweep", dir, "--compress-age-days", "7", "--quiet"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    const lines = sweepLines(result.stdout)
    expect(lines[0]).toBe("swept 1 directory in N ms")
    expect(lines.map((l) => l.trim().split(" ")[0])).toEqual(["swept", "compressed", "deleted", "skipped", "failed", "freed"])
  })

  it("sweep --dry-run's summary says what it would do, not \"compressed 0\"", async () => {
    const { dir, name: day } = datedDir([0, 10, 40])
    const real = fs.realpathSync(dir)
    const result = await run(["sweep", dir, "--compress-age-days", "7", "--dry-run"])
    expect([result.code, result.stderr]).toEqual([0, ""])
    expect(sweepLines(result.stdout)).toEqual([
      `would delete   ${path.join(real, day(40))} (40 days old)`,
      `would compress ${path.join(real, day(10))} (10 days old)`,
      "dry run: swept 1 directory in N ms",
      "  would compress 1",
      "  would delete   1",
      "  skipped        2 (1 today, 1 not managed)",
      "  failed         0"
    ])
  })

  // Defect 7: each of these ran (a real sweep, a daemon with the default interval, a config with
  // the flag as a path): the unknown flag became a directory. The directory holds a 40-day-old
  // file that any sweep would delete.
  it.each([
    [["sweep", "<dir>", "--dryrun"], 'unknown option "--dryrun" (did you mean --dry-run?)'],
    [["sweep", "<dir>", "-n"], 'unknown option "-n"'],
    [["sweep", "<dir>", "--max-age", "30"], 'unknown option "--max-age" (did you mean --max-age-days?)'],
    [["watch", "<dir>", "--interval", "60"], 'unknown option "--interval" (did you mean --interval-seconds?)'],
    [["logrotate-config", "<dir>", "--compress-age", "1"], 'unknown option "--compress-age" (did you mean --compress-age-days?)'],
    [["sweep", "<dir>", "--DRY-RUN"], 'unknown option "--DRY-RUN" (did you mean --dry-run?)'],
    [["sweep", "<dir>", "--dry-run", "0"], 'option "--dry-run" is followed by "0"'],
    [["sweep", "<dir>", "--max-age-days", "90", "--max-age-days", "5"], 'option "--max-age-days" is given more than once'],
    [["watch", "--", "<dir>", "--log-level=info"], '"--log-level=info" after "--" would still be read as a built-in option']
  ] as const)("%j is a usage error: exit 2, naming it and the accepted options, the directory untouched", async (args, complaint) => {
    const { dir } = datedDir([10, 40])
    const before = snapshot(dir)
    const command = args[0]
    const result = await run(args.map((a) => a === "<dir>" ? dir : a), { timeout: 30_000 })
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" })
    expect(result.stderr).toContain(`effect-logrotate: ${command}: ${complaint}`)
    expect(result.stderr).toContain(`options of ${command}: --max-age-days DAYS, --compress-age-days DAYS`)
    expect(result.stderr).toContain(`goes after "--": effect-logrotate ${command} [options] -- <dir>...`)
    expect(snapshot(dir)).toEqual(before)
  })

  it("append: an empty <file> or a directory is a usage error (exit 2) naming the path; nothing is created", async () => {
    const cwd = tempDir()
    fs.mkdirSync(path.join(cwd, "c"))
    fs.symlinkSync("c", path.join(cwd, "link"))
    for (const [file, message] of [
      ["c", 'append: "c" is a directory; expected the active file\'s path, e.g. "c/app.jsonl"'],
      ["c/", 'append: "c/" is a directory; expected the active file\'s path, e.g. "c/app.jsonl"'],
      ["link", 'append: "link" is a directory'],
      [cwd, `append: ${JSON.stringify(cwd)} is a directory`],
      ["", "append: <file> is empty or blank; expected the active file's path, e.g. logs/app.jsonl"]
    ] as const) {
      const result = await run(["append", file], { cwd, input: "{}\n" })
      expect([file, result.code, result.stderr]).toEqual([file, 2, expect.stringContaining(message)])
    }
    expect(listing(cwd)).toEqual(["c", "link"])
    expect(listing(path.join(cwd, "c"))).toEqual([])
  })

  it("append: an unknown option is a usage error before stdin is read; no file is created", async () => {
    const cwd = tempDir()
    const result = await run(["append", "a.jsonl", "--maxbytes", "1KiB"], { cwd, input: '{"a":1}\n' })
    expect([result.code, result.stderr]).toEqual([2, expect.stringContaining('append: unknown option "--maxbytes" (did you mean --max-bytes?)')])
    expect(result.stderr).toContain("options of append: --max-bytes SIZE, --max-files N")
    expect(listing(cwd)).toEqual([])
  })

  it("a directory whose name starts with - is given after --, and is swept", async () => {
    const parent = tempDir()
    fs.mkdirSync(path.join(parent, "-x"))
    const { name: day } = datedDir([10, 40], path.join(parent, "-x"))
    const dry = await run(["sweep", "--dry-run", "--", "-x"], { cwd: parent })
    expect([dry.code, dry.stdout]).toEqual([0, expect.stringContaining(`would delete   ${path.join(parent, "-x", day(40))}`)])
    const real = await run(["sweep", "--json", "--", "-x"], { cwd: parent })
    expect([real.code, real.stderr]).toEqual([0, ""])
    expect((JSON.parse(real.stdout) as { dirs: Array<string> }).dirs).toEqual([path.join(fs.realpathSync(parent), "-x")])
    expect(listing(path.join(parent, "-x"))).toEqual([day(10), "notes.txt"])
  })

  it("built-in options are never taken as directories, wherever they stand", async () => {
    const { dir, name: day } = datedDir([10, 40])
    const before = snapshot(dir)
    // @effect/cli looked for its built-ins only while the argument in front was not another option
    const help = await run(["sweep", "--dry-run", dir, "--help"])
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining("--dry-run")])
    expect(snapshot(dir)).toEqual(before)
    const logLevel = await run(["sweep", "--max-age-days", "30", "--log-level", "warning", dir, "--json"])
    expect([logLevel.code, logLevel.stderr]).toEqual([0, ""])
    expect((JSON.parse(logLevel.stdout) as { dirs: Array<string> }).dirs).toEqual([fs.realpathSync(dir)])
    expect(listing(dir)).toEqual([day(10), "notes.txt"])
  })

  it("a built-in that takes no value, given one (--help=false, --version=0, --wizard=no), is a usage error: the dry run never becomes a sweep", async () => {
    const { dir } = datedDir([40])
    const before = snapshot(dir)
    for (const args of [["sweep", dir, "--dry-run", "--help=false"], ["sweep", "--dry-run", dir, "--version=0"],
      ["--wizard=no", "sweep", dir, "--dry-run"], ["sweep", dir, "--dry-run", "--help=no", "--max-age-days", "30"]]) {
      const result = await run(args)
      const option = args.find((a) => /^--(help|version|wizard)=/.test(a))!
      expect([args, result.code, result.stdout, result.stderr.split("\n")[0]]).toEqual([args, 2, "",
        expect.stringContaining(`option "${option}": ${option.slice(0, option.indexOf("="))} takes no value`)])
      expect(snapshot(dir)).toEqual(before)
    }
    // the built-ins that take a value keep both spellings
    const logLevel = await run(["sweep", dir, "--dry-run", "--log-level=warning"])
    expect(logLevel.code).toBe(0)
    expect(snapshot(dir)).toEqual(before)
  })

  it("--su with an id out of range or a name that does not exist exits 2 before anything runs, naming the value and the accepted form", async () => {
    const { dir } = datedDir([40])
    const before = snapshot(dir)
    for (const [su, reason] of [["99999999999:0", "uid 99999999999 is out of range"], ["4294967295:4294967295", "uid 4294967295 is out of range"],
      ["nosuchuser-xyz:nosuchgroup-xyz", 'no "nosuchuser-xyz" in /etc/passwd']]) {
      for (const args of [["sweep", dir, "--su", su!], ["sweep", dir, "--su", su!, "--dry-run"]]) {
        const result = await run(args)
        expect([args, result.code, result.stdout, result.stderr]).toEqual([args, 2, "", expect.stringContaining(`"${su}": ${reason}`)])
        expect(result.stderr).toContain("numeric ids 0..4294967294")
        expect(snapshot(dir)).toEqual(before)
      }
    }
    // watch refused it at start, instead of warning every interval
    const watch = await run(["watch", dir, "--su", "nosuchuser-xyz:nosuchgroup-xyz"], { timeout: 20_000 })
    expect([watch.code, watch.stderr]).toEqual([2, expect.stringContaining('no "nosuchuser-xyz" in /etc/passwd')])
    expect(snapshot(dir)).toEqual(before)
  })

  it("watch: an interval above 2147483 seconds (the longest timer) exits 2 naming the flag or variable and the maximum", async () => {
    const { dir } = datedDir([40])
    const before = snapshot(dir)
    const flag = await run(["watch", dir, "--interval-seconds", "2147484"], { timeout: 20_000 })
    expect([flag.code, flag.stderr]).toEqual([2, expect.stringContaining('--interval-seconds="2147484" is invalid: expected a whole number from 1 to 2147483')])
    const variable = await run(["watch", dir], { env: { LOG_RETENTION_CHECK_INTERVAL_SECONDS: "99999999999" }, timeout: 20_000 })
    expect([variable.code, variable.stderr]).toEqual([2,
      expect.stringContaining('LOG_RETENTION_CHECK_INTERVAL_SECONDS="99999999999" is invalid: expected a whole number from 1 to 2147483')])
    expect(snapshot(dir)).toEqual(before)
  })

  it("sweep and watch without any directory are usage errors (exit 2)", async () => {
    for (const command of ["sweep", "watch"]) {
      const result = await run([command])
      expect([command, result.code, result.stderr]).toEqual([command, 2, expect.stringContaining("LOG_RETENTION_DIRS")])
    }
  })

  it("watch sweeps at start, then exits 0 on SIGTERM leaving no partial file", async () => {
    const { dir, name: day } = datedDir([0, 10, 40])
    const { code, stderr } = await watchFirstSweep([dir, "--compress-age-days", "7", "--interval-seconds", "1"])
    expect(code).toBe(0)
    expect(listing(dir)).toEqual([day(0), `${day(10)}.gz`, "notes.txt"].sort())
    expect(listing(dir).some((n) => n.endsWith(".tmp"))).toBe(false)
  })

  // Skipped (and reported as skipped) only outside CI when logrotate is not installed.
  it.runIf(logrotate !== undefined || inCI)("logrotate-config is accepted by the real logrotate (logrotate -d), which picks the undated file only", async () => {
    if (logrotate === undefined) expect.fail("logrotate is not installed (apt-get install logrotate); CI must run this test")
    const { dir, name: day } = datedDir([3])
    fs.writeFileSync(path.join(dir, "app.ndjson"), "{}\n")
    const result = await run(["logrotate-config", dir, "--max-age-days", "30", "--compress-age-days", "1"])
    expect(result.code).toBe(0)
    for (const directive of ["daily", "dateext", "dateformat -%Y-%m-%d", "dateyesterday", "extension .ndjson", "rotate 30", "maxage 30", "compress", "delaycompress", "missingok", "notifempty"]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${directive}$`, "m"))
    }
    const conf = path.join(tempDir(), "effect-logrotate.conf")
    fs.writeFileSync(conf, result.stdout)
    const debug = spawnSync(logrotate, ["-d", "-s", path.join(path.dirname(conf), "state"), conf], { encoding: "utf8" })
    expect([debug.status, debug.stderr + debug.stdout]).toEqual([0, expect.stringContaining(`considering log ${path.join(dir, "app.ndjson")}`)])
    expect(debug.stderr + debug.stdout).not.toContain(`considering log ${path.join(dir, day(3))}`)
    expect(debug.stderr + debug.stdout).not.toMatch(/error/i)
  })
})
