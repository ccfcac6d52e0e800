/**
 * The two FileSystems every contract suite runs against: the in-memory one and the real
 * Node one in a temp dir, so the fake cannot drift from reality.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as RenameShift from "../../src/rotation/RenameShift.js"

export interface FileSystemUnderTest {
  readonly name: string
  /** FileSystem (+ RenameShift), fresh per test. */
  readonly layer: () => Layer.Layer<FileSystem.FileSystem | RenameShift.RenameShift>
}

/** The in-memory FileSystem (with its fault-injection tag) and RenameShift over it. */
export const memoryLayer = () => RenameShift.layer.pipe(Layer.provideMerge(MemoryFileSystem.layer()))

export const fileSystems: ReadonlyArray<FileSystemUnderTest> = [
  { name: "MemoryFileSystem", layer: memoryLayer },
  {
    name: "NodeFileSystem",
    layer: () => RenameShift.layer.pipe(Layer.provideMerge(NodeFileSystem.layer))
  }
]

/** A temp dir removed with the test's scope. */
export const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "logrotate-test-" }))

/** `{ name: contents }` of every file in `dir`, names sorted. */
export const readAll = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const names = (yield* fs.readDirectory(dir)).sort()
    const out: Record<string, string> = {}
    for (const name of names) out[name] = yield* fs.readFileString(`${dir}/${name}`)
    return out
  })

/** Lines `prefix-1 … prefix-n`, each exactly `width` bytes (without the newline). */
export const lines = (n: number, width = 9, prefix = "l") =>
  Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`.padEnd(width, "."))

/**
 * The files under `dir` this process holds open, sorted: the fake's `openFiles()`, or for
 * Node the targets of `/proc/self/fd/*` (Linux, where the tests and CI run).
 */
export const openFilesUnder = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const real = yield* fs.realPath(dir)
    const mem = yield* Effect.serviceOption(MemoryFileSystem.MemoryFileSystem)
    const open = mem._tag === "Some"
      ? mem.value.openFiles()
      : NodeFs.readdirSync("/proc/self/fd").flatMap((fd) => {
        try {
          return [NodeFs.readlinkSync(`/proc/self/fd/${fd}`)]
        } catch {
          return [] // closed since the listing (the listing's own fd)
        }
      })
    return open.filter((p) => p.startsWith(real + "/") || p.startsWith(dir + "/")).sort()
  })
