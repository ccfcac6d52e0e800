/**
 * The logrotate configuration that does the built-in retention's job (ADR-0016's
 * "documentation parity"), rendered from the same policy. Pure.
 *
 * The two approaches divide the work differently:
 * - built-in: the application writes dated files itself (`DailyAppender`:
 *   `<prefix>-YYYY-MM-DD.ndjson`) and the sweep compresses and deletes them by the date
 *   in the name;
 * - logrotate: the application writes `<prefix>.ndjson`, and logrotate renames it daily
 *   to `<prefix>-YYYY-MM-DD.ndjson` (`dateext`, `dateformat -%Y-%m-%d`, `dateyesterday`,
 *   `extension .ndjson`): the same names, so either approach can take over the files.
 *
 * The glob `*[!0-9].ndjson` matches `app.ndjson` but not `app-2026-01-31.ndjson`, so
 * logrotate never re-rotates a dated file (a prefix ending in a digit is not matched).
 *
 * A custom `naming` (`FileNaming`) renders its own equivalent (`equivalentOf`): the pattern's
 * text after its last placeholder is logrotate's `extension`, text before `{prefix}` stays in
 * the glob, and the part from the end of `{prefix}` to the extension becomes the `dateformat` (`{prefix}.{date}.log`: the application writes
 * `<prefix>.log`, `dateformat .%Y-%m-%d`, `extension .log`). A pattern ending with a placeholder
 * (`{prefix}.log-{date}`) has no extension: the application writes `<prefix>.log` and the
 * date format starts at the last `-`, `_` or `.` before `{date}`. An hourly naming renders
 * `hourly` with `datehourago` (run logrotate hourly) and `rotate` (max_age_days + 1) × 24. A
 * naming logrotate cannot produce (`{prefix}` after `{date}`, `{hour}` before `{date}`, no text
 * to name the application's file, characters logrotate's configuration, `dateformat` or glob
 * reads specially) renders a comment saying why, and no stanza.
 *
 * Needs nothing in context; `render` returns the configuration text (what `effect-logrotate
 * logrotate-config` prints). The per-naming rendering (`naming`, `equivalentOf`) since 0.2.0.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { LogrotateConfig } from "effect-logrotate"
 *
 * const text: string = LogrotateConfig.render({ dirs: ["/var/log/relay"], maxAgeDays: 30, compressAgeDays: 7 })
 * ```
 */
import * as Either from "effect/Either"
import * as Path from "node:path"
import * as FileNaming from "./FileNaming.js"

/** @since 0.1.0 */
export interface Input {
  readonly dirs: ReadonlyArray<string>
  readonly maxAgeDays: number
  /** 0 = never compress. */
  readonly compressAgeDays: number
  /**
   * The names the built-in retention manages. Default `FileNaming.default` (`<prefix>-YYYY-MM-DD.ndjson`).
   *
   * @since 0.2.0
   */
  readonly naming?: FileNaming.FileNaming | undefined
}

/**
 * How logrotate produces a naming's names.
 *
 * @since 0.2.0
 */
export interface Equivalent {
  /** The glob (in each directory) of the files the application writes, e.g. `*[!0-9].ndjson`. */
  readonly glob: string
  /** logrotate's `dateformat`, e.g. `-%Y-%m-%d`. */
  readonly dateformat: string
  /** logrotate's `extension`, e.g. `.ndjson`; absent when the names end with the date or hour. */
  readonly extension?: string
  /** Whether the files are hourly (`hourly`, `datehourago`) rather than daily (`daily`, `dateyesterday`). */
  readonly hourly: boolean
  /** The name the application writes for `prefix`, e.g. `app.ndjson`. */
  readonly liveName: (prefix: string) => string
}

/** Characters a logrotate configuration, glob or date format would read specially. */
const SPECIAL = /[\s"'#%*?[\]\\{}]/

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** A glob of our shape (literals, `*`, `*[!0-9]`) as a regular expression. */
const globRegExp = (glob: string): RegExp =>
  new RegExp("^" + glob.split(/(\*\[!0-9\]|\*)/).map((part) =>
    part === "*[!0-9]" ? ".*[^0-9]" : part === "*" ? ".*" : escapeRegExp(part)
  ).join("") + "$", "s")

/**
 * How logrotate produces the names of `naming`, or why it cannot.
 *
 * @example
 * ```ts
 * LogrotateConfig.equivalentOf(FileNaming.default) // Either.right({ glob: "*[!0-9].ndjson", dateformat: "-%Y-%m-%d", extension: ".ndjson", hourly: false, … })
 * ```
 *
 * @since 0.2.0
 */
export const equivalentOf = (naming: FileNaming.FileNaming): Either.Either<Equivalent, string> => {
  const segments = naming.segments
  const at = (name: FileNaming.Placeholder) => segments.findIndex((s) => s._tag === "Placeholder" && s.name === name)
  const prefixAt = at("prefix")
  const dateAt = at("date")
  const hourAt = at("hour")
  if (dateAt < prefixAt) return Either.left("logrotate adds the date after the name of the file it rotates, so {prefix} must come before {date}")
  if (hourAt !== -1 && hourAt < dateAt) return Either.left("logrotate needs dates that sort as text, so {hour} must come after {date}")
  const first = segments[0]!
  const lead = first._tag === "Literal" ? first.text : ""
  const last = segments[segments.length - 1]!
  const extension = last._tag === "Literal" ? last.text : ""
  let dateformat = segments.slice(prefixAt + 1, last._tag === "Literal" ? -1 : undefined).map((s) =>
    s._tag === "Literal" ? s.text : s.name === "date" ? "%Y-%m-%d" : "%H"
  ).join("")
  let liveSuffix = extension
  if (extension === "") {
    // No text after the last placeholder: the application's file keeps the text after {prefix}
    // up to the last separator before the date (`{prefix}.log-{date}`: `app.log`, `-%Y-%m-%d`).
    const head = dateformat.slice(0, dateformat.indexOf("%"))
    const cut = Math.max(head.lastIndexOf("-"), head.lastIndexOf("_"), head.lastIndexOf("."))
    if (cut <= 0) {
      return Either.left("the pattern ends with a placeholder, and has no text between {prefix} and {date} (such as \".log-\") to name the file the application writes")
    }
    liveSuffix = head.slice(0, cut)
    dateformat = dateformat.slice(cut)
  }
  for (const [text, plain] of [[lead, lead], [liveSuffix, liveSuffix], [dateformat, dateformat.replace(/%[YmdH]/g, "")]] as const) {
    if (SPECIAL.test(plain)) return Either.left(`its text ${JSON.stringify(text)} has characters a logrotate configuration, glob or date format reads specially`)
  }
  const glob = lead + (extension === "" ? `*${liveSuffix}` : `*[!0-9]${extension}`)
  const liveName = (prefix: string) => lead + prefix + liveSuffix
  // The glob must pick the application's file and none of the rotated, compressed or temp names.
  const matches = globRegExp(glob)
  const sample = naming.format("app", naming.periodOf(Date.UTC(2026, 0, 31, 13)))
  const taken = [sample, sample + FileNaming.GZIP_SUFFIX, sample + FileNaming.TEMP_SUFFIX].find((n) => matches.test(n))
  if (taken !== undefined) return Either.left(`the glob ${JSON.stringify(glob)} for the application's file would also match ${JSON.stringify(taken)}`)
  if (!matches.test(liveName("app"))) return Either.left(`the glob ${JSON.stringify(glob)} would not match the application's file ${JSON.stringify(liveName("app"))}`)
  return Either.right({
    glob, dateformat, hourly: naming.unit === "hour", liveName, ...(extension === "" ? {} : { extension })
  })
}

/**
 * How logrotate's compression differs from `compress_age_days`, or undefined when it matches.
 *
 * @since 0.1.0
 */
export const compressionCaveat = (compressAgeDays: number, hourly = false): string | undefined =>
  hourly
    ? compressAgeDays >= 1
      ? `logrotate cannot wait ${compressAgeDays} day${compressAgeDays === 1 ? "" : "s"}: with hourly rotation and delaycompress it compresses an hour's file at the next rotation, an hour later`
      : undefined
    : compressAgeDays >= 2
    ? `logrotate cannot wait ${compressAgeDays} days: with delaycompress it compresses a file at its second rotation (age 2 days)`
    : undefined

const quote = (path: string) => JSON.stringify(path)

/**
 * The configuration text; every directory gets the same block, as in ADR-0016's global scope.
 * A naming logrotate cannot produce renders a comment saying why, and no stanza.
 *
 * @since 0.1.0
 */
export const render = (input: Input): string => {
  const naming = input.naming ?? FileNaming.default
  const equivalent = equivalentOf(naming)
  const settings = `#   max_age_days=${input.maxAgeDays} compress_age_days=${input.compressAgeDays}` +
    (naming === FileNaming.default ? "" : ` naming=${JSON.stringify(naming.pattern)}`)
  if (Either.isLeft(equivalent)) {
    return [
      "# Generated by `effect-logrotate logrotate-config`: the logrotate equivalent of the built-in retention",
      settings,
      `# No equivalent: logrotate cannot produce the names ${JSON.stringify(naming.pattern)}: ${equivalent.left}.`,
      "# Use the built-in retention (LOG_RETENTION_ENABLED / `effect-logrotate watch`) for these directories.",
      ""
    ].join("\n")
  }
  const { glob, dateformat, extension, hourly, liveName } = equivalent.right
  const patterns = input.dirs.map((dir) => quote(Path.join(Path.resolve(dir), glob))).join(" ")
  const compression = input.compressAgeDays === 0
    ? ["    nocompress"]
    : [
      "    compress",
      ...(hourly
        ? [
          "    # with datehourago the newest rotated file holds the last hour's lines;",
          "    # delaycompress leaves it plain until the next rotation, so one rotated hour at most is uncompressed"
        ]
        : [
          "    # with dateyesterday the newest rotated file holds yesterday's lines (age 1);",
          "    # delaycompress compresses it at the next rotation (age 2), as compress_age_days=1 does"
        ]),
      "    delaycompress",
      ...(compressionCaveat(input.compressAgeDays, hourly) ? [`    # note: ${compressionCaveat(input.compressAgeDays, hourly)}`] : [])
    ]
  // Every rotated hour of the kept days (max_age_days of them, plus today's).
  const rotate = hourly ? (input.maxAgeDays + 1) * 24 : input.maxAgeDays
  return [
    "# Generated by `effect-logrotate logrotate-config`: the logrotate equivalent of the built-in retention",
    settings,
    `# The application writes ${liveName("<prefix>")}; logrotate renames it ${hourly ? "hourly" : "daily"} to ${FileNaming.shapeOf(naming, "<prefix>")}.`,
    ...(hourly ? ["# Hourly rotation needs logrotate run every hour (cron or logrotate.timer), not the usual daily run."] : []),
    "# Use this OR the built-in retention (LOG_RETENTION_ENABLED / `effect-logrotate watch`) on these",
    "# directories, never both: see docs/logrotate.md.",
    `${patterns} {`,
    hourly ? "    hourly" : "    daily",
    "    dateext",
    `    dateformat ${dateformat}`,
    hourly ? "    datehourago" : "    dateyesterday",
    ...(extension === undefined ? [] : [`    extension ${extension}`]),
    `    rotate ${rotate}`,
    `    maxage ${input.maxAgeDays}`,
    ...compression,
    "    missingok",
    "    notifempty",
    "    # the writer keeps its file open: copy then truncate (lines written during the copy can be lost)",
    "    copytruncate",
    "}",
    ""
  ].join("\n")
}
