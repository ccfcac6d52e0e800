/**
 * Ours, CLI sidecar: `node dist/bin.js append <dir>/app.log` fed by a pipe. When dist/ is not
 * built it runs src/bin as transpiled by run.ts (bench/.out/src/bin.js), else src/bin.ts under tsx;
 * the row's note says which.
 * Policy via LOG_ROTATION_MAX_BYTES / LOG_ROTATION_MAX_FILES in the CLI's environment.
 *
 * The producer (this process) writes 1000 lines per pipe write, awaiting 'drain', so the
 * measurement is the CLI's throughput, not the producer's per-line write syscalls.
 * Clock: starts once the CLI has created the log file (its start-up excluded; after 5 s
 * without the file it starts anyway), stops when the CLI exits 0 (flushed and closed).
 * RSS: the CLI's peak (VmHWM polled from /proc/<pid>/status every 50 ms, Linux only; a lower bound).
 *
 * TODO(lead): adjust the command/flags to the CLI as built.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"
import { type ContenderOptions, lineGenerator, type RunInfo } from "../lines.js"

const BATCH = 1000

const vmHwmKiB = (pid: number | undefined): number | undefined => {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

export const run = async (opts: ContenderOptions): Promise<RunInfo> => {
  const line = lineGenerator(opts.lineBytes)
  const file = join(opts.dir, "app.log")
  const dist = join(opts.root, "dist", "bin.js")
  const transpiled = fileURLToPath(new URL("../../src/bin.js", import.meta.url))
  const src = join(opts.root, "src", "bin.ts")
  const [entry, note] = existsSync(dist)
    ? [[dist], "dist/bin.js"]
    : existsSync(transpiled)
    ? [[transpiled], "src/bin.ts transpiled (dist not built)"]
    : existsSync(src)
    ? [["--import", "tsx", src], "src/bin.ts under tsx (dist not built)"]
    : [[], ""]
  if (!note) throw new Error("no CLI: neither dist/bin.js nor src/bin.ts exists")
  const args = [...entry, "append", file]
  const cli: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.root,
    stdio: ["pipe", "ignore", "pipe"],
    env: { ...process.env, LOG_ROTATION_MAX_BYTES: String(opts.maxBytes), LOG_ROTATION_MAX_FILES: String(opts.maxFiles) }
  })
  let stderr = ""
  cli.stderr!.on("data", (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000) })
  const exited = once(cli, "exit") as Promise<[number | null, NodeJS.Signals | null]>
  let peak = 0
  const poll = setInterval(() => { peak = Math.max(peak, vmHwmKiB(cli.pid) ?? 0) }, 50)
  let dead = false
  void exited.then(() => { dead = true })
  try {
    for (let waited = 0; waited < 5000 && !existsSync(file) && !dead; waited += 5) await sleep(5)
    opts.startClock()
    const stdin = cli.stdin!
    stdin.on("error", () => {}) // EPIPE if the CLI dies; reported through its exit code below
    for (let i = 0; i < opts.lines && !dead; i += BATCH) {
      let chunk = ""
      const n = Math.min(BATCH, opts.lines - i)
      for (let j = 0; j < n; j++) chunk += line(i + j) + "\n"
      if (!stdin.write(chunk)) await Promise.race([once(stdin, "drain"), exited])
    }
    stdin.end()
    peak = Math.max(peak, vmHwmKiB(cli.pid) ?? 0)
    const [code, signal] = await exited
    if (code !== 0) throw new Error(`CLI exited with ${code ?? signal}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`)
  } finally {
    clearInterval(poll)
    if (!dead) cli.kill()
  }
  return {
    ...(peak > 0 ? { workerMaxRssKiB: peak } : {}),
    note
  }
}
