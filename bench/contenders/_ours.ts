/**
 * Shared wiring for the ours-* contenders (not a contender itself): builds a RotatingAppender
 * on `<dir>/app.log` with the run's policy, calls `body` with it inside a scope, and closes the
 * scope (flush + close) before resolving. Layers: RenameShift over the Node FileSystem.
 */
// The subpath, not the "@effect/platform-node" barrel: the barrel also loads HTTP, sockets, undici…
// (+~30 MiB RSS), which would not be a fair picture of a writer.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { join } from "node:path"
import * as RenameShift from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import type { ContenderOptions } from "../lines.js"

export const layer = Layer.mergeAll(RenameShift.layer).pipe(Layer.provideMerge(NodeFileSystem.layer))

export const withAppender = <E>(
  opts: ContenderOptions,
  body: (appender: RotatingAppender.RotatingAppender) => Effect.Effect<void, E>
): Promise<void> =>
  Effect.gen(function* () {
    const appender = yield* RotatingAppender.make(join(opts.dir, "app.log"), {
      policy: RotationPolicy.unsafeMake({ maxBytes: opts.maxBytes, maxFiles: opts.maxFiles })
    })
    yield* Effect.sync(opts.startClock)
    yield* body(appender)
    yield* appender.flush
  }).pipe(
    Effect.scoped,
    Effect.provide(layer),
    Effect.runPromise
  )
