/**
 * The Sweeper with a total-size cap and with per-directory thresholds (issue 12, items 2 and 3),
 * on the in-memory file system.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as RetentionPlan from "../../src/retention/RetentionPlan.js"
import * as RetentionPolicy from "../../src/retention/RetentionPolicy.js"
import * as RetentionWorker from "../../src/retention/RetentionWorker.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { dated, fileSystems, names, ndjson, tempDir } from "../support/retention.js"

const TODAY = new Date("2026-03-15T12:00:00Z")
const aged = (age: number, ext = ".ndjson", prefix = "app") => dated(prefix, TODAY, age, ext)
const memory = fileSystems.find((f) => f.name === "MemoryFileSystem")!

/** A fresh directory holding `files` (name → size in bytes), today = TODAY. */
const withFiles = (files: Record<string, number>) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(TODAY.getTime())
    const fs = yield* FileSystem.FileSystem
    const dir = yield* tempDir
    let seed = 1
    for (const [name, size] of Object.entries(files)) yield* fs.writeFile(`${dir}/${name}`, ndjson(size, seed++))
    return dir
  })

describe("Sweeper with a size cap (maxTotalBytes) on MemoryFileSystem", () => {
  it.scoped("deletes the oldest files until the directory fits, never today's, and reports them as size-cap", () =>
    Effect.gen(function* () {
      const dir = yield* withFiles({
        [aged(0)]: 3000, [aged(1)]: 1000, [aged(2)]: 1000, [aged(3, ".ndjson.gz")]: 1000, [aged(4)]: 1000, [aged(40)]: 5000,
        "notes.txt": 50_000
      })
      const report = yield* Sweeper.sweep([dir], { maxAgeDays: 30, compressAgeDays: 0, maxTotalBytes: 5500 })
      expect(report.failed).toEqual([])
      // 3000 today + 1000 × 4 = 7000 after the age rule: the two oldest (4 days, 3 days) go to reach 5000.
      expect(yield* names(dir)).toEqual([aged(2), aged(1), aged(0), "notes.txt"].sort())
      expect(report.deleted.map((d) => [d.path, d.bytes, d.reason])).toEqual([
        [`${dir}/${aged(40)}`, 5000, "older-than-max-age"],
        [`${dir}/${aged(4)}`, 1000, "size-cap"],
        [`${dir}/${aged(3, ".ndjson.gz")}`, 1000, "size-cap"]
      ])
      expect(report.bytesFreed).toBe(7000)
    }).pipe(Effect.provide(memory.layer())))

  it.scoped("today's file alone over the cap: every older file is deleted, today's is kept byte for byte", () =>
    Effect.gen(function* () {
      const dir = yield* withFiles({ [aged(0)]: 9000, [aged(1)]: 10, [aged(-1)]: 10 })
      const fs = yield* FileSystem.FileSystem
      const before = yield* fs.readFile(`${dir}/${aged(0)}`)
      const report = yield* Sweeper.sweep([dir], { maxAgeDays: 30, compressAgeDays: 0, maxTotalBytes: 100 })
      expect(yield* names(dir)).toEqual([aged(0), aged(-1)].sort())
      expect(Buffer.from(yield* fs.readFile(`${dir}/${aged(0)}`)).equals(Buffer.from(before))).toBe(true)
      expect(report.deleted.map((d) => d.reason)).toEqual(["size-cap"])
      expect(report.skipped.filter((s) => s.reason === "today" || s.reason === "future")).toHaveLength(2)
    }).pipe(Effect.provide(memory.layer())))

  it.scoped("a dry run plans the size-cap deletions, says so, and changes nothing", () =>
    Effect.gen(function* () {
      const dir = yield* withFiles({ [aged(0)]: 100, [aged(2)]: 100, [aged(9)]: 100 })
      const report = yield* Sweeper.sweep([dir], { maxAgeDays: 30, compressAgeDays: 7, maxTotalBytes: 150 }, { dryRun: true })
      expect(yield* names(dir)).toEqual([aged(9), aged(2), aged(0)].sort())
      expect(report.plan.actions.filter((a) => a._tag !== "Skip").map((a) => [a.name, a._tag, a.reason])).toEqual([
        [aged(9), "Delete", "size-cap"], [aged(2), "Delete", "size-cap"]
      ])
      expect(report.plan.actions.flatMap((a) => Sweeper.describePlanned(a).pipe((o) => o._tag === "Some" ? [o.value] : []))).toEqual([
        `would delete   ${dir}/${aged(9)} (over the size cap, 9 days old)`,
        `would delete   ${dir}/${aged(2)} (over the size cap, 2 days old)`
      ])
    }).pipe(Effect.provide(memory.layer())))
})

describe("Sweeper and RetentionWorker with per-directory thresholds on MemoryFileSystem", () => {
  /** Two directories with the same files, 0 to 12 days old, 100 bytes each. */
  const twoDirs = Effect.gen(function* () {
    const files = Object.fromEntries([0, 2, 4, 6, 8, 10, 12].map((age) => [aged(age), 100]))
    return [yield* withFiles(files), yield* withFiles(files)] as const
  })

  it.scoped("each directory is swept with its own maxAgeDays, compressAgeDays and maxTotalBytes; the rest take the policy's", () =>
    Effect.gen(function* () {
      const [a, b] = yield* twoDirs
      const report = yield* Sweeper.sweep([a, b], {
        maxAgeDays: 30, compressAgeDays: 0,
        directories: [{ dir: a, maxAgeDays: 5 }, { dir: `${b}/`, compressAgeDays: 9, maxTotalBytes: 500 }]
      })
      expect(report.failed).toEqual([])
      // a: older than 5 days deleted, nothing compressed.
      expect(yield* names(a)).toEqual([aged(4), aged(2), aged(0)].sort())
      // b: 10 and 12 are due for compression (counted plain); the cap (500 of 700) deletes them instead.
      expect(yield* names(b)).toEqual([aged(8), aged(6), aged(4), aged(2), aged(0)].sort())
      expect(report.deleted.map((d) => [d.path, d.reason])).toEqual([
        ...[12, 10, 8, 6].map((age) => [`${a}/${aged(age)}`, "older-than-max-age"]),
        [`${b}/${aged(12)}`, "size-cap"], [`${b}/${aged(10)}`, "size-cap"]
      ])
      expect(report.compressed).toEqual([])
    }).pipe(Effect.provide(memory.layer())))

  it.scoped("the report's plan is the plan of every directory's listing with its own settings, in sweep order, in a dry run and in a real sweep", () =>
    Effect.gen(function* () {
      const [a, b] = yield* twoDirs
      const policy: Sweeper.SweepPolicy = {
        maxAgeDays: 30, compressAgeDays: 3,
        directories: [{ dir: a, maxAgeDays: 5 }, { dir: b, compressAgeDays: 9, maxTotalBytes: 500 }]
      }
      const listing = (dir: string, own: RetentionPlan.Thresholds): RetentionPlan.Listing => ({
        dir, thresholds: own,
        entries: [0, 2, 4, 6, 8, 10, 12].map((age) => ({ name: aged(age), type: "File" as const, size: 100 }))
      })
      // b before a: the directories are swept, and planned, in the order given.
      const expected = RetentionPlan.plan([
        listing(b, { maxAgeDays: 30, compressAgeDays: 9, maxTotalBytes: 500 }),
        listing(a, { maxAgeDays: 5, compressAgeDays: 3 })
      ], policy, TODAY)
      const dry = yield* Sweeper.sweep([b, a], policy, { dryRun: true })
      expect(dry.plan).toEqual(expected)
      const real = yield* Sweeper.sweep([b, a], policy)
      expect(real.failed).toEqual([])
      expect(real.plan).toEqual(expected)
      expect(real.skipped).toEqual(expected.actions.flatMap((x) => x._tag === "Skip" ? [{ path: x.path, reason: x.reason }] : []))
    }).pipe(Effect.provide(memory.layer())))

  it.scoped("RetentionWorker sweeps each directory of the policy with its own settings", () =>
    Effect.gen(function* () {
      const [a, b] = yield* twoDirs
      const policy = yield* RetentionPolicy.decode({
        enabled: true, maxAgeDays: 9, directories: [{ dir: a, maxAgeDays: 3 }, { dir: b }]
      })
      yield* RetentionWorker.sweepOnce.pipe(Effect.provideService(RetentionPolicy.RetentionPolicy, policy))
      expect(yield* names(a)).toEqual([aged(2), aged(0)].sort())
      expect(yield* names(b)).toEqual([aged(8), aged(6), aged(4), aged(2), aged(0)].sort())
    }).pipe(Effect.provide(memory.layer())))
})

describe("per-directory namings (a pattern in the policy, as a configuration file holds it) on MemoryFileSystem", () => {
  const dotted = (age: number) => aged(age).replace(/^app-(\d{4}-\d{2}-\d{2})\.ndjson$/, "app.$1.log")

  it.scoped("each directory's files are read with its own pattern; a directory whose pattern cannot be parsed back fails alone (reported), the others are swept", () =>
    Effect.gen(function* () {
      const plain = yield* withFiles({ [aged(40)]: 100, [dotted(40)]: 100 })
      const custom = yield* withFiles({ [aged(40)]: 100, [dotted(40)]: 100 })
      const broken = yield* withFiles({ [aged(40)]: 100 })
      const policy = RetentionPolicy.decode({
        maxAgeDays: 30, dirs: [plain], directories: [{ dir: custom, naming: "{prefix}.{date}.log" }]
      })
      expect(policy._tag).toBe("Right")
      if (policy._tag !== "Right") return
      const report = yield* Sweeper.sweep([plain, custom, broken], {
        ...policy.right, directories: [...policy.right.directories!, { dir: broken, naming: "{date}" }]
      })
      expect(yield* names(plain)).toEqual([dotted(40)])
      expect(yield* names(custom)).toEqual([aged(40)])
      expect(yield* names(broken)).toEqual([aged(40)])
      expect(report.failed.map((f) => [f.path, f.error._tag])).toEqual([[broken, "InvalidPattern"]])
      expect(report.deleted.map((d) => d.path).sort()).toEqual([`${custom}/${dotted(40)}`, `${plain}/${aged(40)}`].sort())
    }).pipe(Effect.provide(memory.layer())))

  it("a pattern that cannot be parsed back is an InvalidConfig naming the directory's field, the pattern and what is wrong", () => {
    const result = RetentionPolicy.decode({ directories: [{ dir: "/a", naming: "{prefix}.log" }] })
    expect(result._tag).toBe("Left")
    if (result._tag !== "Left") return
    expect([result.left.variable, result.left.value]).toEqual([`directories["/a"].naming`, "{prefix}.log"])
    expect(result.left.expected).toContain("{date}")
    const top = RetentionPolicy.decode({ naming: "{prefix}-{date}-{date}.x" })
    expect(top._tag === "Left" && [top.left.variable, top.left.value]).toEqual(["naming", "{prefix}-{date}-{date}.x"])
  })
})

describe("per-directory entries matched by real path (reviewer finding F-alias) on MemoryFileSystem", () => {
  it.scoped("a directory swept through a symlink gets its entry's settings; two entries naming one directory fail it (DirectoryNamedTwice), nothing touched, the other directories swept", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* withFiles({ [aged(0)]: 100, [aged(5)]: 100, [aged(10)]: 100 })
      const other = yield* withFiles({ [aged(0)]: 100, [aged(40)]: 100 })
      yield* fs.symlink(dir, `${dir}-alias`)
      // One entry, named through the directory; swept through the alias: the entry's 7 days apply.
      const one = yield* Sweeper.sweep([`${dir}-alias`], { maxAgeDays: 30, compressAgeDays: 0, directories: [{ dir, maxAgeDays: 7 }] })
      expect(one.failed).toEqual([])
      expect(yield* names(dir)).toEqual([aged(5), aged(0)].sort())
      // Two entries for one directory (its path and its alias), in either order: that directory fails.
      for (const directories of [
        [{ dir, maxAgeDays: 30 }, { dir: `${dir}-alias`, maxAgeDays: 2 }],
        [{ dir: `${dir}-alias`, maxAgeDays: 2 }, { dir, maxAgeDays: 30 }]
      ]) {
        const report = yield* Sweeper.sweep([dir, other], { maxAgeDays: 30, compressAgeDays: 0, directories })
        expect(report.failed.map((f) => [f.path, f.error._tag])).toEqual([[dir, "DirectoryNamedTwice"]])
        expect(yield* names(dir)).toEqual([aged(5), aged(0)].sort())
      }
      expect(yield* names(other)).toEqual([aged(0)])
    }).pipe(Effect.provide(memory.layer())))
})

describe("Sweeper.deleteWhy", () => {
  it.each([
    ["size-cap", 1, "over the size cap, 1 day old"],
    ["size-cap", 3, "over the size cap, 3 days old"],
    ["older-than-max-age", 31, "31 days old"],
    ["stale-temp", 2, "stale temporary file"]
  ] as const)("%s, %i days: %j", (reason, ageDays, words) => {
    expect(Sweeper.deleteWhy({ reason, ageDays })).toBe(words)
  })
})
