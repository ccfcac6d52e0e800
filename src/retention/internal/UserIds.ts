/**
 * User and group names to numeric ids, from `/etc/passwd` and `/etc/group` text (pure), for the
 * retention sweep's `su`. Numeric ids are taken as they are, within 0..{@link MAX_ID}
 * (4294967295 is `(uid_t)-1`, "no change", and larger ids make Node's `seteuid` throw).
 */
import * as Either from "effect/Either"

/** The largest id `su` accepts. */
export const MAX_ID = 4294967294

/** The accepted form of `su`, for error messages. */
export const SU_FORM = `USER:GROUP, names that exist in /etc/passwd and /etc/group, or numeric ids 0..${MAX_ID}`

/** The id of `name` in a passwd- or group-format text (`name:x:id:…` lines), or undefined. */
export const lookupId = (text: string, name: string): number | undefined => {
  for (const line of text.split("\n")) {
    const fields = line.split(":")
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2])
  }
  return undefined
}

/** A numeric id as written, or undefined when `value` is a name. It may be out of range: see {@link outOfRange}. */
export const numericId = (value: string): number | undefined => /^\d+$/.test(value) ? Number(value) : undefined

/** Why a numeric id is refused (above {@link MAX_ID}), or undefined for a name or an id in range. */
export const outOfRange = (value: string, what: "uid" | "gid"): string | undefined => {
  const id = numericId(value)
  return id !== undefined && id > MAX_ID ? `${what} ${value} is out of range (numeric ids are 0..${MAX_ID})` : undefined
}

/** Splits `USER:GROUP`; both parts must be non-empty, and a numeric part within 0..{@link MAX_ID}. */
export const parseUserGroup = (raw: string): Either.Either<{ readonly user: string; readonly group: string }, string> => {
  const match = /^([^:\s]+):([^:\s]+)$/.exec(raw.trim())
  if (!match) return Either.left("not of the form USER:GROUP")
  const range = outOfRange(match[1]!, "uid") ?? outOfRange(match[2]!, "gid")
  return range === undefined ? Either.right({ user: match[1]!, group: match[2]! }) : Either.left(range)
}

/** Why `resolveIds` refused an `su`: the `reason` and `detail` of the `InvalidSu` it becomes. */
export interface Unresolved {
  readonly reason: "out-of-range" | "unknown-name"
  readonly detail: string
}

/** The `Unresolved` for a name missing from `file`. */
export const unknownName = (name: string, file: string): Unresolved =>
  ({ reason: "unknown-name", detail: `no ${JSON.stringify(name)} in ${file}` })

/**
 * The numeric ids of `su`, given the text of /etc/passwd and /etc/group (read only if a name needs
 * it), or why not (a name that does not exist, an id out of range).
 */
export const resolveIds = (su: { readonly user: string; readonly group: string },
  passwd: () => string, group: () => string): Either.Either<{ readonly uid: number; readonly gid: number }, Unresolved> => {
  const one = (value: string, what: "uid" | "gid", file: string, text: () => string): Either.Either<number, Unresolved> => {
    const range = outOfRange(value, what)
    if (range !== undefined) return Either.left({ reason: "out-of-range", detail: range })
    const numeric = numericId(value)
    if (numeric !== undefined) return Either.right(numeric)
    const id = lookupId(text(), value)
    return id === undefined ? Either.left(unknownName(value, file)) : Either.right(id)
  }
  return Either.flatMap(one(su.user, "uid", "/etc/passwd", passwd), (uid) =>
    Either.map(one(su.group, "gid", "/etc/group", group), (gid) => ({ uid, gid })))
}
