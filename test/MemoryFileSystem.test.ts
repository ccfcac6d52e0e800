/**
 * The in-memory FileSystem must behave like the real one for everything rotation and
 * retention use, so each case runs on both and asserts the same outcome.
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import * as MemoryFileSystem from "../src/MemoryFileSystem.js"
import { fileSystems, memoryLayer, readAll, tempDir } from "./support/fileSystems.js"

const reasonOf = <A, R>(self: Effect.Effect<A, PlatformError, R>) =>
  Effect.map(Effect.flip(self), (e) => `${e._tag}:${e._tag === "SystemError" ? e.reason : ""}`)

describe.each(fileSystems)("FileSystem contract on $name", ({ layer }) => {
  it.scoped("an open handle follows its file across a rename; the old name can be reused", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const handle = yield* fs.open(`${dir}/a`, { flag: "a" })
      yield* handle.writeAll(new TextEncoder().encode("one\n"))
      yield* fs.rename(`${dir}/a`, `${dir}/a.1`)
      yield* handle.writeAll(new TextEncoder().encode("two\n"))
      yield* fs.writeFileString(`${dir}/a`, "fresh\n")
      expect(yield* readAll(dir)).toEqual({ a: "fresh\n", "a.1": "one\ntwo\n" })
      expect(Number((yield* handle.stat).size)).toBe(8)
    }).pipe(Effect.provide(layer())))

  it.scoped("errors carry the same reasons as the real FileSystem", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/f`, "x")
      expect(yield* reasonOf(fs.stat(`${dir}/missing`))).toBe("SystemError:NotFound")
      expect(yield* reasonOf(fs.remove(`${dir}/missing`))).toBe("SystemError:NotFound")
      expect(yield* reasonOf(fs.rename(`${dir}/missing`, `${dir}/y`))).toBe("SystemError:NotFound")
      expect(yield* reasonOf(fs.readDirectory(`${dir}/missing`))).toBe("SystemError:NotFound")
      expect(yield* reasonOf(fs.writeFileString(`${dir}/no/such/dir`, "x"))).toBe("SystemError:NotFound")
      expect(yield* reasonOf(fs.open(`${dir}/f`, { flag: "wx" }))).toBe("SystemError:AlreadyExists")
      expect(yield* reasonOf(fs.readLink(`${dir}/f`))).toBe("SystemError:Unknown")
      yield* fs.remove(`${dir}/missing`, { force: true })
    }).pipe(Effect.provide(layer())))

  it.scoped("rename replaces an existing destination; readDirectory lists names; recursive mkdir", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.makeDirectory(`${dir}/x/y`, { recursive: true })
      yield* fs.makeDirectory(`${dir}/x/y`, { recursive: true })
      yield* fs.writeFileString(`${dir}/a`, "a")
      yield* fs.writeFileString(`${dir}/b`, "b")
      yield* fs.rename(`${dir}/a`, `${dir}/b`)
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["b", "x"])
      expect(yield* fs.readFileString(`${dir}/b`)).toBe("a")
      expect((yield* fs.stat(`${dir}/x`)).type).toBe("Directory")
    }).pipe(Effect.provide(layer())))

  it.scoped("symlinks: readLink reads the target, stat follows it, remove removes the link only", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/target`, "12345")
      yield* fs.symlink(`${dir}/target`, `${dir}/link`)
      expect(yield* fs.readLink(`${dir}/link`)).toBe(`${dir}/target`)
      expect(Number((yield* fs.stat(`${dir}/link`)).size)).toBe(5)
      yield* fs.remove(`${dir}/link`)
      expect(yield* readAll(dir)).toEqual({ target: "12345" })
    }).pipe(Effect.provide(layer())))

  it.scoped("chmod, utimes and stream/sink round-trip", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/f`, "abc".repeat(30000))
      yield* fs.chmod(`${dir}/f`, 0o600)
      yield* fs.utimes(`${dir}/f`, new Date(1_000_000), new Date(86_400_000))
      const info = yield* fs.stat(`${dir}/f`)
      expect([info.mode & 0o777, Option.map(info.mtime, (d) => d.getTime())]).toEqual([0o600, Option.some(86_400_000)])
      yield* fs.stream(`${dir}/f`, { chunkSize: 1000 }).pipe(Stream.run(fs.sink(`${dir}/g`)))
      expect(yield* fs.readFileString(`${dir}/g`)).toBe("abc".repeat(30000))
    }).pipe(Effect.provide(layer())))
})

describe("MemoryFileSystem fault injection", () => {
  it.effect("fails exactly the n-th matching call, `times` times, with the given reason", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* mem.makeDirectory("/d")
      mem.injectFault({ method: "writeFile", nth: 2, times: 2, path: /\/d\/.*/, reason: "PermissionDenied" })
      const results: Array<string> = []
      for (const name of ["a", "b", "c", "d"]) {
        results.push(yield* mem.writeFileString(`/d/${name}`, name).pipe(Effect.as("ok"), Effect.catchAll((e) => Effect.succeed(e._tag === "SystemError" ? e.reason : e._tag))))
      }
      expect(results).toEqual(["ok", "PermissionDenied", "PermissionDenied", "ok"])
      expect(mem.files().map(([p]) => p)).toEqual(["/d/a", "/d/d"])
      expect(mem.calls.writeFile).toBe(4)
    }).pipe(Effect.provide(memoryLayer())))
})
