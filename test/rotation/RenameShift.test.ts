import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { backupIndex, parseBackup, planShift, RenameShift } from "../../src/rotation/RenameShift.js"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import { fileSystems, memoryLayer, readAll, tempDir } from "../support/fileSystems.js"

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

describe("planShift with gzipped backups (compressed: true; pure)", () => {
  it.each([
    ["app.jsonl.1", { index: 1, form: "plain" }], ["app.jsonl.12.gz", { index: 12, form: "gzip" }],
    ["app.jsonl.3.gz.tmp", { index: 3, form: "temp" }], ["app.jsonl.0.gz", undefined], ["app.jsonl.01.gz", undefined],
    ["app.jsonl.gz", undefined], ["app.jsonl.1.gz.gz", undefined], ["app.jsonl.1.tmp", undefined], ["other.jsonl.1.gz", undefined]
  ] as const)("parseBackup(%s) = %j", (entry, expected) => {
    expect(parseBackup("app.jsonl", entry)).toEqual(expected)
  })

  it.each([
    { name: "a gzipped backup moves in its form", entries: ["a", "a.1", "a.2.gz"], max: 5, remove: [],
      rename: [["a.2.gz", "a.3.gz"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "mixed forms shift highest first; the active file becomes a plain .1", entries: ["a", "a.1", "a.2", "a.3.gz", "a.4.gz"], max: 6,
      remove: [], rename: [["a.4.gz", "a.5.gz"], ["a.3.gz", "a.4.gz"], ["a.2", "a.3"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "maxFiles counts backups whatever their form: the oldest .gz falls off", entries: ["a", "a.1", "a.2.gz", "a.3.gz"], max: 3,
      remove: ["a.3.gz"], rename: [["a.2.gz", "a.3.gz"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "a plain backup past maxFiles falls off too", entries: ["a", "a.1", "a.2.gz", "a.3"], max: 3,
      remove: ["a.3"], rename: [["a.2.gz", "a.3.gz"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "both forms of one index are one backup: the .gz is removed, the plain kept and moved",
      entries: ["a", "a.1", "a.2", "a.2.gz", "a.3.gz"], max: 5,
      remove: ["a.2.gz"], rename: [["a.3.gz", "a.4.gz"], ["a.2", "a.3"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "both forms past maxFiles: both removed", entries: ["a", "a.1", "a.2", "a.2.gz"], max: 2,
      remove: ["a.2.gz", "a.2"], rename: [["a.1", "a.2"], ["a", "a.1"]] },
    { name: "a compression's leftover .gz.tmp is removed, its original moves", entries: ["a", "a.1", "a.2", "a.2.gz.tmp"], max: 5,
      remove: ["a.2.gz.tmp"], rename: [["a.2", "a.3"], ["a.1", "a.2"], ["a", "a.1"]] },
    { name: "a gap is closed across forms (.1 and .3.gz)", entries: ["a", "a.1", "a.3.gz"], max: 5, remove: [],
      rename: [["a.1", "a.2"], ["a", "a.1"]] },
    { name: "gaps below are filled lowest first across forms", entries: ["a", "a.3.gz", "a.5"], max: 5, remove: [],
      rename: [["a.3.gz", "a.2.gz"], ["a.5", "a.3"], ["a", "a.1"]] },
    { name: "a .1.gz (not made by the appender) is a backup like any other", entries: ["a", "a.1.gz"], max: 3, remove: [],
      rename: [["a.1.gz", "a.2.gz"], ["a", "a.1"]] },
    { name: "other files are ignored", entries: ["a", "b.1.gz", "a.x.gz", "a.1.tmp", "ab.1.gz"], max: 3, remove: [], rename: [["a", "a.1"]] }
  ])("$name", ({ entries, max, remove, rename }) => {
    expect(planShift("a", entries, max, { compressed: true })).toEqual({ remove, rename, removeActive: false })
  })

  it("maxFiles 0 removes the active file and every backup in every form", () => {
    expect(planShift("a", ["a", "a.1", "a.2.gz", "a.3", "a.3.gz", "a.4.gz.tmp"], 0, { compressed: true }))
      .toEqual({ remove: ["a.4.gz.tmp", "a.3.gz", "a.1", "a.2.gz", "a.3"], rename: [], removeActive: true })
  })

  it("without compressed, .gz and .gz.tmp names are left alone (the plan is what it always was)", () => {
    const entries = ["a", "a.1", "a.2.gz", "a.2.gz.tmp", "a.3"]
    const plain = { remove: [], rename: [["a.1", "a.2"], ["a", "a.1"]], removeActive: false }
    expect(planShift("a", entries, 3)).toEqual(plain)
    expect(planShift("a", entries, 3, { compressed: false })).toEqual(plain)
  })

  it.prop("mixed forms: no rename targets a file still to be moved, nothing is counted twice, each kept backup keeps its bytes and form", [
    // per index 1..20: absent, plain, gzip, both, plain + temp, gzip + temp
    fc.array(fc.constantFrom("none", "plain", "gzip", "both", "plain+temp", "gzip+temp"), { minLength: 20, maxLength: 20 }),
    fc.integer({ min: 1, max: 12 })
  ], ([forms, max]) => {
    // The file system as a map name -> content id; a backup's content id is its index.
    const present = new Map<string, string>([["a", "active"]])
    forms.forEach((form, i) => {
      const index = i + 1
      if (form.startsWith("plain") || form === "both") present.set(`a.${index}`, `b${index}`)
      if (form.startsWith("gzip") || form === "both") present.set(`a.${index}.gz`, `b${index}`)
      if (form.endsWith("+temp")) present.set(`a.${index}.gz.tmp`, "partial")
    })
    const backups = forms.flatMap((form, i) => form === "none" ? [] : [{ index: i + 1, gzip: form.startsWith("gzip") }])
    const plan = planShift("a", [...present.keys()], max, { compressed: true })
    for (const name of plan.remove) {
      expect(present.has(name)).toBe(true)
      present.delete(name)
    }
    for (const [from, to] of plan.rename) {
      expect(present.has(from)).toBe(true)
      expect(present.has(to)).toBe(false)
      present.set(to, present.get(from)!)
      present.delete(from)
    }
    // The newest max-1 backups, in order, then shifted up by one behind the active file's .1.
    const kept = backups.slice(0, max - 1)
    const expected: Record<string, string> = { "a.1": "active" }
    kept.forEach(({ index, gzip }, k) => void (expected[`a.${k + 2}${gzip ? ".gz" : ""}`] = `b${index}`))
    expect(Object.fromEntries([...present].sort())).toEqual(Object.fromEntries(Object.entries(expected).sort()))
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

  it.scoped("compressed: .N.gz backups move in their form, both forms of one index count once, a .gz.tmp is removed, maxFiles counts every form", () =>
    Effect.gen(function* () {
      const dir = yield* setup({
        "x.jsonl": "0", "x.jsonl.1": "1", "x.jsonl.2": "2", "x.jsonl.2.gz": "2 gzipped", "x.jsonl.2.gz.tmp": "partial",
        "x.jsonl.3.gz": "3 gzipped", "x.jsonl.4.gz": "4 gzipped", "y.jsonl.1.gz": "other"
      })
      yield* Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 4, { compressed: true }))
      expect(yield* readAll(dir)).toEqual({
        "x.jsonl.1": "0", "x.jsonl.2": "1", "x.jsonl.3": "2", "x.jsonl.4.gz": "3 gzipped", "y.jsonl.1.gz": "other"
      })
    }).pipe(Effect.provide(layer())))

  it.scoped("without compressed, .gz names are other files and stay as they are", () =>
    Effect.gen(function* () {
      const dir = yield* setup({ "x.jsonl": "0", "x.jsonl.1": "1", "x.jsonl.2.gz": "2 gzipped" })
      yield* Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 1))
      expect(yield* readAll(dir)).toEqual({ "x.jsonl.1": "0", "x.jsonl.2.gz": "2 gzipped" })
    }).pipe(Effect.provide(layer())))

  it.scoped("a missing active file is a RotateError naming the rename", () =>
    Effect.gen(function* () {
      const dir = yield* setup({})
      const error = yield* Effect.flip(Effect.flatMap(RenameShift, (r) => r.shift(`${dir}/x.jsonl`, 3)))
      expect([error._tag, error.operation, error.cause._tag]).toEqual(["RotateError", "rename", "SystemError"])
      expect(error.message).toContain("x.jsonl")
    }).pipe(Effect.provide(layer())))
})

describe("RenameShift's cost", () => {
  it.scoped("a full set of backups costs one listing, one remove (the oldest) and one rename per kept backup: no lookup of destinations the listing does not have", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* mem.makeDirectory("/d")
      for (const name of ["x.jsonl", "x.jsonl.1", "x.jsonl.2", "x.jsonl.3", "x.jsonl.4", "x.jsonl.5"]) yield* mem.writeFileString(`/d/${name}`, name)
      const before = { ...mem.calls }
      yield* Effect.flatMap(RenameShift, (r) => r.shift("/d/x.jsonl", 5))
      const delta = (method: string) => (mem.calls[method] ?? 0) - (before[method] ?? 0)
      expect({ readDirectory: delta("readDirectory"), remove: delta("remove"), rename: delta("rename"), stat: delta("stat") })
        .toEqual({ readDirectory: 1, remove: 1, rename: 5, stat: 0 })
      expect(yield* readAll("/d")).toEqual({
        "x.jsonl.1": "x.jsonl", "x.jsonl.2": "x.jsonl.1", "x.jsonl.3": "x.jsonl.2", "x.jsonl.4": "x.jsonl.3", "x.jsonl.5": "x.jsonl.4"
      })
    }).pipe(Effect.provide(memoryLayer())))

  it.scoped("closing a gap removes nothing: every destination is free by the listing", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      yield* mem.makeDirectory("/d")
      // .3 is kept past a gap: the plan moves .1 → .2 and a → .1 (no destination exists), nothing is removed
      for (const name of ["x.jsonl", "x.jsonl.1", "x.jsonl.3"]) yield* mem.writeFileString(`/d/${name}`, name)
      const before = { ...mem.calls }
      yield* Effect.flatMap(RenameShift, (r) => r.shift("/d/x.jsonl", 5))
      expect((mem.calls.remove ?? 0) - (before.remove ?? 0)).toBe(0)
      expect(yield* readAll("/d")).toEqual({ "x.jsonl.1": "x.jsonl", "x.jsonl.2": "x.jsonl.1", "x.jsonl.3": "x.jsonl.3" })
    }).pipe(Effect.provide(memoryLayer())))
})

describe.each(fileSystems)("RenameShift and a directory under a backup's name, on $name", ({ layer }) => {
  it.scoped("a directory under a leftover backup's name is skipped, not deleted, and never blocks rotation", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      for (const name of ["x.jsonl", "x.jsonl.1", "x.jsonl.2"]) yield* fs.writeFileString(`${dir}/${name}`, name)
      yield* fs.makeDirectory(`${dir}/x.jsonl.3`)
      yield* fs.writeFileString(`${dir}/x.jsonl.3/keep`, "not a backup")
      const shifter = yield* RenameShift
      const first = yield* shifter.shift(`${dir}/x.jsonl`, 2)
      expect(first.removed.map((p) => p.slice(dir.length + 1))).toEqual(["x.jsonl.2"])
      yield* fs.writeFileString(`${dir}/x.jsonl`, "x.jsonl again")
      yield* shifter.shift(`${dir}/x.jsonl`, 2)
      expect((yield* fs.readDirectory(dir)).sort()).toEqual(["x.jsonl.1", "x.jsonl.2", "x.jsonl.3"])
      expect(yield* fs.readFileString(`${dir}/x.jsonl.1`)).toBe("x.jsonl again")
      expect(yield* fs.readFileString(`${dir}/x.jsonl.2`)).toBe("x.jsonl")
      expect(yield* fs.readFileString(`${dir}/x.jsonl.3/keep`)).toBe("not a backup")
    }).pipe(Effect.provide(layer())))
})
