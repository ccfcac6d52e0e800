/**
 * The names retention manages: daily files `<prefix>-YYYY-MM-DD.ndjson`, their compressed
 * form `<prefix>-YYYY-MM-DD.ndjson.gz`, and the `<…>.ndjson.gz.tmp` a compression in
 * progress (or interrupted by a crash) writes first. Pure functions, no I/O.
 *
 * The date is the last three dash-separated parts before the extension, so the prefix may
 * itself contain dashes (`dlq-orders-eu-2026-01-31.ndjson` has prefix `dlq-orders-eu`).
 * The prefix must not be empty, the date must be a real calendar date (`2024-02-29` is,
 * `2023-02-29` and `2024-02-30` are not), and matching is case-sensitive. Dates are UTC days.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { DatedFile } from "effect-logrotate"
 *
 * const file = Either.getOrThrow(DatedFile.parse("dlq-orders-eu-2026-01-31.ndjson.gz"))
 * file.prefix // "dlq-orders-eu"
 * file.kind // "gzip"
 * DatedFile.ageInDays(file, new Date("2026-02-02T23:59:00Z")) // 2
 * ```
 */
import * as Either from "effect/Either"

/** Suffix of a compressed file. */
export const GZIP_SUFFIX = ".gz"
/** Suffix of a compression in progress; renamed to `.gz` once complete and synced. */
export const TEMP_SUFFIX = ".gz.tmp"

/** A calendar day (proleptic Gregorian, UTC). */
export interface Day {
  readonly year: number
  /** 1–12 */
  readonly month: number
  /** 1–31 */
  readonly day: number
}

/** A managed name, taken apart. */
export interface DatedFile extends Day {
  /** The whole name, e.g. `app-2026-01-31.ndjson.gz`. */
  readonly name: string
  /** Everything before `-YYYY-MM-DD`, e.g. `app`. Never empty. */
  readonly prefix: string
  /** `YYYY-MM-DD` as written in the name. */
  readonly date: string
  /** `ndjson`: the daily file; `gzip`: its compressed form; `temp`: a compression not yet complete. */
  readonly kind: "ndjson" | "gzip" | "temp"
  /** The name of the uncompressed daily file this name belongs to, e.g. `app-2026-01-31.ndjson`. */
  readonly original: string
}

/** Why a name is not managed: it does not have the shape, or it has it with a date that does not exist. */
export type NotManaged = "not-managed" | "invalid-date"

const SHAPE = /^(.+)-(\d{4})-(\d{2})-(\d{2})\.ndjson(\.gz(\.tmp)?)?$/

/** Whether `year-month-day` exists in the Gregorian calendar. */
export const isValidDay = ({ year, month, day }: Day): boolean =>
  Number.isInteger(year) && Number.isInteger(month) && Number.isInteger(day) &&
  month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const daysInMonth = (year: number, month: number) =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31

/**
 * Parses a file name (not a path).
 *
 * @example
 * ```ts
 * DatedFile.parse("app-2024-02-29.ndjson") // Either.right({ prefix: "app", date: "2024-02-29", kind: "ndjson", … })
 * DatedFile.parse("app-2024-02-30.ndjson") // Either.left("invalid-date")
 * DatedFile.parse("app.log") // Either.left("not-managed")
 * ```
 */
export const parse = (name: string): Either.Either<DatedFile, NotManaged> => {
  const match = SHAPE.exec(name)
  if (match === null) return Either.left("not-managed")
  const [, prefix = "", y = "", m = "", d = "", gz, tmp] = match
  const day = { year: Number(y), month: Number(m), day: Number(d) }
  if (!isValidDay(day)) return Either.left("invalid-date")
  const kind = tmp !== undefined ? "temp" : gz !== undefined ? "gzip" : "ndjson"
  const date = `${y}-${m}-${d}`
  return Either.right({ name, prefix, date, ...day, kind, original: `${prefix}-${date}.ndjson` })
}

/**
 * Days since 0000-03-01 (an arbitrary epoch), by Howard Hinnant's `days_from_civil`: exact
 * integer arithmetic for every year, where `Date.UTC` maps years 0–99 to 1900–1999.
 */
const dayNumber = ({ year, month, day }: Day): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra
}

/**
 * The UTC calendar day of an instant.
 *
 * @example
 * ```ts
 * DatedFile.utcDay(new Date("2026-01-31T23:59:59Z")) // { year: 2026, month: 1, day: 31 }
 * ```
 */
export const utcDay = (instant: Date): Day => ({
  year: instant.getUTCFullYear(), month: instant.getUTCMonth() + 1, day: instant.getUTCDate()
})

/**
 * `YYYY-MM-DD` of a day.
 *
 * @example
 * ```ts
 * DatedFile.formatDay({ year: 2026, month: 1, day: 5 }) // "2026-01-05"
 * ```
 */
export const formatDay = ({ year, month, day }: Day): string =>
  `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`

/**
 * Whole days from `date` to the UTC day of `today`: 0 for today's file, 1 for yesterday's,
 * negative for a future date. The time of day of `today` does not matter.
 *
 * @example
 * ```ts
 * DatedFile.ageInDays({ year: 2024, month: 2, day: 28 }, new Date("2024-03-01T00:00:00Z")) // 2 (leap year)
 * ```
 */
export const ageInDays = (date: Day, today: Date | Day): number =>
  dayNumber(today instanceof Date ? utcDay(today) : today) - dayNumber(date)
