import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { MAX_ID, parseUserGroup, resolveIds } from "../../src/retention/internal/UserIds.js"
import * as Sweeper from "../../src/retention/Sweeper.js"
import { fileSystems, tempDir } from "../support/retention.js"

const PASSWD = "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n"
const GROUP = "root:x:0:\nadm:x:4:syslog\n"

describe("UserIds", () => {
  it.each([["www-data:adm"], ["0:0"], [`${MAX_ID}:${MAX_ID}`]])("parseUserGroup(%j) accepts it", (raw) => {
    expect(Either.isRight(parseUserGroup(raw))).toBe(true)
  })

  it.each([
    ["99999999999:0", "uid 99999999999 is out of range (numeric ids are 0..4294967294)"],
    ["4294967295:4294967295", "uid 4294967295 is out of range (numeric ids are 0..4294967294)"],
    ["0:4294967295", "gid 4294967295 is out of range (numeric ids are 0..4294967294)"],
    ["nobody", "not of the form USER:GROUP"],
    ["a:b:c", "not of the form USER:GROUP"]
  ])("parseUserGroup(%j) is refused: %s", (raw, reason) => {
    expect(parseUserGroup(raw)).toEqual(Either.left(reason))
  })

  it("resolveIds: names from the passwd and group texts, numbers as given; a missing name or an id out of range is refused", () => {
    expect(resolveIds({ user: "www-data", group: "adm" }, () => PASSWD, () => GROUP)).toEqual(Either.right({ uid: 33, gid: 4 }))
    expect(resolveIds({ user: "7", group: "8" }, () => { throw new Error("not read") }, () => { throw new Error("not read") }))
      .toEqual(Either.right({ uid: 7, gid: 8 }))
    expect(resolveIds({ user: "nosuchuser", group: "adm" }, () => PASSWD, () => GROUP)).toEqual(Either.left({ reason: "unknown-name", detail: 'no "nosuchuser" in /etc/passwd' }))
    expect(resolveIds({ user: "root", group: "nogroup" }, () => PASSWD, () => GROUP)).toEqual(Either.left({ reason: "unknown-name", detail: 'no "nogroup" in /etc/group' }))
    expect(resolveIds({ user: "4294967295", group: "0" }, () => PASSWD, () => GROUP))
      .toEqual(Either.left({ reason: "out-of-range", detail: "uid 4294967295 is out of range (numeric ids are 0..4294967294)" }))
  })
})

describe.each(fileSystems)("Sweeper su on $name", ({ layer }) => {
  it.scoped("an su id out of range is a typed InvalidSu failure of the directory, never handed to seteuid", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const switched: Array<Sweeper.Ids> = []
      const asRoot: Sweeper.ProcessIds = { euid: () => 0, asUser: (ids) => (self) => Effect.zipRight(Effect.sync(() => void switched.push(ids)), self) }
      for (const su of [{ user: "4294967295", group: "0" }, { user: "0", group: "99999999999" }]) {
        const report = yield* Sweeper.sweep([dir], { maxAgeDays: 30, compressAgeDays: 7, su }).pipe(
          Effect.provideService(Sweeper.ProcessIdentity, asRoot))
        expect(report.failed.map((f) => [f.operation, f.error._tag, f.error._tag === "InvalidSu" && f.error.reason]))
          .toEqual([["su", "InvalidSu", "out-of-range"]])
        expect(report.failed[0]!.message).toContain("out of range (numeric ids are 0..4294967294)")
      }
      expect(switched).toEqual([])
    }).pipe(Effect.provide(layer())))
})
