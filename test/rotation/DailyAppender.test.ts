import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Either, Exit, Layer, Queue, type Scope, TestClock } from "effect"
import * as DailyAppender from "../../src/rotation/DailyAppender.js"
import * as DatedFile from "../../src/retention/DatedFile.js"
import * as FileNaming from "../../src/retention/FileNaming.js"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import type { RenameShift } from "../../src/rotation/RenameShift.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import { fileSystems, memoryLayer, openFilesUnder, readAll, tempDir } from "../support/fileSystems.js"
import { instrument } from "../support/retention.js"

/** 2026-01-31T00:00:00Z; the next day starts at MIDNIGHT. */
const DAY = Date.UTC(2026, 0, 31)
const MIDNIGHT = Date.UTC(2026, 1, 1)
const joined = (ls: ReadonlyArray<string>) => ls.map((l) => l + "\n").join("")
const realDir = (dir: string) => Effect.flatMap(FileSystem.FileSystem, (fs) => fs.realPath(dir))

describe("DailyAppender names", () => {
  it("fileName is <prefix>-YYYY-MM-DD.ndjson of the UTC day", () => {
    expect(DailyAppender.fileName("events", new Date(MIDNIGHT - 1))).toBe("events-2026-01-31.ndjson")
    expect(DailyAppender.fileName("events", new Date(MIDNIGHT))).toBe("events-2026-02-01.ndjson")
    expect(DailyAppender.fileName("e", new Date("2024-02-29T23:30:00-05:00"))).toBe("e-2024-03-01.ndjson")
  })

  it.each(["events", "dlq-orders-eu", "app.v2", "2026-01-01", "a b", "ünïcode"])(
    "prefix %j is accepted and round-trips through DatedFile.parse",
    (prefix) => {
      expect(DailyAppender.validatePrefix(prefix)).toEqual(Either.right(prefix))
      const parsed = Either.getOrThrow(DatedFile.parse(DailyAppender.fileName(prefix, new Date(DAY))))
      expect([parsed.prefix, parsed.date, parsed.kind]).toEqual([prefix, "2026-01-31", "ndjson"])
    }
  )

  it.each([
    ["", "empty", "it is empty"],
    ["logs/events", "path-separator", "path separator"],
    ["logs\\events", "path-separator", "path separator"],
    ["ev\nents", "control-character", "control character"],
    ["ev\u0000", "control-character", "control character"],
    ["ev\u2028ents", "not-parseable", "would not be recognized by the retention sweep"]
  ])("prefix %j is rejected: reason %s (%s)", (prefix, reason, text) => {
    const result = DailyAppender.validatePrefix(prefix)
    expect(Either.isLeft(result) && [result.left._tag, result.left.reason, result.left.message]).toEqual([
      "InvalidPrefix", reason, expect.stringContaining(text)
    ])
  })

  it.effect("make with a bad prefix fails with InvalidPrefix and creates nothing", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(DailyAppender.make("/logs", "a/b")))
      expect([error._tag, error._tag === "InvalidPrefix" && error.prefix]).toEqual(["InvalidPrefix", "a/b"])
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      expect(mem.files()).toEqual([])
    }).pipe(Effect.provide(memoryLayer())))
})

describe.each(fileSystems)("DailyAppender contract on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))

  it.scoped("a second daily appender on the same directory and prefix fails with FileClaimed naming the one claim .<prefix>.lock, held until close", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(DAY)
      yield* Effect.scoped(Effect.gen(function* () {
        const first = yield* DailyAppender.make(dir, "events")
        const error = yield* Effect.flip(Effect.scoped(DailyAppender.make(dir, "events")))
        expect([error._tag, error.message]).toEqual(["FileClaimed", expect.stringContaining("/.events.lock")])
        yield* first.append("a")
      }))
      expect(yield* readAll(dir)).toEqual({ "events-2026-01-31.ndjson": "a\n" })
    })))

  it.scoped("lines up to 23:59:59.999 go to that day's file, lines from 00:00 to the next day's", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(MIDNIGHT - 2)
      yield* Effect.scoped(Effect.gen(function* () {
        const events = yield* DailyAppender.make(dir, "events")
        yield* events.append("a") // 23:59:59.998
        yield* TestClock.adjust("1 millis")
        yield* events.appendJson({ b: 1 }) // 23:59:59.999
        yield* TestClock.adjust("1 millis")
        yield* events.append("c") // 00:00:00.000
        yield* events.appendAll(["d", "e"])
      }))
      expect(yield* readAll(dir)).toEqual({
        "events-2026-01-31.ndjson": 'a\n{"b":1}\n',
        "events-2026-02-01.ndjson": "c\nd\ne\n"
      })
    })))

  it.scoped("at the switch the previous day's file is flushed and closed before the new day's is written", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(MIDNIGHT - 1)
      const events = yield* DailyAppender.make(dir, "events", { highWaterMark: 1 << 20 })
      yield* events.appendAll(Array.from({ length: 500 }, (_, i) => `old-${i}`))
      yield* TestClock.adjust("1 millis")
      expect(yield* events.currentPath).toBe(`${dir}/events-2026-02-01.ndjson`)
      expect(yield* openFilesUnder(dir)).toEqual([`${yield* realDir(dir)}/events-2026-01-31.ndjson`])
      yield* events.append("new")
      expect((yield* readAll(dir))["events-2026-01-31.ndjson"]).toBe(joined(Array.from({ length: 500 }, (_, i) => `old-${i}`)))
      expect(yield* openFilesUnder(dir)).toEqual([`${yield* realDir(dir)}/events-2026-02-01.ndjson`]) // the old one is closed
      yield* events.flush
      expect((yield* readAll(dir))["events-2026-02-01.ndjson"]).toBe("new\n")
    })))

  it.scoped("an existing file for today is appended to, not truncated", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(DAY + 1000)
      yield* Effect.scoped(Effect.flatMap(DailyAppender.make(dir, "events"), (e) => e.append("first run")))
      yield* Effect.scoped(Effect.flatMap(DailyAppender.make(dir, "events"), (e) => e.append("second run")))
      expect(yield* readAll(dir)).toEqual({ "events-2026-01-31.ndjson": "first run\nsecond run\n" })
    })))

  it.scoped("8 fibers appending across midnight: every line once, in its day's file, in per-fiber order", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const start = MIDNIGHT - 5 // steps at .995 … .999, then 00:00:00.000 … .004
      const steps = 10
      yield* TestClock.setTime(start)
      const events = yield* DailyAppender.make(dir, "events")
      const done = yield* Queue.unbounded<void>()
      const writer = (f: number) =>
        Effect.forEach(Array.from({ length: steps }, (_, step) => step), (step) =>
          Effect.gen(function* () {
            if (step > 0) yield* Effect.sleep("1 millis")
            for (let k = 0; k < 3; k++) yield* events.append(`f${f} step${step} k${k}`)
            yield* Queue.offer(done, undefined)
          }), { discard: true })
      yield* Effect.forEach(Array.from({ length: 8 }, (_, f) => f), (f) => Effect.forkScoped(writer(f)), { discard: true })
      for (let step = 0; step < steps; step++) {
        if (step > 0) yield* TestClock.adjust("1 millis")
        yield* Queue.takeN(done, 8) // the clock moves only when all 8 have written this step
      }
      yield* events.flush

      const files = yield* readAll(dir)
      // The previous day's claim was released at the switch; today's is held while open.
      expect(Object.keys(files)).toEqual([".events.lock", "events-2026-01-31.ndjson", "events-2026-02-01.ndjson"])
      const before = files["events-2026-01-31.ndjson"]!.split("\n").filter((l) => l !== "")
      const after = files["events-2026-02-01.ndjson"]!.split("\n").filter((l) => l !== "")
      const expected = (f: number, fromStep: number, toStep: number) =>
        Array.from({ length: toStep - fromStep }, (_, s) => [0, 1, 2].map((k) => `f${f} step${s + fromStep} k${k}`)).flat()
      for (let f = 0; f < 8; f++) {
        expect(before.filter((l) => l.startsWith(`f${f} `))).toEqual(expected(f, 0, 5))
        expect(after.filter((l) => l.startsWith(`f${f} `))).toEqual(expected(f, 5, 10))
      }
      expect([before.length, after.length]).toEqual([120, 120])
    })))

  it.scoped("a clock stepped back a day writes to that day's file again", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(MIDNIGHT - 1)
      yield* Effect.scoped(Effect.gen(function* () {
        const events = yield* DailyAppender.make(dir, "events")
        yield* events.append("a")
        yield* TestClock.setTime(MIDNIGHT)
        yield* events.append("b")
        yield* TestClock.setTime(MIDNIGHT - 10)
        yield* events.append("c")
      }))
      expect(yield* readAll(dir)).toEqual({ "events-2026-01-31.ndjson": "a\nc\n", "events-2026-02-01.ndjson": "b\n" })
    })))

  it.scoped("with a policy, each day's file also rotates by size", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(DAY)
      yield* Effect.scoped(Effect.gen(function* () {
        const events = yield* DailyAppender.make(dir, "events", { policy: RotationPolicy.unsafeMake({ maxBytes: 10, maxFiles: 2 }) })
        yield* events.appendAll(["1234", "5678", "abcd"])
      }))
      expect(yield* readAll(dir)).toEqual({ "events-2026-01-31.ndjson": "abcd\n", "events-2026-01-31.ndjson.1": "1234\n5678\n" })
    })))
})

describe.each(fileSystems)("DailyAppender with a naming on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))
  const HOURLY = Either.getOrThrow(FileNaming.fromPattern("{prefix}-{date}-{hour}.ndjson"))
  const DOT = Either.getOrThrow(FileNaming.fromPattern("{prefix}.{date}.log"))

  it.scoped("hourly: lines up to hh:59:59.999 go to that hour's file, from the next hh:00 to the next hour's, across midnight too", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(MIDNIGHT - 60 * 60 * 1000 - 1) // 2026-01-31T22:59:59.999Z
      yield* Effect.scoped(Effect.gen(function* () {
        const events = yield* DailyAppender.make(dir, "events", { naming: HOURLY })
        yield* events.append("a")
        yield* TestClock.adjust("1 millis") // 23:00
        expect(yield* events.currentPath).toBe(`${dir}/events-2026-01-31-23.ndjson`)
        yield* events.append("b")
        yield* TestClock.adjust("59 minutes")
        yield* events.appendAll(["c", "d"]) // 23:59
        yield* TestClock.adjust("1 minutes") // 00:00 the next day
        yield* events.appendJson({ e: 1 })
        yield* TestClock.adjust("1 hours") // 01:00
        yield* events.append("f")
      }))
      expect(yield* readAll(dir)).toEqual({
        "events-2026-01-31-22.ndjson": "a\n",
        "events-2026-01-31-23.ndjson": "b\nc\nd\n",
        "events-2026-02-01-00.ndjson": '{"e":1}\n',
        "events-2026-02-01-01.ndjson": "f\n"
      })
    })))

  it.scoped("hourly: at most one hour's file is open; the previous hour's is closed at the switch", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(DAY + 13 * 60 * 60 * 1000) // 13:00
      const events = yield* DailyAppender.make(dir, "events", { naming: HOURLY })
      yield* events.append("one")
      yield* TestClock.adjust("1 hours")
      yield* events.append("two")
      yield* events.flush
      expect(yield* openFilesUnder(dir)).toEqual([`${yield* realDir(dir)}/events-2026-01-31-14.ndjson`])
    })))

  it.scoped("a custom daily pattern: {prefix}.{date}.log names each day's file, and the sweep's naming reads it back", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(MIDNIGHT - 1)
      yield* Effect.scoped(Effect.gen(function* () {
        const app = yield* DailyAppender.make(dir, "app", { naming: DOT })
        yield* app.append("old")
        yield* TestClock.adjust("1 millis")
        yield* app.append("new")
      }))
      const files = yield* readAll(dir)
      expect(files).toEqual({ "app.2026-01-31.log": "old\n", "app.2026-02-01.log": "new\n" })
      expect(Object.keys(files).map((name) => Either.map(DOT.parse(name), (f) => [f.prefix, FileNaming.formatDay(f.period), f.kind])))
        .toEqual([Either.right(["app", "2026-01-31", "plain"]), Either.right(["app", "2026-02-01", "plain"])])
    })))

  it.scoped("a second appender with a naming fails with FileClaimed naming that naming's files", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(DAY)
      yield* DailyAppender.make(dir, "app", { naming: DOT })
      const error = yield* Effect.flip(Effect.scoped(DailyAppender.make(dir, "app", { naming: DOT })))
      expect([error._tag, error._tag === "FileClaimed" && error.path]).toEqual(["FileClaimed", `${dir}/app.*.log`])
    })))
})

describe("DailyAppender with a naming: prefixes", () => {
  it.effect("a prefix the naming cannot read back fails at make with InvalidPrefix naming the naming's names, and creates nothing", () =>
    Effect.gen(function* () {
      const naming = Either.getOrThrow(FileNaming.fromPattern("{prefix}-{date}-{hour}.log"))
      const error = yield* Effect.flip(Effect.scoped(DailyAppender.make("/logs", "ev\u2028ents", { naming })))
      expect([error._tag, error.message]).toEqual([
        "InvalidPrefix", expect.stringContaining(`"ev\u2028ents-YYYY-MM-DD-HH.log" would not be recognized by the retention sweep`)
      ])
      expect((yield* MemoryFileSystem.MemoryFileSystem).files()).toEqual([])
    }).pipe(Effect.provide(memoryLayer())))
})

describe("DailyAppender on MemoryFileSystem: faults and layers", () => {
  it.scoped("a failed flush at the switch fails that append and switches nothing; the retry loses no line", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* TestClock.setTime(MIDNIGHT - 1)
      const events = yield* DailyAppender.make("/logs", "events")
      yield* events.appendAll(["a", "b"])
      mem.injectFault({ method: "write", path: "/logs/events-2026-01-31.ndjson", times: Infinity })
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(events.append("c"))
      expect([error._tag, error.message]).toEqual(["WriteError", expect.stringContaining("events-2026-01-31.ndjson")])
      expect(mem.files().map(([p]) => p)).toEqual(["/logs/.events.lock", "/logs/events-2026-01-31.ndjson"])
      mem.clearFaults()
      yield* events.append("c")
      yield* events.flush
      // One claim for the prefix, held across the switch: no per-day lock is ever made.
      expect(mem.files().map(([p]) => p).filter((p) => p.endsWith(".lock"))).toEqual(["/logs/.events.lock"])
      expect(mem.files().filter(([p]) => !p.endsWith(".lock")).map(([p, b]) => [p, Buffer.from(b).toString()])).toEqual([
        ["/logs/events-2026-01-31.ndjson", "a\nb\n"],
        ["/logs/events-2026-02-01.ndjson", "c\n"]
      ])
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("concurrent appends at midnight while the new file is slow to open: one switch, one open, nothing lost", () =>
    Effect.gen(function* () {
      const [fs, tools] = instrument(MemoryFileSystem.unsafeMake())
      const opens = () => tools.calls.filter((c) => c.method === "open" && c.path.endsWith("2026-02-01.ndjson")).length
      tools.hook("open", /2026-02-01/, () => Effect.repeatN(Effect.yieldNow(), 50)) // lets the others run mid-switch
      yield* TestClock.setTime(MIDNIGHT - 1)
      const events = yield* DailyAppender.make("/logs", "events").pipe(Effect.provideService(FileSystem.FileSystem, fs))
      yield* events.append("last of the day")
      yield* TestClock.setTime(MIDNIGHT)
      yield* Effect.forEach(Array.from({ length: 8 }, (_, f) => f), (f) =>
        Effect.forEach([0, 1, 2, 3, 4], (i) => events.append(`f${f}-${i}`), { discard: true }), {
        concurrency: "unbounded", discard: true
      })
      yield* events.flush
      expect(opens()).toBe(1)
      const files = yield* readAll("/logs").pipe(Effect.provideService(FileSystem.FileSystem, fs))
      expect(files["events-2026-01-31.ndjson"]).toBe("last of the day\n")
      const next = files["events-2026-02-01.ndjson"]!.split("\n").filter((l) => l !== "")
      expect(next.length).toBe(40)
      for (let f = 0; f < 8; f++) expect(next.filter((l) => l.startsWith(`f${f}-`))).toEqual([0, 1, 2, 3, 4].map((i) => `f${f}-${i}`))
    }))

  it.scoped("today's file is opened at make, so an unwritable directory fails at startup", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* TestClock.setTime(DAY)
      mem.injectFault({ method: "open", reason: "PermissionDenied" })
      const error = yield* Effect.flip(DailyAppender.make("/logs", "events"))
      expect([error._tag, error.message]).toEqual(["WriteError", expect.stringContaining("PermissionDenied")])
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("layer and layerAs provide the service; the file is flushed when the layer closes", () =>
    Effect.gen(function* () {
      class Audit extends Context.Tag("test/Audit")<Audit, DailyAppender.DailyAppender>() {}
      yield* TestClock.setTime(DAY)
      yield* Effect.gen(function* () {
        yield* (yield* DailyAppender.DailyAppender).append("event")
        yield* (yield* Audit).appendJson({ who: "ann" })
      }).pipe(Effect.provide(Layer.mergeAll(DailyAppender.layer("/logs", "events"), DailyAppender.layerAs(Audit, "/logs", "audit"))))
      expect(yield* readAll("/logs")).toEqual({
        "audit-2026-01-31.ndjson": '{"who":"ann"}\n',
        "events-2026-01-31.ndjson": "event\n"
      })
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("using the appender after its scope closed is a defect, not a silent write", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(DAY)
      const events = yield* Effect.scoped(DailyAppender.make("/logs", "events"))
      const exit = yield* Effect.exit(events.append("late"))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(yield* readAll("/logs")).toEqual({ "events-2026-01-31.ndjson": "" })
    }).pipe(Effect.provide(memoryLayer())))
})
