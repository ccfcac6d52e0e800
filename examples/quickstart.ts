/**
 * Writes NDJSON into ./logs/app.jsonl with tiny limits (1 KiB, 3 backups) so rotation is
 * visible at once, then prints what is on disk.   npx tsx examples/quickstart.ts
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { RenameShift, RotatingAppender, RotationPolicy } from "../src/index.js"

const program = Effect.gen(function* () {
  const log = yield* RotatingAppender.RotatingAppender
  for (let seq = 1; seq <= 40; seq++) yield* log.appendJson({ seq, event: "heartbeat", at: new Date().toISOString() })
  yield* log.flush
  const fs = yield* FileSystem.FileSystem
  for (const name of (yield* fs.readDirectory("logs")).filter((n) => n.startsWith("app.jsonl")).sort()) {
    const info = yield* fs.stat(`logs/${name}`)
    yield* Console.log(`${name.padEnd(12)} ${String(info.size).padStart(5)} bytes`)
  }
})

const Live = RotatingAppender.layer("logs/app.jsonl").pipe(
  Layer.provide(RenameShift.layer),
  Layer.provide(RotationPolicy.layer({ maxBytes: 1024, maxFiles: 3 })),
  Layer.provideMerge(NodeFileSystem.layer)
)

Effect.runPromise(program.pipe(Effect.provide(Live)))
