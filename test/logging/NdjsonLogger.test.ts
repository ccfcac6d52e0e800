import type { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause, Deferred, Effect, Exit, FastCheck as fc, Fiber, FiberId, FiberRef, FiberRefs, HashMap, HashSet, Layer, List, Logger, LogLevel, LogSpan,
  Metric, Scope, TestClock
} from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as NdjsonLogger from "../../src/logging/NdjsonLogger.js"
import type { RenameShift } from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import { fileSystems, memoryLayer, readAll, tempDir } from "../support/fileSystems.js"

const T0 = Date.UTC(2026, 0, 31, 12, 0, 0)
const policy = (maxBytes: number, maxFiles: number) => RotationPolicy.unsafeMake({ maxBytes, maxFiles })
const unlimited = policy(0, 1)

/** Every line of every file in `dir`, oldest file first (`app.jsonl.N` … `.1`, then `app.jsonl`). */
const allLines = (dir: string) =>
  Effect.map(readAll(dir), (files) => {
    const order = (name: string) => (name.includes(".jsonl.") ? -Number(name.split(".").pop()) : 0)
    return Object.keys(files).sort((a, b) => order(a) - order(b)).flatMap((name) =>
      files[name]!.split("\n").filter((line) => line !== "")
    )
  })

/** Captures what a plain logger sees: `[level, message, annotations]`. */
const capture = () => {
  const seen: Array<readonly [string, unknown, Record<string, unknown>]> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    seen.push([logLevel.label, message, Object.fromEntries(annotations)])
  })
  return { seen, logger }
}

describe.each(fileSystems)("NdjsonLogger on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))

  it.scoped("each Effect.log call is one JSON line: timestamp, level, message, annotations, spans, fiberId", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* TestClock.setTime(T0)
      const fiberId = yield* Effect.gen(function* () {
        yield* Effect.logInfo("hello")
        yield* Effect.logWarning("slow", 42).pipe(Effect.annotateLogs({ user: "ann", attempt: 2 }))
        yield* Effect.gen(function* () {
          yield* TestClock.adjust("25 millis")
          yield* Effect.logError("failed")
        }).pipe(Effect.withLogSpan("request"), Effect.annotateLogs("route", "/orders"))
        return FiberId.threadName(yield* Effect.fiberId)
      }).pipe(Effect.provide(NdjsonLogger.layer(`${dir}/app.jsonl`, { policy: unlimited })))

      const expected = [
        { timestamp: "2026-01-31T12:00:00.000Z", level: "INFO", message: "hello", annotations: {}, spans: {}, fiberId },
        {
          timestamp: "2026-01-31T12:00:00.000Z", level: "WARN", message: "slow 42",
          annotations: { attempt: 2, user: "ann" }, spans: {}, fiberId
        },
        {
          timestamp: "2026-01-31T12:00:00.025Z", level: "ERROR", message: "failed",
          annotations: { route: "/orders" }, spans: { request: 25 }, fiberId
        }
      ]
      expect(fiberId).toMatch(/^#\d+$/)
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": expected.map((e) => JSON.stringify(e) + "\n").join("") })
    })))

  it.scoped("an entry logged right before the scope closes is on disk after it", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.gen(function* () {
        for (let i = 1; i <= 1000; i++) yield* Effect.logInfo(`entry ${i}`)
      }).pipe(Effect.provide(NdjsonLogger.layerReplace(`${dir}/app.jsonl`, { policy: unlimited })))
      const messages = (yield* allLines(dir)).map((line) => JSON.parse(line).message)
      expect(messages).toEqual(Array.from({ length: 1000 }, (_, i) => `entry ${i + 1}`))
    })))

  it.scoped("closing stops the logger's worker even when the logger was made inside an uninterruptible region", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const scope = yield* Scope.make()
      const appender = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: unlimited }).pipe(Scope.extend(scope))
      const logger = yield* Effect.uninterruptible(NdjsonLogger.make(appender).pipe(Scope.extend(scope)))
      yield* Effect.logInfo("before close").pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      yield* Scope.close(scope, Exit.void) // hung forever before the worker was made interruptible
      expect((yield* allLines(dir)).map((line) => JSON.parse(line).message)).toEqual(["before close"])
    })))

  it.scoped("8 fibers logging through tiny rotations: every entry once, whole, in per-fiber order, no file over maxBytes", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const maxBytes = 2048
      yield* Effect.forEach(Array.from({ length: 8 }, (_, f) => f), (f) =>
        Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) =>
          Effect.logInfo("tick").pipe(Effect.annotateLogs({ f, i })), { discard: true }), {
        concurrency: "unbounded", discard: true
      }).pipe(Effect.provide(NdjsonLogger.layer(`${dir}/app.jsonl`, { policy: policy(maxBytes, 10_000) })))

      const files = yield* readAll(dir)
      expect(Object.keys(files).length).toBeGreaterThan(10)
      for (const text of Object.values(files)) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes)
      const entries = (yield* allLines(dir)).map((line) => JSON.parse(line) as NdjsonLogger.Entry)
      expect(entries.length).toBe(800)
      for (let f = 0; f < 8; f++) {
        expect(entries.filter((e) => e.annotations.f === f).map((e) => e.annotations.i)).toEqual(
          Array.from({ length: 100 }, (_, i) => i)
        )
      }
    })))

  it.scoped("a burst from one fiber that never yields, past the high-water mark: every entry once, in order, rotating", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const maxBytes = 8192
      yield* Effect.gen(function* () {
        for (let i = 0; i < 3000; i++) yield* Effect.logInfo({ i })
      }).pipe(Effect.provide(NdjsonLogger.layerReplace(`${dir}/app.jsonl`, { policy: policy(maxBytes, 10_000), highWaterMark: 512 })))
      const files = yield* readAll(dir)
      expect(Object.keys(files).length).toBeGreaterThan(20)
      for (const text of Object.values(files)) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes)
      expect((yield* allLines(dir)).map((line) => JSON.parse(JSON.parse(line).message).i)).toEqual(
        Array.from({ length: 3000 }, (_, i) => i)
      )
    })))
})

/** How a test target takes entries: as strings (`appendAll`) or as encoded bytes (`appendEncoded`). */
const targetKinds = ["appendAll", "appendEncoded"] as const
type TargetKind = typeof targetKinds[number]

/** A target taking entries the `kind` way; each batch, as lines, goes to `take`. */
const targetOf = (kind: TargetKind, take: (lines: ReadonlyArray<string>) => Effect.Effect<void>): NdjsonLogger.Target =>
  kind === "appendAll"
    ? { appendAll: (lines) => take([...lines]) }
    : {
      appendAll: () => Effect.dieMessage("a target with appendEncoded is handed bytes"),
      appendEncoded: (bytes) =>
        Effect.suspend(() => {
          const text = Buffer.from(bytes).toString("utf8") // read at once: the logger reuses its buffer afterwards
          return text.endsWith("\n") ? take(text.slice(0, -1).split("\n")) : Effect.dieMessage(`not whole lines: ${text}`)
        })
    }

describe.each(targetKinds)("NdjsonLogger backpressure, target taking %s", (kind) => {
  it.live("a fiber that never yields waits at the high-water mark: each hand-over holds at most that plus one entry", () =>
    Effect.gen(function* () {
      const batches: Array<ReadonlyArray<string>> = []
      // A slow target: each hand-over completes on a later turn of the event loop, like a write.
      const target = targetOf(kind, (lines) =>
        Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))).pipe(
          Effect.zipRight(Effect.sync(() => void batches.push(lines)))
        ))
      const highWaterMark = 1000
      yield* Effect.gen(function* () {
        for (let i = 0; i < 5000; i++) yield* Effect.logInfo(`entry ${i}`)
      }).pipe(Effect.provide(Logger.replaceScoped(Logger.defaultLogger, NdjsonLogger.make(target, { highWaterMark }))))
      const all = batches.flat()
      expect(all.map((line) => JSON.parse(line).message)).toEqual(Array.from({ length: 5000 }, (_, i) => `entry ${i}`))
      const longest = Math.max(...all.map((line) => line.length))
      const largest = Math.max(...batches.map((b) => b.reduce((n, line) => n + line.length, 0)))
      expect(largest).toBeLessThan(highWaterMark + longest)
      expect(batches.length).toBeGreaterThan(5000 * 100 / highWaterMark / 2)
    }))
})

describe.each(targetKinds)("NdjsonLogger hand-over, target taking %s", (kind) => {
  it.live("multi-byte entries, and entries larger than the logger's buffer, arrive whole, in order, as formatLine writes them", () =>
    Effect.gen(function* () {
      const batches: Array<ReadonlyArray<string>> = []
      const target = targetOf(kind, (lines) => Effect.sync(() => void batches.push(lines)))
      const messages = Array.from({ length: 3000 }, (_, i) =>
        i % 1000 === 999 ? "😀é".repeat(300_000) + i : `${"é😀\u2028\"\\".repeat(i % 50)} ${i}`)
      yield* Effect.forEach(messages, (message) => Effect.logInfo(message), { discard: true }).pipe(
        Effect.provide(Logger.replaceScoped(Logger.defaultLogger, NdjsonLogger.make(target, { highWaterMark: 4096 })))
      )
      const lines = batches.flat()
      expect(lines.map((line) => JSON.parse(line).message)).toEqual(messages)
      expect(lines.every((line) => line === JSON.stringify(JSON.parse(line)))).toBe(true)
    }))
})

describe.each(targetKinds)("NdjsonLogger bounded memory, target taking %s", (kind) => {
  /** A target whose hand-overs never complete until `gate` opens; records what it was handed. */
  const stuckTarget = Effect.map(Deferred.make<void>(), (gate) => {
    const batches: Array<ReadonlyArray<string>> = []
    const target = targetOf(kind, (lines) => Effect.sync(() => void batches.push(lines)).pipe(Effect.zipRight(Deferred.await(gate))))
    return { gate, batches, target }
  })
  /** A target completing each hand-over on a later turn of the event loop; records what it was handed. */
  const slowTarget = (batches: Array<ReadonlyArray<string>>) =>
    targetOf(kind, (lines) =>
      Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))).pipe(
        Effect.zipRight(Effect.sync(() => void batches.push(lines)))
      ))
  const settle = (until: () => boolean) => Effect.repeat(Effect.yieldNow(), { until, times: 10_000 })
  const logging = (logger: Logger.Logger<unknown, void>, n: number) =>
    Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => Effect.logInfo(`entry ${i}`), { discard: true }).pipe(
      Effect.locally(FiberRef.currentLoggers, HashSet.make<Array<Logger.Logger<unknown, unknown>>>(logger))
    )

  it.effect("a stuck target: the logging fiber waits, after stallTimeout goes on; at most maxQueued characters are held, the rest dropped and counted", () =>
    Effect.gen(function* () {
      const { batches, gate, target } = yield* stuckTarget
      const { logger: other, seen } = capture()
      const dropped = (yield* Metric.value(NdjsonLogger.entriesDropped)).count
      const scope = yield* Scope.make()
      const maxQueued = 5000
      const logger = yield* NdjsonLogger.make(target, { highWaterMark: 1000, maxQueued, stallTimeout: "1 second" }).pipe(
        Scope.extend(scope),
        Effect.provide(Logger.add(other))
      )
      const n = 2000
      const fiber = yield* Effect.fork(logging(logger, n))
      yield* settle(() => batches.length === 1) // the first hand-over is stuck
      yield* Effect.repeat(TestClock.adjust("1 second"), { until: () => fiber.unsafePoll() !== null, times: 10 })
      yield* Fiber.join(fiber)
      const droppedWhileStuck = (yield* Metric.value(NdjsonLogger.entriesDropped)).count - dropped
      yield* Deferred.succeed(gate, void 0)
      yield* Scope.close(scope, Exit.void)

      const written = batches.flat()
      const kept = written.length
      expect(kept).toBeGreaterThan(0)
      expect(written.reduce((chars, line) => chars + line.length, 0)).toBeLessThanOrEqual(maxQueued)
      expect(written.map((line) => JSON.parse(line).message)).toEqual(Array.from({ length: kept }, (_, i) => `entry ${i}`))
      expect(droppedWhileStuck).toBe(n - kept)
      const warned = seen.filter(([, message]) => String(message).includes("queue was full"))
      expect(warned.map(([level, , annotations]) => [level, annotations.entries])).toEqual([["WARN", n - kept]])
    }))

  it.live("100 fibers logging at once against a slow target: nothing dropped, each fiber's order kept, a batch holds at most the mark plus one entry per fiber", () =>
    Effect.gen(function* () {
      const batches: Array<ReadonlyArray<string>> = []
      const target = slowTarget(batches)
      const dropped = (yield* Metric.value(NdjsonLogger.entriesDropped)).count
      const highWaterMark = 1000
      yield* Effect.forEach(Array.from({ length: 100 }, (_, f) => f), (f) =>
        Effect.forEach(Array.from({ length: 30 }, (_, i) => i), (i) => Effect.logInfo(`f${f} i${i}`), { discard: true }), {
        concurrency: "unbounded", discard: true
      }).pipe(Effect.provide(Logger.replaceScoped(Logger.defaultLogger, NdjsonLogger.make(target, { highWaterMark }))))
      const messages = batches.flat().map((line) => JSON.parse(line).message as string)
      expect(messages.length).toBe(3000)
      for (let f = 0; f < 100; f++) {
        expect(messages.filter((m) => m.startsWith(`f${f} `))).toEqual(Array.from({ length: 30 }, (_, i) => `f${f} i${i}`))
      }
      expect((yield* Metric.value(NdjsonLogger.entriesDropped)).count - dropped).toBe(0)
      const longest = Math.max(...batches.flat().map((line) => line.length))
      expect(Math.max(...batches.map((b) => b.reduce((n, line) => n + line.length, 0)))).toBeLessThanOrEqual(highWaterMark + 100 * longest)
    }))

  it.live("maxQueued below the high-water mark is raised to 4 × the mark: a target that keeps up loses nothing", () =>
    Effect.gen(function* () {
      const batches: Array<ReadonlyArray<string>> = []
      const target = slowTarget(batches)
      const dropped = (yield* Metric.value(NdjsonLogger.entriesDropped)).count
      yield* Effect.gen(function* () {
        for (let i = 0; i < 3000; i++) yield* Effect.logInfo(`entry ${i}`)
      }).pipe(Effect.provide(Logger.replaceScoped(Logger.defaultLogger, NdjsonLogger.make(target, { highWaterMark: 4000, maxQueued: 1000 }))))
      expect(batches.flat().map((line) => JSON.parse(line).message)).toEqual(Array.from({ length: 3000 }, (_, i) => `entry ${i}`))
      expect((yield* Metric.value(NdjsonLogger.entriesDropped)).count - dropped).toBe(0)
    }))

  it.effect("only a fiber that logged at the high-water mark waits: other fibers under the logger run on", () =>
    Effect.gen(function* () {
      const { batches, gate, target } = yield* stuckTarget
      const scope = yield* Scope.make()
      const logger = yield* NdjsonLogger.make(target, { highWaterMark: 1000, stallTimeout: "1 hour" }).pipe(Scope.extend(scope))
      const logging1 = yield* Effect.fork(logging(logger, 500))
      yield* settle(() => batches.length === 1)
      yield* settle(() => false).pipe(Effect.ignore) // the logger fills the next queue and waits
      let steps = 0
      const other = yield* Effect.fork(Effect.repeat(Effect.sync(() => steps++).pipe(Effect.zipRight(Effect.yieldNow())), { times: 4999 }))
      yield* Fiber.join(other)
      expect(steps).toBe(5000)
      expect(logging1.unsafePoll()).toBeNull() // still waiting: its queue is at the high-water mark
      yield* Deferred.succeed(gate, void 0)
      yield* Fiber.join(logging1)
      yield* Scope.close(scope, Exit.void)
      expect(batches.flat().map((line) => JSON.parse(line).message)).toEqual(Array.from({ length: 500 }, (_, i) => `entry ${i}`))
    }))
})

describe("NdjsonLogger formatting", () => {
  const logged = <E>(program: Effect.Effect<void, E>) =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      yield* program.pipe(Effect.provide(NdjsonLogger.layer("/logs/app.jsonl", { policy: unlimited })))
      return (yield* allLines("/logs")).map((line) => JSON.parse(line) as NdjsonLogger.Entry)
    }).pipe(Effect.provide(memoryLayer()))

  it.effect("level is the level's label, for every level", () =>
    Effect.gen(function* () {
      const entries = yield* logged(Effect.all([
        Effect.logTrace("t"), Effect.logDebug("d"), Effect.logInfo("i"),
        Effect.logWarning("w"), Effect.logError("e"), Effect.logFatal("f")
      ]).pipe(Logger.withMinimumLogLevel(LogLevel.All)))
      expect(entries.map((e) => [e.level, e.message])).toEqual([
        ["TRACE", "t"], ["DEBUG", "d"], ["INFO", "i"], ["WARN", "w"], ["ERROR", "e"], ["FATAL", "f"]
      ])
    }))

  it.effect("several messages are joined with a space; non-strings as compact JSON, errors as Name: message", () =>
    Effect.gen(function* () {
      const entries = yield* logged(Effect.all([
        Effect.log("user", { id: 7, tags: ["a"] }, 3, true, null, undefined),
        Effect.log(new RangeError("out of range")),
        Effect.log({ nested: { at: new Date(T0) } })
      ]))
      expect(entries.map((e) => e.message)).toEqual([
        'user {"id":7,"tags":["a"]} 3 true null undefined',
        "RangeError: out of range",
        '{"nested":{"at":"2026-01-31T12:00:00.000Z"}}'
      ])
    }))

  it.effect("odd values never throw: circular → \"[Circular]\", bigint → string, a throwing toJSON → String()", () =>
    Effect.gen(function* () {
      const circular: Record<string, unknown> = { name: "c" }
      circular.self = circular
      const shared = { x: 1 }
      const throwing = { toJSON: () => { throw new Error("no") } }
      const bare = Object.assign(Object.create(null) as object, { toJSON: () => { throw new Error("no") } })
      const entries = yield* logged(Effect.all([
        Effect.log(circular),
        Effect.log("big", 12345678901234567890n),
        Effect.log(throwing),
        Effect.log(bare),
        Effect.log("annotated").pipe(Effect.annotateLogs({
          big: 10n, circular, twice: { a: shared, b: shared }, throwing, error: new Error("boom"), fn: Math.max
        }))
      ]))
      expect(entries.map((e) => e.message)).toEqual([
        '{"name":"c","self":"[Circular]"}',
        "big 12345678901234567890",
        "[object Object]",
        "[object Object]",
        "annotated"
      ])
      expect(entries[4]!.annotations).toEqual({
        big: "10",
        circular: { name: "c", self: "[Circular]" },
        twice: { a: { x: 1 }, b: { x: 1 } },
        throwing: "[object Object]",
        error: { name: "Error", message: "boom" },
        fn: String(Math.max)
      })
    }))

  it.effect("a cause is added as `cause` (Cause.pretty) only when there is one", () =>
    Effect.gen(function* () {
      const entries = yield* logged(Effect.all([
        Effect.logError("write failed", Cause.fail(new Error("disk full"))),
        Effect.logError("plain")
      ]))
      expect(entries[0]!.message).toBe("write failed")
      expect(entries[0]!.cause).toContain("disk full")
      expect(Object.keys(entries[1]!)).toEqual(["timestamp", "level", "message", "annotations", "spans", "fiberId"])
    }))

  it("format is the pure string logger: one line, no I/O", () => {
    const fiberId = FiberId.make(7, T0)
    const line = NdjsonLogger.format.log({
      fiberId, logLevel: LogLevel.Info, message: ["a", 1n], cause: Cause.empty, context: FiberRefs.empty(),
      spans: List.make(LogSpan.make("job", T0 - 5)), annotations: HashMap.make(["k", "v\n"]), date: new Date(T0)
    })
    expect(line).toBe(
      '{"timestamp":"2026-01-31T12:00:00.000Z","level":"INFO","message":"a 1","annotations":{"k":"v\\n"},"spans":{"job":5},"fiberId":"#7"}'
    )
  })
})

describe("NdjsonLogger layers", () => {
  const loggersWith = (layer: Layer.Layer<never, unknown>) =>
    FiberRef.get(FiberRef.currentLoggers).pipe(
      Effect.provide(layer),
      Effect.locally(FiberRef.currentLoggers, HashSet.make(Logger.defaultLogger, Logger.prettyLoggerDefault, Logger.tracerLogger))
    )
  const fsLayer = memoryLayer()

  it.effect("layer adds the NDJSON logger next to the console one; layerReplace removes the console loggers only", () =>
    Effect.gen(function* () {
      const added = yield* loggersWith(NdjsonLogger.layer("/logs/a.jsonl", { policy: unlimited }).pipe(Layer.provide(fsLayer)))
      expect(HashSet.size(added)).toBe(4)
      expect([HashSet.has(added, Logger.defaultLogger), HashSet.has(added, Logger.tracerLogger)]).toEqual([true, true])
      const replaced = yield* loggersWith(NdjsonLogger.layerReplace("/logs/b.jsonl", { policy: unlimited }).pipe(Layer.provide(fsLayer)))
      expect(HashSet.size(replaced)).toBe(2)
      expect([
        HashSet.has(replaced, Logger.defaultLogger), HashSet.has(replaced, Logger.prettyLoggerDefault),
        HashSet.has(replaced, Logger.tracerLogger)
      ]).toEqual([false, false, true])
    }))

  it.effect("both layers keep loggers you added, which see the same entries", () =>
    Effect.gen(function* () {
      for (const make of [NdjsonLogger.layer, NdjsonLogger.layerReplace]) {
        const { logger, seen } = capture()
        yield* Effect.logInfo("both").pipe(
          Effect.provide(make("/logs/app.jsonl", { policy: unlimited })),
          Effect.provide(Logger.add(logger))
        )
        expect(seen).toEqual([["INFO", ["both"], {}]])
      }
      expect((yield* allLines("/logs")).map((l) => JSON.parse(l).message)).toEqual(["both", "both"])
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("a layer's background fiber logs through it when the logger layer is provided below it, not merged beside it", () =>
    Effect.gen(function* () {
      const WorkerLive = Layer.scopedDiscard(Effect.forkScoped(Effect.logInfo("from the worker's fiber")))
      const messages = (path: string) =>
        Effect.map(readAll("/logs"), (files) => (files[path] ?? "").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).message))
      const logging = (path: string) => NdjsonLogger.layerReplace(`/logs/${path}`, { policy: unlimited })
      const program = Effect.logInfo("from the program").pipe(Effect.zipRight(Effect.yieldNow()))
      yield* program.pipe(Effect.provide(WorkerLive.pipe(Layer.provideMerge(logging("below.jsonl")))))
      yield* program.pipe(Effect.provide(Layer.mergeAll(WorkerLive, logging("beside.jsonl"))))
      expect((yield* messages("below.jsonl")).sort()).toEqual(["from the program", "from the worker's fiber"])
      expect(yield* messages("beside.jsonl")).toEqual(["from the program"])
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("the layers change no FiberRef of the fibers under them but the loggers and the scheduler (Effect copies every changed one on each log call)", () =>
    Effect.gen(function* () {
      const names = new Map<unknown, string>(
        Object.entries(FiberRef).filter(([, ref]) => FiberRef.FiberRefTypeId in Object(ref)).map(([name, ref]) => [ref, name])
      )
      // Each in a fresh root fiber, as a program runs: the FiberRefs it changed, by name.
      const changed = (layer: Layer.Layer<never, unknown, FileSystem.FileSystem | RenameShift>) =>
        Effect.promise(() =>
          Effect.runPromise(Effect.getFiberRefs.pipe(Effect.provide(layer), Effect.provide(memoryLayer())))
        ).pipe(Effect.map((refs) => [...FiberRefs.fiberRefs(refs)].map((ref) => names.get(ref) ?? "(another FiberRef)").sort()))
      const bare = yield* changed(Layer.empty)
      for (const make of [NdjsonLogger.layer, NdjsonLogger.layerReplace]) {
        const under = yield* changed(make("/logs/app.jsonl", { policy: unlimited }))
        expect(under.filter((name) => !bare.includes(name))).toEqual(["currentLoggers", "currentScheduler"])
      }
    }))

  it.effect("without a policy option the program's RotationPolicy applies", () =>
    Effect.gen(function* () {
      yield* Effect.forEach([1, 2, 3], (i) => Effect.logInfo(`m${i}`), { discard: true }).pipe(
        Effect.provide(NdjsonLogger.layer("/logs/app.jsonl").pipe(Layer.provide(RotationPolicy.layer({ maxBytes: 150, maxFiles: 5 }))))
      )
      const files = yield* readAll("/logs")
      expect(Object.keys(files)).toEqual(["app.jsonl", "app.jsonl.1", "app.jsonl.2"])
      expect(yield* allLines("/logs")).toHaveLength(3)
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("make(appender) composes with Logger.replaceScoped over an appender you own", () =>
    Effect.gen(function* () {
      const LoggingLive = Logger.replaceScoped(
        Logger.defaultLogger,
        Effect.flatMap(RotatingAppender.make("/logs/own.jsonl", { policy: unlimited }), NdjsonLogger.make)
      )
      yield* Effect.logInfo("mine").pipe(Effect.provide(LoggingLive))
      expect((yield* allLines("/logs")).map((l) => JSON.parse(l).message)).toEqual(["mine"])
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("entries the appender rejects are dropped, counted and reported to the other loggers; later ones are written", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const { logger, seen } = capture()
      const dropped = (yield* Metric.value(NdjsonLogger.entriesDropped)).count
      const settle = (until: () => boolean) => Effect.repeat(Effect.yieldNow(), { until, times: 10_000 })
      const warnings = () => seen.filter(([, message]) => String(message).includes("log entries dropped"))
      // With a 1-byte high-water mark the logging fiber waits after each entry, so each is its own batch.
      const droppedReported = () => warnings().reduce((n, [, , annotations]) => n + Number(annotations.entries), 0)
      yield* Effect.gen(function* () {
        mem.injectFault({ method: "write", times: Infinity })
        yield* Effect.logInfo("kept while the disk fails") // accepted by the appender, buffered
        yield* settle(() => (mem.calls.write ?? 0) >= 1)
        yield* Effect.logInfo("dropped 1")
        yield* Effect.logInfo("dropped 2")
        yield* settle(() => droppedReported() >= 2)
        mem.clearFaults()
        yield* Effect.logInfo("after recovery")
      }).pipe(
        Effect.provide(NdjsonLogger.layerReplace("/logs/app.jsonl", { policy: unlimited, highWaterMark: 1 })),
        Effect.provide(Logger.add(logger))
      )
      expect((yield* allLines("/logs")).map((l) => JSON.parse(l).message)).toEqual(["kept while the disk fails", "after recovery"])
      expect((yield* Metric.value(NdjsonLogger.entriesDropped)).count - dropped).toBe(2)
      expect(warnings().map(([level]) => level)).toEqual(["WARN", "WARN"])
      expect(droppedReported()).toBe(2)
    }).pipe(Effect.provide(memoryLayer())))
})

describe("NdjsonLogger.formatLine (the fast path)", () => {
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    any: fc.oneof(
      { depthSize: "small" },
      fc.string(), fc.fullUnicodeString(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined),
      fc.bigInt(), fc.constant(new Date(T0)), fc.constant(new Error("e")), fc.constant(Symbol("s")), fc.constant(Math.max),
      fc.array(tie("any"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie("any"), { maxKeys: 4 })
    )
  })).any
  const options = fc.record({
    message: fc.oneof(value, fc.array(value, { maxLength: 3 })),
    annotations: fc.dictionary(
      fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("0", "1", "9", "10", "__proto__", "")), value, { maxKeys: 4 }
    ),
    spans: fc.array(fc.tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 3 }),
    millis: fc.oneof(fc.integer({ min: 0, max: 4e12 }), fc.constant(Number.NaN)),
    fiber: fc.integer({ min: 0, max: 1000 }),
    failed: fc.boolean()
  })

  it.prop("gives formatEntry(toEntry(options)) byte for byte, for any message, annotations, spans and cause", [options], ([o]) => {
    const input: Logger.Logger.Options<unknown> = {
      fiberId: FiberId.make(o.fiber, T0), logLevel: LogLevel.Warning, message: o.message,
      cause: o.failed ? Cause.fail(new Error("x")) : Cause.empty, context: FiberRefs.empty(),
      spans: List.fromIterable(o.spans.map(([label, ago]) => LogSpan.make(label, o.millis - ago))),
      annotations: HashMap.fromIterable(Object.entries(o.annotations)), date: new Date(o.millis)
    }
    expect(NdjsonLogger.formatLine(input)).toBe(NdjsonLogger.formatEntry(NdjsonLogger.toEntry(input)))
  })

  it("annotation keys: array indices first in numeric order, then sorted; \"__proto__\" is an ordinary key; with or without a cause", () => {
    for (const cause of [Cause.empty, Cause.fail("x")]) {
      const input: Logger.Logger.Options<unknown> = {
        fiberId: FiberId.make(1, T0), logLevel: LogLevel.Info, message: "m", cause, context: FiberRefs.empty(), spans: List.empty(),
        annotations: HashMap.make(["b", 3], ["10", 1], ["a", 4], ["__proto__", 5], ["9", 2]), date: new Date(T0)
      }
      const line = NdjsonLogger.formatLine(input)
      expect(line).toContain('"annotations":{"9":2,"10":1,"__proto__":5,"a":4,"b":3}')
      expect(line).toBe(NdjsonLogger.formatEntry(NdjsonLogger.toEntry(input)))
    }
  })

  it("an object message with quotes, backslashes and non-ASCII is escaped as JSON.stringify does", () => {
    for (const message of [{ a: "say \"hi\"" }, { b: "back\\slash", c: "é😀" }, { d: "\ud800" }, { e: ["\"", 1, null] }]) {
      const input: Logger.Logger.Options<unknown> = {
        fiberId: FiberId.make(1, T0), logLevel: LogLevel.Info, message, cause: Cause.empty, context: FiberRefs.empty(),
        spans: List.empty(), annotations: HashMap.empty(), date: new Date(T0)
      }
      const line = NdjsonLogger.formatLine(input)
      expect(JSON.parse(line).message).toBe(JSON.stringify(message))
      expect(line).toBe(NdjsonLogger.formatEntry(NdjsonLogger.toEntry(input)))
    }
  })
})
