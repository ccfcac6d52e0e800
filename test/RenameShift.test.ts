import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { backupIndex, planShift, RenameShift } from "../src/RenameShift.js"
import { fileSystems, readAll, tempDir } from "./support/fileSystems.js"

describe("planShift (pure)", () => {
  it.each([
    ["app.jsonl.1", 1], ["app.jsonl.12", 12], ["app.jsonl", undefined], ["app.jsonl.0", undefined],
    ["app.jsonl.01", undefined], ["app.jsonl.1.gz", undefined], ["app.jsonl.x", undefined], ["other.jsonl.1", undefined]
  ] as const)("backupIndex(%s) = %s", (entry, index) => {
    expect(backupIndex("app.jsonl", entry)).toBe(index)
  })

  it.each([
    { name: "no backups yet", entries: ["a"], max: 3, remove: [], rename: [["a", "a.1"]] },
    { name: "shifts highest first", entries: ["a", "a.1", "a.2"], max: 3, remove: [], rename: [["a.2", "a.3"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "the oldest falls off", entries: ["a", "a.1", "a.2", "a.3"], max: 3, remove: ["a.3"], rename: [["a.2", "a.3"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "backups above a lowered maxFiles are removed", entries: ["a", "a.1", "a.2", "a.3", "a.4", "a.9"], max: 2, remove: ["a.2", "a.3", "a.4", "a.9"], rename: [["a.1", "a.2"], ["a", "a.1"]] },
    { name: "a gap is closed (.1 and .3)", entries: ["a", "a.1", "a.3"], max: 5, remove: [], rename: [["a.1", "a.2"], ["a", "a.1"]] },
    { name: "gaps below are filled lowest first", entries: ["a", "a.3", "a.5"], max: 5, remove: [], rename: [["a.3", "a.2"], ["a.5", "a.3"], ["a", "a.1"]] },
    { name: "maxFiles 1 keeps only .1", entries: ["a", "a.1", "a.2"], max: 1, remove: ["a.1", "a.2"], rename: [["a", "a.1"]] },
    { name: "other files are ignored", entries: ["a", "b", "b.1", "a.1.gz", "a.x"], max: 3, remove: [], rename: [["a", "a.1"]] }
  ])("$name", ({ entries, max, remove, rename }) => {
    const plan = planShift("a", entries, max)
    expect(plan).toEqual({ remove, rename, removeActive: false })
  })

  it("maxFiles 0 removes the active file and every backup", () => {
    expect(planShift("a", ["a", "a.1", "a.4"], 0)).toEqual({ remove: ["a.1", "a.4"], rename: [], removeActive: true })
  })

  it.prop("no rename targets a file that is still to be moved, and the result is .1 … .n", [
    // sets of existing backup indices and a maxFiles
    fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { maxLength: 12 }),
    fc.integer({ min: 1, max: 15 })
  ], ([indices, max]) => {
    const entries = ["a", ...indices.map((i) => `a.${i}`)]
    const plan = planShift("a", entries, max)
    const present = new Set(entries)
    for (const name of plan.remove) present.delete(name)
    for (const [from, to] of plan.rename) {
      expect(present.has(from)).toBe(true)
      expect(present.has(to)).toBe(false)
      present.delete(from)
      present.add(to)
    }
    const expected = Array.from({ length: Math.min(indices.length + 1, max) }, (_, i) => `a.${i + 1}`)
    expect([...present].sort()).toEqual(expected.sort())
  })
})

describe.each(fileSystems)("RenameShift on $name", ({ layer }) => {
  const setup = (files: Record<string, string>) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      for (const [name, text] of Object.entries(files)) yield* fs.writeFileString(`${dir}/${name}`, text)
      return dir
    })

  it.scoped("rotates the active file into .1 and shifts the backups up", () =>
    Effect.gen(function* () {
      const dir = yield* setup({ "x.jsonl": "new\n", "x.jsonl.1": "mid\n", "x.jsonl.2": "old\n", "y.jsonl": "other\n" })
      const shifter = yield* RenameShift
      yield* shifter.shift(`${dir}/x.jsonl`, 5)
      expect(yield* readAll(dir)).toEqual({ "x.jsonl.1": "new\n", "x.jsonl.2": "mid\n", "x.jsonl.3": "old\n", "y.jsonl": "other\n" })
    }).pipe(Effect.provide(layer())))

  it.scoped("drops the oldest at maxFiles and removes leftovers above it", () =>
    Effect.gen(function* () {
      const dir = yield* setup({ "x.jsonl": "0", "x.jsonl.1": "1", "x.jsonl.2": "2", "x.jsonl.7": "7" })
      yield* Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 2))
      expect(yield* readAll(dir)).toEqual({ "x.jsonl.1": "0", "x.jsonl.2": "1" })
    }).pipe(Effect.provide(layer())))

  it.scoped("closes gaps: .1 and .3 become .2 and .3", () =>
    Effect.gen(function* () {
      const dir = yield* setup({ "x.jsonl": "0", "x.jsonl.1": "1", "x.jsonl.3": "3" })
      yield* Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 5))
      expect(yield* readAll(dir)).toEqual({ "x.jsonl.1": "0", "x.jsonl.2": "1", "x.jsonl.3": "3" })
    }).pipe(Effect.provide(layer())))

  it.scoped("maxFiles 0 deletes the active file and keeps no backup", () =>
    Effect.gen(function* () {
      const dir = yield* setup({ "x.jsonl": "0", "x.jsonl.1": "1" })
      const result = yield* Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 0))
      expect(yield* readAll(dir)).toEqual({})
      expect(result.removed.map((p) => p.slice(dir.length + 1))).toEqual(["x.jsonl.1", "x.jsonl"])
    }).pipe(Effect.provide(layer())))

  it.scoped("a missing active file is a RotateError naming the rename", () =>
    Effect.gen(function* () {
      const dir = yield* setup({})
      const error = yield* Effect.flip(Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 3)))
      expect([error._tag, error.operation, error.cause._tag]).toEqual(["RotateError", "rename", "SystemError"])
      expect(error.message).toContain("x.jsonl")
    }).pipe(Effect.provide(layer())))
})
