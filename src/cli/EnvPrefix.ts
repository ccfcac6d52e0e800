/**
 * The CLI's `--env-prefix P` checked against the environment (pure), so that a mistyped prefix is a
 * usage error instead of silently falling back to the defaults.
 *
 * `P` is a host prefix as Effect's `Config.nested` reads it: `--env-prefix TAU` reads
 * `TAU_LOG_RETENTION_MAX_AGE_DAYS`. Accepted: letters, digits and underscores, not starting with a
 * digit; trailing underscores are dropped, so `TAU_` is read as `TAU` (without that, `TAU_` read
 * `TAU__LOG_…`, which no one sets, and a sweep ran with the default 30 days).
 *
 * A prefix under which no variable of the command's family (`<P>_LOG_RETENTION_*` for
 * sweep/watch/logrotate-config, `<P>_LOG_ROTATION_*` for append) is set, while a variable of that
 * family is set under another spelling (another case, another prefix, or none), is refused, naming
 * what is set: the prefix was almost certainly mistyped (`tau`, `TAUX`). A prefix that matches no
 * variable when none of the family is set at all is accepted: there is nothing it could have meant.
 */
import * as Either from "effect/Either"

export type Family = "LOG_RETENTION" | "LOG_ROTATION"

/** The accepted form, for error messages. */
export const ENV_PREFIX_FORM = "letters, digits and underscores, not starting with a digit, e.g. TAU " +
  "(reads TAU_LOG_…; a trailing _ is dropped: TAU_ is read as TAU)"

/** `raw` normalised (trailing `_` dropped), or why it is refused. */
export const normalise = (raw: string): Either.Either<string, string> => {
  const prefix = raw.replace(/_+$/, "")
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)
    ? Either.right(prefix)
    : Either.left(`--env-prefix ${JSON.stringify(raw)}: expected ${ENV_PREFIX_FORM}`)
}

/**
 * The prefix to read the environment under, or the usage error's message: a malformed prefix, or
 * one that matches no `<P>_<family>_*` variable while such a variable is set under another spelling.
 */
export const check = (raw: string, family: Family, env: Readonly<Record<string, string | undefined>>): Either.Either<string, string> =>
  Either.flatMap(normalise(raw), (prefix) => {
    const names = Object.keys(env).filter((name) => env[name] !== undefined)
    const own = `${prefix}_${family}_`
    if (names.some((name) => name.startsWith(own))) return Either.right(prefix)
    const marker = `${family}_`
    const similar = names.filter((name) => name.toUpperCase().includes(marker)).sort()
    if (similar.length === 0) return Either.right(prefix)
    const prefixes = [...new Set(similar.map((name) => name.slice(0, name.toUpperCase().indexOf(marker)).replace(/_+$/, "")))]
    const hints = prefixes.map((p) => p === "" ? "to leave out --env-prefix" : `--env-prefix ${p}`)
    const shown = similar.slice(0, 3).join(", ") + (similar.length > 3 ? ", …" : "")
    return Either.left(`--env-prefix ${JSON.stringify(raw)}: no variable ${own}… is set ` +
      `(did you mean ${hints.join(" or ")}? set: ${shown}); the prefix is ${ENV_PREFIX_FORM}`)
  })
