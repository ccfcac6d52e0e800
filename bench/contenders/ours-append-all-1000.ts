/** Ours: `RotatingAppender.appendAll` in batches of 1000 lines (a fresh array per batch, from `batchAt` as for every batched contender). */
import * as Effect from "effect/Effect"
import { batchAt, type ContenderOptions, lineGenerator } from "../lines.js"
import { withAppender } from "./_ours.js"

export const run = (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  return withAppender(opts, (appender) =>
    Effect.gen(function* () {
      for (let i = 0; i < opts.lines; i += 1000) yield* appender.appendAll(batchAt(line, i, 1000, opts.lines))
    }))
}
