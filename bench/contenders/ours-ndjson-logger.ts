/**
 * Ours, logger path: `Effect.logInfo({ seq, pad })` through `NdjsonLogger.layerReplace` (Effect's
 * console logger replaced, so nothing goes to stdout) into a rotating `app.log`. Compare with
 * pino-roll-logger. Each line carries the logger's fields (timestamp, level, annotations, spans,
 * fiberId) and the object as a JSON-encoded `message` string; MB/s counts the payload only.
 * Clock: from the first log call until the layer's scope has handed everything over and the
 * appender is flushed and closed.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { join } from "node:path"
import * as NdjsonLogger from "../../src/logging/NdjsonLogger.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import { type ContenderOptions, objectGenerator } from "../lines.js"
import { layer } from "./_ours.js"

export const run = (opts: ContenderOptions): Promise<void> => {
  const object = objectGenerator(opts.lineBytes)
  const policy = RotationPolicy.unsafeMake({ maxBytes: opts.maxBytes, maxFiles: opts.maxFiles })
  const logging = NdjsonLogger.layerReplace(join(opts.dir, "app.log"), { policy }).pipe(Layer.provide(layer))
  return Effect.gen(function* () {
    yield* Effect.sync(opts.startClock)
    for (let i = 0; i < opts.lines; i++) yield* Effect.logInfo(object(i))
  }).pipe(Effect.provide(logging), Effect.runPromise)
}
