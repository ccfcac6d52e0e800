/** Ours: `RotatingAppender.appendAll` in batches of 1000 lines (a fresh array per batch). */
import * as Effect from "effect/Effect"
import { type ContenderOptions, lineGenerator } from "../lines.js"
import { withAppender } from "./_ours.js"

const BATCH = 1000

export const run = (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  return withAppender(opts, (appender) =>
    Effect.gen(function* () {
      for (let i = 0; i < opts.lines; i += BATCH) {
        const n = Math.min(BATCH, opts.lines - i)
        const batch = new Array<string>(n)
        for (let j = 0; j < n; j++) batch[j] = line(i + j)
        yield* appender.appendAll(batch)
      }
    }))
}
