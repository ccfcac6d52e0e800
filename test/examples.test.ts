/**
 * The shipped examples, checked as a user meets them:
 * - examples/systemd/*: `systemd-analyze verify` accepts the units without a warning (their
 *   binaries pointed at a stub, since verify requires an executable), `systemd-analyze security`
 *   rates the two effect-logrotate units 1.0 or safer, and the pipe's names agree across units.
 *   Skipped only outside CI where systemd-analyze is not installed (apt-get install systemd).
 * - examples/kubernetes/*.yaml: parsed with the YAML parser @effect/cli already depends on (no
 *   extra dependency), then checked as a structure: limits, security context, the shared volume,
 *   native sidecars, one pipe path.
 * - every `effect-logrotate` command line in the examples uses only options its `--help` lists.
 * - the demo (`npm start`, examples/host-service.ts) run twice in one temp directory: the first
 *   screen shows the limits, the first run seeds and sweeps (a `.gz` listed), the second says it
 *   found an earlier run and seeds nothing, and no sweep fails; rotations are printed from the
 *   appenders' `Rotated` events, agreeing with the backups on disk.
 * - examples/snippets/*.ts: each public module's `@example`, as `scripts/snippets.mjs` copies it
 *   from the module comment (tsc --noEmit typechecks them); here, that they are up to date and
 *   that no public module lacks an example or a `@since`.
 * The CLI checks spawn dist/bin.js: `npm run build` first.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const bin = path.join(root, "dist/bin.js")
const systemdDir = path.join(root, "examples/systemd")
const kubernetesFile = path.join(root, "examples/kubernetes/relay-with-log-sidecars.yaml")

/** CI runs every test: there, a missing systemd-analyze is a failure, not a skip (.ci/run installs it). */
const inCI = (process.env.CI ?? "") !== "" && process.env.CI !== "false" && process.env.CI !== "0"
const systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => fs.existsSync(p))
if (systemdAnalyze === undefined && !inCI) {
  console.warn("test/examples.test.ts: systemd-analyze is not installed; the systemd unit verification is skipped")
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "examples-test-"))
const unitFiles = () => fs.readdirSync(systemdDir).filter((n) => /\.(service|socket)$/.test(n)).sort()
const unit = (name: string) => fs.readFileSync(path.join(systemdDir, name), "utf8")
/** Every value of `key=` in a unit file, comments excluded. */
const values = (text: string, key: string) =>
  text.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1))

/** The YAML parser that @effect/cli depends on, resolved from there (this package declares none). */
interface YamlDocument { readonly errors: ReadonlyArray<unknown>; readonly warnings: ReadonlyArray<unknown>; toJS(): unknown }
const Yaml = createRequire(createRequire(import.meta.url).resolve("@effect/cli"))("yaml") as {
  parseAllDocuments(text: string): ReadonlyArray<YamlDocument>
}

interface Container {
  readonly name: string
  readonly image: string
  readonly restartPolicy?: string
  readonly command?: ReadonlyArray<string>
  readonly args?: ReadonlyArray<string>
  readonly volumeMounts?: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
  readonly resources?: { readonly requests?: Record<string, string>; readonly limits?: Record<string, string> }
  readonly securityContext?: {
    readonly allowPrivilegeEscalation?: boolean
    readonly readOnlyRootFilesystem?: boolean
    readonly capabilities?: { readonly drop?: ReadonlyArray<string> }
  }
}
interface Deployment {
  readonly apiVersion: string
  readonly kind: string
  readonly spec: {
    readonly template: {
      readonly spec: {
        readonly securityContext: { readonly runAsNonRoot?: boolean; readonly seccompProfile?: { readonly type: string } }
        readonly volumes: ReadonlyArray<{ readonly name: string; readonly emptyDir?: { readonly sizeLimit?: string } }>
        readonly initContainers: ReadonlyArray<Container>
        readonly containers: ReadonlyArray<Container>
      }
    }
  }
}
const deployment = (): Deployment => {
  const docs = Yaml.parseAllDocuments(fs.readFileSync(kubernetesFile, "utf8"))
  expect(docs.length).toBe(1)
  expect([docs[0]!.errors, docs[0]!.warnings]).toEqual([[], []])
  return docs[0]!.toJS() as Deployment
}

/** The `effect-logrotate <command> …` invocations in a text, as [command, options used]. */
const invocations = (text: string): ReadonlyArray<readonly [string, ReadonlyArray<string>]> =>
  [...text.matchAll(/effect-logrotate\s+(append|sweep|watch|logrotate-config)\b([^\n"\]]*)/g)].map((m) =>
    [m[1]!, [...m[2]!.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((o) => o[1]!)] as const)

const helpOf = (command: string) => {
  const result = spawnSync(process.execPath, [bin, command, "--help"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
  expect([command, result.status]).toEqual([command, 0])
  return result.stdout
}

describe("examples/systemd", () => {
  it("the pipe's FIFO has one name: the socket's FileDescriptorName is what relay writes and relay-log reads", () => {
    const socket = unit("relay-log.socket")
    const [name] = values(socket, "FileDescriptorName")
    expect(name).toBe("relay-log")
    expect(values(socket, "SocketMode")).toEqual(["0600"])
    expect(values(unit("relay.service"), "StandardOutput")).toEqual([`fd:${name}`])
    expect(values(unit("relay-log.service"), "StandardInput")).toEqual([`fd:${name}`])
    for (const service of ["relay.service", "relay-log.service"]) {
      expect([service, values(unit(service), "Sockets")]).toEqual([service, ["relay-log.socket"]])
    }
    expect(values(socket, "Service")).toEqual(["relay-log.service"])
  })

  it("the effect-logrotate units are hardened: own user, one writable path, no privileges, restarted, stopped by SIGTERM", () => {
    for (const [service, user] of [["effect-logrotate-watch.service", "User"], ["relay-log.service", "DynamicUser"]] as const) {
      const text = unit(service)
      const facts = {
        service,
        user: values(text, user).length,
        writable: values(text, "ReadWritePaths").length,
        protectSystem: values(text, "ProtectSystem"),
        noNewPrivileges: values(text, "NoNewPrivileges"),
        capabilities: values(text, "CapabilityBoundingSet"),
        kill: values(text, "KillSignal"),
        restart: values(text, "Restart").length,
        preventRestartOnUsageError: values(text, "RestartPreventExitStatus")
      }
      expect(facts).toEqual({
        service, user: 1, writable: 1, protectSystem: ["strict"], noNewPrivileges: ["yes"], capabilities: [""],
        kill: ["SIGTERM"], restart: 1, preventRestartOnUsageError: ["2"]
      })
    }
  })

  // Skipped (and reported as skipped) only outside CI when systemd-analyze is not installed.
  it.runIf(systemdAnalyze !== undefined || inCI)(
    "systemd-analyze verify accepts every unit without a warning, and security rates the effect-logrotate units <= 1.0",
    () => {
      if (systemdAnalyze === undefined) expect.fail("systemd-analyze is not installed (apt-get install systemd); CI must run this test")
      // verify requires each ExecStart binary to exist: point them at a stub, as installed they are /usr/local/bin/….
      const dir = tempDir()
      const stub = path.join(dir, "stub")
      fs.writeFileSync(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 })
      const names = unitFiles()
      expect(names).toEqual(["effect-logrotate-watch.service", "relay-log.service", "relay-log.socket", "relay.service"])
      for (const name of names) {
        const text = unit(name).replace(/^(ExecStart=)\/usr\/local\/bin\/(effect-logrotate|relay)\b/gm, `$1${stub}`)
        fs.writeFileSync(path.join(dir, name), text)
      }
      const files = names.map((n) => path.join(dir, n))
      const verify = spawnSync(systemdAnalyze, ["verify", "--man=no", "--generators=no", ...files], { encoding: "utf8", cwd: dir })
      expect([verify.status, verify.stderr + verify.stdout]).toEqual([0, ""])
      for (const name of ["effect-logrotate-watch.service", "relay-log.service"]) {
        // --threshold counts tenths of the exposure level: 10 = 1.0.
        const security = spawnSync(systemdAnalyze, ["security", "--offline=yes", "--threshold=10", "--no-pager", path.join(dir, name)], { encoding: "utf8", cwd: dir })
        expect([name, security.status, security.stdout.match(/Overall exposure level.*/)?.[0]]).toEqual(
          [name, 0, expect.stringMatching(/: (0\.\d|1\.0) /)])
      }
    }
  )
})

describe("examples/kubernetes", () => {
  it("relay runs with two native sidecars on one emptyDir; every container is limited and unprivileged", () => {
    const spec = deployment().spec.template.spec
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } })
    expect(spec.volumes).toEqual([{ name: "logs", emptyDir: { sizeLimit: expect.any(String) } }])
    const all = [...spec.initContainers, ...spec.containers]
    expect(all.map((c) => c.name)).toEqual(["make-pipe", "log-writer", "retention", "relay"])
    for (const c of all) {
      expect({
        name: c.name,
        mounts: c.volumeMounts,
        limits: Object.keys(c.resources?.limits ?? {}).sort(),
        requests: Object.keys(c.resources?.requests ?? {}).sort(),
        securityContext: c.securityContext
      }).toEqual({
        name: c.name,
        mounts: [{ name: "logs", mountPath: "/var/log/relay" }],
        limits: ["cpu", "memory"],
        requests: ["cpu", "memory"],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } }
      })
    }
    // Native sidecars: started before relay, stopped after it.
    expect(spec.initContainers.map((c) => [c.name, c.restartPolicy])).toEqual(
      [["make-pipe", undefined], ["log-writer", "Always"], ["retention", "Always"]])
  })

  it("the named pipe is one path: made by make-pipe, read (and held open) by log-writer, written by relay", () => {
    const spec = deployment().spec.template.spec
    const script = (name: string) => [...spec.initContainers, ...spec.containers].find((c) => c.name === name)?.command?.join(" ") ?? ""
    const pipe = "/var/log/relay/stdout.pipe"
    expect(script("make-pipe")).toContain(`mkfifo -m 0600 ${pipe}`)
    expect(script("log-writer")).toMatch(new RegExp(`^sh -c exec effect-logrotate append /var/log/relay/\\S+ .* 0<>${pipe}$`))
    expect(script("relay")).toMatch(new RegExp(`^sh -c exec relay 1<>${pipe}$`))
    expect(spec.initContainers.find((c) => c.name === "retention")?.args?.slice(0, 2)).toEqual(["watch", "/var/log/relay"])
  })
})

describe("the examples' command lines", { timeout: 60_000 }, () => {
  it("use only options that `effect-logrotate <command> --help` lists", () => {
    const texts = [
      ...unitFiles().map(unit),
      fs.readFileSync(kubernetesFile, "utf8").replace(/args: \[([^\]]*)\]/g, (_, list: string) =>
        `effect-logrotate ${list.replace(/"/g, "").replace(/,/g, "")}`)
    ]
    const used = new Map<string, Set<string>>()
    for (const [command, options] of texts.flatMap(invocations)) {
      const set = used.get(command) ?? new Set<string>()
      for (const option of options) set.add(option)
      used.set(command, set)
    }
    expect([...used.keys()].sort()).toEqual(["append", "watch"])
    for (const [command, options] of used) {
      const help = helpOf(command)
      expect([command, [...options].filter((o) => !help.includes(o))]).toEqual([command, []])
      expect(options.size).toBeGreaterThan(1)
    }
  })
})

// ---------------------------------------------------------------------------------------
// The demo, run as `npm start` runs it (tsx), bounded by HOST_SERVICE_SECONDS.

const runDemo = (cwd: string, seconds: number) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs")
    const child = spawn(process.execPath, [tsx, path.join(root, "examples/host-service.ts")], {
      cwd, env: { ...process.env, HOST_SERVICE_SECONDS: String(seconds), NO_COLOR: "1" }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

describe("the demo (npm start)", { timeout: 180_000 }, () => {
  it("prints its limits first, seeds and sweeps a new ./logs (a .gz listed), and on a second run seeds nothing and says why", async () => {
    const cwd = tempDir()
    const first = await runDemo(cwd, 2)
    expect([first.code, first.stderr]).toEqual([0, ""])
    const lines = first.stdout.split("\n")
    // The first screen: the limits in use, as the Layers are built with them.
    expect(lines.slice(0, 8)).toEqual([
      "host-service writing to ./logs; stopping after 2 s",
      "limits (tiny on purpose, so rotation and retention show within seconds):",
      "  heartbeat.jsonl, telemetry.jsonl  rotate at 4 KiB, keep 3 backups",
      "  jobs.jsonl                        rotate at 4 KiB, keep 3 backups",
      "  audit.jsonl                       rotate at 2 KiB, keep 5 backups",
      "  host.jsonl (every Effect.log*)    rotate at 4 KiB, keep 3 backups",
      "  events-YYYY-MM-DD.ndjson          gzip after 7 days, delete after 30 days; sweep at start, then every 5 s",
      "each second: file size+N, where +N counts its rotated backups"
    ])
    const seeded = lines.filter((l) => l.startsWith("seeded logs/"))
    expect(seeded).toEqual([
      expect.stringMatching(/^seeded logs\/events-\d{4}-\d\d-\d\d\.ndjson \(40 days old\)$/),
      expect.stringMatching(/^seeded logs\/events-\d{4}-\d\d-\d\d\.ndjson \(10 days old\)$/)
    ])
    const [old, recent] = seeded.map((l) => l.split(" ")[1]!.slice("logs/".length))
    const sweeps = lines.filter((l) => l.startsWith("[sweep]"))
    expect(sweeps[0]).toMatch(new RegExp(`compressed ${recent!.replace(/\./g, "\\.")} .* deleted ${old!.replace(/\./g, "\\.")} .*older-than-max-age\\) 0 failed`))
    // The .gz shows in the status lines after the sweep and in the final listing.
    expect(lines.some((l) => /^\[\s*\d+s\] /.test(l) && l.includes(`${recent}.gz `))).toBe(true)
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ${recent!.replace(/\./g, "\\.")}\\.gz +\\d+ B  gzipped by a sweep$`)))
    const onDisk = fs.readdirSync(path.join(cwd, "logs"))
    expect(onDisk).toContain(`${recent}.gz`)
    expect(onDisk).not.toContain(recent)
    expect(onDisk).not.toContain(old)

    const second = await runDemo(cwd, 1)
    expect([second.code, second.stderr]).toEqual([0, ""])
    const again = second.stdout.split("\n")
    expect(again.filter((l) => l.startsWith("seeded "))).toEqual([])
    expect(again).toContainEqual(expect.stringMatching(new RegExp(
      `^\\./logs has \\d+ files from an earlier run \\(${recent!.replace(/\./g, "\\.")}\\.gz gzipped by its sweep\\): not seeding the old sample files again; rm -rf logs to see`)))
    const sweepsAgain = again.filter((l) => l.startsWith("[sweep]"))
    expect(sweepsAgain.length).toBeGreaterThan(0)
    for (const sweep of sweepsAgain) expect(sweep).toMatch(/nothing to do 0 failed/)
    // `+N` is explained under the first status line that shows one, in each run; the runs write
    // 4 KiB files for 3 s in all, so at least one of them shows a backup.
    const explained = (output: ReadonlyArray<string>) => {
      const at = output.findIndex((l) => /^\[\s*\d+s\] .*\+\d/.test(l))
      if (at === -1) return false
      expect(output[at + 1]).toMatch(/^ {7}\(\w+ …\+(\d+): \w+\.jsonl has \1 rotated backups? beside it, .*; at most \d+ are kept, the oldest is deleted\)$/)
      return true
    }
    expect([explained(lines), explained(again)]).toContain(true)
    // Rotations are printed from the appenders' Rotated events (no polling): each names the active file, the
    // size it had and its new name. In the first run (./logs was empty) a file cannot have more backups
    // printed (rotated minus removed) than it has on disk at the end (a rotation in the final flush is not printed).
    const rotations = (output: ReadonlyArray<string>) => output.filter((l) => l.startsWith("       rotated "))
    for (const line of [...rotations(lines), ...rotations(again)]) {
      expect(line).toMatch(/^ {7}rotated (\w+\.jsonl) \(\d+\.\dK\) -> \1\.1$/)
    }
    expect(rotations(lines).length + rotations(again).length).toBeGreaterThan(0)
    const finalBackups = (active: string) => lines.filter((l) => l.startsWith(`  ${active}.`) && l.endsWith("rotated backup")).length
    for (const active of ["heartbeat.jsonl", "jobs.jsonl", "audit.jsonl", "telemetry.jsonl", "host.jsonl"]) {
      const printed = rotations(lines).filter((l) => l.startsWith(`       rotated ${active} `)).length -
        lines.filter((l) => l.startsWith(`       removed ${active}.`)).length
      expect([active, printed <= finalBackups(active)]).toEqual([active, true])
    }
  })
})

describe("examples/snippets", () => {
  it("every public module's comment has an @example and a @since, and examples/snippets/ holds exactly those examples as they are written there", () => {
    const result = spawnSync(process.execPath, [path.join(root, "scripts/snippets.mjs"), "--check"], { encoding: "utf8" })
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
  })
})
