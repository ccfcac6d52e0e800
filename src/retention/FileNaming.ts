/**
 * How dated log files are named, as a value: a `FileNaming` formats a prefix and a period (a
 * UTC day, or a UTC hour) into a file name, and parses a name back into its prefix, period
 * and kind. `DailyAppender` writes the names it formats; `RetentionPlan` and `Sweeper` manage
 * the names it parses; `LogrotateConfig` renders the logrotate settings that produce them. Pure.
 *
 * A naming is built from a pattern: literal text with placeholders
 * - `{prefix}` (required, once): the writer's prefix, any non-empty text;
 * - `{date}` (required, once): the UTC day, `YYYY-MM-DD`;
 * - `{hour}` (optional, once, only with `{date}`): the UTC hour, `HH` (00–23). A pattern with
 *   `{hour}` names hourly files: its periods are hours, and a writer starts a new file every hour.
 *
 * `FileNaming.default` is `{prefix}-{date}.ndjson`, ADR-0016's names (the ones
 * `DatedFile.parse` reads). For every naming, the name of a file's compressed form is its name
 * plus `.gz`, and a compression in progress (or interrupted by a crash) writes `<name>.gz.tmp`.
 *
 * Parsing: the date and hour are fixed-width digits, so the prefix is the only part whose length
 * varies, and a name has at most one reading: `{prefix}-{date}.log` reads
 * `dlq-orders-2026-01-01-2026-01-31.log` as prefix `dlq-orders-2026-01-01` (the date is the last
 * `YYYY-MM-DD` the pattern allows). Placeholders may touch (`{prefix}{date}`), since that stays
 * unambiguous. Matching is case-sensitive. A name of the right shape whose date is not a real
 * calendar day (`2023-02-29`), or whose hour is over 23, is `invalid-date`; any other name is
 * `not-managed`.
 *
 * Building checks the pattern can be parsed back (`fromPattern` returns `InvalidPattern` with a
 * matchable `reason` otherwise): both required placeholders, none twice, `{hour}` only with
 * `{date}`, no unknown placeholder or stray brace, no path separator or control character, and no
 * pattern whose compressed names could also read as a longer prefix's file (`{date}-{prefix}`:
 * `2026-01-31-app.gz` would be both `app` compressed and the file of prefix `app.gz`).
 *
 * Periods are UTC. The age of a period in days is the age of its day: an hourly file from
 * 23:00 yesterday is 1 day old, like every other hour of yesterday.
 *
 * Needs nothing in context; building a naming from a pattern returns an `Either`, never throws.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { FileNaming } from "effect-logrotate"
 *
 * const hourly = Either.getOrThrow(FileNaming.fromPattern("{prefix}-{date}-{hour}.ndjson"))
 * hourly.format("events", hourly.periodOf(new Date("2026-01-31T13:45:00Z"))) // "events-2026-01-31-13.ndjson"
 * const file = Either.getOrThrow(hourly.parse("events-2026-01-31-13.ndjson.gz"))
 * file.prefix // "events"
 * file.kind // "gzip"
 * FileNaming.ageInDays(file.period, new Date("2026-02-02T00:30:00Z")) // 2
 *
 * FileNaming.fromPattern("{prefix}.log") // Either.left(InvalidPattern { reason: "missing-date", … })
 * ```
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import type * as Order from "effect/Order"
import * as Calendar from "./internal/Calendar.js"
import { InvalidPrefix, type InvalidPrefixReason } from "../Errors.js"

/**
 * Suffix of a compressed file.
 *
 * @since 0.2.0
 */
export const GZIP_SUFFIX = ".gz"

/**
 * Suffix of a compression in progress; renamed to `.gz` once complete and synced.
 *
 * @since 0.2.0
 */
export const TEMP_SUFFIX = ".gz.tmp"

/**
 * The pattern of `FileNaming.default`.
 *
 * @since 0.2.0
 */
export const DEFAULT_PATTERN = "{prefix}-{date}.ndjson"

/**
 * A calendar day (proleptic Gregorian, UTC).
 *
 * @since 0.2.0
 */
export type Day = Calendar.Day

/**
 * How long one file's period is: a UTC day, or a UTC hour.
 *
 * @since 0.2.0
 */
export type Unit = "day" | "hour"

/**
 * The period a file covers: a UTC day (`unit: "day"`, `hour` 0) or a UTC hour of a day.
 *
 * @since 0.2.0
 */
export interface Period extends Day {
  readonly unit: Unit
  /** 0–23; always 0 when `unit` is `"day"`. */
  readonly hour: number
}

/**
 * What a managed name is: the file itself (`plain`), its compressed form (`gzip`, `<name>.gz`),
 * or a compression not yet complete (`temp`, `<name>.gz.tmp`).
 *
 * @since 0.2.0
 */
export type Kind = "plain" | "gzip" | "temp"

/**
 * A managed name, taken apart.
 *
 * @since 0.2.0
 */
export interface Named {
  /** The whole name, e.g. `app-2026-01-31.ndjson.gz`. */
  readonly name: string
  /** The text `{prefix}` stood for, e.g. `app`. Never empty. */
  readonly prefix: string
  readonly period: Period
  readonly kind: Kind
  /** The name of the uncompressed file this name belongs to, e.g. `app-2026-01-31.ndjson`. */
  readonly original: string
}

/**
 * Why a name is not managed: it does not have the shape, or it has it with a date (or hour)
 * that does not exist.
 *
 * @since 0.2.0
 */
export type NotManaged = "not-managed" | "invalid-date"

/**
 * A placeholder of a pattern.
 *
 * @since 0.2.0
 */
export type Placeholder = "prefix" | "date" | "hour"

/**
 * One part of a pattern: literal text, or a placeholder.
 *
 * @since 0.2.0
 */
export type Segment =
  | { readonly _tag: "Literal"; readonly text: string }
  | { readonly _tag: "Placeholder"; readonly name: Placeholder }

/**
 * A file naming: formats and parses the names of one pattern. Build one with `fromPattern`, or
 * use `FileNaming.default`.
 *
 * @since 0.2.0
 */
export interface FileNaming {
  /** The pattern it was built from, e.g. `{prefix}-{date}.ndjson`. */
  readonly pattern: string
  /** `"hour"` when the pattern has `{hour}`, otherwise `"day"`. */
  readonly unit: Unit
  /** The pattern, split into literals and placeholders, in order. */
  readonly segments: ReadonlyArray<Segment>
  /**
   * The name of `prefix`'s (uncompressed) file for `period`. A daily naming writes the period's
   * day whatever its unit; an hourly one writes hour 00 for a day period.
   */
  readonly format: (prefix: string, period: Period) => string
  /** Takes a file name (not a path) apart. */
  readonly parse: (name: string) => Either.Either<Named, NotManaged>
  /** The period (of this naming's unit) that contains `instant`, in UTC. */
  readonly periodOf: (instant: Date | number) => Period
}

/**
 * Why a pattern was refused:
 * - `missing-prefix`, `missing-date`: a required placeholder is absent;
 * - `repeated-placeholder`: a placeholder appears twice;
 * - `hour-without-date`: `{hour}` without `{date}`;
 * - `unknown-placeholder`: `{name}` other than `{prefix}`, `{date}`, `{hour}`;
 * - `unbalanced-brace`: a `{` without its `}`, or a `}` without its `{`;
 * - `path-separator`: `/` or `\` (a naming names files in one directory);
 * - `control-character`: a character below U+0020, or U+007F;
 * - `ambiguous-compression`: a compressed name could also read as the uncompressed file of a
 *   longer prefix (the pattern ends with `{prefix}`, or with text `.gz` can be taken for), or
 *   the pattern ends with `.gz` or `.tmp` (a plain name would read as a compressed file or a temp).
 *
 * @since 0.2.0
 */
export type InvalidPatternReason =
  | "missing-prefix"
  | "missing-date"
  | "repeated-placeholder"
  | "hour-without-date"
  | "unknown-placeholder"
  | "unbalanced-brace"
  | "path-separator"
  | "control-character"
  | "ambiguous-compression"

/**
 * A pattern that cannot be parsed back unambiguously. `reason` is what code matches on; the
 * message names the pattern, what is wrong with it, and what is accepted.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const result = FileNaming.fromPattern("{prefix}-{day}.log")
 * Either.isLeft(result) && result.left.reason // "unknown-placeholder"
 * ```
 */
export class InvalidPattern extends Data.TaggedError("InvalidPattern")<{
  readonly pattern: string
  readonly reason: InvalidPatternReason
  /** What is wrong, in words, e.g. `unknown placeholder {day}`. */
  readonly detail: string
}> {
  override get message() {
    return `invalid file name pattern ${JSON.stringify(this.pattern)}: ${this.detail}; ${ACCEPTED}`
  }
}

const ACCEPTED = "expected text with {prefix} and {date} once each and optionally {hour} once, " +
  "no / or \\ and no control character, e.g. \"{prefix}-{date}.ndjson\", \"{prefix}.{date}.log\" or \"{prefix}-{date}-{hour}.ndjson\""

const PLACEHOLDERS: ReadonlySet<string> = new Set<Placeholder>(["prefix", "date", "hour"])

/** Splits a pattern into segments, or says why it cannot. */
const tokenize = (pattern: string): Either.Either<ReadonlyArray<Segment>, InvalidPattern> => {
  const fail = (reason: InvalidPatternReason, detail: string) =>
    Either.left(new InvalidPattern({ pattern, reason, detail }))
  const control = /[\u0000-\u001f\u007f]/.exec(pattern)
  if (control) return fail("control-character", `it contains the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`)
  if (/[/\\]/.test(pattern)) return fail("path-separator", "it contains a path separator (a naming names files in one directory)")
  const segments: Array<Segment> = []
  const seen = new Set<string>()
  let literal = ""
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]!
    if (c === "}") return fail("unbalanced-brace", `the "}" at position ${i} closes no placeholder`)
    if (c !== "{") {
      literal += c
      i++
      continue
    }
    const close = pattern.indexOf("}", i + 1)
    const open = pattern.indexOf("{", i + 1)
    if (close === -1 || (open !== -1 && open < close)) return fail("unbalanced-brace", `the "{" at position ${i} is not closed`)
    const name = pattern.slice(i + 1, close)
    if (!PLACEHOLDERS.has(name)) return fail("unknown-placeholder", `unknown placeholder {${name}}`)
    if (seen.has(name)) return fail("repeated-placeholder", `{${name}} appears more than once`)
    seen.add(name)
    if (literal !== "") segments.push({ _tag: "Literal", text: literal })
    literal = ""
    segments.push({ _tag: "Placeholder", name: name as Placeholder })
    i = close + 1
  }
  if (literal !== "") segments.push({ _tag: "Literal", text: literal })
  if (!seen.has("prefix")) return fail("missing-prefix", "it has no {prefix}")
  if (!seen.has("date")) {
    return seen.has("hour")
      ? fail("hour-without-date", "it has {hour} without {date} (an hour is an hour of a day)")
      : fail("missing-date", "it has no {date}")
  }
  return Either.right(segments)
}

/** One character of a name template: itself, or `DIGIT` (any of 0–9). */
const DIGIT = "\u0000" // control characters never appear in a valid pattern
const templateOf = (segments: ReadonlyArray<Segment>): string =>
  segments.map((s) =>
    s._tag === "Literal" ? s.text : s.name === "date" ? `${DIGIT.repeat(4)}-${DIGIT.repeat(2)}-${DIGIT.repeat(2)}` : DIGIT.repeat(2)
  ).join("")

const isDigit = (c: string) => c >= "0" && c <= "9"
const fits = (a: string, b: string) => a === b || (a === DIGIT && isDigit(b)) || (b === DIGIT && isDigit(a))

/**
 * Whether some name has two readings. The prefix is the only part of variable length, so two
 * readings of one name have different suffixes (`""`, `.gz`, `.gz.tmp`) and prefixes whose
 * lengths differ by as much: `<prefix><tail><long>` = `<prefix + w><tail'><short>` for some
 * `w` of length `|long| - |short|`, where `tail` is what follows `{prefix}` (literals and
 * digits). That holds for some digits exactly when, dropping `|w|` characters from the front
 * of `tail + long`, every remaining position can equal `tail + short` at the same position.
 */
const ambiguousCompression = (segments: ReadonlyArray<Segment>): boolean => {
  const at = segments.findIndex((s) => s._tag === "Placeholder" && s.name === "prefix")
  const tail = templateOf(segments.slice(at + 1))
  const suffixes = ["", GZIP_SUFFIX, TEMP_SUFFIX]
  for (const long of suffixes) {
    for (const short of suffixes) {
      if (long.length <= short.length) continue
      const a = tail + long
      const b = tail + short
      const shift = long.length - short.length
      let all = true
      for (let k = 0; k < b.length && all; k++) all = fits(a[shift + k]!, b[k]!)
      if (all) return true
    }
  }
  return false
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
const pad2 = (n: number) => String(n).padStart(2, "0")

const build = (pattern: string, segments: ReadonlyArray<Segment>): FileNaming => {
  const unit: Unit = segments.some((s) => s._tag === "Placeholder" && s.name === "hour") ? "hour" : "day"
  // Capture groups: prefix, then year/month/day, then hour, in pattern order; then the suffix.
  let source = "^"
  let group = 1
  let prefixGroup = 0
  let dateGroup = 0
  let hourGroup = 0
  for (const s of segments) {
    if (s._tag === "Literal") source += escapeRegExp(s.text)
    else if (s.name === "prefix") {
      source += "(.+)"
      prefixGroup = group++
    } else if (s.name === "date") {
      source += "(\\d{4})-(\\d{2})-(\\d{2})"
      dateGroup = group
      group += 3
    } else {
      source += "(\\d{2})"
      hourGroup = group++
    }
  }
  const gzGroup = group
  const tmpGroup = group + 1
  const regex = new RegExp(`${source}(\\.gz(\\.tmp)?)?$`)

  const format = (prefix: string, period: Period): string => {
    let name = ""
    for (const s of segments) {
      if (s._tag === "Literal") name += s.text
      else if (s.name === "prefix") name += prefix
      else if (s.name === "date") name += Calendar.formatDay(period)
      else name += pad2(unit === "hour" && period.unit === "hour" ? period.hour : 0)
    }
    return name
  }

  const parse = (name: string): Either.Either<Named, NotManaged> => {
    const match = regex.exec(name)
    if (match === null) return Either.left("not-managed")
    const year = Number(match[dateGroup])
    const month = Number(match[dateGroup + 1])
    const day = Number(match[dateGroup + 2])
    const hour = hourGroup === 0 ? 0 : Number(match[hourGroup])
    if (!Calendar.isValidDay({ year, month, day }) || hour > 23) return Either.left("invalid-date")
    const gz = match[gzGroup]
    const kind: Kind = match[tmpGroup] !== undefined ? "temp" : gz !== undefined ? "gzip" : "plain"
    return Either.right({
      name,
      prefix: match[prefixGroup]!,
      period: { unit, year, month, day, hour },
      kind,
      original: gz === undefined ? name : name.slice(0, name.length - gz.length)
    })
  }

  const periodOf = (instant: Date | number): Period => {
    const date = typeof instant === "number" ? new Date(instant) : instant
    return { unit, ...Calendar.utcDay(date), hour: unit === "hour" ? date.getUTCHours() : 0 }
  }

  return { pattern, unit, segments, format, parse, periodOf }
}

/**
 * Builds the naming of `pattern`, or says why the pattern cannot be parsed back.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * FileNaming.fromPattern("{prefix}.{date}.log") // Either.right(FileNaming)
 * FileNaming.fromPattern("{date}-{prefix}") // Either.left(InvalidPattern { reason: "ambiguous-compression", … })
 * ```
 */
export const fromPattern = (pattern: string): Either.Either<FileNaming, InvalidPattern> =>
  Either.flatMap(tokenize(pattern), (segments) =>
    // A plain name ending in `.gz` or `.tmp` would be another naming's compressed file or temp:
    // the sweep would compress a .gz again (`x.gz.gz`) or take another sweep's temp for a log.
    /\.(gz|tmp)$/i.test(pattern)
      ? Either.left(new InvalidPattern({
        pattern,
        reason: "ambiguous-compression",
        detail: "a plain name ending in .gz or .tmp would be read as a compressed file or a compression's temporary; " +
          "end the pattern with the log's own extension, such as \".log\" or \".ndjson\""
      }))
      : ambiguousCompression(segments)
      ? Either.left(new InvalidPattern({
        pattern,
        reason: "ambiguous-compression",
        detail: "a compressed name (<name>.gz) could also be read as the file of a longer prefix; " +
          "end the pattern with text after {prefix}, such as an extension (\".log\")"
      }))
      : Either.right(build(pattern, segments)))

/**
 * `{prefix}-{date}.ndjson`: ADR-0016's daily names, `<prefix>-YYYY-MM-DD.ndjson`, the naming
 * used wherever none is given. Parses exactly the names `DatedFile.parse` does. Exported as
 * `default` (`FileNaming.default`).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * FileNaming.default.format("app", FileNaming.default.periodOf(new Date("2026-01-31T12:00:00Z"))) // "app-2026-01-31.ndjson"
 * ```
 */
const defaultNaming: FileNaming = Either.getOrThrow(fromPattern(DEFAULT_PATTERN))

export { defaultNaming as default }

/**
 * Epoch milliseconds at which `period` starts (UTC midnight of its day, plus its hour).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * FileNaming.periodStart({ unit: "hour", year: 2026, month: 1, day: 31, hour: 13 }) // Date.parse("2026-01-31T13:00:00Z")
 * ```
 */
export const periodStart = (period: Period): number =>
  Calendar.dayStartMillis(period) + (period.unit === "hour" ? period.hour * Calendar.HOUR_MS : 0)

/**
 * Epoch milliseconds at which `period` ends (the start of the next one; exclusive).
 *
 * @since 0.2.0
 */
export const periodEnd = (period: Period): number =>
  periodStart(period) + (period.unit === "hour" ? Calendar.HOUR_MS : Calendar.DAY_MS)

/**
 * Orders periods by their start (a day sorts with its hour 00).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * files.sort((a, b) => FileNaming.PeriodOrder(a.period, b.period))
 * ```
 */
export const PeriodOrder: Order.Order<Period> = (a, b) => {
  const x = periodStart(a)
  const y = periodStart(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * Whole days from the day of `period` to the UTC day of `today`: 0 for every period of today,
 * 1 for every period of yesterday, negative in the future. The hours do not matter.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const period: FileNaming.Period = { unit: "hour", year: 2026, month: 1, day: 31, hour: 23 }
 * FileNaming.ageInDays(period, new Date("2026-02-01T00:10:00Z")) // 1
 * ```
 */
export const ageInDays = (period: Day, today: Date | Day): number => Calendar.ageInDays(period, today)

/**
 * `YYYY-MM-DD` of a day (or of a period's day).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * FileNaming.formatDay({ year: 2026, month: 1, day: 5 }) // "2026-01-05"
 * ```
 */
export const formatDay = (day: Day): string => Calendar.formatDay(day)

/**
 * The name `naming` gives `prefix`'s file at `instant`: `naming.format(prefix, naming.periodOf(instant))`.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * FileNaming.nameAt(FileNaming.default, "events", new Date("2026-01-31T23:59:59Z")) // "events-2026-01-31.ndjson"
 * ```
 */
export const nameAt = (naming: FileNaming, prefix: string, instant: Date | number): string =>
  naming.format(prefix, naming.periodOf(instant))

/**
 * The pattern with `{prefix}` replaced and the other placeholders shown as `YYYY-MM-DD` and `HH`,
 * for messages: `events-YYYY-MM-DD.ndjson`.
 *
 * @since 0.2.0
 */
export const shapeOf = (naming: FileNaming, prefix: string): string =>
  naming.segments.map((s) =>
    s._tag === "Literal" ? s.text : s.name === "prefix" ? prefix : s.name === "date" ? "YYYY-MM-DD" : "HH"
  ).join("")

const SAMPLE_PERIODS = (unit: Unit): ReadonlyArray<Period> => [
  { unit, year: 2000, month: 1, day: 1, hour: 0 },
  { unit, year: 2026, month: 12, day: 31, hour: unit === "hour" ? 23 : 0 }
]

/**
 * Checks that `prefix` names files `naming` manages: not empty, no path separator, no control
 * character, and its names parse back to the same prefix and period (a prefix with a line
 * separator such as U+2028 does not).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * FileNaming.validatePrefix(FileNaming.default, "dlq-orders") // Either.right("dlq-orders")
 * FileNaming.validatePrefix(FileNaming.default, "a/b") // Either.left(InvalidPrefix)
 * ```
 */
export const validatePrefix = (naming: FileNaming, prefix: string): Either.Either<string, InvalidPrefix> => {
  const invalid = (reason: InvalidPrefixReason, detail: string) => Either.left(new InvalidPrefix({ prefix, reason, detail }))
  if (prefix.length === 0) return invalid("empty", "it is empty")
  if (/[/\\]/.test(prefix)) return invalid("path-separator", "it contains a path separator")
  if (/[\u0000-\u001f\u007f]/.test(prefix)) return invalid("control-character", "it contains a control character")
  for (const period of SAMPLE_PERIODS(naming.unit)) {
    const parsed = naming.parse(naming.format(prefix, period))
    if (Either.isLeft(parsed) || parsed.right.prefix !== prefix || PeriodOrder(parsed.right.period, period) !== 0) {
      return invalid("not-parseable", `${JSON.stringify(shapeOf(naming, prefix))} would not be recognized by the retention sweep`)
    }
  }
  return Either.right(prefix)
}
