import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, FastCheck as fc, Fiber, Layer, Metric, Option, Scope } from "effect"
import { spawnSync } from "node:child_process"
import * as Os from "node:os"
import type { FileClaimed } from "../../src/Errors.js"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as RenameShiftModule from "../../src/rotation/RenameShift.js"
import { planShift, type RenameShift } from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import { expectRotatedAtLineEnds, isLock, joined, policy, readLogs } from "../support/appenderFiles.js"
import { fileSystems, lines, memoryLayer, readAll, tempDir } from "../support/fileSystems.js"
import { instrument } from "../support/retention.js"

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

  it.scoped("a symbolic link at the active path is refused at open (WriteError naming it); its target is never written", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/private`, "root only\n")
      yield* fs.symlink(`${dir}/private`, `${dir}/app.jsonl`)
      const error = yield* Effect.flip(RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(100, 2) }))
      expect(error._tag).toBe("WriteError")
      expect(error.message).toContain(`${dir}/app.jsonl`)
      expect(error.message).toContain("is a symbolic link; effect-logrotate does not follow links at the active path")
      expect(yield* fs.readFileString(`${dir}/private`)).toBe("root only\n")
      expect((yield* fs.readDirectory(dir)).filter((n) => !isLock(n)).sort()).toEqual(["app.jsonl", "private"])
    })))

  it.scoped("two appenders, one through a symlink to the other's file: the one through the link is refused", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const first = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(100, 2) })
      yield* fs.symlink("app.jsonl", `${dir}/link.jsonl`)
      const error = yield* Effect.flip(RotatingAppender.make(`${dir}/link.jsonl`, { policy: policy(100, 2) }))
      expect(error._tag).toBe("WriteError")
      expect(error.message).toContain("is a symbolic link")
      yield* first.append("a")
      yield* first.flush
      expect(yield* fs.readFileString(`${dir}/app.jsonl`)).toBe("a\n")
    })))

  it.scoped("a symbolic link swapped in at the active path: reopen refuses it, its target is never written", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/private`, "root only\n")
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(100, 2) })
      yield* log.append("a")
      yield* log.flush
      yield* fs.rename(`${dir}/app.jsonl`, `${dir}/old.jsonl`)
      yield* fs.symlink(`${dir}/private`, `${dir}/app.jsonl`)
      const error = yield* Effect.flip(log.reopen)
      expect(error._tag).toBe("WriteError")
      expect(error.message).toContain("is a symbolic link")
      yield* Effect.exit(Effect.zipRight(log.append("b"), log.flush))
      expect(yield* fs.readFileString(`${dir}/private`)).toBe("root only\n")
    })))

  it.scoped.each([".a.jsonl.lock", "effect-logrotate", ".effect-logrotate.lock", ".a.jsonl.lock.break", ".a.jsonl.lock.1-x-2.stale"])(
    "an active file named like one of our lock files (%s) is refused before anything is created",
    (name) =>
      run(Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* tempDir
        const error = yield* Effect.flip(RotatingAppender.make(`${dir}/${name}`, { policy: policy(100, 2) }))
        expect(error._tag).toBe("WriteError")
        expect(error.message).toContain(`${dir}/${name}`)
        expect(error.message).toContain("not an active file name")
        expect(yield* fs.readDirectory(dir)).toEqual([])
      })))

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
      expect([error._tag, error._tag === "InvalidLine" && error.reason, error.message]).toEqual(["InvalidLine", "line-break", expect.stringContaining("line break")])
      const cr = yield* Effect.flip(log.append("bad\r"))
      expect(cr._tag).toBe("InvalidLine")
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "ok\n" })
    })))

  it.scoped("appendAll accepts all lines or none", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(1000, 1) })
      const error = yield* Effect.flip(log.appendAll(["a", "b\nc", "d"]))
      expect([error._tag, error._tag === "InvalidLine" && error.reason, error.message]).toEqual(["InvalidLine", "line-break", expect.stringContaining("line 2 of 3")])
      yield* log.appendAll(["e", "f"])
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "e\nf\n" })
    })))

  it.scoped("a batch of 1000 with one bad line anywhere writes nothing and names that line (\\n, \\r, first or last)", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(1000, 1) })
      for (const [at, bad] of [[0, "a\nb"], [299, "x\n"], [599, "\ry"], [999, "z\r"], [700, "\n"]] as const) {
        const batch = lines(1000)
        batch[at] = bad
        const error = yield* Effect.flip(log.appendAll(batch))
        expect([error._tag, error.message]).toEqual(["InvalidLine", expect.stringContaining(`line ${at + 1} of 1000`)])
      }
      yield* log.appendAll(["", "é"]) // an empty line and a multi-byte one are lines
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "\né\n" })
    })))

  it.scoped("a large batch rotates at line boundaries: every file <= maxBytes, all lines in order (multi-byte UTF-8)", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      // 700 lines of 1 to 13 bytes + "\n", some with 2- and 4-byte characters; 64-byte files.
      const batch = Array.from({ length: 700 }, (_, i) => (i % 7 === 0 ? "é😀" : "") + "x".repeat(i % 6) + String(i))
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(64, 1000) })
      yield* log.appendAll(batch.slice(0, 3))
      yield* log.appendAll(batch.slice(3))
      yield* log.flush
      expect(expectRotatedAtLineEnds(yield* readLogs(dir), batch, 64)).toBeGreaterThan(30)
    })))

  it.scoped("appendJson writes one JSON line, and rejects what JSON cannot hold", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(1000, 1) })
      yield* log.appendJson({ msg: "multi\nline", n: 1 })
      const circular: Record<string, unknown> = {}
      circular.self = circular
      const refused = (e: { readonly _tag: string; readonly reason?: unknown }) => [e._tag, e.reason]
      expect(refused(yield* Effect.flip(log.appendJson(circular)))).toEqual(["InvalidLine", "not-serializable"])
      expect(refused(yield* Effect.flip(log.appendJson(undefined)))).toEqual(["InvalidLine", "not-serializable"])
      yield* log.flush
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": '{"msg":"multi\\nline","n":1}\n' })
    })))

  it.scoped("8 fibers appending concurrently lose no line and tear none", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const log = yield* RotatingAppender.make(`${dir}/app.jsonl`, { policy: policy(256, 1000), highWaterMark: 512 })
      yield* Effect.forEach(Array.from({ length: 8 }, (_, f) => f), (f) =>
        Effect.forEach(lines(300, 12, `f${f}-`), (line) => log.append(line), { discard: true }), { concurrency: "unbounded", discard: true })
      yield* log.flush
      const files = yield* readLogs(dir)
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
      // One handle stat per opened file, one path stat per written batch (the identity check)
      // and per rotation: none per line.
      expect(mem.calls.open).toBe(1 + 5) // the claim's lock file, then one per file
      expect(mem.calls.write).toBeLessThan(100)
      expect(mem.calls.stat).toBeLessThanOrEqual(5 + mem.calls.write! + 4)
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("a rotation right after a written piece's identity check does not stat the path again", () =>
    Effect.gen(function* () {
      const { mem, log } = yield* setup(10_000, 3)
      yield* log.appendAll(lines(5000)) // 50,000 bytes in one batch: 5 pieces, 4 rotations between them
      const before = { stat: mem.calls.stat ?? 0, write: mem.calls.write ?? 0, open: mem.calls.open ?? 0 }
      yield* log.flush
      const delta = (k: "stat" | "write" | "open") => (mem.calls[k] ?? 0) - before[k]
      // per piece: one path stat (the check); per new file: one handle stat at open; none per rotation
      expect({ write: delta("write"), open: delta("open"), stat: delta("stat") }).toEqual({ write: 5, open: 4, stat: 5 + 4 })
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

/** Every file but lock files (present while an appender is open). */
const filesOf = (mem: MemoryFileSystem.MemoryFileSystem) =>
  Object.fromEntries(mem.files().filter(([p]) => !isLock(p)).map(([p, bytes]) => [p, Buffer.from(bytes).toString("utf8")]))

/** The appender's counters are tagged with the directory of its file. */
const counter = (metric: typeof RotatingAppender.activeFileReopened, dir: string) =>
  Effect.map(Metric.value(Metric.tagged(metric, "directory", dir)), (state) => state.count)

describe.each(fileSystems)("RotatingAppender safety on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))
  const open = (path: string, maxBytes = 0, maxFiles = 1) =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const log = yield* RotatingAppender.make(path, { policy: policy(maxBytes, maxFiles) }).pipe(Scope.extend(scope))
      return { log, close: Scope.close(scope, Exit.void) }
    })

  // Defect 9: two writers on one file.
  it.scoped("a second appender on the same path fails at make with FileClaimed naming the path and the holder; the first loses no line", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const path = `${dir}/app.jsonl`
      const first = yield* open(path, 64, 1000)
      yield* first.log.appendAll(lines(20))
      const error = yield* Effect.flip(Effect.scoped(RotatingAppender.make(path, { policy: policy(64, 1000) })))
      expect(error._tag).toBe("FileClaimed")
      const claimed = error as FileClaimed
      expect(claimed.path).toBe(path)
      expect(claimed.lockPath).toBe(`${dir}/.app.jsonl.lock`)
      expect(claimed.holder).toMatchObject({ pid: process.pid, hostname: Os.hostname(), purpose: "append" })
      expect(claimed.message).toContain(path)
      expect(claimed.message).toContain(`pid ${process.pid}`)
      yield* first.log.appendAll(lines(20, 9, "m"))
      yield* first.close
      const files = yield* readAll(dir)
      expect(Object.keys(files).some(isLock)).toBe(false) // the claim is gone after close
      const onDisk = Object.keys(files).sort((a, b) => (b === "app.jsonl" ? -1 : a === "app.jsonl" ? 1 : Number(b.split(".").pop()) - Number(a.split(".").pop())))
        .flatMap((name) => files[name]!.split("\n").filter((l) => l !== ""))
      expect(onDisk).toEqual([...lines(20), ...lines(20, 9, "m")])
    })))

  it.scoped("a second appender through a symlinked alias of the directory fails with FileClaimed; the claim names the real directory", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.makeDirectory(`${dir}/d`)
      yield* fs.symlink(`${dir}/d`, `${dir}/alias`)
      const real = yield* fs.realPath(`${dir}/d`)
      const first = yield* open(`${dir}/d/app.jsonl`, 0, 1)
      const error = yield* Effect.flip(Effect.scoped(RotatingAppender.make(`${dir}/alias/app.jsonl`, { policy: policy(0, 1) })))
      expect(error._tag).toBe("FileClaimed")
      expect((error as FileClaimed).lockPath).toBe(`${real}/.app.jsonl.lock`)
      yield* first.log.appendAll(lines(3))
      yield* first.close
      expect(yield* readAll(`${dir}/d`)).toEqual({ "app.jsonl": lines(3).map((l) => l + "\n").join("") })
    })))

  it.scoped("two layers on one path in one program: the program fails with FileClaimed, nothing is written twice", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      class A extends Context.Tag("A")<A, RotatingAppender.RotatingAppender>() {}
      class B extends Context.Tag("B")<B, RotatingAppender.RotatingAppender>() {}
      const both = Layer.merge(
        RotatingAppender.layerAs(A, `${dir}/app.jsonl`, { policy: policy(0, 1) }),
        RotatingAppender.layerAs(B, `${dir}/app.jsonl`, { policy: policy(0, 1) })
      )
      const exit = yield* Effect.exit(Effect.gen(function* () {
        yield* (yield* A).append("a")
        yield* (yield* B).append("b")
      }).pipe(Effect.provide(both)))
      expect(Exit.isFailure(exit) && Option.map(Cause.failureOption(exit.cause), (e) => e._tag)).toEqual(Option.some("FileClaimed"))
      const files = yield* readAll(dir)
      expect(Object.keys(files).filter((n) => n !== "app.jsonl")).toEqual([]) // no lock left, no backup
    })))

  it.scoped("the claim survives rotations, is never renamed as a backup, and a new appender can claim after close", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const first = yield* open(`${dir}/app.jsonl`, 20, 3)
      yield* first.log.appendAll(lines(10)) // 5 files of 2 lines: 4 rotations, 3 backups kept
      yield* first.log.flush
      const names = (yield* fs.readDirectory(dir)).sort()
      expect(names).toEqual([".app.jsonl.lock", "app.jsonl", "app.jsonl.1", "app.jsonl.2", "app.jsonl.3"])
      expect(JSON.parse(yield* fs.readFileString(`${dir}/.app.jsonl.lock`))).toMatchObject({ pid: process.pid, purpose: "append" })
      expect(planShift("app.jsonl", names, 3).rename.flat()).not.toContain(".app.jsonl.lock")
      expect(planShift("app.jsonl", names, 0).remove).not.toContain(".app.jsonl.lock")
      yield* first.close
      const second = yield* open(`${dir}/app.jsonl`, 20, 3)
      yield* second.close
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["app.jsonl", "app.jsonl.1", "app.jsonl.2", "app.jsonl.3"])
    })))

  it.scoped("a claim left by a crashed appender (dead pid) is taken over at make", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const dead = spawnSync(process.execPath, ["-e", ""]).pid
      yield* fs.writeFileString(`${dir}/.app.jsonl.lock`,
        JSON.stringify({ pid: dead, hostname: Os.hostname(), acquiredAt: "2026-01-01T00:00:00.000Z", purpose: "append" }))
      const { log, close } = yield* open(`${dir}/app.jsonl`)
      yield* log.append("x")
      yield* close
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "x\n" })
    })))

  // Defect 10: a torn tail.
  it.scoped("a torn last line is terminated with \\n at open, so the next line is a line of its own, and it is counted", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/app.jsonl`, "{\"a\":1}\n{\"torn\":")
      const before = yield* counter(RotatingAppender.tornTailsTerminated, dir)
      const { log, close } = yield* open(`${dir}/app.jsonl`)
      yield* log.append("{\"b\":2}")
      yield* close
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "{\"a\":1}\n{\"torn\":\n{\"b\":2}\n" })
      expect((yield* counter(RotatingAppender.tornTailsTerminated, dir)) - before).toBe(1)
    })))

  it.scoped("the \\n added to a torn tail counts toward maxBytes", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/app.jsonl`, "frag") // 4 bytes, 5 once terminated
      const { log, close } = yield* open(`${dir}/app.jsonl`, 10, 2)
      yield* log.append("12345") // 6 bytes: 5 + 6 > 10 rotates first
      yield* close
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "12345\n", "app.jsonl.1": "frag\n" })
    })))

  it.scoped("a file that ends in \\n, or is empty, is not touched at open", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/a.jsonl`, "x\n")
      yield* fs.writeFileString(`${dir}/b.jsonl`, "")
      const before = yield* counter(RotatingAppender.tornTailsTerminated, dir)
      for (const name of ["a.jsonl", "b.jsonl"]) yield* Effect.flatMap(open(`${dir}/${name}`), ({ close }) => close)
      expect(yield* readAll(dir)).toEqual({ "a.jsonl": "x\n", "b.jsonl": "" })
      expect((yield* counter(RotatingAppender.tornTailsTerminated, dir)) - before).toBe(0)
    })))

  // Defect 11: the active file removed or moved by someone else.
  it.scoped("the active file removed mid-stream: the next batch reopens it at the path, every later line is on disk, counted", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const before = yield* counter(RotatingAppender.activeFileReopened, dir)
      const { log, close } = yield* open(`${dir}/app.jsonl`, 40, 100)
      yield* log.appendAll(lines(3))
      yield* log.flush
      yield* fs.remove(`${dir}/app.jsonl`) // an operator's rm
      yield* log.appendAll(lines(9, 9, "m")) // 90 bytes: rotates twice
      yield* log.flush
      yield* close
      const files = yield* readAll(dir)
      const onDisk = ["app.jsonl.2", "app.jsonl.1", "app.jsonl"].flatMap((n) => (files[n] ?? "").split("\n").filter((l) => l !== ""))
      expect(onDisk).toEqual(lines(9, 9, "m"))
      expect(Object.values(files).every((text) => Buffer.byteLength(text) <= 40)).toBe(true)
      expect((yield* counter(RotatingAppender.activeFileReopened, dir)) - before).toBe(1)
    })))

  it.scoped("the active file moved away: the batch written meanwhile stays in the moved file, later ones go to a new file at the path", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const { log, close } = yield* open(`${dir}/app.jsonl`)
      yield* log.append("before")
      yield* log.flush
      yield* fs.rename(`${dir}/app.jsonl`, `${dir}/moved.jsonl`)
      yield* log.append("meanwhile")
      yield* log.flush
      yield* log.append("after")
      yield* close
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "after\n", "moved.jsonl": "before\nmeanwhile\n" })
    })))

  it.scoped("reopen flushes, then reopens the path: after an outside mv, later lines go to a new file", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const { log, close } = yield* open(`${dir}/app.jsonl`)
      yield* log.append("one")
      yield* log.flush
      yield* fs.rename(`${dir}/app.jsonl`, `${dir}/app.jsonl.old`)
      yield* log.reopen
      expect(yield* readLogs(dir)).toEqual({ "app.jsonl": "", "app.jsonl.old": "one\n" })
      yield* log.append("two")
      yield* close
      expect(yield* readAll(dir)).toEqual({ "app.jsonl": "two\n", "app.jsonl.old": "one\n" })
    })))

  it.scoped("reopen with nothing changed keeps appending to the same file, losing nothing", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const { log, close } = yield* open(`${dir}/app.jsonl`, 30, 2)
      yield* log.appendAll(["a".repeat(9), "b".repeat(9)])
      yield* log.reopen
      yield* log.appendAll(["c".repeat(9), "d".repeat(9)]) // the reopened size (20) still drives rotation
      yield* close
      expect(yield* readAll(dir)).toEqual({
        "app.jsonl": "d".repeat(9) + "\n", "app.jsonl.1": ["a", "b", "c"].map((c) => c.repeat(9) + "\n").join("")
      })
    })))
})

describe("RotatingAppender on MemoryFileSystem: outside changes", () => {
  it.scoped("a rotation whose source vanished starts a fresh file instead of failing forever", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      // The active file disappears just as a rotation lists the directory (after the batch's check).
      let armed = false
      const racing: FileSystem.FileSystem = {
        ...mem,
        readDirectory: (path, options) =>
          Effect.suspend(() => {
            if (!armed) return mem.readDirectory(path, options)
            armed = false
            return Effect.zipRight(mem.remove("/logs/app.jsonl"), mem.readDirectory(path, options))
          })
      }
      yield* Effect.gen(function* () {
        const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(20, 5) })
        yield* log.appendAll(lines(2))
        yield* log.flush
        armed = true
        yield* log.appendAll(lines(3, 9, "m")) // m1 rotates: the rotation finds its source gone
        yield* log.flush
        yield* log.append("z")
        yield* log.flush
      }).pipe(
        Effect.provideServiceEffect(RenameShiftModule.RenameShift, RenameShiftModule.make),
        Effect.provideService(FileSystem.FileSystem, racing)
      )
      const files = filesOf(mem)
      const onDisk = Object.keys(files).sort().reverse().flatMap((p) => files[p]!.split("\n").filter((l) => l !== ""))
      expect(onDisk).toEqual([...lines(3, 9, "m"), "z"])
    }).pipe(Effect.provide(memoryLayer())))

  // Removed between the batch's identity check and its write: the batch went into an unlinked inode.
  it.effect.prop(
    "the active file removed at generated points, between the check and the write included: every flushed line after the last removal is on disk once, in order",
    {
      batches: fc.array(fc.record({
        n: fc.integer({ min: 1, max: 4 }),
        removal: fc.constantFrom("none", "beforeWrite", "afterFlush")
      }), { minLength: 1, maxLength: 8 })
    },
    ({ batches }) =>
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const [fs, tools] = instrument(mem)
        let armed = false
        tools.hook("write", /\/logs\/app\.jsonl$/, () =>
          Effect.suspend(() => {
            if (!armed) return Effect.void
            armed = false
            return Effect.ignore(mem.remove("/logs/app.jsonl"))
          }))
        let expected: Array<string> = []
        yield* Effect.scoped(Effect.gen(function* () {
          const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(100_000, 5) })
          for (const [k, batch] of batches.entries()) {
            const batchLines = lines(batch.n, 9, `b${k}-`)
            if (batch.removal === "beforeWrite") {
              armed = true
              expected = []
            }
            yield* log.appendAll(batchLines)
            yield* log.flush
            expected.push(...batchLines)
            if (batch.removal === "afterFlush") {
              yield* Effect.ignore(mem.remove("/logs/app.jsonl"))
              expected = []
            }
          }
        })).pipe(
          Effect.provideServiceEffect(RenameShiftModule.RenameShift, RenameShiftModule.make),
          Effect.provideService(FileSystem.FileSystem, fs)
        )
        const files = filesOf(mem)
        const onDisk = Object.values(files).flatMap((text) => text.split("\n").filter((l) => l !== ""))
        expect(onDisk).toEqual(expected)
      }).pipe(Effect.provide(memoryLayer())),
    // 200 runs take 2–7 s on a loaded 2-core machine: a harness limit, not a timing assertion.
    { timeout: 60_000, fastCheck: { numRuns: 200, seed: 9_004 } }
  )

  it.scoped("removing the active file at random points: every line accepted after the last removal is on disk, once, in order", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const log = yield* RotatingAppender.make("/logs/app.jsonl", { policy: policy(100, 1000) })
      let afterLastRemoval: Array<string> = []
      for (const [i, line] of lines(300).entries()) {
        yield* log.append(line)
        afterLastRemoval.push(line)
        if (i % 37 === 36) {
          yield* log.flush
          yield* mem.remove("/logs/app.jsonl")
          afterLastRemoval = []
        }
        if (i % 5 === 0) yield* Effect.yieldNow() // let the background flusher write some batches
      }
      yield* log.flush
      const files = filesOf(mem)
      const all = Object.values(files).flatMap((text) => text.split("\n").filter((l) => l !== ""))
      expect(new Set(all).size).toBe(all.length)
      const ordered = ["/logs/app.jsonl", ...Object.keys(files).filter((p) => p !== "/logs/app.jsonl")
        .sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()))].reverse()
      const onDisk = ordered.flatMap((p) => files[p]!.split("\n").filter((l) => l !== ""))
      expect(onDisk.slice(-afterLastRemoval.length)).toEqual(afterLastRemoval)
      expect(Object.values(files).every((text) => Buffer.byteLength(text) <= 100)).toBe(true)
    }).pipe(Effect.provide(memoryLayer())))
})
