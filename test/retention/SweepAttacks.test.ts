/**
 * Issue 9, defects 4 and 5, on the real file system as root, with a second user (`nobody`,
 * uid 65534, through `setpriv`) who can write the swept directory. Run only as root (CI is).
 *
 * The races are made deterministic: the second user's swap runs (as a real `setpriv` process)
 * from a hook at the exact call the attack targets. The last test is a real race between two
 * processes: the CLI sweeping as root and the second user swapping files in a loop; its
 * assertions hold whatever the interleaving.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as nfs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as zlib from "node:zlib"
import * as Compressor from "../../src/retention/Compressor.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { dated, Instrumented, ndjson, nodeBase, retentionLayer } from "../support/retention.js"

const isRoot = process.getuid?.() === 0
const NOBODY = 65534
const TODAY = new Date("2026-03-15T12:00:00Z")
const policy = { maxAgeDays: 30, compressAgeDays: 7 }
const aged = (age: number, ext = ".ndjson", prefix = "app") => dated(prefix, TODAY, age, ext)
const bin = path.resolve(import.meta.dirname, "../../dist/bin.js")

/** Runs `script` (sh, with $1… = args) as nobody; fails the test if it fails. */
const asNobody = (script: string, ...args: ReadonlyArray<string>) => {
  const r = spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-c", script, "sh", ...args])
  if (r.status !== 0) throw new Error(`as nobody: ${script}: ${r.stderr}`)
}
const swapForSymlink = 'rm -f "$1" && ln -s "$2" "$1"'

/**
 * A root-owned 0755 parent (so nobody can reach inside), holding `logs/` owned by nobody
 * (0755: not insecure by logrotate's rule, yet nobody can swap its files), and root's
 * private `victim` (0600) outside it.
 */
const arena = () => {
  const root = nfs.mkdtempSync(path.join(os.tmpdir(), "sweep-attack-"))
  nfs.chmodSync(root, 0o755)
  const logs = path.join(root, "logs")
  nfs.mkdirSync(logs, { mode: 0o755 })
  nfs.chownSync(logs, NOBODY, NOBODY)
  const victim = path.join(root, "victim")
  nfs.writeFileSync(victim, "SECRET: root's private bytes\n", { mode: 0o600 })
  const old = new Date("2020-01-01T00:00:00Z")
  nfs.utimesSync(victim, old, old)
  /** A file in logs/ owned by nobody. */
  const put = (name: string, bytes: Uint8Array, mode = 0o644) => {
    const p = path.join(logs, name)
    nfs.writeFileSync(p, bytes, { mode })
    nfs.chmodSync(p, mode)
    nfs.chownSync(p, NOBODY, NOBODY)
    return p
  }
  return { root, logs, victim, put, cleanup: () => nfs.rmSync(root, { recursive: true, force: true }) }
}

const expectVictimUntouched = (victim: string) => {
  const st = nfs.statSync(victim)
  expect([st.uid, st.mode & 0o7777, st.mtime.toISOString()]).toEqual([0, 0o600, "2020-01-01T00:00:00.000Z"])
  expect(nfs.readFileSync(victim, "utf8")).toBe("SECRET: root's private bytes\n")
}

/** Every `.gz` that is a regular file in `dir` gunzips to exactly `originals[name]`; none holds the secret. */
const expectOnlyHonestArchives = (dir: string, originals: Record<string, Uint8Array>) => {
  for (const name of nfs.readdirSync(dir)) {
    const p = path.join(dir, name)
    if (!name.endsWith(".gz") || !nfs.lstatSync(p).isFile()) continue
    const content = zlib.gunzipSync(nfs.readFileSync(p))
    expect(content.includes("SECRET")).toBe(false)
    expect(Buffer.compare(content, Buffer.from(originals[name.slice(0, -3)]!))).toBe(0)
  }
}

const layer = () => retentionLayer(nodeBase)
type Env = FileSystem.FileSystem | Instrumented | Compressor.Compressor | Sweeper.Sweeper

describe.runIf(isRoot)("sweeping as root a directory nobody can write (issue 9)", () => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) =>
    Effect.zipRight(TestClock.setTime(TODAY.getTime()), self).pipe(Effect.provide(layer()))

  it.effect("attack a: nobody swaps the .gz.tmp for a symlink to root's file mid-compression; the file's mode and times stay, nothing is published", () => {
    const a = arena()
    return run(Effect.gen(function* () {
      const tools = yield* Instrumented
      const bytes = ndjson(300_000)
      const original = a.put(aged(8), bytes, 0o666)
      let attacked = 0
      tools.hook("chmod", /\.gz\.tmp$/, () => Effect.sync(() => {
        if (attacked++ === 0) asNobody(swapForSymlink, `${original}.gz.tmp`, a.victim)
      }))
      const error = yield* Effect.flip(Compressor.gzipFile(original))
      expect(attacked).toBe(1)
      expect(error.step).toBe("publish")
      expectVictimUntouched(a.victim)
      expect(nfs.existsSync(`${original}.gz`)).toBe(false)
      expect(Buffer.compare(nfs.readFileSync(original), Buffer.from(bytes))).toBe(0)
    })).pipe(Effect.ensuring(Effect.sync(a.cleanup)))
  })

  it.effect("attack b: nobody swaps the original for a symlink to root's file after the probe; it is not read into a .gz", () => {
    const a = arena()
    return run(Effect.gen(function* () {
      const tools = yield* Instrumented
      const original = a.put(aged(8), ndjson(5000))
      let attacked = 0
      tools.hook("open", new RegExp(`${aged(8)}$`), () => Effect.sync(() => {
        if (attacked++ === 0) asNobody(swapForSymlink, original, a.victim)
      }))
      const report = yield* Sweeper.sweep([a.logs], policy)
      expect(attacked).toBe(1)
      expect(report.compressed).toEqual([])
      expect(report.failed.map((f) => [f.path, f.operation])).toEqual([[original, "compress"]])
      expect(nfs.readdirSync(a.logs)).toEqual([aged(8)])
      expect(nfs.readlinkSync(original)).toBe(a.victim)
      expectVictimUntouched(a.victim)
    })).pipe(Effect.ensuring(Effect.sync(a.cleanup)))
  })

  it.effect("the .gz of nobody's file is nobody's, with the original's mode (as gzip does)", () => {
    const a = arena()
    return run(Effect.gen(function* () {
      const original = a.put(aged(8), ndjson(5000), 0o640)
      const report = yield* Sweeper.sweep([a.logs], policy)
      expect(report.failed).toEqual([])
      const st = nfs.lstatSync(`${original}.gz`)
      expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([NOBODY, NOBODY, 0o640])
    })).pipe(Effect.ensuring(Effect.sync(a.cleanup)))
  })

  it.effect("a world-writable directory is refused as root; with su nobody it is swept as nobody, and root's ids come back", () => {
    const a = arena()
    return run(Effect.gen(function* () {
      nfs.chmodSync(a.logs, 0o777)
      const mine = a.put(aged(8), ndjson(5000))
      const roots = path.join(a.logs, aged(9))
      nfs.writeFileSync(roots, ndjson(5000), { mode: 0o600 }) // root's, unreadable by nobody
      const refused = yield* Sweeper.sweep([a.logs], policy)
      expect(refused.failed.map((f) => [f.path, f.operation, f.error._tag])).toEqual([[a.logs, "permissions", "InsecureDirectory"]])
      expect(nfs.readdirSync(a.logs).sort()).toEqual([aged(8), aged(9)].sort())
      const swept = yield* Sweeper.sweep([a.logs], { ...policy, su: { user: "nobody", group: String(NOBODY) } })
      expect([process.geteuid!(), process.getegid!()]).toEqual([0, 0])
      expect(swept.compressed.map((c) => c.path)).toEqual([mine])
      expect(nfs.lstatSync(`${mine}.gz`).uid).toBe(NOBODY)
      // Acting as nobody, root's 0600 file cannot be read: proof the ids were switched.
      expect(swept.failed.map((f) => [f.path, f.operation])).toEqual([[roots, "compress"]])
      expect(swept.failed[0]!.message).toContain("PermissionDenied")
    })).pipe(Effect.ensuring(Effect.sync(a.cleanup)))
  })

  it.effect("the CLI as root: a world-writable directory exits 1 (insecure permissions), nothing touched; with --su it is swept as that user", () => {
    const a = arena()
    return Effect.gen(function* () {
      nfs.chmodSync(a.logs, 0o777)
      const name = dated("app", new Date(), 8)
      const file = a.put(name, ndjson(5000))
      const cli = (...extra: ReadonlyArray<string>) =>
        spawnSync(process.execPath, [bin, "sweep", a.logs, "--max-age-days", "30", "--compress-age-days", "7", ...extra], { encoding: "utf8" })
      const refused = cli()
      expect(refused.status).toBe(1)
      expect(refused.stderr).toContain("parent directory has insecure permissions")
      expect(nfs.readdirSync(a.logs)).toEqual([name])
      const malformed = cli("--su", "nobody")
      expect(malformed.status).toBe(2)
      expect(nfs.readdirSync(a.logs)).toEqual([name])
      const swept = cli("--su", `${NOBODY}:${NOBODY}`)
      expect(swept.status).toBe(0)
      expect(nfs.readdirSync(a.logs)).toEqual([`${name}.gz`])
      expect(nfs.lstatSync(`${file}.gz`).uid).toBe(NOBODY)
    }).pipe(Effect.ensuring(Effect.sync(a.cleanup)))
  }, 60_000)

  it.each([
    { what: "a FIFO", plant: 'mkfifo "$1/.effect-logrotate.lock"', says: "not a regular file" },
    { what: "a FIFO as the .break of a stale lock", plant: 'echo "{}" > "$1/.effect-logrotate.lock" && touch -d 2020-01-01 "$1/.effect-logrotate.lock" && mkfifo "$1/.effect-logrotate.lock.break"', says: "not a regular file" },
    { what: "a symlink to root's private file", plant: 'ln -s "$2" "$1/.effect-logrotate.lock"', says: "is a symbolic link, not a lock file" },
    { what: "a symlink to /dev/zero", plant: 'ln -s /dev/zero "$1/.effect-logrotate.lock"', says: "is a symbolic link, not a lock file" }
  ])("the CLI as root: $what planted by nobody as the directory lock fails that directory, at once, follows and reveals nothing; the others are swept", ({ plant, says }) => {
    const a = arena()
    try {
      const name = dated("app", new Date(), 40)
      a.put(name, ndjson(100))
      const other = path.join(a.root, "other")
      nfs.mkdirSync(other, { mode: 0o755 })
      nfs.writeFileSync(path.join(other, name), ndjson(100))
      asNobody(plant, a.logs, a.victim)
      const before = nfs.readdirSync(a.logs).sort()
      const r = spawnSync(process.execPath, [bin, "sweep", a.logs, other, "--max-age-days", "30", "--log-level", "debug"],
        { encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" })
      expect(r.signal).toBe(null) // not hung
      expect(r.status).toBe(1)
      expect(r.stderr).toContain(`${a.logs}/.effect-logrotate.lock`)
      expect(r.stderr).toContain(says)
      expect(r.stdout + r.stderr).not.toContain("SECRET")
      expect(nfs.readdirSync(a.logs).sort()).toEqual(before) // nothing removed, renamed or swept there
      expect(nfs.readdirSync(other)).toEqual([]) // the other directory was swept
      expectVictimUntouched(a.victim)
    } finally {
      a.cleanup()
    }
  }, 60_000)

  it("the CLI as root: append refuses a symlink nobody planted at the active path (exit 1), root's file untouched", () => {
    const a = arena()
    try {
      asNobody('ln -s "$2" "$1/app.jsonl"', a.logs, a.victim)
      const r = spawnSync(process.execPath, [bin, "append", path.join(a.logs, "app.jsonl")], { input: '{"x":1}\n', encoding: "utf8", timeout: 30_000 })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain("is a symbolic link; effect-logrotate does not follow links at the active path")
      expectVictimUntouched(a.victim)
      expect(nfs.lstatSync(path.join(a.logs, "app.jsonl")).isSymbolicLink()).toBe(true)
    } finally {
      a.cleanup()
    }
  }, 60_000)

  it.each(["effect-logrotate", ".a.jsonl.lock"])("the CLI: append to %s (a name of our lock files) is a usage error, exit 2, nothing created", (name) => {
    const a = arena()
    try {
      const r = spawnSync(process.execPath, [bin, "append", path.join(a.logs, name)], { input: '{"x":1}\n', encoding: "utf8", timeout: 30_000 })
      expect(r.status).toBe(2)
      expect(r.stderr).toContain(name)
      expect(r.stderr).toContain("lock names")
      expect(nfs.readdirSync(a.logs)).toEqual([])
    } finally {
      a.cleanup()
    }
  }, 60_000)

  it.effect("real processes: the CLI sweeping as root while nobody swaps every .gz.tmp it sees for a symlink to root's file", () => {
    const a = arena()
    return Effect.gen(function* () {
      expect(nfs.existsSync(bin)).toBe(true) // npm run build first
      const originals: Record<string, Uint8Array> = {}
      const today = new Date()
      // Streamed files (over 1 MiB): each .gz.tmp exists for the whole of its compression.
      for (let i = 0; i < 24; i++) {
        const name = dated(`f${i}`, today, 8 + (i % 5))
        originals[name] = ndjson(i % 2 === 0 ? 3 * 1024 * 1024 : 200_000, i + 1)
        a.put(name, originals[name]!)
      }
      // The attacker logs "ready" once looping, then one line per swap it made, to a file of its own.
      const swaps = path.join(a.root, "swaps")
      nfs.writeFileSync(swaps, "")
      nfs.chownSync(swaps, NOBODY, NOBODY)
      const attacker = spawn("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-c",
        'cd "$1" && echo ready >> "$3" && while :; do for f in *.gz.tmp; do [ -f "$f" ] && rm -f "$f" && ln -s "$2" "$f" && echo "$f" >> "$3"; done; done',
        "sh", a.logs, a.victim, swaps], { stdio: "ignore" })
      // Sweep only once the attacker is looping, so its swaps race the whole sweep.
      while (!nfs.readFileSync(swaps, "utf8").startsWith("ready")) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
      const sweep = yield* Effect.promise(() => new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [bin, "sweep", a.logs, "--max-age-days", "30", "--compress-age-days", "7"], { stdio: "ignore" })
        child.on("exit", (code) => resolve(code))
      }))
      attacker.kill("SIGKILL")
      yield* Effect.promise(() => new Promise((resolve) => attacker.once("exit", resolve)))
      expect([0, 1]).toContain(sweep)
      // The race was run: the attacker swapped at least one .gz.tmp while the sweep compressed.
      const swapped = nfs.readFileSync(swaps, "utf8").split("\n").filter((l) => l.endsWith(".gz.tmp"))
      expect(swapped.length).toBeGreaterThanOrEqual(1)
      expect(sweep).toBe(1) // a swapped .gz.tmp fails that file's compression, reported
      expectVictimUntouched(a.victim)
      expectOnlyHonestArchives(a.logs, originals)
      // Every original is still there, or its .gz is (checked above to be its exact copy).
      for (const name of Object.keys(originals)) {
        const kept = nfs.existsSync(path.join(a.logs, name)) && nfs.lstatSync(path.join(a.logs, name)).isFile()
        expect(kept || nfs.existsSync(path.join(a.logs, `${name}.gz`))).toBe(true)
      }
    }).pipe(Effect.ensuring(Effect.sync(a.cleanup)))
  }, 60_000)
})

describe.runIf(isRoot)("the size cap in a shared sticky directory (issue 12 review, finding 1)", () => {
  const DAEMON = 1
  const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10)
  /** Runs the CLI as root; resolves with its exit code. */
  const cli = (args: ReadonlyArray<string>) => new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "pipe"] })
    child.on("error", reject)
    child.on("close", resolve)
  })

  it("another user's large today- or future-dated file does not make the cap delete files they cannot delete; the sweeper's own files are capped", async () => {
    const root = nfs.mkdtempSync(path.join(os.tmpdir(), "sweep-sticky-"))
    nfs.chmodSync(root, 0o755)
    try {
      const shared = path.join(root, "shared")
      nfs.mkdirSync(shared)
      nfs.chmodSync(shared, 0o1777)
      // daemon's history: five 1000-byte files, 1 to 5 days old.
      const own = [1, 2, 3, 4, 5].map((ago) => `app-${day(ago)}.ndjson`)
      for (const name of own) {
        nfs.writeFileSync(path.join(shared, name), "x".repeat(999) + "\n")
        nfs.chownSync(path.join(shared, name), DAEMON, DAEMON)
      }
      // nobody cannot delete them (sticky), but plants large files the cap would never delete.
      asNobody('rm -f "$1" 2>/dev/null; head -c 200000 /dev/zero > "$2"; head -c 200000 /dev/zero > "$3"; exit 0',
        path.join(shared, own[0]!), path.join(shared, "evil-2099-01-01.ndjson"), path.join(shared, `evil-${day(0)}.ndjson`))
      expect(nfs.readdirSync(shared).sort()).toEqual([...own, "evil-2099-01-01.ndjson", `evil-${day(0)}.ndjson`].sort())
      // A cap of 100 KiB: nobody's 400 KB do not count; daemon's 5000 bytes fit: nothing deleted.
      expect(await cli(["sweep", shared, "--su", "daemon:daemon", "--max-total-size", "100KiB"])).toBe(0)
      expect(nfs.readdirSync(shared).sort()).toEqual([...own, "evil-2099-01-01.ndjson", `evil-${day(0)}.ndjson`].sort())
      // A cap of 2500 bytes: daemon's own files are capped, oldest first (3 of 5 go).
      expect(await cli(["sweep", shared, "--su", "daemon:daemon", "--max-total-size", "2500"])).toBe(0)
      expect(nfs.readdirSync(shared).sort()).toEqual([own[0]!, own[1]!, "evil-2099-01-01.ndjson", `evil-${day(0)}.ndjson`].sort())
    } finally {
      nfs.rmSync(root, { recursive: true, force: true })
    }
  })

  it("isSharedSticky: sticky and writable by group or others", () => {
    expect([0o1777, 0o1770, 0o1755, 0o777, 0o755].map((mode) => Sweeper.isSharedSticky({ mode }))).toEqual([true, true, false, false, false])
  })
})
