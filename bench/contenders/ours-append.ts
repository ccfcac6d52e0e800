/** Ours: `RotatingAppender.append` per line, from one fiber. */
import * as Effect from "effect/Effect"
import { type ContenderOptions, lineGenerator } from "../lines.js"
import { withAppender } from "./_ours.js"

export const run = (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  return withAppender(opts, (appender) =>
    Effect.gen(function* () {
      for (let i = 0; i < opts.lines; i++) yield* appender.append(line(i))
    }))
}
