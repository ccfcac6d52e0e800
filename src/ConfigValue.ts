/**
 * Reading settings through Effect `Config`, so the host's `ConfigProvider` (environment,
 * a map in tests, a nested prefix such as `TAU_`) decides where values come from, while
 * errors still name the exact variable, the value given, and the accepted form.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import { InvalidConfig } from "./Errors.js"

// toInvalidConfig reads the value and the accepted form back out of a ConfigError's message.
const SEPARATOR = "\u0000"

/** A ConfigError that `toInvalidConfig` turns back into the given `InvalidConfig` (for cross-field checks). */
export const fromInvalidConfig = (error: InvalidConfig): ConfigError.ConfigError =>
  ConfigError.InvalidData([error.variable], `${error.value}${SEPARATOR}${error.expected}`)

/**
 * A setting read as a string and decoded by `decode` (`Left` = the accepted form).
 * Missing: `fallback`. Present but invalid (including empty): a ConfigError that
 * `toInvalidConfig` turns into `InvalidConfig`. Never a silent fallback.
 */
export const setting = <A>(name: string, decode: (raw: string) => Either.Either<A, string>, fallback: A): Config.Config<A> =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) =>
      Either.mapLeft(decode(raw), (expected) => ConfigError.InvalidData([], `${raw}${SEPARATOR}${expected}`))
    ),
    Config.withDefault(fallback)
  )

const leaves = (error: ConfigError.ConfigError): ReadonlyArray<ConfigError.ConfigError> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...leaves(error.left), ...leaves(error.right)]
    default:
      return [error]
  }
}

/** Turns a ConfigError into our typed error, naming the variable as the environment spells it. */
export const toInvalidConfig = (error: ConfigError.ConfigError): InvalidConfig => {
  const leaf = leaves(error).find((e) => e._op === "InvalidData") ?? leaves(error)[0] ?? error
  const variable = "path" in leaf ? leaf.path.join("_") : "configuration"
  const message = "message" in leaf ? String(leaf.message) : String(error)
  const [value, expected] = message.includes(SEPARATOR) ? message.split(SEPARATOR) : ["", message]
  return new InvalidConfig({ variable, value: value ?? "", expected: expected ?? message })
}

/** Decoders shared by the policies. Each `Left` is the accepted form, for the error message. */
export const decodeInteger = (min: number, form = `a whole number >= ${min}`) => (raw: string): Either.Either<number, string> => {
  const trimmed = raw.trim()
  if (!/^\d+$/.test(trimmed)) return Either.left(form)
  const n = Number(trimmed)
  return Number.isSafeInteger(n) && n >= min ? Either.right(n) : Either.left(form)
}

export const decodeBoolean = (raw: string): Either.Either<boolean, string> => {
  const value = raw.trim().toLowerCase()
  if (["true", "1", "yes", "on"].includes(value)) return Either.right(true)
  if (["false", "0", "no", "off"].includes(value)) return Either.right(false)
  return Either.left("one of true, false, 1, 0, yes, no, on, off")
}

/** `config` read under a host prefix (`TAU_LOG_ROTATION_MAX_BYTES` for prefix `TAU`), or as is without one. */
export const underPrefix = <A>(config: Config.Config<A>, prefix: string | undefined): Config.Config<A> =>
  prefix ? Config.nested(config, prefix) : config

/** A comma-separated list (`LOG_RETENTION_DIRS`); blanks around items and empty items are dropped. */
export const decodeList = (raw: string): Either.Either<ReadonlyArray<string>, string> =>
  Either.right(raw.split(",").map((item) => item.trim()).filter((item) => item.length > 0))
