/**
 * The fake stays honest: generated sequences of FileSystem calls run against
 * `MemoryFileSystem` and against the real `NodeFileSystem` in a fresh temp dir, and every
 * step must give the same result (normalized value, or the `SystemError` reason), with the
 * same tree on disk after it.
 *
 * The paths are a small universe on purpose, so sequences collide: directories, files,
 * symlinks to directories (`l -> a`, used in the middle of paths: `l/f`), dangling links
 * (`dl -> nowhere`), links to links, absolute and `..` targets, files used as directories.
 *
 *   DIFF_RUNS=20000 npx vitest run test/platform/MemoryFileSystem.differential.test.ts   # a longer campaign
 *   DIFF_SEED=123 DIFF_PATH=… …                                                # replay a failure
 *
 * We run as root (CI too), so Node skips permission checks; the modes used all keep the
 * owner's rwx on directories and rw on files, so a non-root run sees the same results.
 * Not compared: times (the fake's come from the TestClock), uid/gid/ino/nlink (another
 * suite), directory sizes, recursive readDirectory (Node 20 descends into symlinked
 * directories), paths containing `..` given by the caller (the fake resolves those
 * textually; `..` in link targets is resolved as the kernel does).
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"

const PATHS = [
  "a", "a/b", "a/f", "a/b/f", "c", "c/x", "f", "g", "n", "l", "l/f", "l/b", "l/n", "a/l", "a/l/f",
  "ll", "ll/f", "dl", "dl/x", "f/x", "self", "self/f"
] as const
/** Link targets; `ROOT/` is the sequence's root, absolute. Relative ones are from the link's directory. */
const TARGETS = ["a", "a/b", "f", "nowhere", "../f", "../a", "l", "ROOT/a", "ROOT/f", ".", "self", "dl"] as const
const DATA = ["", "x", "hello", "0123456789"] as const
const FILE_MODES = [undefined, 0o666, 0o600, 0o640, 0o755] as const
const DIR_MODES = [undefined, 0o777, 0o700, 0o750] as const
const CHMOD_MODES = [0o700, 0o755, 0o777, 0o1777, 0o750] as const
const UMASKS = [0o022, 0o002, 0o077, 0o027, 0o000] as const
const OPEN_FLAGS = ["r", "r+", "w", "wx", "w+", "a", "ax", "a+"] as const

type P = (typeof PATHS)[number]
export type Op =
  | { readonly op: "makeDirectory"; readonly path: P; readonly recursive: boolean; readonly mode: number | undefined }
  | { readonly op: "writeFile"; readonly path: P; readonly flag: "w" | "a" | "wx"; readonly data: string; readonly mode: number | undefined }
  | { readonly op: "openWrite"; readonly path: P; readonly flag: (typeof OPEN_FLAGS)[number]; readonly data: string }
  | { readonly op: "readFile" | "readDirectory" | "readLink" | "stat" | "exists" | "realPath"; readonly path: P }
  | { readonly op: "remove"; readonly path: P; readonly recursive: boolean; readonly force: boolean }
  | { readonly op: "rename"; readonly from: P; readonly to: P }
  | { readonly op: "symlink"; readonly target: (typeof TARGETS)[number]; readonly path: P }
  | { readonly op: "truncate"; readonly path: P; readonly length: number }
  | { readonly op: "chmod"; readonly path: P; readonly mode: number }

const path = fc.constantFrom(...PATHS)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("makeDirectory" as const), path, recursive: fc.boolean(), mode: fc.constantFrom(...DIR_MODES) }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("writeFile" as const), path, flag: fc.constantFrom("w" as const, "a" as const, "wx" as const), data: fc.constantFrom(...DATA), mode: fc.constantFrom(...FILE_MODES) }) },
  fc.record({ op: fc.constant("openWrite" as const), path, flag: fc.constantFrom(...OPEN_FLAGS), data: fc.constantFrom(...DATA) }),
  fc.record({ op: fc.constantFrom("readFile" as const, "readDirectory" as const, "readLink" as const, "stat" as const, "exists" as const, "realPath" as const), path }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("remove" as const), path, recursive: fc.boolean(), force: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("rename" as const), from: path, to: path }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("symlink" as const), target: fc.constantFrom(...TARGETS), path }) },
  fc.record({ op: fc.constant("truncate" as const), path, length: fc.constantFrom(0, 1, 5, 12) }),
  fc.record({ op: fc.constant("chmod" as const), path, mode: fc.constantFrom(...CHMOD_MODES) })
)

/** The same start for every sequence: a, a/b, c (empty), f, a/f, l -> a, dl -> nowhere. */
const SKELETON: ReadonlyArray<Op> = [
  { op: "makeDirectory", path: "a/b", recursive: true, mode: undefined },
  { op: "makeDirectory", path: "c", recursive: false, mode: undefined },
  { op: "writeFile", path: "f", flag: "w", data: "f0", mode: undefined },
  { op: "writeFile", path: "a/f", flag: "w", data: "af", mode: undefined },
  { op: "symlink", target: "a", path: "l" },
  { op: "symlink", target: "nowhere", path: "dl" }
]

const reasonOf = (e: PlatformError) => (e._tag === "SystemError" ? e.reason : e._tag)

/** One call on `fs` under `root`: `{ ok: normalized value }` or `{ error: reason }`. */
export const step = (fs: FileSystem.FileSystem, root: string, realRoot: string, op: Op): Effect.Effect<unknown> => {
  const at = (p: string) => `${root}/${p}`
  const unroot = (p: string) => (p === realRoot ? "ROOT" : p.startsWith(realRoot + "/") ? `ROOT/${p.slice(realRoot.length + 1)}` : p)
  const call: Effect.Effect<unknown, PlatformError> = (() => {
    switch (op.op) {
      case "makeDirectory":
        // (Node's returns the first directory it created; the FileSystem contract says void)
        return Effect.asVoid(fs.makeDirectory(at(op.path), { recursive: op.recursive, ...(op.mode === undefined ? {} : { mode: op.mode }) }))
      case "writeFile":
        return fs.writeFileString(at(op.path), op.data, { flag: op.flag, ...(op.mode === undefined ? {} : { mode: op.mode }) })
      case "openWrite":
        return Effect.scoped(Effect.flatMap(fs.open(at(op.path), { flag: op.flag }), (file) => file.writeAll(new TextEncoder().encode(op.data))))
      case "readFile":
        return fs.readFileString(at(op.path))
      case "readDirectory":
        return Effect.map(fs.readDirectory(at(op.path)), (names) => [...names].sort())
      case "readLink":
        return Effect.map(fs.readLink(at(op.path)), (target) => unroot(target.replace(root, realRoot)))
      case "stat":
        return Effect.map(fs.stat(at(op.path)), (info) => ({
          type: info.type, mode: (info.mode & 0o7777).toString(8), ...(info.type === "File" ? { size: Number(info.size) } : {})
        }))
      case "exists":
        return fs.exists(at(op.path))
      case "realPath":
        return Effect.map(fs.realPath(at(op.path)), unroot)
      case "remove":
        return fs.remove(at(op.path), { recursive: op.recursive, force: op.force })
      case "rename":
        return fs.rename(at(op.from), at(op.to))
      case "symlink":
        return fs.symlink(op.target.startsWith("ROOT/") ? `${root}/${op.target.slice(5)}` : op.target, at(op.path))
      case "truncate":
        return fs.truncate(at(op.path), op.length)
      case "chmod":
        return fs.chmod(at(op.path), op.mode)
    }
  })()
  return call.pipe(
    Effect.map((value) => ({ ok: value ?? null })),
    Effect.catchAll((e) => Effect.succeed({ error: reasonOf(e) }))
  )
}

/** Everything under `dir`, links not followed: `{ "a/f": "file 644 af", "l": "link -> a", "a": "dir 755" }`. */
export const tree = (fs: FileSystem.FileSystem, root: string): Effect.Effect<Record<string, string>, PlatformError> =>
  Effect.gen(function* () {
    const out: Record<string, string> = {}
    const visit = (rel: string): Effect.Effect<void, PlatformError> =>
      Effect.gen(function* () {
        const dir = rel === "" ? root : `${root}/${rel}`
        for (const name of [...(yield* fs.readDirectory(dir))].sort()) {
          const key = rel === "" ? name : `${rel}/${name}`
          const link = yield* Effect.option(fs.readLink(`${root}/${key}`))
          if (link._tag === "Some") {
            out[key] = `link -> ${link.value.startsWith(root) ? "ROOT" + link.value.slice(root.length) : link.value}`
            continue
          }
          const info = yield* fs.stat(`${root}/${key}`)
          const mode = (info.mode & 0o7777).toString(8)
          if (info.type === "Directory") {
            out[key] = `dir ${mode}`
            yield* visit(key)
          } else {
            out[key] = `${info.type} ${mode} ${yield* fs.readFileString(`${root}/${key}`)}`
          }
        }
      })
    yield* visit("")
    return out
  })

/** Runs `ops` on both, after the skeleton, and returns both traces: per step its result and the tree after it. */
export const runBoth = (ops: ReadonlyArray<Op>, umask: number) =>
  Effect.gen(function* () {
    const node = yield* Effect.provide(FileSystem.FileSystem, NodeFileSystem.layer)
    const mem = MemoryFileSystem.unsafeMake({ umask })
    return yield* Effect.scoped(Effect.gen(function* () {
      // process-wide; restored when the sequence ends, however it ends
      yield* Effect.acquireRelease(Effect.sync(() => process.umask(umask)), (previous) => Effect.sync(() => void process.umask(previous)))
      const nodeRoot = yield* node.makeTempDirectoryScoped({ prefix: "memfs-diff-" })
      const memRoot = yield* mem.makeTempDirectoryScoped({ prefix: "memfs-diff-" })
      const traces: Array<Array<unknown>> = [[], []]
      for (const [i, [fs, temp]] of ([[mem, memRoot], [node, nodeRoot]] as const).entries()) {
        // One level down, so a `../x` link at the top stays inside the temp dir (where nothing else is).
        const root = `${temp}/w`
        yield* fs.makeDirectory(root)
        const realRoot = yield* fs.realPath(root)
        for (const op of SKELETON) yield* step(fs, root, realRoot, op)
        for (const op of ops) {
          const result = yield* step(fs, root, realRoot, op)
          traces[i]!.push({ op: JSON.stringify(op), result, tree: yield* Effect.orElseSucceed(tree(fs, root), () => "cannot list") })
        }
      }
      return { memory: traces[0]!, node: traces[1]! }
    }))
  })

const numRuns = Number(process.env.DIFF_RUNS ?? 300)
const replay = process.env.DIFF_SEED === undefined
  ? {}
  : { seed: Number(process.env.DIFF_SEED), ...(process.env.DIFF_PATH === undefined ? {} : { path: process.env.DIFF_PATH }) }

describe("MemoryFileSystem against NodeFileSystem", () => {
  it.effect.prop(
    "generated call sequences give the same result and leave the same tree at every step",
    [fc.array(opArb, { minLength: 1, maxLength: 20 }), fc.constantFrom(...UMASKS)],
    ([ops, umask]) =>
      Effect.gen(function* () {
        const { memory, node } = yield* runBoth(ops, umask)
        // fast-check reports only the message: name the first step that differs, with both sides.
        const first = memory.findIndex((m, i) => JSON.stringify(m) !== JSON.stringify(node[i]))
        if (first >= 0) {
          const show = (x: unknown) => JSON.stringify(x)
          expect.fail(`umask ${umask.toString(8)}, step ${first} ${JSON.stringify(ops[first])}\nmemory: ${show(memory[first])}\nnode:   ${show(node[first])}`)
        }
        expect(memory.length).toBe(ops.length)
      }).pipe(Effect.orDie),
    { timeout: Math.max(240_000, numRuns * 800), fastCheck: { numRuns, ...replay } }
  )
})
