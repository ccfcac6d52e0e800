/**
 * Reading settings through Effect `Config`, so the host's `ConfigProvider` (environment,
 * a map in tests, a nested prefix such as `TAU_`) decides where values come from, while
 * errors still name the exact variable, the value given, and the accepted form. A setting is
 * read as a `Config<Checked<A>>` (a decoding failure is a typed `InvalidConfig` value, never text
 * packed into a `ConfigError` and parsed back); `load` reads it under a host prefix, `unchecked`
 * turns it into a plain `Config<A>` for hosts.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { InvalidConfig } from "./Errors.js"

/**
 * A setting as read: its value, or the `InvalidConfig` naming its variable (without host prefix),
 * the value and the accepted form. A decoding failure is a value here, not a `ConfigError`, so it
 * reaches `load` whole, through any nesting.
 */
export type Checked<A> = Either.Either<A, InvalidConfig>

/**
 * A setting read as a string and decoded by `decode` (`Left` = the accepted form).
 * Missing: `fallback`. Present but invalid (including empty): a `Left(InvalidConfig)`.
 * Never a silent fallback.
 */
export const setting = <A>(name: string, decode: (raw: string) => Either.Either<A, string>, fallback: A): Config.Config<Checked<A>> =>
  Config.string(name).pipe(
    Config.map((raw): Checked<A> =>
      Either.mapLeft(decode(raw), (expected) => new InvalidConfig({ variable: name, value: raw, expected }))),
    Config.withDefault<Checked<A>>(Either.right(fallback))
  )

/** Every setting of `configs` checked; the first invalid one (in field order) is the error. */
export const checkAll = <R extends Record<string, Config.Config<Checked<any>>>>(configs: R): Config.Config<
  Checked<{ [K in keyof R]: R[K] extends Config.Config<Checked<infer A>> ? A : never }>
> => Config.map(Config.all(configs), (checked) => Either.all(checked as Record<string, Checked<unknown>>) as any)

/**
 * `config` as a plain `Config<A>`, for hosts that compose Configs: an invalid setting fails with
 * a `ConfigError.InvalidData` at its variable (prefixed by `Config.nested`), its message saying
 * the value and the accepted form. Nothing reads that message back: `load` takes the checked config.
 */
export const unchecked = <A>(config: Config.Config<Checked<A>>): Config.Config<A> =>
  Config.mapOrFail(config, (checked) => Either.mapLeft(checked, (e) =>
    ConfigError.InvalidData([e.variable], `${JSON.stringify(e.value)} is invalid: expected ${e.expected}`)))

/** `LOG_X` under a host prefix: `TAU_LOG_X`. */
export const prefixed = (variable: string, prefix: string | undefined): string => prefix ? `${prefix}_${variable}` : variable

/**
 * Reads `config` from the current `ConfigProvider`, under a host prefix when given; an invalid
 * setting is the `InvalidConfig` naming the variable as the environment spells it (`TAU_LOG_X`).
 */
export const load = <A>(config: Config.Config<Checked<A>>, prefix: string | undefined): Effect.Effect<A, InvalidConfig> =>
  underPrefix(config, prefix).pipe(
    Effect.mapError(toInvalidConfig),
    Effect.flatMap((checked) => Either.mapLeft(checked, (e) =>
      prefix ? new InvalidConfig({ variable: prefixed(e.variable, prefix), value: e.value, expected: e.expected }) : e))
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

/**
 * A `ConfigError` of the provider itself (settings are read as optional strings and decoded by
 * us, so only a provider that cannot answer fails here) as our typed error.
 */
export const toInvalidConfig = (error: ConfigError.ConfigError): InvalidConfig => {
  const leaf = leaves(error).find((e) => e._op === "InvalidData") ?? leaves(error)[0] ?? error
  const variable = "path" in leaf && leaf.path.length > 0 ? leaf.path.join("_") : "configuration"
  const message = "message" in leaf ? String(leaf.message) : String(error)
  return new InvalidConfig({ variable, value: "", expected: message })
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
