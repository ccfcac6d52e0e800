/**
 * The CLI as a process, for the test files that spawn it: `dist/bin.js` (npm test builds first),
 * run by this Node in a real temp dir, with no LOG_* variable of the machine running the tests.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"

export const bin = path.resolve(import.meta.dirname, "../../dist/bin.js")

/**
 * A maker of temp dirs named `<prefix>…`, all removed after the test file: the tests run
 * concurrently, so a test's directories are never removed while another may still use its own.
 */
export const tempDirs = (prefix: string): (() => string) => {
  const dirs: Array<string> = []
  afterAll(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  })
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
    dirs.push(dir)
    return dir
  }
}

/** The environment without any LOG_* variable of the machine running the tests, plus `extra`. */
export const cleanEnv = (extra: Record<string, string> = {}) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.includes("LOG_ROTATION") && !k.includes("LOG_RETENTION"))),
  ...extra
})

export interface RunOptions {
  readonly input?: string | Buffer
  readonly env?: Record<string, string>
  readonly cwd?: string
  readonly timeout?: number
}

/** Runs the CLI to its end (killed after `timeout`, default 60 s): its exit code, stdout and stderr. */
export const runner = (tempDir: () => string) => (args: ReadonlyArray<string>, options: RunOptions = {}) => {
  // Asynchronous: a spawnSync would block the test worker's event loop for seconds at a time.
  const child = spawn(process.execPath, [bin, ...args], {
    env: cleanEnv(options.env), cwd: options.cwd ?? tempDir(), stdio: ["pipe", "pipe", "pipe"], timeout: options.timeout ?? 60_000,
    killSignal: "SIGKILL"
  })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  child.stdin.on("error", () => {}) // a usage error exits before reading stdin
  child.stdin.end(options.input ?? "")
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * Runs `effect-logrotate watch …args` until its first sweep has finished (its log line on
 * stderr, at most `waitMs`), then stops it with SIGTERM (the node process itself): its exit
 * code and stderr.
 */
export const watchFirstSweep = async (args: ReadonlyArray<string>, waitMs = 20_000) => {
  const child = spawn(process.execPath, [bin, "watch", ...args], { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  child.stderr.on("data", (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline && !stderr.includes("sweep finished") && child.exitCode === null) await new Promise((r) => setTimeout(r, 50))
  child.kill("SIGTERM")
  return { code: await exited, stderr }
}
