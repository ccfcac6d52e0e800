/**
 * LogEvents: what rotation and retention publish, observed as a subscriber sees it. The appender
 * and sweep tests run on both file systems; time is the TestClock's.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Scope, Stream, TestClock } from "effect"
import * as LogEvents from "../../src/logging/LogEvents.js"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import { SweepFailure } from "../../src/Errors.js"
import { SystemError } from "@effect/platform/Error"
import type { RenameShift } from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { fileSystems, memoryLayer, tempDir } from "../support/fileSystems.js"
import * as Retention from "../support/retention.js"

const T = new Date("2026-03-15T12:00:00Z")
const policy = (maxBytes: number, maxFiles: number) => RotationPolicy.unsafeMake({ maxBytes, maxFiles })

/** Published last, so a collector knows it has everything before it (events arrive in order). */
const END = new LogEvents.SweepCompleted({
  dirs: ["<end>"], dryRun: true, compressed: 0, deleted: 0, skipped: 0, failed: 0, bytesFreed: 0, durationMs: 0, at: new Date(0)
})
const isEnd = (e: LogEvents.Element) => e._tag === "SweepCompleted" && e.dirs[0] === "<end>"

/** Subscribes now; `finish` publishes END and returns every element received before it. */
const collector = (events: LogEvents.Service) =>
  Effect.gen(function* () {
    const stream = yield* events.subscribe
    const fiber = yield* Effect.fork(Stream.runCollect(Stream.takeWhile(stream, (e) => !isEnd(e))))
    return {
      finish: Effect.zipRight(events.publish(END), Effect.map(Fiber.join(fiber), Chunk.toReadonlyArray))
    }
  })

/** Unique lines `f<fiber>-<n>`, padded to `width` bytes. */
const fiberLines = (fiber: number, n: number, width: number) =>
  Array.from({ length: n }, (_, i) => `f${fiber}-${i + 1}`.padEnd(width, "."))

describe("LogEvents without a layer", () => {
  it.scoped("the default publishes nowhere: disabled, and subscribing gives a stream that ends at once", () =>
    Effect.gen(function* () {
      const events = yield* LogEvents.LogEvents
      expect(events).toBe(LogEvents.none)
      expect(events.enabled).toBe(false)
      let built = 0
      yield* events.emit((at) => {
        built++
        return new LogEvents.Deleted({ path: "/x", bytes: 1, reason: "older-than-max-age", at })
      })
      expect(built).toBe(0) // nothing is even built
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(LogEvents.stream))).toEqual([])
    }))

  it.scoped("an appender without a layer writes the same files and makes no extra call; with one, one stat more per removed backup (its size)", () =>
    Effect.gen(function* () {
      const workload = (events: LogEvents.Service | undefined) =>
        Effect.gen(function* () {
          const mem = yield* MemoryFileSystem.MemoryFileSystem
          yield* Effect.scoped(Effect.gen(function* () {
            const make = RotatingAppender.make("/logs/app.jsonl", { policy: policy(20, 1) })
            const log = yield* (events ? Effect.provideService(make, LogEvents.LogEvents, events) : make)
            for (const line of fiberLines(1, 6, 9)) yield* log.append(line) // 3 files of 20 bytes: 2 rotations, 1 removal
          }))
          return { files: mem.files().filter(([p]) => !p.endsWith(".lock")), calls: { ...mem.calls } }
        }).pipe(Effect.provide(memoryLayer()))
      const without = yield* workload(undefined)
      const events = yield* LogEvents.make()
      const { finish } = yield* collector(events)
      const withEvents = yield* workload(events)
      const seen = yield* finish
      expect(seen.map((e) => e._tag)).toEqual(["Rotated", "Rotated", "BackupRemoved"])
      expect(withEvents.files).toEqual(without.files)
      expect(withEvents.calls).toEqual({ ...without.calls, stat: without.calls.stat! + 1 })
    }))
})

describe("LogEvents.deliver (pure): a gap in the numbers is a Missed of its size", () => {
  const e = (seq: number) => ({ seq, event: new LogEvents.Deleted({ path: `/p${seq}`, bytes: seq, reason: "stale-temp", at: T }) })
  it.each([
    [0, 1, 1, []],
    [4, 5, 5, []],
    [0, 17, 17, [16]],
    [5, 7, 7, [1]],
    [7, 6, 7, []] // never counted twice: an older number is delivered as is
  ] as const)("last %i, next %i: last becomes %i, Missed %j", (last, seq, next, missed) => {
    const numbered = e(seq)
    const [after, out] = LogEvents.deliver(last, numbered)
    expect(after).toBe(next)
    expect(out.map((x) => x._tag === "Missed" ? x.count : x)).toEqual([...missed, numbered.event])
  })
})

describe.each(fileSystems)("RotatingAppender events on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))

  /** Four fibers append unique lines concurrently through one appender, then it closes. */
  const concurrentLoad = (dir: string, events: LogEvents.Service, maxBytes: number, maxFiles: number) =>
    Effect.scoped(Effect.gen(function* () {
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(maxBytes, maxFiles) }).pipe(
        Effect.provideService(LogEvents.LogEvents, events))
      yield* Effect.forEach([1, 2, 3, 4], (f) =>
        Effect.forEach(fiberLines(f, 150, 19), (line) => log.append(line), { discard: true }), { concurrency: "unbounded", discard: true })
      yield* log.flush
    }))

  it.scoped("under concurrent appends, the Rotated events in order match the backups on disk: the k-th of n is now .n-k, with its size; two subscribers see the same sequence", () =>
    run(Effect.gen(function* () {
      yield* TestClock.setTime(T.getTime())
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const events = yield* LogEvents.make()
      const first = yield* collector(events)
      const second = yield* events.subscribe
      const secondSeen = yield* Effect.fork(Stream.runCollect(Stream.takeWhile(second, (e) => !isEnd(e))))
      yield* concurrentLoad(dir, events, 500, 1000)
      const seen = yield* first.finish
      expect(Chunk.toReadonlyArray(yield* Fiber.join(secondSeen))).toEqual(seen)
      const backups = (yield* fs.readDirectory(dir)).filter((n) => /^app\.jsonl\.\d+$/.test(n))
      const n = backups.length
      expect(n).toBeGreaterThanOrEqual(20) // 600 lines of 20 bytes, 500 per file
      expect(seen.map((e) => e._tag)).toEqual(Array.from({ length: n }, () => "Rotated"))
      for (let k = 0; k < n; k++) {
        const e = seen[k] as LogEvents.Rotated
        const size = Number((yield* fs.stat(`${dir}/app.jsonl.${n - k}`)).size)
        expect([k, e.path, e.backup, e.bytes, e.at.getTime()]).toEqual([k, `${dir}/app.jsonl`, `${dir}/app.jsonl.1`, size, T.getTime()])
      }
      // Every line is on disk once: the events describe all that was written.
      let lines: Array<string> = []
      for (const name of [...backups, "app.jsonl"]) lines = lines.concat((yield* fs.readFileString(`${dir}/${name}`)).split("\n").filter((l) => l))
      expect(lines.length).toBe(600)
      expect(new Set(lines).size).toBe(600)
    })))

  it.scoped("with maxFiles 3, each rotation past the third is followed by a BackupRemoved of .3, the file the rotation three before produced", () =>
    run(Effect.gen(function* () {
      yield* TestClock.setTime(T.getTime())
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const events = yield* LogEvents.make()
      const { finish } = yield* collector(events)
      yield* concurrentLoad(dir, events, 500, 3)
      const seen = yield* finish
      const rotated = seen.filter((e): e is LogEvents.Rotated => e._tag === "Rotated")
      const n = rotated.length
      expect(n).toBeGreaterThanOrEqual(20)
      const expected: Array<unknown> = []
      rotated.forEach((r, j) => {
        expected.push(["Rotated", r.bytes])
        if (j >= 3) expected.push(["BackupRemoved", `${dir}/app.jsonl.3`, `${dir}/app.jsonl`, rotated[j - 3]!.bytes])
      })
      expect(seen.map((e) => e._tag === "Rotated" ? [e._tag, e.bytes]
        : e._tag === "BackupRemoved" ? [e._tag, e.path, e.active, e.bytes] : [e._tag])).toEqual(expected)
      // The three backups left are the last three rotations, newest in .1.
      for (let i = 1; i <= 3; i++) expect(Number((yield* fs.stat(`${dir}/app.jsonl.${i}`)).size)).toBe(rotated[n - i]!.bytes)
    })))

  it.scoped("maxFiles 0: Rotated has no backup (the file was deleted) and no BackupRemoved is published for it", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const events = yield* LogEvents.make()
      const { finish } = yield* collector(events)
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(10, 0) }).pipe(
          Effect.provideService(LogEvents.LogEvents, events))
        for (const line of ["aaaaaaaaa", "bbbbbbbbb", "ccccccccc"]) yield* log.append(line)
      }))
      const seen = yield* finish
      expect(seen.map((e) => e._tag === "Rotated" ? [e.path, e.backup, e.bytes] : e._tag)).toEqual([
        [`${dir}/app.jsonl`, undefined, 10], [`${dir}/app.jsonl`, undefined, 10]
      ])
    })))

  it.scoped("a subscriber that reads nothing never blocks appends; when it reads, it learns how many it missed, then the newest events", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const events = yield* LogEvents.make({ capacity: 4 })
      const slow = yield* events.subscribe // never read while appending
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(10, 100) }).pipe(
          Effect.provideService(LogEvents.LogEvents, events))
        // 21 lines of 10 bytes in 10-byte files: 20 rotations, each published while the subscriber reads nothing.
        for (let i = 1; i <= 21; i++) {
          yield* log.append(`line-${String(i).padStart(4, "0")}`)
          yield* log.flush
        }
      }))
      expect((yield* fs.readDirectory(dir)).filter((n) => /^app\.jsonl(\.\d+)?$/.test(n)).length).toBe(21)
      const read = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(slow, 5)))
      expect(read.map((e) => e._tag === "Missed" ? ["Missed", e.count] : e._tag)).toEqual([["Missed", 16], "Rotated", "Rotated", "Rotated", "Rotated"])
      // The four it got are the last four rotations: lines 17..20 were rotated out (now .4 … .1).
      for (let k = 1; k <= 4; k++) {
        const backup = 5 - k
        expect(yield* fs.readFileString(`${dir}/app.jsonl.${backup}`)).toBe(`line-${String(16 + k).padStart(4, "0")}\n`)
      }
    })))
})

describe.each(Retention.fileSystems)("Sweeper events on $name", ({ layer }) => {
  const aged = (age: number, ext = ".ndjson") => Retention.dated("app", T, age, ext)

  const setup = Effect.gen(function* () {
    yield* TestClock.setTime(T.getTime())
    const fs = yield* FileSystem.FileSystem
    const dir = yield* Retention.tempDir
    const files = { [aged(0)]: 500, [aged(8)]: 5000, [aged(9)]: 3000, [aged(31)]: 1000, [aged(32)]: 1000, [aged(40, ".ndjson.gz")]: 200 }
    let seed = 1
    for (const [name, size] of Object.entries(files)) yield* fs.writeFile(`${dir}/${name}`, Retention.ndjson(size, seed++))
    const events = yield* LogEvents.make()
    const sweeper = yield* Sweeper.make.pipe(Effect.provideService(LogEvents.LogEvents, events))
    return { dir, events, sweeper, tools: yield* Retention.Instrumented }
  })

  it.scoped("one Compressed per compressed file, one Deleted per deleted file, one FileFailed per failure, then SweepCompleted: the report's", () =>
    Effect.gen(function* () {
      const { dir, events, sweeper, tools } = yield* setup
      tools.inject({ method: "unlink", path: `${dir}/${aged(32)}` })
      const { finish } = yield* collector(events)
      const report = yield* sweeper.sweep([dir, `${dir}/missing`], { maxAgeDays: 30, compressAgeDays: 7 })
      const seen = yield* finish
      expect([report.compressed.length, report.deleted.length, report.failed.length]).toEqual([2, 2, 2])
      const of = <T extends LogEvents.LogEvent["_tag"]>(tag: T) =>
        seen.filter((e): e is Extract<LogEvents.LogEvent, { _tag: T }> => e._tag === tag)
      const byPath = <A extends { readonly path: string }>(xs: ReadonlyArray<A>) => [...xs].sort((a, b) => a.path.localeCompare(b.path))
      expect(byPath(of("Compressed")).map((e) => [e.path, e.gzip, e.bytesBefore, e.bytesAfter, e.reason])).toEqual(
        byPath(report.compressed).map((c) => [c.path, c.gzip, c.bytesBefore, c.bytesAfter, c.reason]))
      expect(byPath(of("Deleted")).map((e) => [e.path, e.bytes, e.reason])).toEqual(
        byPath(report.deleted).map((d) => [d.path, d.bytes, d.reason]))
      // The typed error itself, as in the report.
      expect(byPath(of("FileFailed")).map((e) => [e.path, e.operation, e.error])).toEqual(
        byPath(report.failed).map((f) => [f.path, f.operation, f.error]))
      expect(of("FileFailed").map((e) => e.error._tag).sort()).toEqual(["SystemError", "SystemError"])
      const completed = of("SweepCompleted")
      expect(completed.map((c) => ({ ...c }))).toEqual([{
        _tag: "SweepCompleted", dirs: report.dirs, dryRun: false, compressed: 2, deleted: 2, skipped: report.skipped.length, failed: 2,
        bytesFreed: report.bytesFreed, durationMs: report.durationMs, at: T
      }])
      expect(seen[seen.length - 1]!._tag).toBe("SweepCompleted") // last
      expect(seen.every((e) => e._tag !== "Missed" && e.at.getTime() === T.getTime())).toBe(true)
    }).pipe(Effect.provide(layer())))

  it.scoped("a dry run publishes no Compressed or Deleted, only its SweepCompleted", () =>
    Effect.gen(function* () {
      const { dir, events, sweeper } = yield* setup
      const { finish } = yield* collector(events)
      const report = yield* sweeper.sweep([dir], { maxAgeDays: 30, compressAgeDays: 7 }, { dryRun: true })
      const seen = yield* finish
      expect(seen.map((e) => e._tag)).toEqual(["SweepCompleted"])
      expect(seen[0]).toMatchObject({ dryRun: true, compressed: 0, deleted: 0, failed: 0, skipped: report.skipped.length })
    }).pipe(Effect.provide(layer())))
})

describe("LogEvents.toJson", () => {
  it("puts _tag first, writes times as ISO 8601 and a FileFailed's error as its tag and message", () => {
    const rotated = new LogEvents.Rotated({ path: "/l/app.jsonl", backup: "/l/app.jsonl.1", bytes: 10, at: T })
    expect(JSON.stringify(LogEvents.toJson(rotated))).toBe(
      '{"_tag":"Rotated","path":"/l/app.jsonl","backup":"/l/app.jsonl.1","bytes":10,"at":"2026-03-15T12:00:00.000Z"}')
    expect(LogEvents.toJson(new LogEvents.Rotated({ path: "/l/a", backup: undefined, bytes: 1, at: T }))).toEqual(
      { _tag: "Rotated", path: "/l/a", bytes: 1, at: "2026-03-15T12:00:00.000Z" })
    expect(LogEvents.toJson(new LogEvents.Missed({ count: 3 }))).toEqual({ _tag: "Missed", count: 3 })
    const error = new SystemError({ module: "FileSystem", method: "unlink", reason: "PermissionDenied", pathOrDescriptor: "/l/x" })
    const failed = new SweepFailure({ path: "/l/x", operation: "delete", error })
    expect(LogEvents.toJson(new LogEvents.FileFailed({ path: failed.path, operation: failed.operation, error: failed.error, at: T }))).toEqual({
      _tag: "FileFailed", path: "/l/x", operation: "delete",
      error: { _tag: "SystemError", message: error.message, reason: "PermissionDenied" }, at: "2026-03-15T12:00:00.000Z"
    })
  })
})
