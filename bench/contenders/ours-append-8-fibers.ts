/**
 * Ours: `RotatingAppender.append` per line from 8 concurrent fibers. The fibers share one counter:
 * each takes the next seq right before its append, so seq order is (up to the 8 lines in flight)
 * the order lines are offered, and the parent's retention check stays meaningful. (With a fixed
 * stride per fiber, seq order would follow the fibers' relative progress instead.)
 */
import * as Effect from "effect/Effect"
import { type ContenderOptions, lineGenerator } from "../lines.js"
import { withAppender } from "./_ours.js"

const FIBERS = 8

export const run = (opts: ContenderOptions): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  let next = 0
  return withAppender(opts, (appender) =>
    Effect.forEach(
      Array.from({ length: FIBERS }, (_, k) => k),
      () =>
        Effect.gen(function* () {
          while (next < opts.lines) yield* appender.append(line(next++))
        }),
      { concurrency: FIBERS, discard: true }
    ))
}
