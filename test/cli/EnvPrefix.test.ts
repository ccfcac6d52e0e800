import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as EnvPrefix from "../../src/cli/EnvPrefix.js"

describe("EnvPrefix", () => {
  const env = { TAU_LOG_RETENTION_MAX_AGE_DAYS: "5000", PATH: "/bin" }

  it.each([["TAU", "TAU"], ["TAU_", "TAU"], ["TAU__", "TAU"], ["A_B1", "A_B1"], ["_x", "_x"]] as const)(
    "%j is read as the prefix %j", (raw, prefix) => {
      expect(EnvPrefix.normalise(raw)).toEqual(Either.right(prefix))
    })

  it.each(["", "_", "TA-U", "1TAU", "TAU LOG", "TAU.X"])("%j is malformed: the error names it and the accepted form", (raw) => {
    expect(EnvPrefix.normalise(raw)).toEqual(Either.left(`--env-prefix ${JSON.stringify(raw)}: expected ${EnvPrefix.ENV_PREFIX_FORM}`))
  })

  it("TAU and TAU_ both read TAU_LOG_RETENTION_*", () => {
    expect(EnvPrefix.check("TAU", "LOG_RETENTION", env)).toEqual(Either.right("TAU"))
    expect(EnvPrefix.check("TAU_", "LOG_RETENTION", env)).toEqual(Either.right("TAU"))
  })

  it.each(["tau", "TAUX", "TA"])("%j matches no variable while TAU_LOG_RETENTION_MAX_AGE_DAYS is set: refused, suggesting TAU", (raw) => {
    const result = EnvPrefix.check(raw, "LOG_RETENTION", env)
    expect(result).toEqual(Either.left(`--env-prefix ${JSON.stringify(raw)}: no variable ${raw}_LOG_RETENTION_… is set ` +
      `(did you mean --env-prefix TAU? set: TAU_LOG_RETENTION_MAX_AGE_DAYS); the prefix is ${EnvPrefix.ENV_PREFIX_FORM}`))
  })

  it("a prefix matching nothing while unprefixed variables are set is refused, suggesting no prefix", () => {
    const result = EnvPrefix.check("FOO", "LOG_RETENTION", { LOG_RETENTION_DIRS: "/d" })
    expect(Either.getLeft(result).pipe((o) => o._tag === "Some" ? o.value : "")).toContain(
      "no variable FOO_LOG_RETENTION_… is set (did you mean to leave out --env-prefix? set: LOG_RETENTION_DIRS)")
  })

  it("only the command's family counts: rotation variables neither satisfy nor contradict a retention prefix", () => {
    expect(EnvPrefix.check("TAU", "LOG_RETENTION", { TAU_LOG_ROTATION_MAX_BYTES: "1" })).toEqual(Either.right("TAU"))
    expect(Either.isLeft(EnvPrefix.check("TAUX", "LOG_ROTATION", { TAU_LOG_ROTATION_MAX_BYTES: "1" }))).toBe(true)
    expect(EnvPrefix.check("TAUX", "LOG_ROTATION", { TAU_LOG_RETENTION_DIRS: "/d" })).toEqual(Either.right("TAUX"))
  })

  it("a well-formed prefix is accepted when no variable of the family is set at all", () => {
    expect(EnvPrefix.check("TAU", "LOG_RETENTION", { PATH: "/bin" })).toEqual(Either.right("TAU"))
  })
})
