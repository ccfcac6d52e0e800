/**
 * The in-memory FileSystem must behave like the real one for everything rotation and
 * retention use, so each case runs on both and asserts the same outcome.
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, type Scope, Stream, TestClock } from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { fileSystems, memoryLayer, readAll, tempDir } from "../support/fileSystems.js"
import { dated, fileSystems as retentionFileSystems, tempDir as retentionTempDir } from "../support/retention.js"

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

/** Sets the file-creation mask for the test's scope: the fake's own, or the process's for Node. */
const withUmask = (mask: number) =>
  Effect.flatMap(Effect.serviceOption(MemoryFileSystem.MemoryFileSystem), (mem) =>
    Effect.acquireRelease(
      Effect.sync(() => (mem._tag === "Some" ? mem.value.umask(mask) : process.umask(mask))),
      (previous) => Effect.sync(() => void (mem._tag === "Some" ? mem.value.umask(previous) : process.umask(previous)))
    ))

/** The differences the differential test found (test/platform/MemoryFileSystem.differential.test.ts), one rule each, on both. */
describe.each(fileSystems)("FileSystem rules the fake once broke, on $name", ({ layer }) => {
  it.scoped("remove without recursive fails on a directory, even an empty one, and with force too", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.makeDirectory(`${dir}/empty`)
      expect(yield* reasonOf(fs.remove(`${dir}/empty`))).toBe("SystemError:Unknown")
      expect(yield* reasonOf(fs.remove(`${dir}/empty`, { force: true }))).toBe("SystemError:Unknown")
      expect(yield* fs.readDirectory(dir)).toEqual(["empty"])
      yield* fs.remove(`${dir}/empty`, { recursive: true })
      expect(yield* fs.readDirectory(dir)).toEqual([])
    }).pipe(Effect.provide(layer())))

  it.scoped("rename of a directory: onto a file BadResource, onto a non-empty directory Unknown, onto an empty one replaces it", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.makeDirectory(`${dir}/d/sub`, { recursive: true })
      yield* fs.makeDirectory(`${dir}/full/keep`, { recursive: true })
      yield* fs.makeDirectory(`${dir}/empty`)
      yield* fs.writeFileString(`${dir}/file`, "x")
      expect(yield* reasonOf(fs.rename(`${dir}/d`, `${dir}/file`))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.rename(`${dir}/d`, `${dir}/full`))).toBe("SystemError:Unknown")
      expect(yield* reasonOf(fs.rename(`${dir}/d`, `${dir}/d/sub/inside`))).toBe("SystemError:Unknown")
      expect(yield* reasonOf(fs.rename(`${dir}/file`, `${dir}/empty`))).toBe("SystemError:BadResource")
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["d", "empty", "file", "full"])
      expect(yield* fs.readDirectory(`${dir}/full`)).toEqual(["keep"])
      yield* fs.rename(`${dir}/d`, `${dir}/empty`)
      yield* fs.rename(`${dir}/file`, `${dir}/file`) // onto itself: nothing happens
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["empty", "file", "full"])
      expect(yield* fs.readDirectory(`${dir}/empty`)).toEqual(["sub"])
    }).pipe(Effect.provide(layer())))

  it.scoped("wx on a dangling link is AlreadyExists; w through it creates the link's target", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.symlink("target", `${dir}/link`)
      expect(yield* reasonOf(fs.writeFileString(`${dir}/link`, "x", { flag: "wx" }))).toBe("SystemError:AlreadyExists")
      expect(yield* reasonOf(fs.open(`${dir}/link`, { flag: "wx" }))).toBe("SystemError:AlreadyExists")
      expect(yield* fs.exists(`${dir}/target`)).toBe(false)
      yield* fs.writeFileString(`${dir}/link`, "through")
      expect(yield* fs.readFileString(`${dir}/target`)).toBe("through")
      expect(yield* fs.readLink(`${dir}/link`)).toBe("target")
    }).pipe(Effect.provide(layer())))

  it.scoped("new files get (mode ?? 0o666) & ~umask, new directories (mode ?? 0o777) & ~umask; chmod ignores the umask", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* withUmask(0o027)
      const mode = (p: string) => Effect.map(fs.stat(`${dir}/${p}`), (info) => info.mode & 0o7777)
      yield* fs.writeFileString(`${dir}/default`, "x")
      yield* fs.writeFileString(`${dir}/explicit`, "x", { mode: 0o666 })
      yield* Effect.scoped(fs.open(`${dir}/opened`, { flag: "w", mode: 0o777 }))
      yield* fs.makeDirectory(`${dir}/d/e`, { recursive: true })
      yield* fs.makeDirectory(`${dir}/m`, { mode: 0o777 })
      yield* fs.writeFileString(`${dir}/default`, "y", { mode: 0o600 }) // mode applies at creation only
      const temp = yield* fs.makeTempDirectory({ directory: dir })
      expect(yield* Effect.all([mode("default"), mode("explicit"), mode("opened"), mode("d"), mode("d/e"), mode("m")]))
        .toEqual([0o640, 0o640, 0o750, 0o750, 0o750, 0o750])
      expect((yield* fs.stat(temp)).mode & 0o7777).toBe(0o700)
      yield* fs.chmod(`${dir}/default`, 0o666)
      expect(yield* mode("default")).toBe(0o666)
    }).pipe(Effect.provide(layer())))

  it.scoped("a symlink in the middle of a path is followed: dir-link/name is the directory's entry", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.makeDirectory(`${dir}/real/sub`, { recursive: true })
      yield* fs.symlink(`${dir}/real`, `${dir}/alias`)
      yield* fs.symlink("../real/sub", `${dir}/real/up`) // `..` from the link's own directory
      yield* fs.writeFileString(`${dir}/alias/a.log`, "a")
      yield* fs.writeFileString(`${dir}/real/up/deep.log`, "d")
      expect((yield* fs.readDirectory(`${dir}/alias`)).sort()).toEqual(["a.log", "sub", "up"])
      expect(yield* fs.readFileString(`${dir}/real/a.log`)).toBe("a")
      expect(yield* fs.readFileString(`${dir}/alias/sub/deep.log`)).toBe("d")
      expect(yield* fs.realPath(`${dir}/alias/up/deep.log`)).toBe(`${yield* fs.realPath(dir)}/real/sub/deep.log`)
      expect(Number((yield* fs.stat(`${dir}/alias/a.log`)).size)).toBe(1)
      yield* fs.rename(`${dir}/alias/a.log`, `${dir}/alias/sub/b.log`)
      yield* fs.remove(`${dir}/alias/sub/deep.log`)
      expect(yield* fs.readDirectory(`${dir}/real/sub`)).toEqual(["b.log"])
      yield* fs.remove(`${dir}/alias`, { recursive: true }) // removes the link, not what it points to
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["real"])
      expect(yield* fs.readDirectory(`${dir}/real/sub`)).toEqual(["b.log"])
    }).pipe(Effect.provide(layer())))

  it.scoped("a file in the middle of a path is BadResource (ENOTDIR), also for mkdir -p, remove with force, and rename", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/f`, "x")
      yield* fs.symlink("nowhere", `${dir}/dangling`)
      expect(yield* reasonOf(fs.readFile(`${dir}/f/x`))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.stat(`${dir}/f/x`))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.exists(`${dir}/f/x`))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.remove(`${dir}/f/x`, { force: true }))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.makeDirectory(`${dir}/f/x`, { recursive: true }))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.makeDirectory(`${dir}/dangling/x`, { recursive: true }))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.makeDirectory(`${dir}/dangling`, { recursive: true }))).toBe("SystemError:NotFound")
      yield* fs.symlink("no/such/dir", `${dir}/deep-dangling`) // dangling at a missing directory, not a missing name
      expect(yield* reasonOf(fs.makeDirectory(`${dir}/deep-dangling`, { recursive: true }))).toBe("SystemError:NotFound")
      expect(yield* reasonOf(fs.makeDirectory(`${dir}/f`, { recursive: true }))).toBe("SystemError:AlreadyExists")
      expect(yield* reasonOf(fs.rename(`${dir}/missing`, `${dir}/f/x`))).toBe("SystemError:BadResource")
    }).pipe(Effect.provide(layer())))

  it.scoped("handles: a directory opens read-only and its read is BadResource; the wrong direction and a closed handle are Unknown (EBADF); writeAll of nothing is WriteZero", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/f`, "abc")
      const bytes = new TextEncoder().encode("x")
      expect(yield* reasonOf(fs.open(dir, { flag: "a" }))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(fs.truncate(dir))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(Effect.scoped(Effect.flatMap(fs.open(dir), (d) => d.readAlloc(10))))).toBe("SystemError:BadResource")
      expect(yield* reasonOf(Effect.scoped(Effect.flatMap(fs.open(`${dir}/f`), (f) => f.writeAll(bytes))))).toBe("SystemError:Unknown")
      expect(yield* reasonOf(Effect.scoped(Effect.flatMap(fs.open(`${dir}/f`, { flag: "a" }), (f) => f.readAlloc(10))))).toBe("SystemError:Unknown")
      expect(yield* reasonOf(Effect.scoped(Effect.flatMap(fs.open(`${dir}/f`, { flag: "a" }), (f) => f.writeAll(new Uint8Array(0)))))).toBe("SystemError:WriteZero")
      const closed = yield* Effect.scoped(fs.open(`${dir}/f`, { flag: "a" }))
      expect(yield* reasonOf(closed.writeAll(bytes))).toBe("SystemError:Unknown")
      expect(yield* fs.readFileString(`${dir}/f`)).toBe("abc")
    }).pipe(Effect.provide(layer())))
})

describe.each(fileSystems)("stat's nlink, uid and gid, on $name", ({ layer }) => {
  it.scoped("nlink counts the names of a file (link adds one, remove takes one, an open handle sees 0 once all are gone); uid/gid are the owner's", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      yield* fs.writeFileString(`${dir}/f`, "x")
      const handle = yield* fs.open(`${dir}/f`)
      expect(Option.getOrNull((yield* fs.stat(`${dir}/f`)).nlink)).toBe(1)
      yield* fs.link(`${dir}/f`, `${dir}/g`)
      expect(Option.getOrNull((yield* fs.stat(`${dir}/g`)).nlink)).toBe(2)
      yield* fs.remove(`${dir}/f`)
      expect(Option.getOrNull((yield* handle.stat).nlink)).toBe(1)
      yield* fs.remove(`${dir}/g`)
      expect(Option.getOrNull((yield* handle.stat).nlink)).toBe(0)
      yield* fs.writeFileString(`${dir}/h`, "x")
      yield* fs.chown(`${dir}/h`, 65534, 65534)
      const info = yield* fs.stat(`${dir}/h`)
      expect([Option.getOrNull(info.uid), Option.getOrNull(info.gid)]).toEqual([65534, 65534])
    }).pipe(Effect.provide(layer())))
})

describe("MemoryFileSystem inspection", () => {
  it.scoped("openFiles lists the handles whose scope is open", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* mem.makeDirectory("/d")
      yield* Effect.scoped(Effect.gen(function* () {
        yield* mem.open("/d/a", { flag: "w" })
        yield* mem.open("/d/b", { flag: "a" })
        expect(mem.openFiles()).toEqual(["/d/a", "/d/b"])
      }))
      expect(mem.openFiles()).toEqual([])
    }).pipe(Effect.provide(memoryLayer())))
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

describe("MemoryFileSystem: a fault schedule reaches every operation", () => {
  // Each call, and the FaultMethod a schedule names to fail it.
  const calls: ReadonlyArray<readonly [MemoryFileSystem.FaultMethod, (fs: FileSystem.FileSystem) => Effect.Effect<unknown, PlatformError, Scope.Scope>]> = [
    ["writeFile", (fs) => fs.writeFile("/d/f", new Uint8Array(1))],
    ["truncate", (fs) => fs.truncate("/d/f")],
    ["readFileString", (fs) => fs.readFileString("/d/f")],
    ["writeFileString", (fs) => fs.writeFileString("/d/f", "x")],
    ["exists", (fs) => fs.exists("/d/f")],
    ["stream", (fs) => Stream.runDrain(fs.stream("/d/f"))],
    ["sink", (fs) => Stream.run(Stream.make(new Uint8Array(1)), fs.sink("/d/g"))],
    ["copy", (fs) => fs.copy("/d/f", "/d/h")],
    ["copyFile", (fs) => fs.copyFile("/d/f", "/d/h")],
    ["makeTempDirectory", (fs) => fs.makeTempDirectory()],
    ["makeTempFile", (fs) => fs.makeTempFile()],
    ["realPath", (fs) => fs.realPath("/d/f")],
    ["chown", (fs) => fs.chown("/d/f", 0, 0)],
    ["link", (fs) => fs.link("/d/f", "/d/hard")],
    ["access", (fs) => fs.access("/d/f")],
    ["chmod", (fs) => fs.chmod("/d/f", 0o600)],
    ["makeDirectory", (fs) => fs.makeDirectory("/d/sub")],
    ["open", (fs) => fs.open("/d/f")],
    ["readDirectory", (fs) => fs.readDirectory("/d")],
    ["readFile", (fs) => fs.readFile("/d/f")],
    ["readLink", (fs) => fs.readLink("/d/f")],
    ["remove", (fs) => fs.remove("/d/f")],
    ["rename", (fs) => fs.rename("/d/f", "/d/r")],
    ["stat", (fs) => fs.stat("/d/f")],
    ["symlink", (fs) => fs.symlink("f", "/d/s")],
    ["utimes", (fs) => fs.utimes("/d/f", 0, 0)],
    ["write", (fs) => Effect.flatMap(fs.open("/d/f", { flag: "a" }), (f) => f.writeAll(new Uint8Array(1)))],
    ["read", (fs) => Effect.flatMap(fs.open("/d/f"), (f) => f.readAlloc(1))],
    ["sync", (fs) => Effect.flatMap(fs.open("/d/f", { flag: "a" }), (f) => f.sync)]
  ]

  it.scoped.each(calls)("a fault on %s fails that call with the injected reason, and calls counts it", ([method, call]) =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* mem.makeDirectory("/d")
      yield* mem.writeFile("/d/f", new TextEncoder().encode("abc"))
      const before = mem.calls[method] ?? 0
      mem.injectFault({ method, reason: "Busy" })
      const error = yield* Effect.flip(call(mem))
      expect([error._tag, error._tag === "SystemError" && error.reason, error.message]).toEqual([
        "SystemError", "Busy", expect.stringContaining("injected fault")
      ])
      expect(mem.calls[method]).toBe(before + 1)
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("a derived call is also its primitive: a fault on writeFile fails writeFileString, one on access fails exists", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      mem.injectFault({ method: "writeFile", reason: "PermissionDenied" })
      mem.injectFault({ method: "access", reason: "Busy" })
      expect(yield* reasonOf(mem.writeFileString("/tmp/x", "x"))).toBe("SystemError:PermissionDenied")
      expect(yield* reasonOf(mem.exists("/tmp/x"))).toBe("SystemError:Busy")
      expect([mem.calls.writeFile, mem.calls.writeFileString, mem.calls.access, mem.calls.exists]).toEqual([1, 1, 1, 1])
    }).pipe(Effect.provide(memoryLayer())))
})

describe.each(retentionFileSystems)("a sweep through a symlink in the middle of the directory's path, on $name", ({ layer }) => {
  it.scoped("deletes and compresses the files of the directory the path leads to", () =>
    Effect.gen(function* () {
      const TODAY = new Date("2026-03-15T12:00:00Z")
      yield* TestClock.setTime(TODAY.getTime())
      const fs = yield* FileSystem.FileSystem
      const dir = yield* retentionTempDir
      yield* fs.makeDirectory(`${dir}/real/logs`, { recursive: true })
      yield* fs.symlink(`${dir}/real`, `${dir}/alias`)
      yield* fs.writeFileString(`${dir}/real/logs/${dated("app", TODAY, 40)}`, "old\n")
      yield* fs.writeFileString(`${dir}/real/logs/${dated("app", TODAY, 10)}`, "aging\n")
      const report = yield* Sweeper.sweep([`${dir}/alias/logs`], { maxAgeDays: 30, compressAgeDays: 7 })
      expect([report.failed, report.deleted.length, report.compressed.length]).toEqual([[], 1, 1])
      expect(yield* fs.readDirectory(`${dir}/real/logs`)).toEqual([dated("app", TODAY, 10, ".ndjson.gz")])
    }).pipe(Effect.provide(layer())))
})
