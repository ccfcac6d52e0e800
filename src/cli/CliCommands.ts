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
