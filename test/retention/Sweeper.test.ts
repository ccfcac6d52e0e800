import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, HashMap, Logger, LogLevel, Metric, Option, Scope, TestClock } from "effect"
import { execFileSync } from "node:child_process"
import * as nfs from "node:fs"
import * as os from "node:os"
import * as zlib from "node:zlib"
import * as Compressor from "../../src/retention/Compressor.js"
import * as FileNaming from "../../src/retention/FileNaming.js"
import * as SafeFs from "../../src/platform/SafeFs.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { dated, fileSystems, gunzip, Instrumented, names, ndjson, nodeBase, retentionLayer, snapshot, tempDir } from "../support/retention.js"

const TODAY = new Date("2026-03-15T12:00:00Z")
const isRoot = process.getuid?.() === 0
const policy = { maxAgeDays: 30, compressAgeDays: 7 }
const aged = (age: number, ext = ".ndjson", prefix = "app") => dated(prefix, TODAY, age, ext)

type Env = Scope.Scope | FileSystem.FileSystem | SafeFs.SafeFs | Instrumented | Compressor.Compressor | Sweeper.Sweeper

/** Today is TODAY (TestClock), and a fresh temp dir with `files` (name → size or bytes) in it. */
const setup = (files: Record<string, number | Uint8Array>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(TODAY.getTime())
    const fs = yield* FileSystem.FileSystem
    const dir = yield* tempDir
    let seed = 1
    const contents: Record<string, Uint8Array> = {}
    for (const [name, spec] of Object.entries(files)) {
      contents[name] = typeof spec === "number" ? ndjson(spec, seed++) : spec
      yield* fs.writeFile(`${dir}/${name}`, contents[name])
    }
    return { fs, dir, contents, tools: yield* Instrumented }
  })

const eq = (a: Uint8Array, b: Uint8Array | undefined) => b !== undefined && Buffer.from(a).equals(Buffer.from(b))

/** The sweep counters of one directory (their `directory` tag). */
const counters = (dir: string) => {
  const m = Sweeper.forDirectory(dir)
  return Effect.all({
    compressed: Metric.value(m.filesCompressed),
    deleted: Metric.value(m.filesDeleted),
    failed: Metric.value(m.filesFailed),
    bytes: Metric.value(m.bytesFreed)
  }).pipe(Effect.map((v) => ({ compressed: v.compressed.count, deleted: v.deleted.count, failed: v.failed.count, bytes: v.bytes.count })))
}

describe.each(fileSystems)("Sweeper contract on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer()))

  it.scoped("compresses files older than compressAgeDays, deletes those older than maxAgeDays, leaves the rest", () =>
    run(Effect.gen(function* () {
      const { fs, dir, contents, tools } = yield* setup({
        [aged(0)]: 1000, [aged(1)]: 1000, [aged(7)]: 1000, [aged(8)]: 150_000, [aged(30)]: 2000, [aged(31)]: 3000,
        [aged(31, ".ndjson.gz")]: zlib.gzipSync(ndjson(500)), [aged(3, ".ndjson.gz")]: zlib.gzipSync(ndjson(400)),
        [aged(-1)]: 100, [aged(45, ".ndjson", "dlq-orders-eu")]: 4000, "notes.txt": 10, "app-2024-02-30.ndjson": 10
      })
      yield* fs.makeDirectory(`${dir}/${aged(40)}`)
      yield* fs.makeDirectory(`${dir}/elsewhere`)
      const target = `${dir}/elsewhere/${aged(400, ".ndjson", "inner")}` // expired, but in a sub-directory
      yield* fs.writeFile(target, ndjson(500))
      yield* fs.symlink(target, `${dir}/${aged(50)}`)
      yield* fs.symlink(target, `${dir}/${aged(9)}`)
      yield* fs.symlink(`${dir}/nowhere`, `${dir}/${aged(60, ".ndjson.gz")}`)
      tools.clearCalls() // the wrapper sees the setup's writes too

      const before = tools.calls.length
      const report = yield* Sweeper.sweep([dir], policy)
      const sweepCalls = tools.calls.slice(before)

      expect(yield* names(dir)).toEqual([
        aged(40), aged(50), aged(31 + 29, ".ndjson.gz"), aged(9), aged(30, ".ndjson.gz"), aged(8, ".ndjson.gz"), aged(7),
        aged(3, ".ndjson.gz"), aged(1), aged(0), aged(-1), "app-2024-02-30.ndjson", "elsewhere", "notes.txt"
      ].sort())
      for (const age of [8, 30]) expect(eq(gunzip(yield* fs.readFile(`${dir}/${aged(age, ".ndjson.gz")}`)), contents[aged(age)])).toBe(true)
      for (const name of [aged(0), aged(1), aged(7), aged(-1), "notes.txt"]) expect(eq(yield* fs.readFile(`${dir}/${name}`), contents[name])).toBe(true)
      expect(eq(yield* fs.readFile(target), ndjson(500))).toBe(true)
      expect(sweepCalls.filter((c) => c.path.endsWith("notes.txt") || c.path.includes("/elsewhere"))).toEqual([])

      expect(report.failed).toEqual([])
      expect(report.compressed.map((c) => [c.path, c.gzip, c.bytesBefore])).toEqual([
        [`${dir}/${aged(30)}`, `${dir}/${aged(30)}.gz`, 2000], [`${dir}/${aged(8)}`, `${dir}/${aged(8)}.gz`, 150_000]
      ])
      expect(report.deleted.map((d) => [d.path, d.bytes, d.reason])).toEqual([
        [`${dir}/${aged(31)}`, 3000, "older-than-max-age"],
        [`${dir}/${aged(31, ".ndjson.gz")}`, contents[aged(31, ".ndjson.gz")]!.length, "older-than-max-age"],
        [`${dir}/${aged(45, ".ndjson", "dlq-orders-eu")}`, 4000, "older-than-max-age"]
      ])
      const reasons = Object.fromEntries(report.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]))
      expect(reasons).toEqual({
        [aged(0)]: "today", [aged(1)]: "within-compress-age", [aged(7)]: "within-compress-age", [aged(-1)]: "future",
        [aged(3, ".ndjson.gz")]: "already-compressed", [aged(40)]: "not-a-file", [aged(50)]: "symbolic-link",
        [aged(9)]: "symbolic-link", [aged(60, ".ndjson.gz")]: "symbolic-link", "app-2024-02-30.ndjson": "invalid-date",
        "notes.txt": "not-managed", "elsewhere": "not-managed"
      })
      const gzBytes = report.compressed.reduce((n, c) => n + c.bytesAfter, 0)
      expect(report.bytesFreed).toBe(4000 + 3000 + contents[aged(31, ".ndjson.gz")]!.length + 152_000 - gzBytes)
      expect(report.dryRun).toBe(false)
    })))

  it.scoped("only daily files the plan acts on are probed; the rest cost no file-system call", () =>
    run(Effect.gen(function* () {
      const nine = ndjson(1000, 9)
      const { fs, dir, tools } = yield* setup({
        [aged(0)]: 100, [aged(3)]: 100, [aged(5, ".ndjson.gz")]: zlib.gzipSync(ndjson(100)), [aged(-2)]: 100,
        [aged(8)]: 1000, [aged(31)]: 100, [aged(9)]: nine, [aged(9, ".ndjson.gz")]: zlib.gzipSync(nine)
      })
      yield* fs.makeDirectory(`${dir}/elsewhere`)
      yield* fs.writeFile(`${dir}/elsewhere/target`, ndjson(500))
      yield* fs.symlink(`${dir}/elsewhere/target`, `${dir}/${aged(2)}`)
      tools.clearCalls() // the wrapper sees the setup's writes too
      const report = yield* Sweeper.sweep([dir], policy)
      const calls = [...tools.calls]
      const probing = calls.slice(0, calls.findIndex((c) => c.method === "open" && !c.path.endsWith(Sweeper.LOCK_NAME)))
      const probed = new Set(probing.filter((c) => c.method === "lstat" && c.path !== dir).map((c) => c.path.slice(dir.length + 1)))
      // x.ndjson due with x.ndjson.gz beside it: the .gz is probed too, its type decides the action.
      expect([...probed].sort()).toEqual([aged(8), aged(9), aged(9, ".ndjson.gz"), aged(31)].sort())
      const untouched = [aged(0), aged(3), aged(5, ".ndjson.gz"), aged(-2), aged(2)]
      expect(calls.filter((c) => untouched.some((n) => c.path === `${dir}/${n}`))).toEqual([])
      expect(Object.fromEntries(report.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]))).toMatchObject({
        [aged(0)]: "today", [aged(3)]: "within-compress-age", [aged(5, ".ndjson.gz")]: "already-compressed",
        [aged(-2)]: "future", [aged(2)]: "within-compress-age"
      })
      expect(yield* fs.readLink(`${dir}/${aged(2)}`)).toBe(`${dir}/elsewhere/target`)
      expect(report.compressed.map((c) => c.path)).toEqual([`${dir}/${aged(9)}`, `${dir}/${aged(8)}`])
      expect(report.deleted.map((d) => d.path)).toEqual([`${dir}/${aged(31)}`])
    })))

  it.scoped("one failing file does not stop the others; each failure is in the report with path and operation", () =>
    run(Effect.gen(function* () {
      const { dir, tools } = yield* setup({
        [aged(31, ".ndjson", "a")]: 100, [aged(31, ".ndjson", "b")]: 100, [aged(31, ".ndjson", "c")]: 100,
        [aged(8, ".ndjson", "a")]: 100, [aged(8, ".ndjson", "b")]: 100, [aged(8, ".ndjson", "c")]: 100
      })
      tools.inject({ method: "unlink", path: `${dir}/${aged(31, ".ndjson", "b")}`, reason: "PermissionDenied" })
      tools.inject({ method: "open", path: `${dir}/${aged(8, ".ndjson", "a")}.gz.tmp`, reason: "WriteZero" })
      const report = yield* Sweeper.sweep([dir], policy, { concurrency: 1 })
      expect(report.failed.map((f) => [f._tag, f.path, f.operation, f.error._tag])).toEqual([
        ["SweepFailure", `${dir}/${aged(8, ".ndjson", "a")}`, "compress", "CompressError"],
        ["SweepFailure", `${dir}/${aged(31, ".ndjson", "b")}`, "delete", "SystemError"]
      ])
      expect(report.failed[1]!.message).toContain(aged(31, ".ndjson", "b"))
      expect(report.compressed.map((c) => c.path)).toEqual([`${dir}/${aged(8, ".ndjson", "b")}`, `${dir}/${aged(8, ".ndjson", "c")}`])
      expect(report.deleted.map((d) => d.path)).toEqual([`${dir}/${aged(31, ".ndjson", "a")}`, `${dir}/${aged(31, ".ndjson", "c")}`])
      expect(yield* names(dir)).toEqual([
        aged(8, ".ndjson", "a"), aged(8, ".ndjson.gz", "b"), aged(31, ".ndjson", "b"), aged(8, ".ndjson.gz", "c")
      ].sort())
    })))

  it.scoped("a missing directory is a reported failure; the other directories are still swept", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({ [aged(31)]: 100 })
      const report = yield* Sweeper.sweep([`${dir}/missing`, dir], policy)
      expect(report.failed.map((f) => [f.path, f.operation, f.error._tag === "SystemError" && f.error.reason])).toEqual([
        [`${dir}/missing`, "list", "NotFound"]
      ])
      expect(yield* names(dir)).toEqual([])
    })))

  it.scoped("a dry run returns the plan and changes nothing on disk", () =>
    run(Effect.gen(function* () {
      const { fs, dir, tools } = yield* setup({
        [aged(31)]: 100, [aged(8)]: 5000, [aged(9, ".ndjson.gz.tmp")]: 10, [aged(10)]: 100,
        [aged(10, ".ndjson.gz")]: zlib.gzipSync(ndjson(100, 4)), [aged(0)]: 10
      })
      yield* fs.symlink(`${dir}/${aged(8)}`, `${dir}/${aged(40)}`)
      const before = yield* snapshot(dir)
      tools.clearCalls() // the wrapper sees the setup's writes too
      const report = yield* Sweeper.sweep([dir], policy, { dryRun: true })
      expect(yield* snapshot(dir)).toEqual(before)
      const changes = ["remove", "rename", "chmod", "chown", "utimes", "write", "sync", "writeFile", "truncate", "makeDirectory",
        "symlink", "link", "unlink", "copy", "copyFile", "makeTempDirectory", "makeTempFile", "syncDirectory"]
      // Opening is allowed only for reading (SafeFs.openRead); an exclusive create would be an "open" of a new name.
      expect(tools.calls.filter((c) => changes.includes(c.method))).toEqual([])
      expect(tools.calls.filter((c) => c.method === "open")).toEqual([])
      expect(report.plan.actions.filter((a) => a._tag !== "Skip").map((a) => [a._tag, a.name])).toEqual([
        ["Delete", aged(31)], ["FinishCompression", aged(10)], ["Delete", aged(9, ".ndjson.gz.tmp")], ["Compress", aged(8)]
      ])
      expect([report.dryRun, report.compressed, report.deleted, report.failed, report.bytesFreed]).toEqual([true, [], [], [], 0])
    })))

  it.scoped("a stale .gz.tmp is removed and the compression redone", () =>
    run(Effect.gen(function* () {
      const { fs, dir, contents } = yield* setup({ [aged(8)]: 70_000, [aged(8, ".ndjson.gz.tmp")]: Buffer.from("half a gzip") })
      const report = yield* Sweeper.sweep([dir], policy)
      expect(yield* names(dir)).toEqual([aged(8, ".ndjson.gz")])
      expect(eq(gunzip(yield* fs.readFile(`${dir}/${aged(8, ".ndjson.gz")}`)), contents[aged(8)])).toBe(true)
      expect(report.deleted.map((d) => [d.path, d.reason])).toEqual([[`${dir}/${aged(8, ".ndjson.gz.tmp")}`, "stale-temp"]])
      expect(report.compressed.map((c) => c.path)).toEqual([`${dir}/${aged(8)}`])
    })))

  it.scoped("x.ndjson next to a valid x.ndjson.gz: the original is removed, the .gz kept as is", () =>
    run(Effect.gen(function* () {
      const original = ndjson(20_000, 9)
      const gz = zlib.gzipSync(original)
      const { fs, dir } = yield* setup({ [aged(8)]: original, [aged(8, ".ndjson.gz")]: gz })
      const report = yield* Sweeper.sweep([dir], policy)
      expect(yield* names(dir)).toEqual([aged(8, ".ndjson.gz")])
      expect(eq(yield* fs.readFile(`${dir}/${aged(8, ".ndjson.gz")}`), gz)).toBe(true)
      expect(report.compressed.map((c) => [c.path, c.reason, c.bytesBefore, c.bytesAfter])).toEqual([
        [`${dir}/${aged(8)}`, "compressed-copy-exists", original.length, gz.length]
      ])
    })))

  it.scoped.each([
    ["a truncated x.ndjson.gz", (gz: Uint8Array) => gz.subarray(0, gz.length - 8)],
    ["an x.ndjson.gz of other content", () => zlib.gzipSync(ndjson(100, 5))]
  ] as const)("x.ndjson next to %s: both kept, a verify failure reported", ([, damage]) =>
    run(Effect.gen(function* () {
      const original = ndjson(20_000, 9)
      const { fs, dir } = yield* setup({ [aged(8)]: original, [aged(8, ".ndjson.gz")]: damage(zlib.gzipSync(original)) })
      const report = yield* Sweeper.sweep([dir], policy)
      expect(yield* names(dir)).toEqual([aged(8), aged(8, ".ndjson.gz")])
      expect(eq(yield* fs.readFile(`${dir}/${aged(8)}`), original)).toBe(true)
      expect(report.failed.map((f) => [f.path, f.operation])).toEqual([[`${dir}/${aged(8, ".ndjson.gz")}`, "verify"]])
    })))

  it.scoped("today's and future files are never touched, even with maxAgeDays 1", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({ [aged(0)]: 10, [aged(-1)]: 10, [aged(-365, ".ndjson.gz")]: 10, [aged(2)]: 10 })
      yield* Sweeper.sweep([dir], { maxAgeDays: 1, compressAgeDays: 0 })
      expect(yield* names(dir)).toEqual([aged(0), aged(-1), aged(-365, ".ndjson.gz")].sort())
    })))

  it.scoped.each([1, 2, 3])("at most %i compressions are in zlib at once (concurrency)", (concurrency) =>
    run(Effect.gen(function* () {
      const files = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((p) => [aged(9, ".ndjson", p), 100_000]))
      const { dir } = yield* setup(files)
      // The real Compressor, behind a stand-in for its zlib part that counts who holds a CPU
      // permit, and holds it until all six compressions have been asked for.
      let inZlib = 0
      let peak = 0
      let asked = 0
      const allAsked = yield* Deferred.make<void>()
      const real = yield* Compressor.Compressor
      const counting: Compressor.Service = {
        ...real,
        gzipFile: (path, options) => Effect.gen(function* () {
          if (++asked === 6) yield* Deferred.succeed(allAsked, undefined)
          yield* (options?.cpu?.withPermits(1) ?? ((e: Effect.Effect<void>) => e))(Effect.gen(function* () {
            peak = Math.max(peak, ++inZlib)
            yield* Deferred.await(allAsked)
            for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
            inZlib--
          }))
          return yield* real.gzipFile(path, options)
        })
      }
      const sweeper = yield* Sweeper.make.pipe(Effect.provideService(Compressor.Compressor, counting))
      const report = yield* sweeper.sweep([dir], policy, { concurrency })
      expect(report.compressed.length).toBe(6)
      expect(peak).toBe(concurrency)
    })))

  it.scoped.each([1, 2, 4])("at most %i files are being compressed at once (ioConcurrency)", (ioConcurrency) =>
    run(Effect.gen(function* () {
      const files = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((p) => [aged(9, ".ndjson", p), 100_000]))
      const { dir, tools } = yield* setup(files)
      let inFlight = 0
      let peak = 0
      tools.hook("open", /\.ndjson$/, () => Effect.sync(() => void (peak = Math.max(peak, ++inFlight))))
      tools.hook("link", /\.gz$/, () => Effect.sync(() => void inFlight--))
      const report = yield* Sweeper.sweep([dir], policy, { concurrency: 1, ioConcurrency })
      expect(report.compressed.length).toBe(6)
      expect(peak).toBe(ioConcurrency)
    })))

  it.scoped("deletions do not wait behind compressions", () =>
    run(Effect.gen(function* () {
      const expired = ["a", "b", "c", "d"].map((p) => aged(40, ".ndjson", p))
      const { dir, tools } = yield* setup({
        [aged(9, ".ndjson", "x")]: 100_000, [aged(9, ".ndjson", "y")]: 100_000,
        ...Object.fromEntries(expired.map((n) => [n, 100]))
      })
      // Both compressions stall in their write until every expired file is gone.
      const removed = yield* Deferred.make<void>()
      let left = expired.length
      tools.hook("unlink", /-n?\d{4}-\d{2}-\d{2}\.ndjson$/, (call) => Effect.suspend(() =>
        expired.some((n) => call.path.endsWith(`/${n}`)) && --left === 0 ? Deferred.succeed(removed, undefined) : Effect.void))
      tools.hook("write", /\.gz\.tmp$/, () => Deferred.await(removed))
      const report = yield* Sweeper.sweep([dir], policy, { concurrency: 1, ioConcurrency: 2 })
      expect(report.deleted.map((d) => d.path)).toEqual(expired.map((n) => `${dir}/${n}`))
      expect(report.compressed.length).toBe(2)
      expect(report.failed).toEqual([])
    })))

  it.scoped("the plan reported is the plan a dry run gives, and every action in it was carried out", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({
        [aged(31)]: 100, [aged(8)]: 5000, [aged(9, ".ndjson.gz.tmp")]: 10, [aged(9)]: 3000, [aged(10)]: ndjson(100, 4),
        [aged(10, ".ndjson.gz")]: zlib.gzipSync(ndjson(100, 4)), [aged(0)]: 10, [aged(2)]: 10, "notes.txt": 5
      })
      const dry = yield* Sweeper.sweep([dir], policy, { dryRun: true })
      const report = yield* Sweeper.sweep([dir], policy, { ioConcurrency: 3 })
      expect(report.plan).toEqual(dry.plan)
      const acted = [...report.compressed.map((c) => c.path), ...report.deleted.map((d) => d.path)].sort()
      const planned = report.plan.actions.filter((a) => a._tag !== "Skip").map((a) => a.path).sort()
      expect(acted).toEqual(planned)
    })))

  it.scoped("counters grow by the files compressed, deleted and failed, and the bytes freed, each tagged with its directory", () =>
    run(Effect.gen(function* () {
      const { dir, tools } = yield* setup({ [aged(31)]: 1000, [aged(32)]: 1000, [aged(8)]: 50_000 })
      tools.inject({ method: "unlink", path: `${dir}/${aged(32)}` })
      const missing = `${dir}/missing`
      const before = yield* counters(dir)
      const beforeMissing = yield* counters(missing)
      const report = yield* Sweeper.sweep([dir, missing], policy)
      const after = yield* counters(dir)
      const afterMissing = yield* counters(missing)
      expect({
        compressed: after.compressed - before.compressed, deleted: after.deleted - before.deleted,
        failed: after.failed - before.failed, bytes: after.bytes - before.bytes
      }).toEqual({ compressed: 1, deleted: 1, failed: 1, bytes: report.bytesFreed })
      expect({
        compressed: afterMissing.compressed - beforeMissing.compressed, deleted: afterMissing.deleted - beforeMissing.deleted,
        failed: afterMissing.failed - beforeMissing.failed, bytes: afterMissing.bytes - beforeMissing.bytes
      }).toEqual({ compressed: 0, deleted: 0, failed: 1, bytes: 0 })
      expect(report.bytesFreed).toBeGreaterThan(1000)
    })))

  it.scoped("logs a summary, and each failure as a warning with its path", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({ [aged(31)]: 1000, [aged(8)]: 1000 })
      const logs: Array<{ level: string; message: unknown; annotations: Record<string, unknown> }> = []
      const capture = Logger.make(({ annotations, logLevel, message }) =>
        void logs.push({ level: logLevel.label, message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) }))
      yield* Sweeper.sweep([dir, `${dir}/missing`], policy).pipe(
        Effect.provide(Logger.add(capture)), Logger.withMinimumLogLevel(LogLevel.Debug))
      expect(logs.map((l) => [l.level, l.message])).toEqual([
        ["WARN", ["retention list failed"]], ["INFO", ["retention sweep finished"]]
      ])
      expect(logs[0]!.annotations).toMatchObject({ path: `${dir}/missing`, operation: "list", component: "retention" })
      expect(logs[1]!.annotations).toMatchObject({ compressed: 1, deleted: 1, failed: 1, dryRun: false, today: "2026-03-15" })
      expect(typeof logs[1]!.annotations.durationMs).toBe("number")
      expect(logs[1]!.annotations.bytesFreed).toBeGreaterThan(1000)
    })))
})

describe.each(fileSystems)("Sweeper with a naming on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer()))
  const date = (age: number) => dated("x", TODAY, age, "").slice(2)
  const HOURLY = Either.getOrThrow(FileNaming.fromPattern("{prefix}-{date}-{hour}.ndjson"))
  const DOT = Either.getOrThrow(FileNaming.fromPattern("{prefix}.{date}.log"))

  it.scoped("{prefix}.{date}.log: its names are compressed and deleted by the date in them; default-named files are then not managed", () =>
    run(Effect.gen(function* () {
      const { fs, dir, contents } = yield* setup({
        [`app.${date(0)}.log`]: 100, [`app.${date(8)}.log`]: 1000, [`app.${date(31)}.log`]: 100, [`app.${date(9)}.log.gz.tmp`]: 10,
        [aged(31)]: 100
      })
      const report = yield* Sweeper.sweep([dir], { ...policy, naming: DOT })
      expect(report.failed).toEqual([])
      expect(yield* names(dir)).toEqual([`app.${date(0)}.log`, `app.${date(8)}.log.gz`, aged(31)].sort())
      expect(eq(gunzip(yield* fs.readFile(`${dir}/app.${date(8)}.log.gz`)), contents[`app.${date(8)}.log`])).toBe(true)
      expect(report.deleted.map((d) => [d.path.slice(dir.length + 1), d.reason]).sort()).toEqual([
        [`app.${date(31)}.log`, "older-than-max-age"], [`app.${date(9)}.log.gz.tmp`, "stale-temp"]
      ])
      expect(report.skipped.find((s) => s.path === `${dir}/${aged(31)}`)?.reason).toBe("not-managed")
    })))

  it.scoped("layerWithNaming: a policy without a naming is swept with the layer's; a policy's own naming wins", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({ [`app.${date(31)}.log`]: 100, [`app-${date(31)}-01.ndjson`]: 100, [aged(31)]: 100 })
      const sweep = (p: Sweeper.SweepPolicy) => Sweeper.sweep([dir], p, { dryRun: true }).pipe(Effect.provide(Sweeper.layerWithNaming(DOT)))
      const deleted = (report: Sweeper.SweepReport) => report.plan.actions.flatMap((a) => a._tag === "Delete" ? [a.name] : [])
      expect(deleted(yield* sweep(policy))).toEqual([`app.${date(31)}.log`])
      expect(deleted(yield* sweep({ ...policy, naming: HOURLY }))).toEqual([`app-${date(31)}-01.ndjson`])
    })))

  it.scoped("hourly files: every hour of today stays, hours of a day past the compression age are compressed, of a day past the max age deleted", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({
        [`app-${date(0)}-00.ndjson`]: 100, [`app-${date(0)}-12.ndjson`]: 100, [`app-${date(1)}-23.ndjson`]: 100,
        [`app-${date(8)}-00.ndjson`]: 500, [`app-${date(8)}-23.ndjson`]: 500,
        [`app-${date(31)}-05.ndjson`]: 100, [`app-${date(31)}-06.ndjson.gz`]: zlib.gzipSync(ndjson(10))
      })
      const report = yield* Sweeper.sweep([dir], { ...policy, naming: HOURLY })
      expect(report.failed).toEqual([])
      expect(yield* names(dir)).toEqual([
        `app-${date(0)}-00.ndjson`, `app-${date(0)}-12.ndjson`, `app-${date(1)}-23.ndjson`,
        `app-${date(8)}-00.ndjson.gz`, `app-${date(8)}-23.ndjson.gz`
      ].sort())
      expect(report.plan.actions.filter((a) => a._tag !== "Skip").map((a) => [a._tag, a.name, a.ageDays])).toEqual([
        ["Delete", `app-${date(31)}-05.ndjson`, 31], ["Delete", `app-${date(31)}-06.ndjson.gz`, 31],
        ["Compress", `app-${date(8)}-00.ndjson`, 8], ["Compress", `app-${date(8)}-23.ndjson`, 8]
      ])
    })))
})

describe.each(fileSystems)("Sweeper safety on $name (issue 9)", ({ layer, name }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer()))
  const reasons = (report: Sweeper.SweepReport, dir: string) =>
    Object.fromEntries(report.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]))
  /** Runs the sweep as if the process were root (or not), switching ids only on paper. */
  const asRoot = (switched: Array<Sweeper.Ids>, euid = 0): Sweeper.ProcessIds => ({
    euid: () => euid,
    asUser: (ids) => (self) => Effect.zipRight(Effect.sync(() => void switched.push(ids)), self)
  })

  it.scoped("a group whose .gz cannot be probed is skipped and reported; the existing .gz is never replaced", () =>
    run(Effect.gen(function* () {
      const existing = zlib.gzipSync(Buffer.from("an archive made by someone else\n"))
      const { fs, dir, contents, tools } = yield* setup({ [aged(8)]: 5000, [aged(8, ".ndjson.gz")]: existing })
      // lstat now, stat before: a probe of the .gz fails with something other than NotFound.
      for (const method of ["lstat", "stat"] as const) {
        tools.inject({ method, path: `${dir}/${aged(8, ".ndjson.gz")}`, reason: "PermissionDenied", times: Infinity })
      }
      const report = yield* Sweeper.sweep([dir], policy)
      expect(yield* names(dir)).toEqual([aged(8), aged(8, ".ndjson.gz")])
      expect(eq(yield* fs.readFile(`${dir}/${aged(8, ".ndjson.gz")}`), existing)).toBe(true)
      expect(eq(yield* fs.readFile(`${dir}/${aged(8)}`), contents[aged(8)])).toBe(true)
      expect(report.failed.map((f) => [f.path, f.operation])).toEqual([[`${dir}/${aged(8, ".ndjson.gz")}`, "stat"]])
      expect(reasons(report, dir)).toEqual({ [aged(8)]: "probe-failed", [aged(8, ".ndjson.gz")]: "probe-failed" })
      expect([report.compressed, report.deleted]).toEqual([[], []])
    })))

  it.scoped("x.ndjson next to a .gz of the same decompressed size but other bytes: both kept, a verify failure reported", () =>
    run(Effect.gen(function* () {
      const original = ndjson(20_000, 9)
      const other = Buffer.from(original)
      other[10_000] = other[10_000]! ^ 1 // same size, one bit different
      const gz = zlib.gzipSync(other)
      const { fs, dir } = yield* setup({ [aged(8)]: original, [aged(8, ".ndjson.gz")]: gz })
      const report = yield* Sweeper.sweep([dir], policy)
      expect(yield* names(dir)).toEqual([aged(8), aged(8, ".ndjson.gz")])
      expect(eq(yield* fs.readFile(`${dir}/${aged(8)}`), original)).toBe(true)
      expect(eq(yield* fs.readFile(`${dir}/${aged(8, ".ndjson.gz")}`), gz)).toBe(true)
      expect(report.failed.map((f) => [f.path, f.operation])).toEqual([[`${dir}/${aged(8, ".ndjson.gz")}`, "verify"]])
      expect(report.failed[0]!.message).toContain("differ at byte 10000")
    })))

  it.scoped("an original removed next to an existing .gz is reported as compared byte for byte", () =>
    run(Effect.gen(function* () {
      const original = ndjson(20_000, 9)
      const { dir } = yield* setup({ [aged(8)]: original, [aged(8, ".ndjson.gz")]: zlib.gzipSync(original), [aged(9)]: 3000 })
      const report = yield* Sweeper.sweep([dir], policy)
      expect(report.compressed.map((c) => [c.path.slice(dir.length + 1), c.check])).toEqual([
        [aged(9), "written"], [aged(8), "compared"]
      ])
    })))

  it.scoped("the dry run says it would verify an existing .gz, never that it is complete", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({ [aged(8)]: 100, [aged(8, ".ndjson.gz")]: zlib.gzipSync(ndjson(7, 7)) })
      const report = yield* Sweeper.sweep([dir], policy, { dryRun: true })
      const lines = report.plan.actions.flatMap((a) => Option.toArray(Sweeper.describePlanned(a)))
      expect(lines).toEqual([
        `would verify   ${dir}/${aged(8)}.gz decompresses to the bytes of ${dir}/${aged(8)}, then remove ${dir}/${aged(8)}`
      ])
      expect(lines.join("\n")).not.toMatch(/complete/)
    })))

  it.scoped("the original swapped for a symlink after the probe is not read into a .gz", () =>
    run(Effect.gen(function* () {
      const { fs, dir, tools } = yield* setup({ [aged(8)]: 5000 })
      const secretDir = yield* tempDir
      const secret = `${secretDir}/secret`
      yield* fs.writeFileString(secret, "SECRET root-only bytes\n")
      yield* fs.chmod(secret, 0o600)
      const original = `${dir}/${aged(8)}`
      let swapped = false
      const swap = () => Effect.suspend(() => swapped ? Effect.void : Effect.orDie(Effect.gen(function* () {
        swapped = true
        yield* fs.remove(original)
        yield* fs.symlink(secret, original)
      })))
      // Whatever the sweep does first with the original after listing it (old: stat/readFile; now: open).
      for (const method of ["open", "stat", "readFile"] as const) tools.hook(method, new RegExp(`${aged(8)}$`), swap)
      const report = yield* Sweeper.sweep([dir], policy)
      expect(swapped).toBe(true)
      expect(yield* names(dir)).toEqual([aged(8)])
      expect(yield* fs.readLink(original)).toBe(secret)
      expect(report.compressed).toEqual([])
      expect(report.failed.map((f) => [f.path, f.operation])).toEqual([[original, "compress"]])
      expect(yield* fs.readFileString(secret)).toBe("SECRET root-only bytes\n")
    })))

  it.scoped("a name that is not valid UTF-8 is reported, escaped, and left alone", () =>
    run(Effect.gen(function* () {
      const { dir } = yield* setup({ [aged(31)]: 100 })
      const safe = yield* SafeFs.SafeFs
      const real = yield* safe.readDirectory(dir)
      const bad = new Uint8Array([...Buffer.from("app-2026-01-01"), 0xff, ...Buffer.from(".ndjson")])
      // The listing as Node gives it for such a name (the in-memory FS has string names only).
      const listing: SafeFs.Service = { ...safe, readDirectory: () => Effect.succeed([...real, bad]) }
      const sweeper = yield* Sweeper.make.pipe(Effect.provideService(SafeFs.SafeFs, listing))
      const report = yield* sweeper.sweep([dir], policy)
      expect(report.failed.map((f) => [f.path, f.operation, f.error._tag])).toEqual([
        [`${dir}/app-2026-01-01\\xff.ndjson`, "list", "InvalidFileName"]
      ])
      expect(report.failed[0]!.message).toContain("not valid UTF-8")
      expect(report.deleted.map((d) => d.path)).toEqual([`${dir}/${aged(31)}`])
    })))

  it.scoped("a directory given twice through a symlinked alias is swept once", () =>
    run(Effect.gen(function* () {
      const { fs, dir } = yield* setup({ [aged(31)]: 1000, [aged(8)]: 20_000 })
      const aliasDir = yield* tempDir
      yield* fs.symlink(dir, `${aliasDir}/alias`)
      const report = yield* Sweeper.sweep([dir, `${aliasDir}/alias`, `${dir}/`], policy)
      expect(report.dirs).toEqual([yield* fs.realPath(dir)])
      expect(report.failed).toEqual([])
      expect([report.deleted.length, report.compressed.length]).toEqual([1, 1])
      expect(report.bytesFreed).toBe(1000 + 20_000 - report.compressed[0]!.bytesAfter)
    })))

  // chown to gid 5 needs root on Node (CI runs as root); the in-memory variant always runs.
  describe.runIf(name === "MemoryFileSystem" || isRoot)("directory permissions", () => {
    it.scoped.each([
      ["world-writable is refused", 0o777, 0, false],
      ["group-writable by a group other than root is refused", 0o775, 5, false],
      ["group-writable by root's group is swept", 0o775, 0, true],
      ["writable by its owner only is swept", 0o755, 5, true]
    ] as const)("as root, a directory %s", ([, mode, gid, swept]) =>
      run(Effect.gen(function* () {
        const { fs, dir, contents } = yield* setup({ [aged(31)]: 100 })
        const statOf = yield* Effect.map(SafeFs.SafeFs, (s) => s.lstat)
        yield* fs.chmod(dir, mode)
        yield* fs.chown(dir, 0, gid)
        const info = yield* statOf(dir)
        expect([info.mode & 0o777, info.gid]).toEqual([mode, gid])
        const report = yield* Sweeper.sweep([dir], policy).pipe(Effect.provideService(Sweeper.ProcessIdentity, asRoot([])))
        if (swept) {
          expect(report.failed).toEqual([])
          expect(yield* names(dir)).toEqual([])
        } else {
          expect(report.failed.map((f) => [f.path, f.operation, f.error._tag])).toEqual([[dir, "permissions", "InsecureDirectory"]])
          expect(report.failed[0]!.message).toContain("parent directory has insecure permissions")
          expect(eq(yield* fs.readFile(`${dir}/${aged(31)}`), contents[aged(31)])).toBe(true)
        }
      })))
  })

  it.scoped("with su, an insecure directory is swept acting as that user; without root, su must be the current user", () =>
    run(Effect.gen(function* () {
      const { fs, dir } = yield* setup({ [aged(31)]: 100, [aged(32)]: 100 })
      yield* fs.chmod(dir, 0o777)
      const switched: Array<Sweeper.Ids> = []
      const su = { ...policy, su: { user: "65534", group: "65534" } }
      const asNobody = yield* Sweeper.sweep([dir], su).pipe(Effect.provideService(Sweeper.ProcessIdentity, asRoot(switched)))
      expect(switched).toEqual([{ uid: 65534, gid: 65534 }])
      expect(asNobody.failed).toEqual([])
      expect(asNobody.deleted.length).toBe(2)
      const notRoot = yield* Sweeper.sweep([dir], su).pipe(Effect.provideService(Sweeper.ProcessIdentity, asRoot([], 1000)))
      expect(notRoot.failed.map((f) => [f.operation, f.error._tag, f.error._tag === "InvalidSu" && f.error.reason]))
        .toEqual([["su", "InvalidSu", "needs-root"]])
      const unknown = yield* Sweeper.sweep([dir], { ...policy, su: { user: "no-such-user-xyz", group: "0" } })
      expect(unknown.failed.map((f) => [f.operation, f.error._tag, f.error._tag === "InvalidSu" && f.error.reason]))
        // No /etc/passwd in the in-memory file system: there the name cannot be looked up at all.
        .toEqual([["su", "InvalidSu", name === "MemoryFileSystem" ? "unreadable" : "unknown-name"]])
      expect(unknown.failed[0]!.message).toContain("no-such-user-xyz")
    })))
})

describe.each(fileSystems)("Sweeper directory lock on $name (issue 9, defect 2)", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer()))

  it.scoped("a second sweep of a directory being swept skips it, reported as locked, and never touches the first one's .gz.tmp", () =>
    run(Effect.gen(function* () {
      const { fs, dir, contents, tools } = yield* setup({ [aged(8)]: 300_000 })
      const writing = yield* Deferred.make<void>()
      const resume = yield* Deferred.make<void>()
      let paused = false
      tools.hook("write", /\.gz\.tmp$/, () => Effect.suspend(() => {
        if (paused) return Effect.void
        paused = true
        return Effect.zipRight(Deferred.succeed(writing, undefined), Deferred.await(resume))
      }))
      const first = yield* Effect.fork(Sweeper.sweep([dir], policy))
      yield* Deferred.await(writing)
      expect(yield* names(dir)).toEqual([Sweeper.LOCK_NAME, aged(8), aged(8, ".ndjson.gz.tmp")].sort())
      const second = yield* Sweeper.sweep([dir], policy)
      expect(second.failed.map((f) => [f.path, f.operation, f.error._tag])).toEqual([[dir, "lock", "LockHeld"]])
      expect(second.failed[0]!.message).toContain(`locked by pid ${process.pid}`)
      expect([second.deleted, second.compressed, second.skipped]).toEqual([[], [], []])
      expect(yield* names(dir)).toEqual([Sweeper.LOCK_NAME, aged(8), aged(8, ".ndjson.gz.tmp")].sort())
      yield* Deferred.succeed(resume, undefined)
      const report = yield* Fiber.join(first)
      expect(report.failed).toEqual([])
      expect(report.compressed.map((c) => c.path)).toEqual([`${dir}/${aged(8)}`])
      expect(yield* names(dir)).toEqual([aged(8, ".ndjson.gz")])
      expect(eq(gunzip(yield* fs.readFile(`${dir}/${aged(8, ".ndjson.gz")}`)), contents[aged(8)])).toBe(true)
    })))

  it.scoped("a lock left by a crashed sweep (dead pid) is recovered; the .gz.tmp it left is deleted as stale and the file compressed", () =>
    run(Effect.gen(function* () {
      const { fs, dir, contents } = yield* setup({ [aged(8)]: 5000, [aged(8, ".ndjson.gz.tmp")]: Buffer.from("half") })
      const dead = 2 ** 22 + 12_345 // above pid_max: never alive
      yield* fs.writeFileString(`${dir}/${Sweeper.LOCK_NAME}`, JSON.stringify({
        pid: dead, hostname: os.hostname(), acquiredAt: "2026-03-14T00:00:00.000Z", purpose: "effect-logrotate sweep"
      }) + "\n")
      const report = yield* Sweeper.sweep([dir], policy)
      expect(report.failed).toEqual([])
      expect(report.deleted.map((d) => [d.path, d.reason])).toEqual([[`${dir}/${aged(8, ".ndjson.gz.tmp")}`, "stale-temp"]])
      expect(report.skipped.filter((s) => s.path.includes(Sweeper.LOCK_NAME))).toEqual([])
      expect(yield* names(dir)).toEqual([aged(8, ".ndjson.gz")])
      expect(eq(gunzip(yield* fs.readFile(`${dir}/${aged(8, ".ndjson.gz")}`)), contents[aged(8)])).toBe(true)
    })))
})

describe("Sweeper on NodeFileSystem: a FIFO swapped in", () => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(retentionLayer(nodeBase)))

  it.scoped("a FIFO swapped in for the original after the probe is reported (not a regular file) and the sweep finishes", () =>
    run(Effect.gen(function* () {
      const { dir, tools } = yield* setup({ [aged(8)]: 5000 })
      const original = `${dir}/${aged(8)}`
      let swapped = 0
      tools.hook("open", new RegExp(`${aged(8)}$`), () => Effect.sync(() => {
        if (swapped++ > 0) return
        nfs.unlinkSync(original)
        execFileSync("mkfifo", [original])
      }))
      const report = yield* Sweeper.sweep([dir], policy)
      expect(swapped).toBe(1)
      expect(report.compressed).toEqual([])
      expect(report.failed.map((f) => [f.path, f.operation])).toEqual([[original, "compress"]])
      expect(report.failed[0]!.message).toContain("not a regular file")
      expect(nfs.lstatSync(original).isFIFO()).toBe(true)
      expect(yield* names(dir)).toEqual([aged(8)])
    })))
})
