import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Either, Exit, Layer, Logger, Ref, Scope, TestClock } from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as RetentionPlan from "../../src/retention/RetentionPlan.js"
import * as RetentionPolicy from "../../src/retention/RetentionPolicy.js"
import * as RetentionWorker from "../../src/retention/RetentionWorker.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { dated, Instrumented, memoryBase, names, ndjson, retentionLayer } from "../support/retention.js"

const INTERVAL = 60 // seconds
const enabled = RetentionPolicy.layer({ enabled: true, dirs: ["/logs"], maxAgeDays: 30, compressAgeDays: 7, checkIntervalSeconds: INTERVAL })

const emptyReport = (dirs: ReadonlyArray<string>): Sweeper.SweepReport => ({
  dirs, dryRun: false, plan: { today: "1970-01-01", actions: [] }, compressed: [], deleted: [], skipped: [], failed: [], bytesFreed: 0, durationMs: 0
})

/** A Sweeper that counts sweeps started and finished, the peak of sweeps at once, and takes `duration` each. */
const stubSweeper = (duration: Duration.DurationInput = 0, behaviour: (n: number) => Effect.Effect<void, unknown> = () => Effect.void) =>
  Effect.gen(function* () {
    const stats = yield* Ref.make({ started: 0, finished: 0, running: 0, peak: 0 })
    const sweeper = Layer.succeed(Sweeper.Sweeper, {
      sweep: (dirs) =>
        Effect.gen(function* () {
          const { started } = yield* Ref.updateAndGet(stats, (s) => ({
            ...s, started: s.started + 1, running: s.running + 1, peak: Math.max(s.peak, s.running + 1)
          }))
          yield* Effect.sleep(duration)
          yield* behaviour(started)
          yield* Ref.update(stats, (s) => ({ ...s, finished: s.finished + 1, running: s.running - 1 }))
          return emptyReport(dirs)
        }) as Effect.Effect<Sweeper.SweepReport> // a typed failure is forced through: the worker must survive one all the same
    })
    return { stats, sweeper }
  })

/** Builds the worker in a scope of its own, so the test can close it. */
const start = <E>(layer: Layer.Layer<never, E>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(layer, scope)
    return scope
  })

describe("RetentionWorker", () => {
  it.effect("closing the scope stops it even when it was built inside an uninterruptible region", () =>
    Effect.gen(function* () {
      const { stats, sweeper } = yield* stubSweeper()
      const scope = yield* Scope.make()
      yield* Effect.uninterruptible(Layer.buildWithScope(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(enabled)), scope))
      yield* TestClock.adjust(0)
      yield* Scope.close(scope, Exit.void) // hung forever before the worker's loop was made interruptible
      yield* TestClock.adjust(`${INTERVAL * 5} seconds`)
      expect((yield* Ref.get(stats)).started).toBe(1)
    }))

  it.effect("sweeps once at startup", () =>
    Effect.gen(function* () {
      const { stats, sweeper } = yield* stubSweeper()
      yield* start(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(enabled)))
      yield* TestClock.adjust(0) // lets the forked fiber run
      expect((yield* Ref.get(stats)).started).toBe(1)
    }))

  it.effect("the next sweep comes exactly one interval after the previous one, not before", () =>
    Effect.gen(function* () {
      const { stats, sweeper } = yield* stubSweeper()
      yield* start(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(enabled)))
      yield* TestClock.adjust(0)
      yield* TestClock.adjust(`${INTERVAL * 1000 - 1} millis`)
      expect((yield* Ref.get(stats)).started).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect((yield* Ref.get(stats)).started).toBe(2)
      yield* TestClock.adjust(`${INTERVAL * 10} seconds`)
      expect((yield* Ref.get(stats)).started).toBe(12)
    }))

  it.effect("a sweep slower than the interval is never overlapped; the next starts one interval after it ends", () =>
    Effect.gen(function* () {
      const { stats, sweeper } = yield* stubSweeper(Duration.seconds(INTERVAL * 2.5)) // 150 s
      yield* start(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(enabled)))
      yield* TestClock.adjust(0)
      yield* TestClock.adjust("209999 millis") // first ends at 150 s, next due at 210 s
      expect(yield* Ref.get(stats)).toMatchObject({ started: 1, finished: 1 })
      yield* TestClock.adjust("1 millis")
      expect(yield* Ref.get(stats)).toMatchObject({ started: 2, finished: 1 })
      yield* TestClock.adjust("1 hour")
      expect((yield* Ref.get(stats)).peak).toBe(1)
    }))

  it.effect.each([
    ["fails (a typed error)", () => Effect.fail(new Error("disk on fire"))],
    ["dies (a defect)", () => Effect.die("boom")]
  ] as const)("a sweep that %s does not stop the worker, and the failure is logged", ([, failure]) =>
    Effect.gen(function* () {
      const errors: Array<unknown> = []
      const { stats, sweeper } = yield* stubSweeper(0, (n) => n === 1 ? failure() : Effect.void)
      yield* start(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(enabled))).pipe(
        Effect.provide(Logger.add(Logger.make(({ logLevel, message }) => void (logLevel._tag === "Error" && errors.push(message)))))
      )
      yield* TestClock.adjust(0)
      yield* TestClock.adjust(`${INTERVAL * 2} seconds`)
      expect(yield* Ref.get(stats)).toMatchObject({ started: 3, finished: 2 })
      expect(errors).toEqual([["retention sweep failed unexpectedly"]])
    }))

  it.effect("closing the scope interrupts the worker: no sweep afterwards, an in-flight sweep stops", () =>
    Effect.gen(function* () {
      const { stats, sweeper } = yield* stubSweeper("30 seconds")
      const scope = yield* start(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(enabled)))
      yield* TestClock.adjust(0)
      yield* TestClock.adjust("100 seconds") // sweep 1: 0–30 s, sweep 2 starts at 90 s
      expect(yield* Ref.get(stats)).toMatchObject({ started: 2, finished: 1, running: 1 })
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("1 day")
      expect(yield* Ref.get(stats)).toMatchObject({ started: 2, finished: 1 })
    }))

  it.effect("disabled: logs \"retention disabled\" once and never sweeps", () =>
    Effect.gen(function* () {
      const messages: Array<unknown> = []
      const { stats, sweeper } = yield* stubSweeper()
      const disabled = RetentionPolicy.layer({ enabled: false, dirs: ["/logs"] })
      yield* start(RetentionWorker.layer.pipe(Layer.provide(sweeper), Layer.provide(disabled))).pipe(
        Effect.provide(Logger.add(Logger.make(({ message }) => void messages.push(message))))
      )
      yield* TestClock.adjust(0)
      yield* TestClock.adjust("10 days")
      expect((yield* Ref.get(stats)).started).toBe(0)
      expect(messages).toEqual([["retention disabled"]])
    }))

  it.effect("shutdown during a compression leaves no .gz.tmp and the original intact", () =>
    Effect.gen(function* () {
      const TODAY = new Date("2026-03-15T12:00:00Z")
      yield* TestClock.setTime(TODAY.getTime())
      const deps = retentionLayer(memoryBase())
      const context = yield* Layer.build(deps)
      const fs = yield* Effect.provide(FileSystem.FileSystem, context)
      const tools = yield* Effect.provide(Instrumented, context)
      const name = dated("app", TODAY, 8)
      const bytes = ndjson(300_000)
      yield* fs.makeDirectory("/logs")
      yield* fs.writeFile(`/logs/${name}`, bytes)
      const writing = yield* Deferred.make<void>()
      tools.hook("write", /\.gz\.tmp$/, () => Effect.zipRight(Deferred.succeed(writing, undefined), Effect.never))

      const scope = yield* start(RetentionWorker.layer.pipe(Layer.provide(Layer.succeedContext(context)), Layer.provide(enabled)))
      yield* TestClock.adjust(0)
      yield* Deferred.await(writing)
      expect(yield* Effect.provide(names("/logs"), context)).toEqual([Sweeper.LOCK_NAME, name, `${name}.gz.tmp`])
      yield* Scope.close(scope, Exit.void)
      expect(yield* Effect.provide(names("/logs"), context)).toEqual([name])
      expect(Buffer.from(yield* fs.readFile(`/logs/${name}`)).equals(Buffer.from(bytes))).toBe(true)
    }).pipe(Effect.scoped))

  it.effect("a policy with su is refused (InvalidSu: it needs a process of its own) and nothing is swept, unless allowProcessWideSu is set", () =>
    Effect.gen(function* () {
      const base = { enabled: true, dirs: ["/logs"], maxAgeDays: 30, compressAgeDays: 7, checkIntervalSeconds: INTERVAL,
        su: { user: "nobody", group: "nogroup" } }
      const refused = yield* stubSweeper()
      const error = yield* Effect.flip(start(RetentionWorker.layer.pipe(
        Layer.provide(refused.sweeper), Layer.provide(RetentionPolicy.layer(base)))))
      yield* TestClock.adjust(`${INTERVAL * 3} seconds`)
      expect(error._tag).toBe("InvalidSu")
      expect(error._tag === "InvalidSu" && error.reason).toBe("process-wide")
      expect(error.message).toContain("nobody:nogroup")
      expect(error.message).toContain("process of its own")
      expect(error.message).toContain("allowProcessWideSu")
      expect((yield* Ref.get(refused.stats)).started).toBe(0)
      const once = yield* Effect.flip(RetentionWorker.checkSu(Either.getOrThrow(RetentionPolicy.decode(base))))
      expect([once._tag, once.reason]).toEqual(["InvalidSu", "process-wide"])

      const allowed = yield* stubSweeper()
      yield* start(RetentionWorker.layer.pipe(
        Layer.provide(allowed.sweeper), Layer.provide(RetentionPolicy.layer({ ...base, allowProcessWideSu: true }))))
      yield* TestClock.adjust(0)
      expect((yield* Ref.get(allowed.stats)).started).toBe(1)
    }))

  it.effect("sweepOnce sweeps the policy's directories with the policy", () =>
    Effect.gen(function* () {
      const seen: Array<[ReadonlyArray<string>, RetentionPlan.Thresholds]> = []
      const sweeper = Layer.succeed(Sweeper.Sweeper, {
        sweep: (dirs, policy) => Effect.sync(() => { seen.push([dirs, policy]); return emptyReport(dirs) })
      })
      yield* RetentionWorker.sweepOnce.pipe(Effect.provide(Layer.merge(sweeper, enabled)))
      expect(seen.map(([dirs, p]) => [dirs, p.maxAgeDays, p.compressAgeDays])).toEqual([[["/logs"], 30, 7]])
    }))
})
