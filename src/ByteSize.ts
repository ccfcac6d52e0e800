/**
 * Byte sizes as operators write them: `1048576`, `512KiB`, `10MiB`, `1GiB`, `10MB`.
 * IEC units (KiB, MiB, GiB) are powers of 1024; SI units (KB, MB, GB) are powers of 1000.
 * Units are case-insensitive; a space between number and unit is allowed.
 *
 * Pure; needs nothing in context. `parse` never throws: a left names what is accepted
 * (`BYTE_SIZE_FORM`); `ByteSize` is the same rule as a `Schema` (string to bytes, encoded back
 * with `format`, the largest IEC unit that divides it exactly). The policies and the CLI read
 * every size through it (`LOG_ROTATION_MAX_BYTES`, `maxTotalBytes`, `--max-size`).
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ByteSize } from "effect-logrotate"
 *
 * ByteSize.parse("512KiB") // Either.right(524288)
 * ByteSize.parse("10 MB") // Either.right(10000000)
 * ByteSize.parse("ten") // Either.left(BYTE_SIZE_FORM)
 * Schema.decodeUnknownSync(ByteSize.ByteSize)("1GiB") // 1073741824
 * ByteSize.format(524288) // "512KiB"
 * ```
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3
}

/**
 * What `parse` accepts, for error messages and help text.
 *
 * @since 0.1.0
 */
export const BYTE_SIZE_FORM =
  "a whole number of bytes >= 0, or a size with a unit B, KB, MB, GB (x1000) or KiB, MiB, GiB (x1024), e.g. 10MiB"

/**
 * Parses a byte size; `Left` carries the reason. Pure.
 *
 * @since 0.1.0
 */
export const parse = (input: string): Either.Either<number, string> => {
  const match = /^(\d+)\s*([a-z]+)?$/i.exec(input.trim())
  if (match === null || input.trim() === "") return Either.left(BYTE_SIZE_FORM)
  const unit = UNITS[(match[2] ?? "b").toLowerCase()]
  if (unit === undefined) return Either.left(BYTE_SIZE_FORM)
  const bytes = Number(match[1]) * unit
  return Number.isSafeInteger(bytes) ? Either.right(bytes) : Either.left(`${BYTE_SIZE_FORM} (at most ${Number.MAX_SAFE_INTEGER})`)
}

/**
 * Formats bytes with the largest IEC unit that divides them exactly: `10485760` → `"10MiB"`.
 *
 * @since 0.1.0
 */
export const format = (bytes: number): string => {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`
  }
  return `${bytes}B`
}

/**
 * `Schema<number, string>`: decodes the forms above, encodes with `format`.
 *
 * @since 0.1.0
 */
export const ByteSize = Schema.transformOrFail(Schema.String, Schema.NonNegativeInt, {
  strict: true,
  decode: (input, _options, ast) =>
    Either.match(parse(input), {
      onLeft: (expected) => ParseResult.fail(new ParseResult.Type(ast, input, `expected ${expected}, got ${JSON.stringify(input)}`)),
      onRight: ParseResult.succeed
    }),
  encode: (bytes) => ParseResult.succeed(format(bytes))
})
