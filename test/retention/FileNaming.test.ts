import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as DatedFile from "../../src/retention/DatedFile.js"
import * as FileNaming from "../../src/retention/FileNaming.js"

const naming = (pattern: string) => Either.getOrThrow(FileNaming.fromPattern(pattern))
const DAILY_DOT = naming("{prefix}.{date}.log")
const HOURLY = naming("{prefix}-{date}-{hour}.ndjson")
const day = (year: number, month: number, d: number): FileNaming.Period => ({ unit: "day", year, month, day: d, hour: 0 })
const hour = (year: number, month: number, d: number, h: number): FileNaming.Period => ({ unit: "hour", year, month, day: d, hour: h })

describe("FileNaming: format and parse", () => {
  it.each([
    ["{prefix}-{date}.ndjson", "app", day(2026, 1, 31), "app-2026-01-31.ndjson"],
    ["{prefix}-{date}.ndjson", "dlq-orders-eu", day(2024, 2, 29), "dlq-orders-eu-2024-02-29.ndjson"],
    ["{prefix}.{date}.log", "app", day(2026, 1, 31), "app.2026-01-31.log"],
    ["{prefix}.{date}.log", "a.b", day(987, 3, 4), "a.b.0987-03-04.log"],
    ["{prefix}-{date}-{hour}.ndjson", "events", hour(2026, 1, 31, 13), "events-2026-01-31-13.ndjson"],
    ["{prefix}-{date}-{hour}.ndjson", "events", hour(2026, 12, 31, 0), "events-2026-12-31-00.ndjson"],
    ["{prefix}.log-{date}", "app", day(2026, 1, 31), "app.log-2026-01-31"],
    ["{prefix}{date}{hour}.log", "app1", hour(2026, 1, 31, 9), "app12026-01-3109.log"],
    ["{date}_{prefix}.jsonl", "relay", day(2026, 1, 31), "2026-01-31_relay.jsonl"],
    ["logs-{prefix}-{date}.txt", "x", day(2026, 1, 31), "logs-x-2026-01-31.txt"]
  ])("%s formats (%s, period) as %s, and parses it back", (pattern, prefix, period, name) => {
    const n = naming(pattern)
    expect(n.format(prefix, period)).toBe(name)
    for (const [suffix, kind] of [["", "plain"], [".gz", "gzip"], [".gz.tmp", "temp"]] as const) {
      expect(n.parse(name + suffix)).toEqual(Either.right({ name: name + suffix, prefix, period, kind, original: name }))
    }
  })

  it.each([
    ["{prefix}.{date}.log", "app.2023-02-29.log", "invalid-date"],
    ["{prefix}.{date}.log", "app.2026-13-01.log.gz", "invalid-date"],
    ["{prefix}-{date}-{hour}.ndjson", "app-2026-01-31-24.ndjson", "invalid-date"],
    ["{prefix}-{date}-{hour}.ndjson", "app-2026-02-30-10.ndjson", "invalid-date"],
    ["{prefix}.{date}.log", "app-2026-01-31.ndjson", "not-managed"],
    ["{prefix}.{date}.log", "app.2026-01-31.LOG", "not-managed"],
    ["{prefix}.{date}.log", ".2026-01-31.log", "not-managed"],
    ["{prefix}.{date}.log", "app.2026-01-31.log.tmp", "not-managed"],
    ["{prefix}-{date}-{hour}.ndjson", "app-2026-01-31.ndjson", "not-managed"],
    ["{prefix}-{date}-{hour}.ndjson", "app-2026-01-31-1.ndjson", "not-managed"],
    ["{prefix}-{date}.ndjson", "app-2026-01-31-13.ndjson", "not-managed"]
  ])("%s reads %j as %s", (pattern, name, reason) => {
    expect(naming(pattern).parse(name)).toEqual(Either.left(reason))
  })

  it("the date is the last one the pattern allows, so a prefix may hold a date", () => {
    const file = Either.getOrThrow(DAILY_DOT.parse("relay.2025-12-31.2026-01-31.log"))
    expect([file.prefix, file.period]).toEqual(["relay.2025-12-31", day(2026, 1, 31)])
  })

  it("the unit is hour exactly when the pattern has {hour}; periodOf takes the UTC day or hour", () => {
    const at = new Date("2026-01-31T23:59:59.999-02:00") // 2026-02-01T01:59:59.999Z
    expect([DAILY_DOT.unit, HOURLY.unit]).toEqual(["day", "hour"])
    expect(DAILY_DOT.periodOf(at)).toEqual(day(2026, 2, 1))
    expect(HOURLY.periodOf(at.getTime())).toEqual(hour(2026, 2, 1, 1))
    expect(FileNaming.nameAt(HOURLY, "e", at)).toBe("e-2026-02-01-01.ndjson")
  })

  it("a period starts at its UTC midnight or hour, ends at the next, and periods order by start", () => {
    expect(FileNaming.periodStart(hour(2026, 1, 31, 13))).toBe(Date.parse("2026-01-31T13:00:00Z"))
    expect(FileNaming.periodEnd(hour(2026, 1, 31, 23))).toBe(Date.parse("2026-02-01T00:00:00Z"))
    expect(FileNaming.periodStart(day(2024, 2, 29))).toBe(Date.parse("2024-02-29T00:00:00Z"))
    expect(FileNaming.periodEnd(day(2024, 2, 29))).toBe(Date.parse("2024-03-01T00:00:00Z"))
    const sorted = [hour(2026, 1, 31, 13), day(2026, 1, 31), hour(2026, 1, 30, 23), hour(2026, 1, 31, 2)].sort(FileNaming.PeriodOrder)
    expect(sorted).toEqual([hour(2026, 1, 30, 23), day(2026, 1, 31), hour(2026, 1, 31, 2), hour(2026, 1, 31, 13)])
  })

  it.each([
    ["23:00 yesterday is 1 day old at 00:10", hour(2026, 1, 31, 23), "2026-02-01T00:10:00Z", 1],
    ["00:00 today is 0 days old at 23:59", hour(2026, 2, 1, 0), "2026-02-01T23:59:59Z", 0],
    ["the next hour of a later day is in the future", hour(2026, 2, 2, 0), "2026-02-01T23:59:59Z", -1],
    ["over a leap day", hour(2024, 2, 28, 12), "2024-03-01T00:00:00Z", 2]
  ])("the age of an hour is the age of its day: %s", (_, period, today, age) => {
    expect(FileNaming.ageInDays(period, new Date(today))).toBe(age)
  })
})

describe("FileNaming.default is DatedFile's naming", () => {
  it("its pattern is {prefix}-{date}.ndjson, daily", () => {
    expect([FileNaming.default.pattern, FileNaming.default.unit]).toEqual(["{prefix}-{date}.ndjson", "day"])
  })

  it.prop("FileNaming.default.parse and DatedFile.parse accept and refuse the same names, with the same prefix, date and kind", [
    fc.tuple(
      fc.constantFrom("app", "dlq-orders-eu", "a", "-", "", "relay-2025-12-31", "x.y"),
      fc.constantFrom("-"),
      fc.oneof(
        fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        fc.date({ min: new Date("1000-01-01"), max: new Date("9999-12-31"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
      ),
      fc.constantFrom(".ndjson", ".ndjson.gz", ".ndjson.gz.tmp", ".ndjson.tmp", ".NDJSON", ".log", "")
    ).map((parts) => parts.join("")).chain((name) => fc.constantFrom(name, name.slice(1), `x${name}`))
  ], ([name]) => {
    const a = FileNaming.default.parse(name)
    const b = DatedFile.parse(name)
    if (Either.isLeft(a)) expect(b).toEqual(a)
    else {
      const { year, month, day: d } = a.right.period
      expect(Either.getOrThrow(b)).toEqual({
        name, prefix: a.right.prefix, date: FileNaming.formatDay(a.right.period), year, month, day: d,
        kind: a.right.kind === "plain" ? "ndjson" : a.right.kind, original: a.right.original
      })
    }
  })
})

describe("FileNaming.fromPattern: refused patterns", () => {
  it.each([
    ["", "missing-prefix"],
    ["{date}.log", "missing-prefix"],
    ["{prefix}.log", "missing-date"],
    ["{prefix}-{hour}.log", "hour-without-date"],
    ["{prefix}-{date}-{date}.log", "repeated-placeholder"],
    ["{prefix}-{prefix}-{date}.log", "repeated-placeholder"],
    ["{prefix}-{date}-{hour}{hour}.log", "repeated-placeholder"],
    ["{prefix}-{day}.log", "unknown-placeholder"],
    ["{prefix}-{Date}.log", "unknown-placeholder"],
    ["{prefix}-{}.log", "unknown-placeholder"],
    ["{prefix-{date}.log", "unbalanced-brace"],
    ["{prefix}-{date.log", "unbalanced-brace"],
    ["{prefix}-}{date}.log", "unbalanced-brace"],
    ["logs/{prefix}-{date}.log", "path-separator"],
    ["{prefix}\\{date}.log", "path-separator"],
    ["{prefix}-{date}.log\n", "control-character"],
    ["{prefix}\u0000{date}", "control-character"],
    ["{date}-{prefix}", "ambiguous-compression"],
    ["{date}-{prefix}.gz", "ambiguous-compression"],
    ["{date}-{prefix}z", "ambiguous-compression"],
    ["{date}-{prefix}.gz.tmp", "ambiguous-compression"],
    // A plain name that reads as a compressed file or a temp (reviewer finding 6: `x.ndjson.gz` was gzipped again).
    ["{prefix}-{date}.ndjson.gz", "ambiguous-compression"],
    ["{prefix}-{date}.ndjson.gz.tmp", "ambiguous-compression"],
    ["{prefix}-{date}.GZ", "ambiguous-compression"],
    ["{prefix}-{date}.tmp", "ambiguous-compression"]
  ])("%j is refused: %s", (pattern, reason) => {
    const result = FileNaming.fromPattern(pattern)
    expect(Either.isLeft(result) && [result.left._tag, result.left.reason, result.left.pattern]).toEqual(["InvalidPattern", reason, pattern])
    if (Either.isLeft(result)) {
      // The message names the pattern, what is wrong and what is accepted.
      expect(result.left.message).toContain(`invalid file name pattern ${JSON.stringify(pattern)}: ${result.left.detail}`)
      expect(result.left.message).toContain("expected text with {prefix} and {date} once each")
    }
  })

  it.each(["{prefix}{date}", "{date}{prefix}.log", "{prefix}.log-{date}", "{date}-{prefix}.log", "{prefix}{date}{hour}"])(
    "%j is accepted: placeholders may touch, and the compression suffix cannot be taken for the prefix",
    (pattern) => {
      expect(Either.isRight(FileNaming.fromPattern(pattern))).toBe(true)
    }
  )
})

describe("FileNaming round trip (property)", () => {
  const prefixes = fc.string({ unit: fc.constantFrom("a", "b", "-", ".", "_", "1", "9", "g", "z", "t", "m", "p", " ", "ü"), minLength: 1, maxLength: 12 })
  const periods = fc.date({ min: new Date("1000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })

  it.prop("for the patterns of the docs, parse(format(prefix, period)) is (prefix, period) for every valid prefix, in all three kinds", [
    fc.constantFrom("{prefix}-{date}.ndjson", "{prefix}.{date}.log", "{prefix}-{date}-{hour}.ndjson", "{prefix}.log-{date}", "{prefix}{date}{hour}"),
    fc.oneof(prefixes, fc.string({ minLength: 1, maxLength: 12 })),
    periods
  ], ([pattern, prefix, instant]) => {
    const n = naming(pattern)
    if (Either.isLeft(FileNaming.validatePrefix(n, prefix))) return
    const period = n.periodOf(instant)
    const name = n.format(prefix, period)
    for (const [suffix, kind] of [["", "plain"], [".gz", "gzip"], [".gz.tmp", "temp"]] as const) {
      expect(n.parse(name + suffix)).toEqual(Either.right({ name: name + suffix, prefix, period, kind, original: name }))
    }
  })

  it.prop("prefixes of letters, digits, dashes, dots, underscores and spaces are valid for every accepted pattern", [
    fc.constantFrom("{prefix}-{date}.ndjson", "{prefix}.{date}.log", "{prefix}-{date}-{hour}.ndjson", "{date}_{prefix}.jsonl"),
    prefixes
  ], ([pattern, prefix]) => {
    expect(FileNaming.validatePrefix(naming(pattern), prefix)).toEqual(Either.right(prefix))
  })

  // Patterns built from pieces that invite confusion (digits, dashes, ".gz" fragments, touching
  // placeholders): every pattern fromPattern accepts reads each of its names one way only.
  const piece = fc.constantFrom("{prefix}", "{date}", "{hour}", "-", ".", ".gz", "g", "z", ".tmp", "1", "-2026", "_", ".log")
  it.prop("every accepted pattern parses its names back, whatever the pieces", [
    fc.array(piece, { minLength: 1, maxLength: 6 }).map((ps) => ps.join("")),
    prefixes,
    periods
  ], ([pattern, prefix, instant]) => {
    const built = FileNaming.fromPattern(pattern)
    if (Either.isLeft(built)) return
    const n = built.right
    if (Either.isLeft(FileNaming.validatePrefix(n, prefix))) return
    const period = n.periodOf(instant)
    const name = n.format(prefix, period)
    for (const [suffix, kind] of [["", "plain"], [".gz", "gzip"], [".gz.tmp", "temp"]] as const) {
      expect(n.parse(name + suffix)).toEqual(Either.right({ name: name + suffix, prefix, period, kind, original: name }))
    }
  }, { fastCheck: { numRuns: 2000 } })
})

describe("FileNaming.validatePrefix", () => {
  it.each([
    ["", "empty", "it is empty"],
    ["a/b", "path-separator", "path separator"],
    ["a\tb", "control-character", "control character"],
    ["ev\u2028ents", "not-parseable", "\"ev\u2028ents.YYYY-MM-DD.log\" would not be recognized by the retention sweep"]
  ])("prefix %j is refused for {prefix}.{date}.log: reason %s (%s)", (prefix, reason, text) => {
    const result = FileNaming.validatePrefix(DAILY_DOT, prefix)
    expect(Either.isLeft(result) && [result.left._tag, result.left.reason, result.left.message])
      .toEqual(["InvalidPrefix", reason, expect.stringContaining(text)])
  })
})
