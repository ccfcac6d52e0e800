/**
 * The Compressor on `SafeFs.layerNode` itself, not wrapped: its own composite calls (each run
 * of system calls as one step) are what run here, where the contract suites (which wrap every
 * call to see or fail it) run `SafeFs.composite()` over the single calls. Also: the per-file
 * span is opt-in (`traceFiles`), and reused read buffers never mix two files' bytes.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, type Scope } from "effect"
import * as Compressor from "../../src/retention/Compressor.js"
import * as SafeFs from "../../src/platform/SafeFs.js"
import { fileInTempDir, fileSystems, gunzip, Instrumented, names, ndjson, nodeBase, tempDir } from "../support/retention.js"

const NAME = "app-2026-01-01.ndjson"
const isRoot = process.getuid?.() === 0

type Env = Scope.Scope | FileSystem.FileSystem | SafeFs.SafeFs | Compressor.Compressor

/** Plain Node services: `SafeFs.layerNode` with its own composite calls. */
const plainNode = (options: Compressor.Options = {}) =>
  Compressor.layerWith(options).pipe(Layer.provideMerge(nodeBase))

const setup = (bytes: Uint8Array) => fileInTempDir(NAME, bytes)

describe.each([
  { mode: "read whole", options: {} },
  { mode: "streamed", options: { wholeFileMaxBytes: 0 } }
])("Compressor on SafeFs.layerNode's own composite calls ($mode)", ({ options }) => {
  const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(plainNode(options)))

  it.scoped.each([0, 1, 65_536, 65_537, 300_000])("a file of %i bytes: the .gz gunzips to its bytes, keeps mode and mtime, the original is gone", (size) =>
    run(Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup(ndjson(size))
      const mtime = new Date("2026-01-01T23:59:58.000Z")
      yield* fs.chmod(path, 0o640)
      yield* fs.utimes(path, mtime, mtime)
      const result = yield* Compressor.gzipFile(path)
      expect(yield* names(dir)).toEqual([`${NAME}.gz`])
      const gz = yield* fs.readFile(`${path}.gz`)
      expect(Buffer.from(gunzip(gz)).equals(Buffer.from(bytes))).toBe(true)
      expect(result).toEqual({ path, gzip: `${path}.gz`, bytesIn: size, bytesOut: gz.length, check: "written" })
      const info = yield* fs.stat(`${path}.gz`)
      expect([info.mode & 0o7777, Option.getOrThrow(info.mtime).getTime()]).toEqual([0o640, mtime.getTime()])
    })))

  it.scoped("an existing .gz is never replaced: step link, both files kept as they were", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup(ndjson(5000))
      yield* fs.writeFileString(`${path}.gz`, "not ours")
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect([error.step, String(error.cause)]).toEqual(["link", `${path}.gz already exists; not replaced`])
      expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz`])
      expect(yield* fs.readFileString(`${path}.gz`)).toBe("not ours")
      expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
    })))

  it.scoped("an existing .gz.tmp is not ours: step open (AlreadyExists), left alone", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path } = yield* setup(ndjson(5000))
      yield* fs.writeFileString(`${path}.gz.tmp`, "someone else's")
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect([error.step, (error.cause as { reason?: string }).reason]).toEqual(["open", "AlreadyExists"])
      expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz.tmp`])
      expect(yield* fs.readFileString(`${path}.gz.tmp`)).toBe("someone else's")
    })))

  it.scoped("a symbolic link as the original is not followed: step read, nothing created", () =>
    run(Effect.gen(function* () {
      const { fs, dir, path } = yield* setup(ndjson(5000))
      yield* fs.rename(path, `${dir}/target`)
      yield* fs.symlink(`${dir}/target`, path)
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect([error.step, String(error.cause)]).toEqual(["read", `${path} is a symbolic link; not followed`])
      expect(yield* names(dir)).toEqual([NAME, "target"])
    })))

  it.scoped("an original that is not the probed file is not touched: step stat, nothing created", () =>
    run(Effect.gen(function* () {
      const { dir, path } = yield* setup(ndjson(5000))
      const safe = yield* SafeFs.SafeFs
      const probed = yield* safe.lstat(path)
      const error = yield* Effect.flip(Compressor.gzipFile(path, { expect: { dev: probed.dev, ino: probed.ino + 1 } }))
      expect(error.step).toBe("stat")
      expect(String(error.cause)).toContain("was replaced since it was listed")
      expect(yield* names(dir)).toEqual([NAME])
    })))

  it.scoped("a FIFO as the original is refused at once (step stat), nothing created", () =>
    run(Effect.gen(function* () {
      const { dir, path } = yield* setup(ndjson(10))
      const fs = yield* FileSystem.FileSystem
      yield* fs.remove(path)
      const { execFileSync } = yield* Effect.promise(() => import("node:child_process"))
      execFileSync("mkfifo", [path])
      const error = yield* Effect.flip(Compressor.gzipFile(path))
      expect([error.step, String(error.cause)]).toEqual(["stat", `${path} is not a regular file`])
      expect(yield* names(dir)).toEqual([NAME])
    })))

  it.scoped.runIf(isRoot)("as root, the .gz of nobody's file is nobody's, with its mode", () =>
    run(Effect.gen(function* () {
      const { fs, path } = yield* setup(ndjson(5000))
      const safe = yield* SafeFs.SafeFs
      yield* fs.chown(path, 65534, 65534)
      yield* fs.chmod(path, 0o604)
      yield* Compressor.gzipFile(path)
      const gz = yield* safe.lstat(`${path}.gz`)
      expect([gz.uid, gz.gid, gz.mode & 0o7777]).toEqual([65534, 65534, 0o604])
    })))

  it.scoped("many files at once through one compressor (read buffers reused): each .gz gunzips to its own bytes", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const sizes = [0, 10, 65_536, 200_000, 1, 65_535, 262_144, 262_145, 70_000, 3, 65_536, 150_000, 9, 100_000, 65_537, 5]
      const files = sizes.map((size, i) => ({ path: `${dir}/app-2026-01-${String(i + 1).padStart(2, "0")}.ndjson`, bytes: ndjson(size, i + 1) }))
      for (const f of files) yield* fs.writeFile(f.path, f.bytes)
      const cpu = yield* Effect.makeSemaphore(2)
      for (let round = 0; round < 2; round++) {
        if (round === 1) for (const f of files) yield* fs.writeFile(f.path, f.bytes.map((b) => b ^ 1))
        yield* Effect.forEach(files, (f) => Compressor.gzipFile(f.path, { cpu }), { concurrency: 8, discard: true })
        for (const f of files) {
          const want = round === 0 ? f.bytes : f.bytes.map((b) => b ^ 1)
          expect(Buffer.from(gunzip(yield* fs.readFile(`${f.path}.gz`))).equals(Buffer.from(want))).toBe(true)
          yield* fs.remove(`${f.path}.gz`)
        }
      }
    })))
})

describe.each(fileSystems)("Compressor spans on $name", ({ layer }) => {
  /** The span the compression runs in, as seen from inside its `link` call. */
  const spanAtLink = (options: Compressor.Options) =>
    Effect.gen(function* () {
      const { path } = yield* setup(ndjson(5000))
      const tools = yield* Instrumented
      const seen: Array<string> = []
      tools.hook("link", /\.gz$/, () =>
        Effect.map(Effect.option(Effect.currentSpan), (span) => void seen.push(Option.match(span, { onNone: () => "none", onSome: (s) => s.name }))))
      yield* Compressor.gzipFile(path)
      return seen
    }).pipe(Effect.provide(layer(options)))

  it.scoped("no span per file by default (traceFiles: false)", () =>
    Effect.map(spanAtLink({}), (seen) => expect(seen).toEqual(["none"])))

  it.scoped("with traceFiles: true each compression runs in a span Compressor.gzipFile", () =>
    Effect.map(spanAtLink({ traceFiles: true }), (seen) => expect(seen).toEqual(["Compressor.gzipFile"])))
})
