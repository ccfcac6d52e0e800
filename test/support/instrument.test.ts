/**
 * The retention suites' fault wrapper (`instrument`, support/retention.ts) must see every
 * FileSystem call, or a fault schedule silently misses the calls it cannot see.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import { instrument } from "./retention.js"

const bases = [
  { name: "MemoryFileSystem", base: Effect.sync(() => MemoryFileSystem.unsafeMake()) },
  { name: "NodeFileSystem", base: Effect.provide(FileSystem.FileSystem, NodeFileSystem.layer) }
] as const

describe.each(bases)("instrument($name)", ({ base }) => {
  it.scoped("sees writeFile, writeFileString, truncate (path and handle), makeDirectory, symlink, realPath and copyFile, and can fail each", () =>
    Effect.gen(function* () {
      const [fs, tools] = instrument(yield* base)
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "instrument-" })
      yield* fs.writeFile(`${dir}/f`, new TextEncoder().encode("abc"))
      yield* fs.writeFileString(`${dir}/f`, "abcd")
      yield* fs.truncate(`${dir}/f`, 1)
      yield* Effect.scoped(Effect.flatMap(fs.open(`${dir}/f`, { flag: "r+" }), (file) => file.truncate(0)))
      yield* fs.makeDirectory(`${dir}/d`)
      yield* fs.symlink("f", `${dir}/l`)
      yield* fs.realPath(`${dir}/l`)
      yield* fs.copyFile(`${dir}/f`, `${dir}/g`)
      expect(tools.calls.filter((c) => c.path.startsWith(dir)).map((c) => c.method)).toEqual([
        "writeFile", "writeFile", "truncate", "open", "truncate", "makeDirectory", "symlink", "realPath", "copyFile"
      ])
      for (const method of ["writeFile", "truncate", "makeDirectory", "symlink", "copyFile"] as const) {
        tools.inject({ method, reason: "PermissionDenied" })
      }
      const failures = yield* Effect.all([
        fs.writeFileString(`${dir}/f`, "x"), fs.truncate(`${dir}/f`), fs.makeDirectory(`${dir}/e`),
        fs.symlink("f", `${dir}/m`), fs.copyFile(`${dir}/f`, `${dir}/h`)
      ].map((call) => Effect.map(Effect.flip(call), (e) => e._tag === "SystemError" && e.reason)))
      expect(failures).toEqual(Array(5).fill("PermissionDenied"))
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["d", "f", "g", "l"])
    }))
})
