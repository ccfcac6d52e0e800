/**
 * `RotatingAppender.appendEncoded`: lines handed over already encoded (UTF-8, each ending in `\n`),
 * as `NdjsonLogger` does. The same rules as `appendAll`: all or none, rotation at line ends only.
 */
import type { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Scope } from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import type { RenameShift } from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import { expectRotatedAtLineEnds, isLock, joined, policy, readLogs } from "../support/appenderFiles.js"
import { fileSystems, lines, memoryLayer, tempDir } from "../support/fileSystems.js"

const encoded = (ls: ReadonlyArray<string>) => Buffer.from(joined(ls), "utf8")
const filesOf = (mem: MemoryFileSystem.MemoryFileSystem) =>
  Object.fromEntries(mem.files().filter(([p]) => !isLock(p)).map(([p, bytes]) => [p, Buffer.from(bytes).toString("utf8")]))

describe.each(fileSystems)("RotatingAppender.appendEncoded on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))

  it.scoped("writes the bytes as they are, after lines appended before, before lines appended after", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(0, 1) })
      yield* log.append("first")
      yield* log.appendEncoded(encoded(["{\"a\":1}", "", "é😀", "{\"b\":\"\\n\"}"]))
      yield* log.appendEncoded(new Uint8Array(0)) // nothing, and no error
      yield* log.appendAll(["last"])
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "first\n{\"a\":1}\n\né😀\n{\"b\":\"\\n\"}\nlast\n" })
    })))

  it.scoped("all lines or none: a line with \\r, or bytes not ending in \\n, is InvalidLine naming the line; nothing of it is written", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(1000, 1) })
      const refused = (bytes: Uint8Array) =>
        Effect.map(Effect.flip(log.appendEncoded(bytes)), (e) => [e._tag, e._tag === "InvalidLine" && e.reason, e.message])
      expect(yield* refused(Buffer.from("a\nb\rc\nd\n"))).toEqual(
        ["InvalidLine", "line-break", expect.stringContaining("encoded line 2 contains a line break (\\r)")])
      expect(yield* refused(Buffer.from("a\nb\nc"))).toEqual(
        ["InvalidLine", "line-break", expect.stringContaining("encoded line 3 does not end in \\n")])
      expect(yield* refused(Buffer.from("\r\n"))).toEqual(
        ["InvalidLine", "line-break", expect.stringContaining("encoded line 1 contains")])
      yield* log.appendEncoded(encoded(["e", "f"]))
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "e\nf\n" })
    })))

  it.scoped("a large encoded batch rotates at line boundaries: every file <= maxBytes, all lines in order (multi-byte UTF-8)", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const batch = Array.from({ length: 700 }, (_, i) => (i % 7 === 0 ? "é😀" : "") + "x".repeat(i % 6) + String(i))
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(64, 1000) })
      yield* log.appendEncoded(encoded(batch.slice(0, 3)))
      yield* log.appendEncoded(encoded(batch.slice(3)))
      yield* log.flush
      expect(expectRotatedAtLineEnds(yield* readLogs(dir), batch, 64)).toBeGreaterThan(30)
    })))

  it.scoped("a line longer than maxBytes goes alone into a fresh file", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(20, 5) })
      yield* log.appendEncoded(encoded(["short", "y".repeat(30), "tail"]))
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({
        "app.jsonl.2": "short\n", "app.jsonl.1": "y".repeat(30) + "\n", "app.jsonl": "tail\n"
      })
    })))

  it.scoped("the bytes are copied when accepted: the caller may reuse its buffer once the effect completes", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(0, 1) })
      const buffer = encoded(["aaa", "bbb"])
      yield* log.appendEncoded(buffer)
      buffer.fill(0x7a) // "zzzzzzz…": not what was accepted
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "aaa\nbbb\n" })
    })))
})

describe("RotatingAppender.appendEncoded on MemoryFileSystem: same files as appendAll, failures", () => {
  it.effect.prop(
    "for any lines, batches and maxBytes, appendEncoded leaves exactly the files appendAll leaves",
    {
      batches: fc.array(fc.array(fc.string({ unit: "grapheme", maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, "")), {
        maxLength: 12
      }), { minLength: 1, maxLength: 6 }),
      maxBytes: fc.constantFrom(0, 8, 16, 40, 100)
    },
    ({ batches, maxBytes }) =>
      Effect.gen(function* () {
        const write = (use: (log: RotatingAppender.RotatingAppender, batch: ReadonlyArray<string>) => Effect.Effect<void, unknown>) =>
          Effect.gen(function* () {
            const mem = yield* MemoryFileSystem.MemoryFileSystem
            yield* Effect.scoped(Effect.gen(function* () {
              const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(maxBytes, 100) })
              for (const batch of batches) yield* use(log, batch)
            }))
            return filesOf(mem)
          }).pipe(Effect.provide(memoryLayer()))
        const viaAll = yield* write((log, batch) => log.appendAll(batch))
        const viaEncoded = yield* write((log, batch) => log.appendEncoded(encoded(batch)))
        expect(viaEncoded).toEqual(viaAll)
      })
  )

  it.scoped("when writes keep failing, appendEncoded fails once the buffer is full, and none of a refused batch is written later", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(0, 1), highWaterMark: 100 })
      mem.injectFault({ method: "write", times: Infinity, reason: "Unknown" })
      const accepted: Array<string> = []
      let refused: ReadonlyArray<string> | undefined
      for (let k = 0; k < 20; k++) {
        const batch = lines(3, 9, `b${k}-`)
        const exit = yield* Effect.exit(log.appendEncoded(encoded(batch)))
        if (Exit.isFailure(exit)) {
          refused = batch
          break
        }
        accepted.push(...batch)
      }
      expect(refused).toBeDefined()
      expect(accepted.length).toBe(12) // 4 batches of 30 bytes reach the 100-byte mark
      mem.clearFaults()
      yield* log.flush
      expect(filesOf(mem)).toEqual({ "/logs/app.jsonl": joined(accepted) })
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("after its scope closed, appendEncoded is a defect and writes nothing", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const scope = yield* Scope.make()
      const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(0, 1) }).pipe(Scope.extend(scope))
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Effect.exit(log.appendEncoded(encoded(["late"])))
      expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Die")
      expect(filesOf(mem)).toEqual({ "/logs/app.jsonl": "" })
    }).pipe(Effect.provide(memoryLayer())))
})
