/**
 * The total-size cap (`maxTotalBytes`): planner tables and properties (issue 12, item 3).
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as RetentionPlan from "../../src/retention/RetentionPlan.js"
import type { Entry, EntryType, Thresholds } from "../../src/retention/RetentionPlan.js"
import * as SizeCap from "../../src/retention/SizeCap.js"

const TODAY = new Date("2026-03-15T12:00:00Z")
const DIR = "/logs"

const aged = (ageDays: number, ext = ".ndjson", prefix = "app") => {
  const d = new Date(Date.UTC(2026, 2, 15 - ageDays))
  return `${prefix}-${d.toISOString().slice(0, 10)}${ext}`
}
const file = (name: string, size: number | undefined, type: EntryType = "File"): Entry =>
  size === undefined ? { name, type } : { name, type, size }

const capped = (maxTotalBytes: number, extra: Partial<Thresholds> = {}): Thresholds =>
  ({ maxAgeDays: 30, compressAgeDays: 7, maxTotalBytes, ...extra })

const planOf = (entries: ReadonlyArray<Entry>, thresholds: Thresholds, today = TODAY) =>
  RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today)

/** `[name, tag, reason]` of every action that is not a Skip, in plan order. */
const acts = (entries: ReadonlyArray<Entry>, thresholds: Thresholds) =>
  planOf(entries, thresholds).actions.filter((a) => a._tag !== "Skip").map((a) => [a.name, a._tag, a.reason])

/** Names the cap deletes. */
const capDeletes = (entries: ReadonlyArray<Entry>, thresholds: Thresholds) =>
  planOf(entries, thresholds).actions.filter((a) => a._tag === "Delete" && a.reason === "size-cap").map((a) => a.name)

describe("SizeCap: planner tables (max 30 days, compress after 7)", () => {
  const four = [file(aged(0), 100), file(aged(1), 100), file(aged(2), 100), file(aged(3), 100)]

  it.each([
    ["total 400 under a cap of 1000: nothing deleted", 1000, []],
    ["total 400 at a cap of exactly 400: nothing deleted", 400, []],
    ["a cap of 399: the oldest file only", 399, [aged(3)]],
    ["a cap of 250: the two oldest", 250, [aged(3), aged(2)]],
    ["a cap of 100: every file but today's", 100, [aged(3), aged(2), aged(1)]],
    ["a cap of 1: every file but today's (today's alone is over: as close as possible)", 1, [aged(3), aged(2), aged(1)]],
    ["a cap of 0 is no cap (as maxBytes 0 is no rotation, compressAgeDays 0 no compression): nothing deleted", 0, []]
  ] as const)("%s", (_, cap, expected) => {
    expect(capDeletes(four, capped(cap))).toEqual(expected)
  })

  it("another user's files in a shared sticky directory (Entry.foreign) are neither counted nor deleted by the cap", () => {
    const entries: Array<Entry> = [
      { ...file(aged(-3), 100_000), foreign: true }, { ...file(aged(0), 100_000), foreign: true }, { ...file(aged(9), 50), foreign: true },
      file(aged(0), 100), file(aged(1), 100), file(aged(2), 100)
    ]
    // Without `foreign`, 300,250 bytes against 250: every deletable file would go (nobody's old one too).
    expect(capDeletes(entries.map(({ foreign: _, ...e }) => e), capped(250))).toEqual([aged(9), aged(2), aged(1)])
    // With it: only the sweeper's own 300 count; the oldest of its own goes, no other user's file.
    expect(capDeletes(entries, capped(250))).toEqual([aged(2)])
  })

  it("a directory's own cap of 0 switches a global cap off for that directory (Listing.thresholds)", () => {
    const entries = [file(aged(0), 100), file(aged(1), 100), file(aged(2), 100)]
    const listing = (thresholds: Thresholds | undefined) => ({ dir: "/d", entries, ...(thresholds === undefined ? {} : { thresholds }) })
    const capDeleted = (thresholds: Thresholds | undefined) =>
      RetentionPlan.plan([listing(thresholds)], capped(150), TODAY).actions.filter((a) => a._tag === "Delete").map((a) => a.name)
    expect(capDeleted(undefined)).toEqual([aged(2), aged(1)])
    expect(capDeleted(capped(0))).toEqual([])
  })

  it("never today's file nor a future-dated one, however large; every other file goes when they alone are over", () => {
    const entries = [file(aged(0), 5000), file(aged(-1), 5000), file(aged(-30, ".ndjson.gz"), 5000), file(aged(1), 10), file(aged(5, ".ndjson.gz"), 10)]
    const plan = planOf(entries, capped(100))
    expect(plan.actions.map((a) => [a.name, a._tag, a.reason])).toEqual(expect.arrayContaining([
      [aged(0), "Skip", "today"], [aged(-1), "Skip", "future"], [aged(-30, ".ndjson.gz"), "Skip", "future"],
      [aged(1), "Delete", "size-cap"], [aged(5, ".ndjson.gz"), "Delete", "size-cap"]
    ]))
  })

  it("age rules first: files past maxAgeDays are deleted for age and no longer count", () => {
    const entries = [file(aged(40), 1000), file(aged(35, ".ndjson.gz"), 1000), file(aged(2), 100), file(aged(0), 100)]
    expect(acts(entries, capped(200))).toEqual([
      [aged(40), "Delete", "older-than-max-age"], [aged(35, ".ndjson.gz"), "Delete", "older-than-max-age"]
    ])
  })

  it("a planned compression counts at its plain size (the .gz size is unknown): the file is deleted instead of compressed", () => {
    // 1000 (due for compression, counted plain) + 500 today > 1200: the cap deletes it.
    expect(acts([file(aged(8), 1000), file(aged(0), 500)], capped(1200))).toEqual([[aged(8), "Delete", "size-cap"]])
    // Under the cap, counted plain, it is compressed as usual.
    expect(acts([file(aged(8), 1000), file(aged(0), 500)], capped(1500))).toEqual([[aged(8), "Compress", "older-than-compress-age"]])
  })

  it("an original whose .gz exists (FinishCompression) counts 0, its .gz counts its own size", () => {
    const entries = [file(aged(8), 1000), file(aged(8, ".ndjson.gz"), 300), file(aged(0), 100)]
    expect(acts(entries, capped(400))).toEqual([[aged(8), "FinishCompression", "compressed-copy-exists"]])
    expect(acts(entries, capped(399))).toEqual([
      [aged(8), "FinishCompression", "compressed-copy-exists"], [aged(8, ".ndjson.gz"), "Delete", "size-cap"]
    ])
  })

  it("oldest first by the date in the name, then by name (not by size, not by listing order)", () => {
    const entries = [
      file(aged(4, ".ndjson", "b"), 10), file(aged(4, ".ndjson", "a"), 10), file(aged(4, ".ndjson.gz", "a"), 10),
      file(aged(9, ".ndjson.gz", "z"), 1), file(aged(1), 1000)
    ]
    // 1031 bytes; to reach 1010 the cap takes z (9 days), then a's .ndjson and .ndjson.gz (4 days, by name), not b's.
    expect(capDeletes(entries, capped(1010))).toEqual([aged(4, ".ndjson", "a"), aged(4, ".ndjson.gz", "a"), aged(9, ".ndjson.gz", "z")])
    expect(capDeletes(entries, capped(1020))).toEqual([aged(4, ".ndjson", "a"), aged(9, ".ndjson.gz", "z")])
  })

  it("links, directories, unmanaged names and invalid dates neither count nor are deleted", () => {
    const entries = [
      file(aged(3), 10_000, "SymbolicLink"), file(aged(4), 10_000, "Directory"), file("notes.txt", 10_000, "Other"),
      file("app-2024-02-30.ndjson", 10_000, "Other"), file(aged(2), 50), file(aged(0), 50)
    ]
    expect(acts(entries, capped(100))).toEqual([])
    expect(acts(entries, capped(99))).toEqual([[aged(2), "Delete", "size-cap"]])
  })

  it("a daily file that could not be probed counts what is known and is never deleted", () => {
    const entries = [file(aged(5), 1000), file(aged(5, ".ndjson.gz"), undefined, "Unprobed"), file(aged(2), 10), file(aged(0), 10)]
    expect(acts(entries, capped(100))).toEqual([[aged(2), "Delete", "size-cap"]])
  })

  it("an entry without a size counts 0: without sizes the cap deletes nothing", () => {
    expect(acts([file(aged(3), undefined), file(aged(2), undefined), file(aged(0), undefined)], capped(0))).toEqual([])
  })

  it("without maxTotalBytes, sizes change nothing", () => {
    const entries = [file(aged(3), 10 ** 12), file(aged(0), 10 ** 12)]
    expect(acts(entries, { maxAgeDays: 30, compressAgeDays: 7 })).toEqual([])
  })

  it("each listing is capped with its own thresholds (Listing.thresholds over the global ones)", () => {
    const entries = [file(aged(3), 100), file(aged(2), 100), file(aged(0), 100)]
    const plan = RetentionPlan.plan([
      { dir: "/a", entries },
      { dir: "/b", entries, thresholds: capped(150) },
      { dir: "/c", entries, thresholds: { maxAgeDays: 2, compressAgeDays: 0 } }
    ], capped(250), TODAY)
    expect(plan.actions.filter((a) => a._tag === "Delete").map((a) => [a.path, a.reason])).toEqual([
      [`/a/${aged(3)}`, "size-cap"],
      [`/b/${aged(3)}`, "size-cap"], [`/b/${aged(2)}`, "size-cap"],
      [`/c/${aged(3)}`, "older-than-max-age"]
    ])
  })

  it("a cap deletion keeps the daily file's group, so the Sweeper runs it with that file's other actions", () => {
    const plan = planOf([file(aged(9, ".ndjson.gz.tmp"), 5), file(aged(9), 1000), file(aged(0), 1)], capped(10))
    expect(RetentionPlan.groups(plan).map((g) => g.map((a) => [a.name, a.reason]))).toEqual([[
      [aged(9, ".ndjson.gz.tmp"), "stale-temp"], [aged(9), "size-cap"]
    ]])
  })
})

// --- properties ---

const arbCase = fc.record({
  maxAgeDays: fc.integer({ min: 1, max: 60 }),
  compress: fc.integer({ min: 0, max: 59 }),
  cap: fc.integer({ min: 1, max: 20_000 }),
  today: fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }),
  specs: fc.array(fc.record({
    prefix: fc.constantFrom("app", "dlq-orders", "x"),
    age: fc.integer({ min: -5, max: 70 }),
    ext: fc.constantFrom(".ndjson", ".ndjson", ".ndjson.gz", ".ndjson.gz.tmp"),
    type: fc.constantFrom<EntryType>("File", "File", "File", "File", "SymbolicLink", "Directory", "Unprobed"),
    size: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined, freq: 8 })
  }), { maxLength: 30 })
}).map(({ maxAgeDays, compress, cap, today, specs }) => {
  const day = (age: number) => new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - age)).toISOString().slice(0, 10)
  const entries = [...new Map(specs.map((s) => {
    const name = `${s.prefix}-${day(s.age)}${s.ext}`
    return [name, s.type === "Unprobed" ? { name, type: s.type } : file(name, s.size, s.type)] as const
  })).values()]
  const thresholds: Thresholds = { maxAgeDays, compressAgeDays: compress < maxAgeDays ? compress : 0, maxTotalBytes: cap }
  return { thresholds, today, entries }
})

const sizeOf = (entries: ReadonlyArray<Entry>) => (name: string) => {
  const e = entries.find((x) => x.name === name)
  return e?.type === "File" ? e.size : undefined
}

describe("SizeCap: properties", () => {
  it.prop("never deletes (nor acts on) today's file or a future-dated one", [arbCase], ([{ thresholds, today, entries }]) => {
    for (const a of RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions) {
      if (a.ageDays !== undefined && a.ageDays <= 0) expect([a.name, a._tag]).toEqual([a.name, "Skip"])
      if (a._tag === "Delete" && a.reason === "size-cap") expect(a.ageDays).toBeGreaterThan(0)
    }
  })

  // An oracle written from the rule, not from SizeCap: what stays is every regular file the plan does
  // not delete or finish (a compression counts plain); what the cap may delete is a regular file dated
  // before today, in a group with no unprobed entry, that the age rules neither delete nor finish.
  const oracle = (entries: ReadonlyArray<Entry>, actions: ReadonlyArray<RetentionPlan.Action>) => {
    const byName = new Map(entries.map((e) => [e.name, e]))
    const unprobedGroups = new Set(actions.filter((a) => byName.get(a.name)?.type === "Unprobed").map((a) => a.group))
    const isFile = (a: RetentionPlan.Action) => byName.get(a.name)?.type === "File"
    const stays = (a: RetentionPlan.Action) => a._tag !== "Delete" && a._tag !== "FinishCompression"
    return {
      remaining: actions.reduce((n, a) => n + (isFile(a) && stays(a) ? byName.get(a.name)!.size ?? 0 : 0), 0),
      deletable: (a: RetentionPlan.Action) => isFile(a) && stays(a) && (a.ageDays ?? 0) >= 1 && !unprobedGroups.has(a.group)
    }
  }

  it.prop("ends at or under the cap when possible, and otherwise deletes every deletable file", [arbCase], ([{ thresholds, today, entries }]) => {
    const { maxTotalBytes, ...ageOnly } = thresholds
    const before = RetentionPlan.plan([{ dir: DIR, entries }], ageOnly, today).actions
    const after = RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions
    const { deletable } = oracle(entries, before)
    const { remaining } = oracle(entries, after)
    const undeletable = oracle(entries, before.map((a) => deletable(a) ? { ...a, _tag: "Delete" as const, reason: "size-cap" as const, ageDays: a.ageDays ?? 0 } : a)).remaining
    if (undeletable <= maxTotalBytes!) {
      expect(remaining).toBeLessThanOrEqual(maxTotalBytes!)
    } else {
      // Not possible: every file the cap may delete was deleted.
      before.forEach((a, i) => {
        if (deletable(a)) expect(after[i]).toMatchObject({ _tag: "Delete", reason: "size-cap" })
      })
    }
    expect(SizeCap.total(after, sizeOf(entries))).toBe(remaining)
  })

  it.prop("changes only what the age rules kept or compressed, into size-cap deletions, oldest first; nothing when already under", [arbCase], ([{ thresholds, today, entries }]) => {
    const { maxTotalBytes, ...ageOnly } = thresholds
    const before = RetentionPlan.plan([{ dir: DIR, entries }], ageOnly, today).actions
    const after = RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions
    expect(after.map((a) => a.path)).toEqual(before.map((a) => a.path))
    const changed = after.flatMap((a, i) => a === before[i] || JSON.stringify(a) === JSON.stringify(before[i]) ? [] : [i])
    if (SizeCap.total(before, sizeOf(entries)) <= maxTotalBytes!) expect(changed).toEqual([])
    for (const i of changed) expect(after[i]).toMatchObject({ _tag: "Delete", reason: "size-cap" })
    // Every deletable file left is newer (or the same day and a later name) than every one the cap deleted.
    const rank = (a: RetentionPlan.Action) => [-(a.ageDays ?? 0), a.name] as const
    const lt = (x: readonly [number, string], y: readonly [number, string]) => x[0] < y[0] || (x[0] === y[0] && x[1] < y[1])
    const sizes = sizeOf(entries)
    for (let i = 0; i < after.length; i++) {
      if (changed.includes(i) || !SizeCap.weigh(after[i]!, sizes(after[i]!.name) ?? 0).deletable) continue
      for (const j of changed) expect(lt(rank(after[j]!), rank(after[i]!))).toBe(true)
    }
  })
})
