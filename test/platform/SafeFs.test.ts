import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import * as SafeFs from "../../src/platform/SafeFs.js"
import { memoryBase, nodeBase } from "../support/retention.js"

const implementations = [
  { name: "layerMemory", layer: (): Layer.Layer<FileSystem.FileSystem | SafeFs.SafeFs> => memoryBase() },
  { name: "layerNode", layer: (): Layer.Layer<FileSystem.FileSystem | SafeFs.SafeFs> => nodeBase }
]

const reasonOf = <A, E extends { _tag: string; reason?: string }, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), (e) => `${e._tag}:${e.reason}`)

describe.each(implementations)("SafeFs.$name", ({ layer }) => {
  const setup = Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const safe = yield* SafeFs.SafeFs
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "safefs-" })
    yield* fs.writeFileString(`${dir}/file`, "bytes\n")
    yield* fs.symlink(`${dir}/file`, `${dir}/link`)
    yield* fs.symlink(`${dir}/nowhere`, `${dir}/dangling`)
    return { fs, safe, dir }
  })

  it.scoped("openRead never follows a symbolic link; createExclusive never opens what exists, a dangling link included", () =>
    Effect.gen(function* () {
      const { safe, dir } = yield* setup
      expect(yield* reasonOf(safe.openRead(`${dir}/link`))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(safe.createExclusive(`${dir}/file`, 0o600))).toBe("SystemError:AlreadyExists")
      expect(yield* reasonOf(safe.createExclusive(`${dir}/dangling`, 0o600))).toBe("SystemError:AlreadyExists")
      expect(yield* reasonOf(safe.openRead(`${dir}/missing`))).toBe("SystemError:NotFound")
    }).pipe(Effect.provide(layer())))

  it.scoped("a handle acts on the file it opened, whatever the name points to afterwards", () =>
    Effect.gen(function* () {
      const { fs, safe, dir } = yield* setup
      const handle = yield* safe.createExclusive(`${dir}/new`, 0o600)
      const opened = yield* handle.stat
      const targetBefore = yield* safe.lstat(`${dir}/file`)
      yield* fs.remove(`${dir}/new`)
      yield* fs.symlink(`${dir}/file`, `${dir}/new`)
      yield* handle.write(new TextEncoder().encode("written"))
      yield* handle.chmod(0o640)
      yield* handle.utimes(1_000_000, 2_000_000)
      const after = yield* handle.stat
      expect([after.ino, after.mode & 0o777, after.mtimeMs, after.size]).toEqual([opened.ino, 0o640, 2_000_000, 7])
      const target = yield* safe.lstat(`${dir}/file`)
      expect([target.mode, target.mtimeMs, yield* fs.readFileString(`${dir}/file`)])
        .toEqual([targetBefore.mode, targetBefore.mtimeMs, "bytes\n"])
      expect((yield* safe.lstat(`${dir}/new`)).type).toBe("SymbolicLink")
    }).pipe(Effect.provide(layer())))

  it.scoped("link never replaces an existing name and links a symlink itself; unlink removes the name only", () =>
    Effect.gen(function* () {
      const { fs, safe, dir } = yield* setup
      expect(yield* reasonOf(safe.link(`${dir}/file`, `${dir}/link`))).toBe("SystemError:AlreadyExists")
      expect(yield* fs.readLink(`${dir}/link`)).toBe(`${dir}/file`)
      yield* safe.link(`${dir}/link`, `${dir}/second`)
      const [a, b] = [yield* safe.lstat(`${dir}/link`), yield* safe.lstat(`${dir}/second`)]
      expect([b.type, b.ino]).toEqual(["SymbolicLink", a.ino])
      yield* safe.link(`${dir}/file`, `${dir}/hard`)
      yield* safe.unlink(`${dir}/file`)
      expect(yield* fs.readFileString(`${dir}/hard`)).toBe("bytes\n")
      yield* safe.syncDirectory(dir)
    }).pipe(Effect.provide(layer())))

  it.scoped("readDirectory gives names as bytes; lstat reports a link as a link", () =>
    Effect.gen(function* () {
      const { safe, dir } = yield* setup
      const names = (yield* safe.readDirectory(dir)).map((b) => Buffer.from(b).toString("utf8")).sort()
      expect(names).toEqual(["dangling", "file", "link"])
      expect((yield* safe.lstat(`${dir}/link`)).type).toBe("SymbolicLink")
      expect((yield* safe.lstat(`${dir}/file`)).type).toBe("File")
    }).pipe(Effect.provide(layer())))
})

describe("SafeFs.layerNode openRead (O_NONBLOCK)", () => {
  it.scoped("opens a FIFO at once, without a writer, and its stat says it is not a regular file; a regular file reads as before", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const safe = yield* SafeFs.SafeFs
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "safefs-" })
      execFileSync("mkfifo", [`${dir}/fifo`])
      const fifo = yield* safe.openRead(`${dir}/fifo`)
      expect((yield* fifo.stat).type).toBe("Other")
      yield* fs.writeFileString(`${dir}/file`, "bytes\n")
      const file = yield* safe.openRead(`${dir}/file`)
      const buffer = new Uint8Array(16)
      const n = yield* file.read(buffer)
      expect(Buffer.from(buffer.subarray(0, n)).toString()).toBe("bytes\n")
      expect(yield* file.read(buffer)).toBe(0)
    }).pipe(Effect.provide(nodeBase)))
})

describe("SafeFs.layerNode syncDirectory (group commit)", () => {
  it.scoped("many concurrent syncDirectory calls on one directory all complete, and later calls still sync; a missing directory fails every caller with NotFound", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const safe = yield* SafeFs.SafeFs
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "safefs-" })
      const results = yield* Effect.all(Array.from({ length: 40 }, () => Effect.either(safe.syncDirectory(dir))), { concurrency: "unbounded" })
      expect(results.filter((r) => r._tag === "Right").length).toBe(40)
      yield* safe.syncDirectory(dir) // after the group drained: a fresh fsync, not a stale promise
      const missing = yield* Effect.all(Array.from({ length: 5 }, () => reasonOf(safe.syncDirectory(`${dir}/missing`))), { concurrency: "unbounded" })
      expect(missing).toEqual(Array(5).fill("SystemError:NotFound"))
      yield* safe.syncDirectory(dir)
    }).pipe(Effect.provide(nodeBase)))
})
