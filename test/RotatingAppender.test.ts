import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import type { RenameShift } from "../src/RenameShift.js"
import * as RotatingAppender from "../src/RotatingAppender.js"
import * as RotationPolicy from "../src/RotationPolicy.js"
import { fileSystems, lines, memoryLayer, readAll, tempDir } from "./support/fileSystems.js"

const policy = (maxBytes: number, maxFiles: number) => RotationPolicy.make({ maxBytes, maxFiles })
const joined = (ls: ReadonlyArray<string>) => ls.map((l) => l + "\n").join("")

/** Appends each line through `append`, flushes, closes, and returns the directory's files. */
const writeLines = (dir: string, ls: ReadonlyArray<string>, maxBytes: number, maxFiles: number) =>
  Effect.gen(function* () {
    yield* Effect.scoped(Effect.gen(function* () {
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(maxBytes, maxFiles) })
      for (const line of ls) yield* log.append(line)
    }))
    return yield* readAll(dir)
  })

describe.each(fileSystems)("RotatingAppender contract on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))

  it.scoped("a line that makes the file exactly maxBytes stays; the next one rotates first", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const [a, b, c] = lines(3) // 10 bytes each with "\n"
      expect(yield* writeLines(dir, [a!, b!, c!], 20, 3)).toEqual({ "app.jsonl": joined([c!]), "app.jsonl.1": joined([a!, b!]) })
    })))

  it.scoped("one byte more than maxBytes rotates", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      expect(yield* writeLines(dir, ["123456789", "1234567890"], 20, 3)).toEqual({
        "app.jsonl": "1234567890\n", "app.jsonl.1": "123456789\n"
      })
    })))

  it.scoped("a line larger than maxBytes goes alone into a fresh file", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const big = "x".repeat(50)
      expect(yield* writeLines(dir, ["a", big, "b"], 20, 5)).toEqual({
        "app.jsonl": "b\n", "app.jsonl.1": big + "\n", "app.jsonl.2": "a\n"
      })
    })))

  it.scoped("an oversize first line into an empty file does not rotate", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      expect(yield* writeLines(dir, ["x".repeat(50)], 20, 5)).toEqual({ "app.jsonl": "x".repeat(50) + "\n" })
    })))

  it.scoped("maxBytes 0 never rotates", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const ls = lines(100)
      expect(yield* writeLines(dir, ls, 0, 5)).toEqual({ "app.jsonl": joined(ls) })
    })))

  it.scoped("after k rotations exactly min(k, maxFiles) backups exist, newest in .1, lines in order", () =>
    run(Effect.gen(function* () {
      for (const [k, maxFiles] of [[1, 3], [3, 3], [7, 3], [4, 10]] as const) {
        const dir = yield* tempDir
        const ls = lines(2 * (k + 1), 9, `k${k}-`) // two 10-byte lines per 20-byte file
        const files = yield* writeLines(dir, ls, 20, maxFiles)
        const kept = Math.min(k, maxFiles)
        const expected: Record<string, string> = { "app.jsonl": joined(ls.slice(-2)) }
        for (let i = 1; i <= kept; i++) expected[`app.jsonl.${i}`] = joined(ls.slice(-2 * (i + 1), -2 * i))
        expect(files).toEqual(expected)
      }
    })))

  it.scoped("maxFiles 0 keeps no backup", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const ls = lines(7)
      expect(yield* writeLines(dir, ls, 20, 0)).toEqual({ "app.jsonl": joined(ls.slice(6)) })
    })))

  it.scoped("lowering maxFiles removes the excess backups at the next rotation", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      for (let i = 1; i <= 5; i++) yield* fs.writeFileString(`${dir}/app.jsonl.${i}`, `old${i}\n`)
      yield* fs.writeFileString(`${dir}/app.jsonl`, "current\n")
      const files = yield* writeLines(dir, ["x".repeat(30)], 20, 2)
      expect(files).toEqual({ "app.jsonl": "x".repeat(30) + "\n", "app.jsonl.1": "current\n", "app.jsonl.2": "old1\n" })
    })))

  it.scoped("an existing file's size counts: it is stat'ed once at open", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/app.jsonl`, "12345678901234\n") // 15 bytes: "1234\n" fills it to 20
      expect(yield* writeLines(dir, ["1234", "12345"], 20, 2)).toEqual({
        "app.jsonl": "12345\n", "app.jsonl.1": "12345678901234\n1234\n"
      })
    })))

  it.scoped("missing parent directories are created", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.scoped(Effect.flatMap(
        RotatingAppender.make(`${dir}/a/b/app.jsonl`, { policy: policy(100, 1) }),
        (log) => log.append("{}")
      ))
      expect(yield* readAll(`${dir}/a/b`)).toEqual({ "app.jsonl": "{}\n" })
    })))

  it.scoped("a line with a line break is InvalidLine and nothing already written is affected", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(100, 1) })
      yield* log.append("ok")
      const error = yield* Effect.flip(log.append("bad\n{}"))
      expect([error._tag, error.message]).toEqual(["InvalidLine", expect.stringContaining("line break")])
      const cr = yield* Effect.flip(log.append("bad\r"))
      expect(cr._tag).toBe("InvalidLine")
      yield* log.flush
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "ok\n" })
    })))

  it.scoped("appendAll accepts all lines or none", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(1000, 1) })
      const error = yield* Effect.flip(log.appendAll(["a", "b\nc", "d"]))
      expect([error._tag, error.message]).toEqual(["InvalidLine", expect.stringContaining("line 2 of 3")])
      yield* log.appendAll(["e", "f"])
      yield* log.flush
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "e\nf\n" })
    })))

  it.scoped("appendJson writes one JSON line, and rejects what JSON cannot hold", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(1000, 1) })
      yield* log.appendJson({ msg: "multi\nline", n: 1 })
      const circular: Record<string, unknown> = {}
      circular.self = circular
      expect((yield* Effect.flip(log.appendJson(circular)))._tag).toBe("InvalidLine")
      expect((yield* Effect.flip(log.appendJson(undefined)))._tag).toBe("InvalidLine")
      yield* log.flush
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": '{"msg":"multi\\nline","n":1}\n' })
    })))

  it.scoped("8 fibers appending concurrently lose no line and tear none", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(256, 1000), highWaterMark: 512 })
      yield* Effect.forEach(Array.from({ length: 8 }, (_, f) => f), (f) =>
        Effect.forEach(lines(300, 12, `f${f}-`), (line) => log.append(line), { discard: true }), { concurrency: "unbounded", discard: true })
      yield* log.flush
      const files = yield* readAll(dir)
      const all = Object.values(files).flatMap((text) => text.split("\n").filter((l) => l !== ""))
      expect(all.length).toBe(2400)
      expect(new Set(all).size).toBe(2400)
      expect(all.every((l) => /^f\d-\d+\.*$/.test(l) && l.length === 12)).toBe(true)
      expect(Object.values(files).every((text) => Buffer.byteLength(text) <= 256)).toBe(true)
    })))

  it.scoped("appends racing the close: every append that succeeded is on disk", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const scope = yield* Scope.make()
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(0, 1) }).pipe(Scope.extend(scope))
      const accepted: Array<string> = []
      const writer = yield* Effect.fork(Effect.gen(function* () {
        for (let i = 0; ; i++) {
          const exit = yield* Effect.exit(log.append(`line-${i}`))
          if (Exit.isFailure(exit)) return
          accepted.push(`line-${i}`)
        }
      }))
      yield* Effect.repeatN(Effect.yieldNow(), 200) // let the writer get going
      yield* Scope.close(scope, Exit.void)
      yield* Fiber.await(writer)
      expect(accepted.length).toBeGreaterThan(0)
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": joined(accepted) })
    })))

  it.scoped("closing the scope flushes everything accepted", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const scope = yield* Scope.make()
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(0, 1) }).pipe(Scope.extend(scope))
      yield* log.appendAll(lines(1000))
      yield* Scope.close(scope, Exit.void)
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": joined(lines(1000)) })
    })))
})

describe("RotatingAppender on MemoryFileSystem: I/O and faults", () => {
  const setup = (maxBytes: number, maxFiles: number, highWaterMark?: number) =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const log = yield* RotatingAppender.make("/logs/app.jsonl", {
        policy: policy(maxBytes, maxFiles), ...(highWaterMark ? { highWaterMark } : {})
      })
      return { mem, log }
    })

  it.scoped("no stat or open per line: one of each at open, one open per rotation", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(10_000, 3)
      for (const line of lines(5000)) yield* log.append(line) // 50,000 bytes: 4 rotations
      yield* log.flush
      expect(mem.calls.stat).toBe(5) // one per opened file, none per line
      expect(mem.calls.open).toBe(5)
      expect(mem.calls.write).toBeLessThan(100)
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("a failed rename mid-rotation is a RotateError, and no accepted line is lost", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(20, 5)
      yield* log.appendAll(lines(4))
      yield* log.flush // app.jsonl.1 = l1 l2, app.jsonl = l3 l4
      mem.injectFault({ method: "rename", path: "/logs/app.jsonl.1", reason: "PermissionDenied", times: Infinity })
      yield* log.appendAll(lines(2, 9, "m"))
      const error = yield* Effect.flip(log.flush)
      expect([error._tag, error._tag === "RotateError" && error.operation]).toEqual(["RotateError", "rename"])
      mem.clearFaults()
      yield* log.flush
      expect(filesOf(mem)).toEqual({
        "/logs/app.jsonl": joined(lines(2, 9, "m")),
        "/logs/app.jsonl.1": joined(lines(4).slice(2)),
        "/logs/app.jsonl.2": joined(lines(2))
      })
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("a failed remove of a dropped backup is a RotateError; the retry completes the rotation", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(20, 1)
      yield* log.appendAll(lines(4))
      yield* log.flush
      mem.injectFault({ method: "remove", path: "/logs/app.jsonl.1", reason: "Busy", times: Infinity })
      yield* log.append("m")
      expect((yield* Effect.flip(log.flush))._tag).toBe("RotateError")
      mem.clearFaults()
      yield* log.flush
      expect(filesOf(mem)).toEqual({ "/logs/app.jsonl": "m\n", "/logs/app.jsonl.1": joined(lines(4).slice(2)) })
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("a failed write keeps the lines buffered; the next flush writes each exactly once", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(0, 1)
      yield* log.appendAll(lines(3))
      yield* log.flush
      mem.injectFault({ method: "write", reason: "Unknown", times: Infinity })
      yield* log.appendAll(lines(3, 9, "m"))
      const error = yield* Effect.flip(log.flush)
      expect([error._tag, error.message]).toEqual(["WriteError", expect.stringContaining("/logs/app.jsonl")])
      mem.clearFaults()
      yield* log.flush
      expect(filesOf(mem)).toEqual({ "/logs/app.jsonl": joined([...lines(3), ...lines(3, 9, "m")]) })
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("when writes keep failing, appends fail once the buffer is full, and a failed append is not written later", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(0, 1, 100)
      mem.injectFault({ method: "write", times: Infinity, reason: "Unknown" })
      const accepted: Array<string> = []
      let rejected: string | undefined
      for (const line of lines(50)) {
        const exit = yield* Effect.exit(log.append(line))
        if (Exit.isFailure(exit)) {
          rejected = line
          break
        }
        accepted.push(line)
      }
      expect(rejected).toBeDefined()
      expect(accepted.length).toBe(10) // 100 bytes of 10-byte lines
      mem.clearFaults()
      yield* log.flush
      expect(filesOf(mem)).toEqual({ "/logs/app.jsonl": joined(accepted) })
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("using an appender after its scope closed is a defect and reopens nothing", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const scope = yield* Scope.make()
      const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(0, 1) }).pipe(Scope.extend(scope))
      yield* log.append("a")
      yield* Scope.close(scope, Exit.void)
      const opens = mem.calls.open
      for (const use of [log.append("b"), log.appendAll(["c"]), log.flush]) {
        const exit = yield* Effect.exit(use)
        expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Die")
      }
      expect([mem.calls.open, filesOf(mem)]).toEqual([opens, { "/logs/app.jsonl": "a\n" }])
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("a background flush runs without an explicit flush", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(0, 1)
      yield* log.append("a")
      const waiter = yield* Effect.fork(Effect.repeat(Effect.yieldNow(), { until: () => (filesOf(mem)["/logs/app.jsonl"] ?? "") === "a\n" }))
      yield* Fiber.join(waiter)
      expect(filesOf(mem)).toEqual({ "/logs/app.jsonl": "a\n" })
    }).pipe(Effect.provide(memoryLayer())))
})

const filesOf = (mem: MemoryFileSystem.MemoryFileSystem) =>
  Object.fromEntries(mem.files().map(([p, bytes]) => [p, Buffer.from(bytes).toString("utf8")]))
