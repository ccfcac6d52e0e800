/**
 * User and group names to numeric ids, from `/etc/passwd` and `/etc/group` text (pure), for the
 * retention sweep's `su`. Numeric ids are taken as they are.
 */
import * as Either from "effect/Either"

/** The id of `name` in a passwd- or group-format text (`name:x:id:…` lines), or undefined. */
export const lookupId = (text: string, name: string): number | undefined => {
  for (const line of text.split("\n")) {
    const fields = line.split(":")
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2])
  }
  return undefined
}

/** A numeric id as written, or undefined when `value` is a name. */
export const numericId = (value: string): number | undefined => /^\d+$/.test(value) ? Number(value) : undefined

/** Splits `USER:GROUP`; both parts must be non-empty. */
export const parseUserGroup = (raw: string): Either.Either<{ readonly user: string; readonly group: string }, string> => {
  const match = /^([^:\s]+):([^:\s]+)$/.exec(raw.trim())
  return match ? Either.right({ user: match[1]!, group: match[2]! }) : Either.left(`expected USER:GROUP, got ${JSON.stringify(raw)}`)
}
