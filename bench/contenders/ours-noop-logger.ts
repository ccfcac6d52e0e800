/**
 * Not a writer: the floor for `ours-ndjson-logger`. The same loop (`Effect.logInfo({ seq, pad })`
 * from one fiber that never yields), into a logger that does nothing (it replaces Effect's console
 * logger). The ratio of ours-ndjson-logger to this is what the logger itself costs. Writes no file.
 */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { type ContenderOptions, objectGenerator, type RunInfo } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<RunInfo> => {
  const object = objectGenerator(opts.lineBytes)
  const nothing = Logger.replace(Logger.defaultLogger, Logger.make(() => {}))
  await Effect.gen(function* () {
    yield* Effect.sync(opts.startClock)
    for (let i = 0; i < opts.lines; i++) yield* Effect.logInfo(object(i))
  }).pipe(Effect.provide(nothing), Effect.runPromise)
  return { note: "logs into a logger that does nothing (no file)" }
}
