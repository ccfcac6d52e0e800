import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Scope } from "effect"
import * as zlib from "node:zlib"
import * as Compressor from "../../src/retention/Compressor.js"
import type { CompressStep } from "../../src/Errors.js"
import * as SafeFs from "../../src/platform/SafeFs.js"
import { compressionPaths, type FaultMethod, fileInTempDir, fileSystems, gunzip, Instrumented, names, ndjson, tempDir } from "../support/retention.js"

const NAME = "app-2026-01-01.ndjson"
const isRoot = process.getuid?.() === 0
const SafeFsTag = SafeFs.SafeFs

/** A 300 KB file (five 64 KiB reads) in a fresh temp dir. */
const setup = (bytes?: Uint8Array) => fileInTempDir(NAME, bytes)

type Env = Scope.Scope | FileSystem.FileSystem | SafeFs.SafeFs | Instrumented | Compressor.Compressor

describe.each(fileSystems)("Compressor contract on $name", ({ layer }) => {
  describe.each(compressionPaths)("$name", ({ name: mode, options }) => {
    const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer(options)))

    it.scoped("gunzip of the .gz equals the original bytes, and the original is gone", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const result = yield* Compressor.gzipFile(path)
        expect(yield* names(dir)).toEqual([`${NAME}.gz`])
        const gz = yield* fs.readFile(`${path}.gz`)
        expect(Buffer.from(gunzip(gz)).equals(Buffer.from(bytes))).toBe(true)
        expect(result).toEqual({ path, gzip: `${path}.gz`, bytesIn: bytes.length, bytesOut: gz.length, check: "written" })
        expect(gz.length).toBeLessThan(bytes.length / 2)
      })))

    it.scoped("an empty file compresses to a valid, empty .gz", () =>
      run(Effect.gen(function* () {
        const { fs, path } = yield* setup(new Uint8Array(0))
        yield* Compressor.gzipFile(path)
        expect(gunzip(yield* fs.readFile(`${path}.gz`)).length).toBe(0)
        expect(yield* fs.exists(path)).toBe(false)
      })))

    it.scoped("the .gz keeps the original's permission bits and mtime", () =>
      run(Effect.gen(function* () {
        const { fs, path } = yield* setup()
        const mtime = new Date("2026-01-01T23:59:58.000Z")
        yield* fs.chmod(path, 0o640)
        yield* fs.utimes(path, mtime, mtime)
        yield* Compressor.gzipFile(path)
        const info = yield* fs.stat(`${path}.gz`)
        expect(info.mode & 0o7777).toBe(0o640)
        expect(Option.getOrThrow(info.mtime).getTime()).toBe(mtime.getTime())
      })))

    it.scoped("the original is removed only once the complete .gz exists", () =>
      run(Effect.gen(function* () {
        const { fs, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const seen: Array<string> = []
        tools.hook("unlink", new RegExp(`${NAME}$`), () =>
          Effect.gen(function* () {
            seen.push(Buffer.from(gunzip(yield* fs.readFile(`${path}.gz`))).equals(Buffer.from(bytes)) ? "complete .gz" : "bad .gz")
          }).pipe(Effect.orDie))
        yield* Compressor.gzipFile(path)
        expect(seen).toEqual(["complete .gz"])
        const order = tools.calls.filter((c) => ["link", "syncDirectory"].includes(c.method) || (c.method === "unlink" && c.path === path))
        expect(order.map((c) => c.method)).toEqual(["link", "syncDirectory", "unlink"])
      })))

    // Each step, the call that fails it (the nth such call), and what must be on disk afterwards.
    // A file read whole is read by one read; a streamed one by 64 KiB reads.
    type Step = readonly [CompressStep, FaultMethod, "temp" | "original" | "gz" | "dir", number]
    const reads: ReadonlyArray<Step> = mode === "streamed"
      ? [["read", "read", "original", 3]] // the 3rd chunk: the .gz.tmp has data in it
      : [["read", "read", "original", 1]]
    const steps: ReadonlyArray<Step> = [
      ["read", "open", "original", 1],
      ["stat", "stat", "original", 1],
      ["open", "open", "temp", 1],
      ...reads,
      ["write", "write", "temp", 1],
      ["stat", "stat", "temp", 1],
      ["chmod", "chmod", "temp", 1],
      ["utimes", "utimes", "temp", 1],
      ["sync", "sync", "temp", 1],
      ["stat", "stat", "original", 2], // the last look before the link
      ["link", "link", "gz", 1],
      ["publish", "lstat", "gz", 1],
      ["unlink", "unlink", "temp", 1],
      ["sync", "syncDirectory", "dir", 1],
      ["remove", "lstat", "original", 1],
      ["remove", "unlink", "original", 1]
    ]
    const published: ReadonlyArray<CompressStep> = ["unlink", "remove"]
    it.scoped.each(steps)("a fault in %s (%s of the %s, call %i) leaves the original or a complete .gz, and no .gz.tmp", ([step, method, on, nth]) =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const target = { temp: `${path}.gz.tmp`, original: path, gz: `${path}.gz`, dir }[on]
        tools.inject({ method, path: target, nth, reason: "PermissionDenied" })
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect([error._tag, error.step, error.path]).toEqual(["CompressError", step, path])
        const left = yield* names(dir)
        if (step === "unlink") {
          // The temp is a second name of the complete .gz; the next sweep deletes it as a stale temp.
          expect(left).toEqual([NAME, `${NAME}.gz`, `${NAME}.gz.tmp`])
        } else {
          expect(left).not.toContain(`${NAME}.gz.tmp`)
        }
        if (published.includes(step) || method === "syncDirectory") {
          expect(left.filter((n) => !n.endsWith(".tmp"))).toEqual([NAME, `${NAME}.gz`])
          expect(Buffer.from(gunzip(yield* fs.readFile(`${path}.gz`))).equals(Buffer.from(bytes))).toBe(true)
        } else {
          expect(left).toEqual([NAME])
        }
        if (left.includes(NAME)) expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("an existing .gz.tmp is not ours: open fails AlreadyExists and the file is left alone", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path } = yield* setup()
        yield* fs.writeFileString(`${path}.gz.tmp`, "someone else's")
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("open")
        expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz.tmp`])
        expect(yield* fs.readFileString(`${path}.gz.tmp`)).toBe("someone else's")
      })))

    it.scoped("interrupted mid-write: no .gz.tmp, no .gz, the original intact", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const writing = yield* Deferred.make<void>()
        tools.hook("write", /\.gz\.tmp$/, () => Effect.zipRight(Deferred.succeed(writing, undefined), Effect.never))
        const fiber = yield* Effect.fork(Compressor.gzipFile(path))
        yield* Deferred.await(writing)
        expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz.tmp`]) // really mid-way
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
        expect(yield* names(dir)).toEqual([NAME])
        expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("a file that grows while being compressed is kept, and the .gz.tmp removed", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path } = yield* setup()
        const tools = yield* Instrumented
        tools.hook("sync", /\.gz\.tmp$/, () => Effect.orDie(fs.writeFileString(path, "late line\n", { flag: "a" })))
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("changed")
        expect(yield* names(dir)).toEqual([NAME])
      })))

    it.scoped("a file rewritten in place (same size, new mtime) while being compressed is kept, and the .gz.tmp removed", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        yield* fs.utimes(path, new Date("2026-01-01T10:00:00Z"), new Date("2026-01-01T10:00:00Z"))
        tools.hook("sync", /\.gz\.tmp$/, () => Effect.orDie(fs.utimes(path, new Date(), new Date("2026-01-02T10:00:00Z"))))
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("changed")
        expect(yield* names(dir)).toEqual([NAME])
        expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("only the zlib part holds a permit of `cpu`: the file-system calls inside it are the stream's reads and writes only", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const real = yield* Effect.makeSemaphore(1)
        // A semaphore that records which calls were made while its permit was held.
        const held: Array<{ from: number; to: number }> = []
        const cpu: Effect.Semaphore = {
          ...real,
          withPermits: (n) => (self) => real.withPermits(n)(Effect.gen(function* () {
            const from = tools.calls.length
            const result = yield* self
            held.push({ from, to: tools.calls.length })
            return result
          }))
        }
        yield* Compressor.gzipFile(path, { cpu })
        expect(held.length).toBe(1)
        const inside = tools.calls.slice(held[0]!.from, held[0]!.to)
        if (mode === "streamed") {
          expect(new Set(inside.map((c) => `${c.method} ${c.path}`))).toEqual(new Set([`read ${path}`, `write ${path}.gz.tmp`]))
        } else {
          expect(inside).toEqual([]) // read before, written after: only zlib.gzip holds it
        }
        expect(yield* names(dir)).toEqual([`${NAME}.gz`])
        expect(Buffer.from(gunzip(yield* fs.readFile(`${path}.gz`))).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("finishCompression removes the original next to a complete .gz of the same bytes", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        yield* fs.writeFile(`${path}.gz`, zlib.gzipSync(bytes))
        const done = yield* Effect.flatMap(Compressor.Compressor, (c) => c.finishCompression(path))
        expect([done.check, done.bytesIn]).toEqual(["compared", bytes.length])
        expect(yield* names(dir)).toEqual([`${NAME}.gz`])
      })))

    it.scoped.each([
      ["a truncated", (gz: Uint8Array) => gz.subarray(0, gz.length - 10)],
      ["an empty", () => new Uint8Array(0)],
      ["a non-gzip", () => Buffer.from("plain text, not gzip")],
      ["a corrupted-body", (gz: Uint8Array) => Buffer.concat([gz.subarray(0, 100), Buffer.alloc(50, 0x55), gz.subarray(150)])],
      ["a complete but shorter", (_gz: Uint8Array, bytes: Uint8Array) => zlib.gzipSync(bytes.subarray(0, 1000))]
    ] as const)("finishCompression next to %s .gz fails with step verify and keeps both", ([, damage]) =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        yield* fs.writeFile(`${path}.gz`, damage(zlib.gzipSync(bytes), bytes))
        const error = yield* Effect.flip(Effect.flatMap(Compressor.Compressor, (c) => c.finishCompression(path)))
        expect([error._tag, error.step]).toEqual(["CompressError", "verify"])
        expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz`])
        expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))
  })
})

describe.each(fileSystems)("Compressor paths on $name", ({ layer }) => {
  const LIMIT = 100_000

  it.scoped.each([
    ["at the limit is read whole", LIMIT, "whole"],
    ["one byte over the limit is streamed", LIMIT + 1, "streamed"],
    ["empty is read whole", 0, "whole"]
  ] as const)("a file %s", ([, size, reader]) =>
    Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup(ndjson(size, 3))
      const tools = yield* Instrumented
      const result = yield* Compressor.gzipFile(path)
      expect(yield* names(dir)).toEqual([`${NAME}.gz`])
      const gz = yield* fs.readFile(`${path}.gz`)
      expect(Buffer.from(gunzip(gz)).equals(Buffer.from(bytes))).toBe(true)
      expect([result.bytesIn, result.bytesOut]).toEqual([size, gz.length])
      const reads = tools.calls.filter((c) => c.path === path && c.method === "read").length
      // Read whole: one read (none for an empty file). Streamed: 64 KiB chunks, then the read that finds the end.
      expect(reads).toBe(reader === "whole" ? (size === 0 ? 0 : 1) : Math.ceil(size / 65536) + 1)
    }).pipe(Effect.provide(layer({ wholeFileMaxBytes: LIMIT }))))
})

describe.each(fileSystems)("Compressor safety on $name (issue 9)", ({ layer, name }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer()))

  it.scoped("publishing never replaces an existing .gz: the link fails, the .gz and the original are kept", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup()
      yield* fs.writeFileString(`${path}.gz`, "someone's archive")
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect([error.step, error.message]).toEqual(["link", expect.stringContaining("already exists; not replaced")])
      expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz`])
      expect(yield* fs.readFileString(`${path}.gz`)).toBe("someone's archive")
      expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
    })))

  it.scoped("the temp swapped for a symlink during compression: the link target's mode and times are untouched, nothing is published", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup()
      const tools = yield* Instrumented
      const victimDir = yield* tempDir
      const victim = `${victimDir}/victim`
      yield* fs.writeFileString(victim, "root's private file\n")
      yield* fs.chmod(victim, 0o600)
      const old = new Date("2020-01-01T00:00:00Z")
      yield* fs.utimes(victim, old, old)
      yield* fs.chmod(path, 0o666)
      let swapped = false
      // Just before mode and times are set (by path before; by descriptor now).
      tools.hook("chmod", /\.gz\.tmp$/, () => Effect.suspend(() => swapped ? Effect.void : Effect.orDie(Effect.gen(function* () {
        swapped = true
        yield* fs.remove(`${path}.gz.tmp`)
        yield* fs.symlink(victim, `${path}.gz.tmp`)
      }))))
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect(swapped).toBe(true)
      expect(error.step).toBe("publish")
      const info = yield* fs.stat(victim)
      expect(info.mode & 0o777).toBe(0o600)
      expect(Option.getOrThrow(info.mtime).getTime()).toBe(old.getTime())
      expect(yield* fs.readFileString(victim)).toBe("root's private file\n")
      expect((yield* names(dir)).filter((n) => n !== `${NAME}.gz.tmp`)).toEqual([NAME])
      expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
    })))

  // chown to another user needs root on Node (CI runs as root); the in-memory variant always runs.
  it.scoped.runIf(name === "MemoryFileSystem" || isRoot)("the .gz keeps the original's owner and group", () =>
    run(Effect.gen(function* () {
      const { fs, path } = yield* setup()
      const safe = yield* SafeFsTag
      yield* fs.chown(path, 65534, 65534)
      const before = yield* safe.lstat(path)
      expect([before.uid, before.gid]).toEqual([65534, 65534])
      yield* fs.chmod(path, 0o640)
      yield* Compressor.gzipFile(path)
      const gz = yield* safe.lstat(`${path}.gz`)
      expect([gz.uid, gz.gid, gz.mode & 0o7777]).toEqual([65534, 65534, 0o640])
    })))
})

describe.each(fileSystems)("Compressor cleanup failures on $name (reported, never swallowed)", ({ layer, name }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer()))

  it.scoped("a .gz.tmp that cannot be removed after a failure is named in the error; the failure stays the cause", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup()
      const tools = yield* Instrumented
      tools.inject({ method: "sync", path: new RegExp(`${NAME}\\.gz\\.tmp$`), reason: "Unknown" })
      tools.inject({ method: "unlink", path: `${path}.gz.tmp`, reason: "PermissionDenied" })
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect(error.step).toBe("sync")
      expect(String((error.cause as { description?: unknown }).description)).toMatch(/^injected fault #\d+$/)
      expect(error.cleanup).toEqual([expect.stringContaining(`could not remove ${path}.gz.tmp`)])
      expect(error.message).toContain(`sync failed`)
      expect(error.message).toContain(`could not remove ${path}.gz.tmp`)
      expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz.tmp`])
      expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
    })))

  it.scoped("a wrongly published .gz (the temp swapped for a symlink) that cannot be removed is named in the error", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup()
      const tools = yield* Instrumented
      const elsewhere = yield* tempDir
      yield* fs.writeFileString(`${elsewhere}/victim`, "not yours\n")
      let swapped = false
      tools.hook("chmod", /\.gz\.tmp$/, () => Effect.suspend(() => swapped ? Effect.void : Effect.orDie(Effect.gen(function* () {
        swapped = true
        yield* fs.remove(`${path}.gz.tmp`)
        yield* fs.symlink(`${elsewhere}/victim`, `${path}.gz.tmp`)
      }))))
      tools.inject({ method: "unlink", path: `${path}.gz`, reason: "PermissionDenied" })
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect(swapped).toBe(true)
      expect(error.step).toBe("publish")
      expect(String(error.cause)).toContain("was replaced while compressing")
      expect(error.cleanup).toEqual([expect.stringContaining(`could not remove ${path}.gz:`)])
      expect(error.message).toContain(`could not remove ${path}.gz:`)
      expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz`])
      expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
    })))

  it.scoped.runIf(name === "MemoryFileSystem" || isRoot)(
    "a file owned by someone else, by a caller that may not chown it (not root), is not compressed: step chown, never given away", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        yield* fs.chown(path, 65534, 65534)
        // fchown of the temp refused, as the kernel refuses it to a caller that is not root.
        tools.inject({ method: "chown", path: `${path}.gz.tmp`, reason: "PermissionDenied", times: Infinity })
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("chown")
        expect(error.cleanup).toBeUndefined()
        expect(yield* names(dir)).toEqual([NAME])
        expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))
})
