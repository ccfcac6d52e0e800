import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as DatedFile from "../../src/retention/DatedFile.js"
import * as FileNaming from "../../src/retention/FileNaming.js"
import * as RetentionPlan from "../../src/retention/RetentionPlan.js"
import type { Entry, EntryType } from "../../src/retention/RetentionPlan.js"
import * as Path from "node:path"

const TODAY = new Date("2026-03-15T12:00:00Z")
const DIR = "/logs"
const policy = { maxAgeDays: 30, compressAgeDays: 7 }

/** `<prefix>-<date ageDays before TODAY><ext>` */
const aged = (ageDays: number, ext = ".ndjson", prefix = "app") => {
  const d = new Date(Date.UTC(2026, 2, 15 - ageDays))
  return `${prefix}-${d.toISOString().slice(0, 10)}${ext}`
}

const planOf = (entries: ReadonlyArray<Entry>, thresholds = policy, today = TODAY) =>
  RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today)

/** `[tag, reason]` for the entry called `name`. */
const verdict = (entries: ReadonlyArray<Entry>, name: string, thresholds = policy, today = TODAY) => {
  const action = planOf(entries, thresholds, today).actions.find((a) => a.name === name)
  return action && [action._tag, action.reason]
}

const file = (name: string, type: EntryType = "File"): Entry => ({ name, type })

describe("RetentionPlan.plan: one entry (max 30 days, compress after 7)", () => {
  it.each([
    ["today's file (age 0)", aged(0), "Skip", "today"],
    ["today's .gz", aged(0, ".ndjson.gz"), "Skip", "today"],
    ["a future file", aged(-1), "Skip", "future"],
    ["a far-future .gz", aged(-400, ".ndjson.gz"), "Skip", "future"],
    ["age 1", aged(1), "Skip", "within-compress-age"],
    ["age 7 = compress age: kept", aged(7), "Skip", "within-compress-age"],
    ["age 8 = compress age + 1: compressed", aged(8), "Compress", "older-than-compress-age"],
    ["age 30 = max age: compressed, not deleted", aged(30), "Compress", "older-than-compress-age"],
    ["age 31 = max age + 1: deleted, not compressed first", aged(31), "Delete", "older-than-max-age"],
    ["age 400", aged(400), "Delete", "older-than-max-age"],
    [".gz at age 1", aged(1, ".ndjson.gz"), "Skip", "already-compressed"],
    [".gz at age 7", aged(7, ".ndjson.gz"), "Skip", "already-compressed"],
    [".gz at age 8 is never recompressed", aged(8, ".ndjson.gz"), "Skip", "already-compressed"],
    [".gz at age 30", aged(30, ".ndjson.gz"), "Skip", "already-compressed"],
    [".gz at age 31", aged(31, ".ndjson.gz"), "Delete", "older-than-max-age"],
    ["a stale .gz.tmp at age 3", aged(3, ".ndjson.gz.tmp"), "Delete", "stale-temp"],
    ["a stale .gz.tmp at age 31", aged(31, ".ndjson.gz.tmp"), "Delete", "older-than-max-age"],
    ["a .gz.tmp dated today (in progress elsewhere?)", aged(0, ".ndjson.gz.tmp"), "Skip", "today"],
    ["dashes in the prefix, age 31", aged(31, ".ndjson", "dlq-orders-eu"), "Delete", "older-than-max-age"],
    ["dashes in the prefix, age 8", aged(8, ".ndjson.gz", "dlq-orders-eu"), "Skip", "already-compressed"],
    ["a date-looking prefix", `relay-2020-01-01-${aged(8)}`, "Compress", "older-than-compress-age"],
    ["an invalid date", "app-2024-02-30.ndjson", "Skip", "invalid-date"],
    ["another name", "notes.txt", "Skip", "not-managed"],
    ["a .ndjson without date", "app.ndjson", "Skip", "not-managed"]
  ])("%s: %s → %s %s", (_, name, tag, reason) => {
    expect(verdict([file(name)], name)).toEqual([tag, reason])
  })

  it.each([
    ["SymbolicLink", "symbolic-link"],
    ["Directory", "not-a-file"],
    ["Other", "not-a-file"]
  ] as const)("an entry of type %s with a managed name, even expired, is skipped as %s", (type, reason) => {
    for (const name of [aged(31), aged(8), aged(31, ".ndjson.gz"), aged(3, ".ndjson.gz.tmp")]) {
      expect(verdict([file(name, type)], name)).toEqual(["Skip", reason])
    }
  })
})

describe("RetentionPlan.plan: thresholds", () => {
  it.each([
    [1, 0, 1, "Skip", "within-max-age"],
    [1, 0, 2, "Delete", "older-than-max-age"],
    [30, 0, 8, "Skip", "within-max-age"],
    [30, 0, 30, "Skip", "within-max-age"],
    [30, 0, 31, "Delete", "older-than-max-age"],
    [2, 1, 1, "Skip", "within-compress-age"],
    [2, 1, 2, "Compress", "older-than-compress-age"],
    [2, 1, 3, "Delete", "older-than-max-age"],
    [1, 0, 0, "Skip", "today"]
  ])("max %i, compress %i: age %i → %s %s", (maxAgeDays, compressAgeDays, age, tag, reason) => {
    expect(verdict([file(aged(age))], aged(age), { maxAgeDays, compressAgeDays })).toEqual([tag, reason])
  })

  it.each([
    ["2024-02-29 on 2024-03-01 is 1 day old: kept", "app-2024-02-29.ndjson", "2024-03-01T00:00:00Z", "Skip", "within-compress-age"],
    ["2024-02-29 on 2024-03-09 is 9 days old: compressed", "app-2024-02-29.ndjson", "2024-03-09T23:59:59Z", "Compress", "older-than-compress-age"],
    ["2023-02-29 does not exist", "app-2023-02-29.ndjson", "2024-03-01T00:00:00Z", "Skip", "invalid-date"],
    ["2024-02-30 does not exist", "app-2024-02-30.ndjson.gz", "2025-03-01T00:00:00Z", "Skip", "invalid-date"],
    ["today is the UTC day: 23:59 UTC is still today", "app-2026-03-15.ndjson", "2026-03-15T23:59:59.999Z", "Skip", "today"],
    ["and 00:00 UTC is the next day", "app-2026-03-14.ndjson", "2026-03-15T00:00:00Z", "Skip", "within-compress-age"]
  ])("leap days and UTC: %s", (_, name, today, tag, reason) => {
    expect(verdict([file(name)], name, policy, new Date(today))).toEqual([tag, reason])
  })
})

describe("RetentionPlan.plan: files that belong together", () => {
  it("both x.ndjson (due) and x.ndjson.gz: verify the .gz and remove the original; the .gz stays", () => {
    const [x, gz] = [aged(8), aged(8, ".ndjson.gz")]
    const { actions } = planOf([file(gz), file(x)])
    expect(actions.map((a) => [a._tag, a.name, a.reason])).toEqual([
      ["FinishCompression", x, "compressed-copy-exists"],
      ["Skip", gz, "already-compressed"]
    ])
    expect(actions[0]).toMatchObject({ path: `${DIR}/${x}`, gzip: `${DIR}/${gz}` })
  })

  it("both exist but the original is not yet due: both kept", () => {
    expect(verdict([file(aged(3)), file(aged(3, ".ndjson.gz"))], aged(3))).toEqual(["Skip", "within-compress-age"])
  })

  it("both exist and expired: both deleted", () => {
    const { actions } = planOf([file(aged(31, ".ndjson.gz")), file(aged(31))])
    expect(actions.map((a) => [a._tag, a.name])).toEqual([["Delete", aged(31)], ["Delete", aged(31, ".ndjson.gz")]])
  })

  it("the .gz name is taken by a directory or a link: the original is skipped, not compressed over it", () => {
    for (const type of ["Directory", "SymbolicLink"] as const) {
      expect(verdict([file(aged(8)), file(aged(8, ".ndjson.gz"), type)], aged(8))).toEqual(["Skip", "compressed-name-taken"])
    }
  })

  it("a stale .gz.tmp next to a due original: remove the temp, then compress, in one group, in that order", () => {
    const plan = planOf([file(aged(8)), file(aged(8, ".ndjson.gz.tmp"))])
    expect(RetentionPlan.groups(plan).map((g) => g.map((a) => [a._tag, a.name, a.reason]))).toEqual([[
      ["Delete", aged(8, ".ndjson.gz.tmp"), "stale-temp"],
      ["Compress", aged(8), "older-than-compress-age"]
    ]])
  })

  it("groups leave skips out and keep different files apart", () => {
    const plan = planOf([file(aged(31)), file(aged(9)), file("notes.txt"), file(aged(0))])
    expect(RetentionPlan.groups(plan).map((g) => g.map((a) => a.name))).toEqual([[aged(31)], [aged(9)]])
    expect(RetentionPlan.summary(plan)).toEqual({ compress: 1, delete: 1, finish: 0, skip: 2 })
  })
})

describe("RetentionPlan.plan: order and shape", () => {
  it("actions follow the listings, then the names; paths join dir and name", () => {
    const plan = RetentionPlan.plan([
      { dir: "/b", entries: [file(aged(31, ".ndjson", "z")), file(aged(31, ".ndjson", "a"))] },
      { dir: "/a", entries: [file(aged(8))] }
    ], policy, TODAY)
    expect(plan.today).toBe("2026-03-15")
    expect(plan.actions.map((a) => a.path)).toEqual([`/b/${aged(31, ".ndjson", "a")}`, `/b/${aged(31, ".ndjson", "z")}`, `/a/${aged(8)}`])
    expect(plan.actions.map((a) => a.ageDays)).toEqual([31, 31, 8])
  })

  it("an empty listing plans nothing", () => {
    expect(RetentionPlan.plan([{ dir: DIR, entries: [] }], policy, TODAY)).toEqual({ today: "2026-03-15", actions: [] })
  })
})

// --- properties ---

const arbThresholds = fc.integer({ min: 1, max: 400 }).chain((maxAgeDays) =>
  fc.integer({ min: 0, max: maxAgeDays - 1 }).map((compressAgeDays) => ({ maxAgeDays, compressAgeDays }))
)
const arbToday = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
const arbEntry = (today: Date) =>
  fc.record({
    prefix: fc.constantFrom("app", "dlq-orders-eu", "a-b-c-d", "x"),
    age: fc.integer({ min: -60, max: 500 }),
    ext: fc.constantFrom(".ndjson", ".ndjson.gz", ".ndjson.gz.tmp"),
    type: fc.constantFrom<EntryType>("File", "File", "File", "SymbolicLink", "Directory", "Other")
  }).map(({ prefix, age, ext, type }) => {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - age))
    return { name: `${prefix}-${d.toISOString().slice(0, 10)}${ext}`, type }
  })
const arbCase = fc.tuple(arbThresholds, arbToday).chain(([thresholds, today]) =>
  fc.uniqueArray(arbEntry(today), { selector: (e) => e.name, maxLength: 40 }).map((entries) => ({ thresholds, today, entries }))
)

const ageOf = (name: string, today: Date) => DatedFile.ageInDays(Either.getOrThrow(DatedFile.parse(name)), today)

describe("RetentionPlan.plan: properties", () => {
  it.prop("never touches today's or a future-dated file", [arbCase], ([{ thresholds, today, entries }]) => {
    for (const action of RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions) {
      if (ageOf(action.name, today) <= 0) expect([action.name, action._tag]).toEqual([action.name, "Skip"])
    }
  })

  it.prop("never deletes a log file aged maxAgeDays or less (only stale .gz.tmp files, aged >= 1)", [arbCase], ([{ thresholds, today, entries }]) => {
    for (const action of RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions) {
      if (action._tag !== "Delete") continue
      const age = ageOf(action.name, today)
      if (action.name.endsWith(".gz.tmp")) expect(age).toBeGreaterThanOrEqual(1)
      else expect(age).toBeGreaterThan(thresholds.maxAgeDays)
    }
  })

  it.prop("compresses only regular .ndjson files older than compressAgeDays, with compression on, never a .gz", [arbCase], ([{ thresholds, today, entries }]) => {
    for (const action of RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions) {
      if (action._tag !== "Compress" && action._tag !== "FinishCompression") continue
      expect(action.name.endsWith(".ndjson")).toBe(true)
      expect(entries.find((e) => e.name === action.name)?.type).toBe("File")
      expect(thresholds.compressAgeDays).toBeGreaterThan(0)
      expect(ageOf(action.name, today)).toBeGreaterThan(thresholds.compressAgeDays)
      expect(ageOf(action.name, today)).toBeLessThanOrEqual(thresholds.maxAgeDays)
    }
  })

  it.prop("never acts on a symbolic link, a directory or another non-file", [arbCase], ([{ thresholds, today, entries }]) => {
    for (const action of RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today).actions) {
      const type = entries.find((e) => e.name === action.name)?.type
      if (type !== "File") expect(action._tag).toBe("Skip")
    }
  })

  it.prop("one action per entry, whatever the entries' order", [arbCase, fc.integer()], ([{ thresholds, today, entries }, seed]) => {
    const shuffled = [...entries].sort((a, b) => ((a.name.length * seed) % 7) - ((b.name.length * seed) % 7) || (a.name < b.name ? 1 : -1))
    const plan = RetentionPlan.plan([{ dir: DIR, entries }], thresholds, today)
    expect(plan.actions.length).toBe(entries.length)
    expect(RetentionPlan.plan([{ dir: DIR, entries: shuffled }], thresholds, today)).toEqual(plan)
  })
})

describe("RetentionPlan.plan: entries that could not be probed", () => {
  it("a daily file with an Unprobed entry is left alone whole (probe-failed), never compressed over its .gz", () => {
    const entries = [file(aged(8)), file(aged(8, ".ndjson.gz"), "Unprobed"), file(aged(8, ".ndjson.gz.tmp")), file(aged(9))]
    const plan = planOf(entries)
    expect(plan.actions.map((a) => [a.name, a._tag, a.reason])).toEqual([
      [aged(9), "Compress", "older-than-compress-age"],
      [aged(8, ".ndjson.gz.tmp"), "Skip", "probe-failed"],
      [aged(8), "Skip", "probe-failed"],
      [aged(8, ".ndjson.gz"), "Skip", "probe-failed"]
    ])
  })

  it.prop("no group with an Unprobed entry gets an action", [fc.array(fc.record({
    age: fc.integer({ min: -2, max: 40 }), ext: fc.constantFrom(".ndjson", ".ndjson.gz", ".ndjson.gz.tmp"),
    prefix: fc.constantFrom("a", "b"), type: fc.constantFrom<EntryType>("File", "Unprobed", "SymbolicLink")
  }), { maxLength: 12 })], ([specs]) => {
    // A listing names each entry once.
    const entries = [...new Map(specs.map((s) => [aged(s.age, s.ext, s.prefix), file(aged(s.age, s.ext, s.prefix), s.type)])).values()]
    const plan = planOf(entries)
    const unprobed = new Set(plan.actions.filter((a) => entries.some((e) => e.type === "Unprobed" && `${DIR}/${e.name}` === a.path)).map((a) => a.group))
    for (const a of plan.actions) if (unprobed.has(a.group)) expect(a._tag).toBe("Skip")
  })
})

describe("RetentionPlan paths", () => {
  it.prop("every action's path, group and gzip are Path.join of the listing's directory, however it is spelled", [
    fc.constantFrom("/logs", "/logs/", "/var//log/./relay", "relative/dir", "./x/../y", "/", "")
  ], ([dir]) => {
    const names = [aged(10), aged(10, ".ndjson.gz"), aged(40), aged(9, ".ndjson.gz.tmp"), "notes.txt"]
    const { actions } = RetentionPlan.plan([{ dir, entries: names.map((name) => ({ name, type: "File" as const })) }], policy, TODAY)
    for (const a of actions) {
      expect(a.path).toBe(Path.join(dir, a.name))
      const parsed = DatedFile.parse(a.name)
      expect(a.group).toBe(Path.join(dir, Either.isRight(parsed) ? parsed.right.original : a.name))
      if (a._tag === "FinishCompression") expect(a.gzip).toBe(Path.join(dir, a.name + ".gz"))
    }
    expect(actions.some((a) => a._tag === "FinishCompression")).toBe(true)
  })
})

describe("RetentionPlan.plan: a listing's naming (custom patterns and hourly files)", () => {
  const DOT = Either.getOrThrow(FileNaming.fromPattern("{prefix}.{date}.log"))
  const HOURLY = Either.getOrThrow(FileNaming.fromPattern("{prefix}-{date}-{hour}.ndjson"))
  /** `<date ageDays before TODAY>` as YYYY-MM-DD. */
  const date = (ageDays: number) => new Date(Date.UTC(2026, 2, 15 - ageDays)).toISOString().slice(0, 10)
  const planWith = (naming: FileNaming.FileNaming | undefined, names: ReadonlyArray<string>, today = TODAY) =>
    RetentionPlan.plan([{ dir: DIR, entries: names.map((n) => file(n)), ...(naming ? { naming } : {}) }], policy, today)
  const verdicts = (plan: RetentionPlan.Plan) => plan.actions.map((a) => [a.name, a._tag, a.reason])

  it.each([
    ["today's file", `app.${date(0)}.log`, "Skip", "today"],
    ["age 7: kept", `app.${date(7)}.log`, "Skip", "within-compress-age"],
    ["age 8: compressed", `app.${date(8)}.log`, "Compress", "older-than-compress-age"],
    ["its .gz at age 8", `app.${date(8)}.log.gz`, "Skip", "already-compressed"],
    ["its stale .gz.tmp", `app.${date(3)}.log.gz.tmp`, "Delete", "stale-temp"],
    ["age 31: deleted", `app.${date(31)}.log`, "Delete", "older-than-max-age"],
    ["an impossible date", "app.2026-02-30.log", "Skip", "invalid-date"],
    ["a default-named file is not this naming's", `app-${date(31)}.ndjson`, "Skip", "not-managed"]
  ])("{prefix}.{date}.log: %s (%s) → %s %s", (_, name, tag, reason) => {
    expect(verdicts(planWith(DOT, [name]))).toEqual([[name, tag, reason]])
  })

  it("without a naming a listing is read with FileNaming.default: a .log name is not managed, a .ndjson one is", () => {
    expect(verdicts(planWith(undefined, [`app.${date(31)}.log`, `app-${date(31)}.ndjson`]))).toEqual([
      [`app-${date(31)}.ndjson`, "Delete", "older-than-max-age"],
      [`app.${date(31)}.log`, "Skip", "not-managed"]
    ])
  })

  it("each listing is read with its own naming", () => {
    const plan = RetentionPlan.plan([
      { dir: "/a", entries: [file(`app.${date(31)}.log`)], naming: DOT },
      { dir: "/b", entries: [file(`app.${date(31)}.log`), file(`app-${date(31)}.ndjson`)] }
    ], policy, TODAY)
    expect(plan.actions.map((a) => [a.path, a._tag, a.reason])).toEqual([
      [`/a/app.${date(31)}.log`, "Delete", "older-than-max-age"],
      [`/b/app-${date(31)}.ndjson`, "Delete", "older-than-max-age"],
      [`/b/app.${date(31)}.log`, "Skip", "not-managed"]
    ])
  })

  it.each([
    ["every hour of today is today's, the current one and 00", [`app-${date(0)}-00.ndjson`, `app-${date(0)}-11.ndjson`, `app-${date(0)}-23.ndjson`], ["Skip", "today"]],
    ["23:00 yesterday is 1 day old, as is 00:00 yesterday", [`app-${date(1)}-00.ndjson`, `app-${date(1)}-23.ndjson`], ["Skip", "within-compress-age"]],
    ["every hour of the day 8 days ago is compressed", [`app-${date(8)}-00.ndjson`, `app-${date(8)}-23.ndjson`], ["Compress", "older-than-compress-age"]],
    ["every hour of the day 30 days ago is kept (compressed)", [`app-${date(30)}-00.ndjson`, `app-${date(30)}-23.ndjson`], ["Compress", "older-than-compress-age"]],
    ["every hour of the day 31 days ago is deleted", [`app-${date(31)}-00.ndjson`, `app-${date(31)}-23.ndjson.gz`], ["Delete", "older-than-max-age"]],
    ["hour 24 does not exist", [`app-${date(31)}-24.ndjson`], ["Skip", "invalid-date"]],
    ["a daily name is not an hourly naming's", [`app-${date(31)}.ndjson`], ["Skip", "not-managed"]]
  ] as const)("hourly files, age of the day: %s", (_, names, verdict) => {
    expect(verdicts(planWith(HOURLY, names)).map(([, tag, reason]) => [tag, reason])).toEqual(names.map(() => verdict))
  })

  it("hourly: each hour is its own group; an hour's .gz next to its due original is verified, not recompressed", () => {
    const [h1, h1gz, h2, tmp] = [`app-${date(9)}-01.ndjson`, `app-${date(9)}-01.ndjson.gz`, `app-${date(9)}-02.ndjson`, `app-${date(9)}-02.ndjson.gz.tmp`]
    const plan = planWith(HOURLY, [tmp, h2, h1gz, h1])
    expect(RetentionPlan.groups(plan).map((g) => g.map((a) => [a._tag, a.name]))).toEqual([
      [["FinishCompression", h1]],
      [["Delete", tmp], ["Compress", h2]]
    ])
    expect(plan.actions.find((a) => a._tag === "FinishCompression")).toMatchObject({ gzip: `${DIR}/${h1gz}` })
  })

  it.prop("hourly: a file is never acted on at age <= compressAgeDays, and deleted exactly when its day is older than maxAgeDays", [
    fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 23 }), fc.constantFrom("", ".gz", ".gz.tmp")
  ], ([age, hour, suffix]) => {
    const name = `app-${date(age)}-${String(hour).padStart(2, "0")}.ndjson${suffix}`
    const action = planWith(HOURLY, [name]).actions[0]!
    expect(action.ageDays).toBe(age)
    if (age > policy.maxAgeDays) expect([action._tag, action.reason]).toEqual(["Delete", "older-than-max-age"])
    else if (age <= policy.compressAgeDays && suffix !== ".gz.tmp") expect(action._tag).toBe("Skip")
    else expect(action._tag === "Delete" ? action.reason : "not deleted").not.toBe("older-than-max-age")
  })
})
