import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as DatedFile from "../../src/retention/DatedFile.js"

describe("DatedFile.parse", () => {
  it.each([
    ["app-2026-01-31.ndjson", "app", "2026-01-31", "ndjson", "app-2026-01-31.ndjson"],
    ["app-2026-01-31.ndjson.gz", "app", "2026-01-31", "gzip", "app-2026-01-31.ndjson"],
    ["app-2026-01-31.ndjson.gz.tmp", "app", "2026-01-31", "temp", "app-2026-01-31.ndjson"],
    ["dlq-orders-eu-2026-01-31.ndjson", "dlq-orders-eu", "2026-01-31", "ndjson", "dlq-orders-eu-2026-01-31.ndjson"],
    ["relay-2025-12-31-2026-01-31.ndjson", "relay-2025-12-31", "2026-01-31", "ndjson", "relay-2025-12-31-2026-01-31.ndjson"],
    ["a-2024-02-29.ndjson", "a", "2024-02-29", "ndjson", "a-2024-02-29.ndjson"],
    ["a-2000-02-29.ndjson", "a", "2000-02-29", "ndjson", "a-2000-02-29.ndjson"],
    ["a.b_c-1999-12-31.ndjson.gz", "a.b_c", "1999-12-31", "gzip", "a.b_c-1999-12-31.ndjson"],
    ["--2026-01-31.ndjson", "-", "2026-01-31", "ndjson", "--2026-01-31.ndjson"]
  ])("%s has prefix %s, date %s, kind %s", (name, prefix, date, kind, original) => {
    const file = Either.getOrThrow(DatedFile.parse(name))
    expect({ prefix: file.prefix, date: file.date, kind: file.kind, original: file.original, name: file.name })
      .toEqual({ prefix, date, kind, original, name })
  })

  it.each([
    ["2023-02-29 (not a leap year)", "app-2023-02-29.ndjson"],
    ["2024-02-30", "app-2024-02-30.ndjson"],
    ["1900-02-29 (century, not a leap year)", "app-1900-02-29.ndjson"],
    ["2026-04-31", "app-2026-04-31.ndjson.gz"],
    ["month 13", "app-2026-13-01.ndjson"],
    ["month 00", "app-2026-00-10.ndjson"],
    ["day 00", "app-2026-01-00.ndjson"],
    ["day 32", "app-2026-01-32.ndjson.gz.tmp"]
  ])("an impossible date is invalid-date: %s", (_, name) => {
    expect(DatedFile.parse(name)).toEqual(Either.left("invalid-date"))
  })

  it.each([
    "app.ndjson", "2026-01-31.ndjson", "-2026-01-31.ndjson", "-2026-01-31.ndjson.tmp", "app-2026-01-31.log", "app-2026-01-31.ndjson.bak",
    "app-2026-01-31.NDJSON", "app-2026-1-31.ndjson", "app-26-01-31.ndjson", "app-2026-01-31.ndjson.tmp",
    "app-2026-01-31.ndjson.gz.gz", "app_2026-01-31.ndjson", "app-2026-01-31", ".app-2026-01-31.ndjson.swp", ""
  ])("%j is not managed", (name) => {
    expect(DatedFile.parse(name)).toEqual(Either.left("not-managed"))
  })

  it.prop("every real date round-trips through a name", [fc.date({ min: new Date("1000-01-01"), max: new Date("9999-12-31"), noInvalidDate: true })], ([d]) => {
    const date = d.toISOString().slice(0, 10)
    const file = Either.getOrThrow(DatedFile.parse(`my-app-${date}.ndjson.gz`))
    expect([file.prefix, file.date, file.year, file.month, file.day])
      .toEqual(["my-app", date, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()])
  })
})

describe("DatedFile.ageInDays", () => {
  it.each([
    ["same day, any time", "2026-01-31", "2026-01-31T23:59:59.999Z", 0],
    ["yesterday, just after midnight UTC", "2026-01-30", "2026-01-31T00:00:00.000Z", 1],
    ["future", "2026-02-01", "2026-01-31T12:00:00Z", -1],
    ["over a leap day", "2024-02-28", "2024-03-01T00:00:00Z", 2],
    ["over Feb in a common year", "2023-02-28", "2023-03-01T00:00:00Z", 1],
    ["over a year end", "2025-12-31", "2026-01-01T00:00:00Z", 1],
    ["a leap year", "2024-01-01", "2025-01-01T00:00:00Z", 366],
    ["year 2000 (leap)", "2000-01-01", "2001-01-01T00:00:00Z", 366]
  ])("%s", (_, date, today, age) => {
    const file = Either.getOrThrow(DatedFile.parse(`app-${date}.ndjson`))
    expect(DatedFile.ageInDays(file, new Date(today))).toBe(age)
  })

  it.prop("agrees with Date arithmetic on UTC days", [
    fc.date({ min: new Date("1970-01-01"), max: new Date("2200-01-01"), noInvalidDate: true }),
    fc.date({ min: new Date("1970-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
  ], ([file, today]) => {
    const expected = (Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) -
      Date.UTC(file.getUTCFullYear(), file.getUTCMonth(), file.getUTCDate())) / 86_400_000
    expect(DatedFile.ageInDays(DatedFile.utcDay(file), today)).toBe(expected)
  })

  it("formatDay pads years, months and days", () => {
    expect(DatedFile.formatDay({ year: 987, month: 3, day: 4 })).toBe("0987-03-04")
  })
})
