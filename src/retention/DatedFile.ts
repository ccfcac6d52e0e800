/**
 * The names retention manages: daily files `<prefix>-YYYY-MM-DD.ndjson`, their compressed
 * form `<prefix>-YYYY-MM-DD.ndjson.gz`, and the `<…>.ndjson.gz.tmp` a compression in
 * progress (or interrupted by a crash) writes first. Pure functions, no I/O.
 *
 * The date is the last three dash-separated parts before the extension, so the prefix may
 * itself contain dashes (`dlq-orders-eu-2026-01-31.ndjson` has prefix `dlq-orders-eu`).
 *
 * Since 0.2.0 these are the names of `FileNaming.default`, and this module reads them through it;
 * `FileNaming` also handles other patterns (`{prefix}.{date}.log`) and hourly files. New code
 * should use `FileNaming`; this module stays for the programs that use it.
 * The prefix must not be empty, the date must be a real calendar date (`2024-02-29` is,
 * `2023-02-29` and `2024-02-30` are not), and matching is case-sensitive. Dates are UTC days.
 *
 * Needs nothing in context.
 *
 * @since 0.1.0
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
import * as FileNaming from "./FileNaming.js"
import * as Calendar from "./internal/Calendar.js"

/**
 * Suffix of a compressed file.
 *
 * @since 0.1.0
 */
export const GZIP_SUFFIX = FileNaming.GZIP_SUFFIX
/**
 * Suffix of a compression in progress; renamed to `.gz` once complete and synced.
 *
 * @since 0.1.0
 */
export const TEMP_SUFFIX = FileNaming.TEMP_SUFFIX

/**
 * A calendar day (proleptic Gregorian, UTC).
 *
 * @since 0.1.0
 */
export type Day = Calendar.Day

/**
 * A managed name, taken apart.
 *
 * @since 0.1.0
 */
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

/**
 * Why a name is not managed: it does not have the shape, or it has it with a date that does not exist.
 *
 * @since 0.1.0
 */
export type NotManaged = FileNaming.NotManaged

/**
 * Whether `year-month-day` exists in the Gregorian calendar.
 *
 * @since 0.1.0
 */
export const isValidDay: (day: Day) => boolean = Calendar.isValidDay

/**
 * Parses a file name (not a path): `FileNaming.default.parse`, with the kind `plain` called `ndjson`.
 *
 * @deprecated Since 0.2.0: use `FileNaming.default.parse` (or the `parse` of your naming).
 * @example
 * ```ts
 * DatedFile.parse("app-2024-02-29.ndjson") // Either.right({ prefix: "app", date: "2024-02-29", kind: "ndjson", … })
 * DatedFile.parse("app-2024-02-30.ndjson") // Either.left("invalid-date")
 * DatedFile.parse("app.log") // Either.left("not-managed")
 * ```
 *
 * @since 0.1.0
 */
export const parse = (name: string): Either.Either<DatedFile, NotManaged> =>
  Either.map(FileNaming.default.parse(name), ({ prefix, period: { year, month, day }, kind, original }) => ({
    name, prefix, date: Calendar.formatDay({ year, month, day }), year, month, day,
    kind: kind === "plain" ? "ndjson" : kind, original
  }))

/**
 * The UTC calendar day of an instant.
 *
 * @example
 * ```ts
 * DatedFile.utcDay(new Date("2026-01-31T23:59:59Z")) // { year: 2026, month: 1, day: 31 }
 * ```
 *
 * @since 0.1.0
 */
export const utcDay: (instant: Date) => Day = Calendar.utcDay

/**
 * `YYYY-MM-DD` of a day.
 *
 * @example
 * ```ts
 * DatedFile.formatDay({ year: 2026, month: 1, day: 5 }) // "2026-01-05"
 * ```
 *
 * @since 0.1.0
 */
export const formatDay: (day: Day) => string = Calendar.formatDay

/**
 * Whole days from `date` to the UTC day of `today`: 0 for today's file, 1 for yesterday's,
 * negative for a future date. The time of day of `today` does not matter.
 *
 * @example
 * ```ts
 * DatedFile.ageInDays({ year: 2024, month: 2, day: 28 }, new Date("2024-03-01T00:00:00Z")) // 2 (leap year)
 * ```
 *
 * @since 0.1.0
 */
export const ageInDays: (date: Day, today: Date | Day) => number = Calendar.ageInDays
