/**
 * The code the CLI's commands run, apart from their definitions: `Cli.ts` imports this module
 * only when a command runs (`Effect.promise(() => import(...))`), so that `--help`, `--version`
 * and usage errors never load it. In the bundled CLI (`npm run build`) it is a chunk of its own
 * in dist/chunks/, shared by the commands.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as v8 from "node:v8"
import * as LogEvents from "../logging/LogEvents.js"
import * as Compressor from "../retention/Compressor.js"
import * as SafeFs from "../platform/SafeFs.js"
import * as Sweeper from "../retention/Sweeper.js"

export * as LineReader from "../rotation/LineReader.js"
export * as LogEvents from "../logging/LogEvents.js"
export * as RenameShift from "../rotation/RenameShift.js"
export * as RetentionWorker from "../retention/RetentionWorker.js"
export * as RotatingAppender from "../rotation/RotatingAppender.js"
export * as Sweeper from "../retention/Sweeper.js"

/** The Sweeper of `sweep` and `watch`, on the real file system. */
export const SweeperLive = Sweeper.layer.pipe(
  Layer.provide(Compressor.layer),
  Layer.provide(SafeFs.layerNode),
  Layer.provide(NodeFileSystem.layer)
)

/**
 * How far V8 lets the heap of a sweeping CLI process (`sweep`, `watch`) grow past what survived
 * its last full collection, in percent (V8's `--heap-growing-percent`).
 *
 * A sweep's garbage (the effects and buffers of each file) mostly dies young, but some of it is
 * promoted while its compression waits on an fsync; V8's default growing factor (computed from
 * GC and mutator speed, up to 4×) then lets the old space reach about three times the live set
 * before it collects. Measured with the CLI on the bench corpus (bench/sweep.ts, 64 KiB files,
 * interleaved runs): 10,000 files peaked at 134–171 MiB RSS by default (heap up to 94–99 MiB for
 * ~20 MiB live), 121–125 MiB with 50 (131–136 with 100); 2,000 files 118–123 → 105–110 MiB.
 * The price is more full collections: CPU unchanged at 2,000 files (2.92–3.39 s default, 3.00–3.18
 * s with 50), about 5–10% more at 10,000 (9.1–10.0 s default, 9.9–10.4 s with 50).
 *
 * The library never changes V8's flags (they are process-wide); only this executable, whose
 * process does nothing but the command, does.
 */
export const HEAP_GROWING_PERCENT = 50

/**
 * Sets {@link HEAP_GROWING_PERCENT} for the rest of the process. V8 reads the flag at each full
 * collection, so setting it once the process runs takes effect (unlike the heap's sizes, which
 * are fixed at start-up).
 */
export const tuneHeapForSweeps: Effect.Effect<void> = Effect.sync(() =>
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`))

/**
 * Writes one line to stdout and waits, when the pipe is full, until it drains: a reader that
 * does not keep up slows this subscriber only (the sweep never waits: its events go to a
 * sliding PubSub), which then learns what it missed (`Missed`) instead of growing Node's buffer.
 */
const writeLine = (line: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(`${line}\n`)) return resume(Effect.void)
    const drained = () => {
      process.stdout.off("drain", drained)
      process.stdout.off("close", drained)
      process.stdout.off("error", drained)
      resume(Effect.void)
    }
    process.stdout.once("drain", drained).once("close", drained).once("error", drained)
  })

/**
 * `watch --events`: subscribes to `events` now and, for the scope's life, prints each element on
 * stdout as one JSON object a line (`LogEvents.toJson`: `_tag` first), respecting the pipe's
 * backpressure.
 */
export const printEvents = (events: LogEvents.Service): Effect.Effect<void, never, Scope.Scope> =>
  Effect.flatMap(events.subscribe, (stream) =>
    Effect.asVoid(Effect.forkScoped(Stream.runForEach(stream, (event) => writeLine(JSON.stringify(LogEvents.toJson(event)))))))
