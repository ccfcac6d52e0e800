/**
 * What rotation and retention did, as typed events a program can subscribe to instead of polling
 * the directory.
 *
 * Events (each a `Data.TaggedClass`, matched on `_tag`, with paths, sizes in bytes and the time
 * `at`, read from Effect's `Clock` when it was published):
 * - `Rotated`: `RotatingAppender` renamed the active file `path` (`bytes` long) to `backup`
 *   (`<path>.1`); `backup` is undefined when `maxFiles` is 0 and the file was deleted instead.
 * - `BackupRemoved`: a rotation removed the backup `path` of `active` because it would pass
 *   `maxFiles` (`bytes` as it was just before removal; undefined when it could not be read).
 * - `Compressed`: the sweep replaced `path` (`bytesBefore`) by `gzip` (`bytesAfter`).
 * - `Deleted`: the sweep deleted `path` (`bytes`) for `reason` (`older-than-max-age`, `stale-temp`, …).
 * - `FileFailed`: the sweep failed on `path` during `operation`, with the typed `error`, the
 *   same value as in `SweepReport.failed`.
 * - `SweepCompleted`: a sweep ended; the counts of its report, `bytesFreed` and `durationMs`.
 *
 * One sweep publishes one `Compressed` per entry of `report.compressed`, one `Deleted` per entry
 * of `report.deleted`, one `FileFailed` per entry of `report.failed`, as each happens, then one
 * `SweepCompleted`. A dry run publishes only its `FileFailed`s and `SweepCompleted`.
 *
 * Delivery: `layer` keeps a bounded, sliding `PubSub` (`capacity` events, default 1024) behind one
 * lock held only for the synchronous publish, so every subscriber sees the events in one order
 * (the order they were published in). Publishing never waits for a subscriber: a subscriber
 * `capacity` events behind loses the oldest ones it has not read, and its stream then carries a
 * `Missed { count }` element in their place, just before the first event it receives after the
 * gap (a gap at the very end shows when the next event comes). Events are numbered in order; a
 * gap in the numbers a subscriber receives is what it missed.
 *
 * Without a `LogEvents` layer, the service is `LogEvents.none` (a `Context.Reference` default):
 * publishing does nothing (no clock read, no allocation but the call) and the streams end at
 * once. Publishing happens per rotation, per removed backup, per file a sweep acts on and per
 * sweep, never per appended line.
 *
 * Needs nothing in context (without a layer, `none`); `layer` is scoped: its `PubSub` shuts down,
 * and every stream ends, when the layer's scope closes. Nothing here fails.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Console, Effect, Fiber, Layer, Stream } from "effect"
 * import { LogEvents, RenameShift, RotatingAppender, RotationPolicy } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   // Subscribed now: every event from here on is delivered.
 *   const events = yield* LogEvents.subscribe
 *   const first = yield* events.pipe(
 *     Stream.filter((e): e is LogEvents.Rotated => e._tag === "Rotated"),
 *     Stream.take(1),
 *     Stream.runForEach((e) => Console.log(`rotated ${e.path} (${e.bytes} B) -> ${e.backup}`)),
 *     Effect.fork
 *   )
 *   const log = yield* RotatingAppender.RotatingAppender
 *   for (let i = 0; i < 100; i++) yield* log.appendJson({ i, padding: "x".repeat(20) })
 *   yield* log.flush // a background fiber writes (and rotates): wait for it
 *   yield* Fiber.join(first)
 * })
 * const Live = RotatingAppender.layer("logs/app.jsonl").pipe(
 *   Layer.provide(Layer.mergeAll(RenameShift.layer, RotationPolicy.layer(RotationPolicy.unsafeMake({ maxBytes: 1024, maxFiles: 5 })))),
 *   Layer.provideMerge(LogEvents.layer()), // the appender and the program share one LogEvents
 *   Layer.provide(NodeFileSystem.layer)
 * )
 * Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Live)))
 * ```
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { SweepFailure } from "../Errors.js"

/**
 * `RotatingAppender` rotated `path` (`bytes` long) into `backup`; `backup` undefined: deleted (`maxFiles` 0).
 *
 * @since 0.2.0
 */
export class Rotated extends Data.TaggedClass("Rotated")<{
  readonly path: string
  readonly backup: string | undefined
  readonly bytes: number
  readonly at: Date
}> {}

/**
 * A rotation of `active` removed its backup `path`, which would have passed `maxFiles`.
 *
 * @since 0.2.0
 */
export class BackupRemoved extends Data.TaggedClass("BackupRemoved")<{
  readonly path: string
  readonly active: string
  /** Its size just before removal; undefined when it could not be read. */
  readonly bytes: number | undefined
  readonly at: Date
}> {}

/**
 * `path` (`bytesBefore`) was replaced by `gzip` (`bytesAfter`).
 *
 * @since 0.2.0
 */
export class Compressed extends Data.TaggedClass("Compressed")<{
  readonly path: string
  readonly gzip: string
  readonly bytesBefore: number
  readonly bytesAfter: number
  /** Why: the sweep's `older-than-compress-age` / `compressed-copy-exists`. */
  readonly reason: string
  readonly at: Date
}> {}

/**
 * The sweep deleted `path` (`bytes`) for `reason`.
 *
 * @since 0.2.0
 */
export class Deleted extends Data.TaggedClass("Deleted")<{
  readonly path: string
  readonly bytes: number
  /** `RetentionPlan.DeleteReason`: `older-than-max-age`, `stale-temp`, … */
  readonly reason: string
  readonly at: Date
}> {}

/**
 * The sweep failed on `path` during `operation`: the `SweepFailure` of the report, unpacked.
 *
 * @since 0.2.0
 */
export class FileFailed extends Data.TaggedClass("FileFailed")<{
  readonly path: string
  readonly operation: SweepFailure["operation"]
  readonly error: SweepFailure["error"]
  readonly at: Date
}> {}

/**
 * A sweep ended: its report's counts.
 *
 * @since 0.2.0
 */
export class SweepCompleted extends Data.TaggedClass("SweepCompleted")<{
  readonly dirs: ReadonlyArray<string>
  readonly dryRun: boolean
  readonly compressed: number
  readonly deleted: number
  readonly skipped: number
  readonly failed: number
  readonly bytesFreed: number
  readonly durationMs: number
  readonly at: Date
}> {}

/**
 * Every event.
 *
 * @since 0.2.0
 */
export type LogEvent = Rotated | BackupRemoved | Compressed | Deleted | FileFailed | SweepCompleted

/**
 * In a subscriber's stream: `count` events were published that this subscriber did not receive.
 *
 * @since 0.2.0
 */
export class Missed extends Data.TaggedClass("Missed")<{ readonly count: number }> {}

/**
 * What a subscriber's stream carries.
 *
 * @since 0.2.0
 */
export type Element = LogEvent | Missed

/** @since 0.2.0 */
export interface Service {
  /** False for `LogEvents.none`: nothing is published, so callers may skip building events. */
  readonly enabled: boolean
  /** Publishes `event` to every current subscriber; never waits for one. */
  readonly publish: (event: LogEvent) => Effect.Effect<void>
  /**
   * Publishes the event `make` builds from the current time (`Clock`); with `none`, `make` is
   * not called and the clock is not read.
   */
  readonly emit: (make: (at: Date) => LogEvent) => Effect.Effect<void>
  /**
   * Subscribes now (events published after this effect are delivered) and returns the stream of
   * them, in order, with a `Missed` where this subscriber fell `capacity` behind. The
   * subscription lasts as long as the scope.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<Element>, never, Scope.Scope>
}

/**
 * Publishes nowhere; its streams are empty. The default when no layer is provided.
 *
 * @since 0.2.0
 */
export const none: Service = {
  enabled: false,
  publish: () => Effect.void,
  emit: () => Effect.void,
  subscribe: Effect.succeed(Stream.empty)
}

/**
 * The events service. Without a layer it is `none`, so every service that publishes works
 * unchanged without one.
 *
 * @since 0.2.0
 */
export class LogEvents extends Context.Reference<LogEvents>()("effect-logrotate/LogEvents", {
  defaultValue: (): Service => none
}) {}

/** @since 0.2.0 */
export interface Options {
  /** Events a subscriber may lag behind before it misses the oldest. Default 1024. */
  readonly capacity?: number
}

/** An event with its number in publishing order. */
interface Numbered {
  readonly seq: number
  readonly event: LogEvent
}

/**
 * What a subscriber sees of `numbered`, given the number of the last event it received (or the
 * number published before it subscribed): the event, preceded by `Missed` when numbers were
 * skipped. Pure.
 *
 * @since 0.2.0
 */
export const deliver = (last: number, numbered: { readonly seq: number; readonly event: LogEvent }): readonly [number, ReadonlyArray<Element>] =>
  numbered.seq > last + 1
    ? [numbered.seq, [new Missed({ count: numbered.seq - last - 1 }), numbered.event]]
    : [Math.max(last, numbered.seq), [numbered.event]]

/**
 * A live service over a sliding `PubSub` of `capacity` events, shut down with the scope.
 *
 * @example
 * ```ts
 * const events = yield* LogEvents.make({ capacity: 256 })
 * ```
 *
 * @since 0.2.0
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const capacity = Math.max(1, Math.floor(options.capacity ?? 1024))
    const pubsub = yield* Effect.acquireRelease(PubSub.sliding<Numbered>(capacity), PubSub.shutdown)
    // Numbering and publishing are one step under this lock, so numbers follow the PubSub's
    // order; held only for the publish, which with the sliding strategy never waits.
    const lock = yield* Effect.makeSemaphore(1)
    let published = 0
    const publish = (event: LogEvent) =>
      lock.withPermits(1)(Effect.suspend(() => PubSub.publish(pubsub, { seq: ++published, event }))).pipe(Effect.asVoid)
    const emit = (build: (at: Date) => LogEvent) =>
      Effect.flatMap(Clock.currentTimeMillis, (ms) => publish(build(new Date(ms))))
    const subscribe = Effect.map(
      lock.withPermits(1)(Effect.map(PubSub.subscribe(pubsub), (queue) => ({ queue, start: published }))),
      ({ queue, start }) =>
        Stream.fromQueue(queue).pipe(Stream.mapAccum(start, deliver), Stream.flattenIterables)
    )
    return { enabled: true, publish, emit, subscribe } satisfies Service
  })

/**
 * The live service as a layer: provide it (with `Layer.provideMerge`, so your program sees the
 * same instance) to the appenders and sweepers that should publish.
 *
 * @example
 * ```ts
 * const Live = MyAppenders.pipe(Layer.provideMerge(LogEvents.layer()))
 * ```
 *
 * @since 0.2.0
 */
export const layer = (options?: Options): Layer.Layer<LogEvents> => Layer.scoped(LogEvents, make(options))

/**
 * Subscribes to the `LogEvents` in context now (see `Service.subscribe`); with none, an empty stream.
 *
 * @example
 * ```ts
 * const events = yield* LogEvents.subscribe // before the work whose events you want
 * yield* Effect.fork(Stream.runForEach(events, (e) => Console.log(e._tag)))
 * ```
 *
 * @since 0.2.0
 */
export const subscribe: Effect.Effect<Stream.Stream<Element>, never, Scope.Scope> = Effect.flatMap(LogEvents, (s) => s.subscribe)

/**
 * The events of the `LogEvents` in context, subscribing when the stream starts running (events
 * published before that are not seen; use `subscribe` to fix the moment).
 *
 * @example
 * ```ts
 * yield* LogEvents.stream.pipe(Stream.take(1), Stream.runCollect)
 * ```
 *
 * @since 0.2.0
 */
export const stream: Stream.Stream<Element> = Stream.unwrapScoped(subscribe)

/**
 * An element as a plain JSON value: `_tag` first, `at` as an ISO 8601 string, a `FileFailed`'s
 * error as `{ _tag, message }` (plus its `reason` or `step` when it has one).
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(LogEvents.toJson(event))) // {"_tag":"Rotated","path":"logs/app.jsonl",…}
 * ```
 *
 * @since 0.2.0
 */
export const toJson = (element: Element): Record<string, unknown> => {
  const out: Record<string, unknown> = { _tag: element._tag }
  for (const [key, value] of Object.entries(element)) {
    if (key === "_tag" || value === undefined) continue
    if (value instanceof Date) out[key] = value.toISOString()
    else if (key === "error" && element._tag === "FileFailed") out[key] = errorJson(element.error)
    else out[key] = value
  }
  return out
}

const errorJson = (error: FileFailed["error"]): Record<string, unknown> => {
  const out: Record<string, unknown> = { _tag: error._tag, message: error.message }
  if ("reason" in error && typeof error.reason === "string") out.reason = error.reason
  if ("step" in error) out.step = error.step
  return out
}
