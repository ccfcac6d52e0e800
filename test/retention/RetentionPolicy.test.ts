import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Either, Layer } from "effect"
import * as RetentionPolicy from "../../src/retention/RetentionPolicy.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))

const load = (env: Record<string, string>, prefix?: string) =>
  RetentionPolicy.load(prefix === undefined ? {} : { prefix }).pipe(withEnv(env))

describe("RetentionPolicy from configuration", () => {
  it.effect("nothing set: disabled, no dirs, 30 days, no compression, hourly", () =>
    Effect.gen(function* () {
      expect(yield* load({})).toEqual({
        enabled: false, dirs: [], maxAgeDays: 30, compressAgeDays: 0, checkIntervalSeconds: 3600
      })
      expect(RetentionPolicy.defaults).toEqual(yield* load({}))
    }))

  it.effect("every variable is read, dirs split on commas with blanks and duplicates dropped", () =>
    Effect.gen(function* () {
      expect(yield* load({
        LOG_RETENTION_ENABLED: "yes",
        LOG_RETENTION_DIRS: " /var/log/relay , /var/log/relay/dlq,,/var/log/relay ",
        LOG_RETENTION_MAX_AGE_DAYS: "90",
        LOG_RETENTION_COMPRESS_AGE_DAYS: "7",
        LOG_RETENTION_CHECK_INTERVAL_SECONDS: "60"
      })).toEqual({
        enabled: true, dirs: ["/var/log/relay", "/var/log/relay/dlq"], maxAgeDays: 90, compressAgeDays: 7, checkIntervalSeconds: 60
      })
    }))

  it("aliases of one directory are one directory, resolved to an absolute path", () => {
    const policy = Either.getOrThrow(RetentionPolicy.decode({ dirs: ["/a/logs", "/a/logs/", "/a/./logs", "/a/dlq"] }))
    expect(policy.dirs).toEqual(["/a/logs", "/a/dlq"])
    expect(Either.getOrThrow(RetentionPolicy.decode({ dirs: ["logs"] })).dirs).toEqual([`${process.cwd()}/logs`])
  })

  it.effect("a host prefix nests every variable: TAU_LOG_RETENTION_…", () =>
    Effect.gen(function* () {
      const policy = yield* load({
        TAU_LOG_RETENTION_ENABLED: "true", TAU_LOG_RETENTION_DIRS: "/logs", TAU_LOG_RETENTION_MAX_AGE_DAYS: "7",
        LOG_RETENTION_MAX_AGE_DAYS: "1" // unprefixed: ignored
      }, "TAU")
      expect([policy.enabled, policy.dirs, policy.maxAgeDays]).toEqual([true, ["/logs"], 7])
    }))

  it.effect.each([
    ["LOG_RETENTION_ENABLED", "maybe", "one of true, false"],
    ["LOG_RETENTION_MAX_AGE_DAYS", "0", "a whole number >= 1"],
    ["LOG_RETENTION_MAX_AGE_DAYS", "-5", "a whole number >= 1"],
    ["LOG_RETENTION_MAX_AGE_DAYS", "30d", "a whole number >= 1"],
    ["LOG_RETENTION_MAX_AGE_DAYS", "", "a whole number >= 1"],
    ["LOG_RETENTION_COMPRESS_AGE_DAYS", "1.5", "a whole number >= 0"],
    ["LOG_RETENTION_CHECK_INTERVAL_SECONDS", "0", "a whole number from 1 to 2147483"],
    ["LOG_RETENTION_CHECK_INTERVAL_SECONDS", "1h", "a whole number from 1 to 2147483"],
    // above 2^31-1 ms the timer is dropped: the worker would never sweep again
    ["LOG_RETENTION_CHECK_INTERVAL_SECONDS", "2147484", "a whole number from 1 to 2147483"],
    ["LOG_RETENTION_CHECK_INTERVAL_SECONDS", "99999999999", "a whole number from 1 to 2147483"]
  ] as const)("%s=%j is an InvalidConfig naming it", ([variable, value, expected]) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load({ [`TAU_${variable}`]: value }, "TAU"))
      expect([error._tag, error.variable, error.value]).toEqual(["InvalidConfig", `TAU_${variable}`, value])
      expect(error.expected).toContain(expected)
      expect(error.message).toContain(`TAU_${variable}=${JSON.stringify(value)}`)
    }))

  it.effect.each([
    ["equal to the max age", "30", "30"],
    ["above the max age", "30", "45"],
    ["equal to the default max age (30)", undefined, "30"]
  ] as const)("a compression age %s is an InvalidConfig naming LOG_RETENTION_COMPRESS_AGE_DAYS", ([, max, compress]) =>
    Effect.gen(function* () {
      const env: Record<string, string> = { TAU_LOG_RETENTION_COMPRESS_AGE_DAYS: compress }
      if (max !== undefined) env.TAU_LOG_RETENTION_MAX_AGE_DAYS = max
      const error = yield* Effect.flip(load(env, "TAU"))
      expect([error.variable, error.value]).toEqual(["TAU_LOG_RETENTION_COMPRESS_AGE_DAYS", compress])
      expect(error.expected).toContain("below the maximum age (30 days)")
    }))

  it.effect("compression age one below the max age is accepted; 0 with any max is accepted", () =>
    Effect.gen(function* () {
      expect((yield* load({ LOG_RETENTION_MAX_AGE_DAYS: "8", LOG_RETENTION_COMPRESS_AGE_DAYS: "7" })).compressAgeDays).toBe(7)
      expect((yield* load({ LOG_RETENTION_MAX_AGE_DAYS: "1", LOG_RETENTION_COMPRESS_AGE_DAYS: "0" })).maxAgeDays).toBe(1)
    }))

  it.effect("enabled without directories is an InvalidConfig naming LOG_RETENTION_DIRS", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load({ LOG_RETENTION_ENABLED: "true", LOG_RETENTION_DIRS: " , " }))
      expect(error.variable).toBe("LOG_RETENTION_DIRS")
      expect(error.expected).toContain("at least one directory")
      expect(yield* load({ LOG_RETENTION_ENABLED: "false" })).toEqual(RetentionPolicy.defaults) // disabled: fine
    }))

  it.effect("layerConfig fails to build with a bad policy, so nothing can sweep with it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(RetentionPolicy.layerConfig()).pipe(Effect.scoped, withEnv({ LOG_RETENTION_MAX_AGE_DAYS: "x" })))
      expect(error.variable).toBe("LOG_RETENTION_MAX_AGE_DAYS")
    }))
})

describe("RetentionPolicy.decode (code and CLI flags)", () => {
  it("the deprecated make is decode, as published", () => {
    expect(RetentionPolicy.make({ maxAgeDays: 3 })).toEqual(RetentionPolicy.decode({ maxAgeDays: 3 }))
    expect(Either.isLeft(RetentionPolicy.make({ maxAgeDays: 0 }))).toBe(true)
  })

  it("fills defaults and validates", () => {
    expect(RetentionPolicy.decode({ enabled: true, dirs: ["/l"], compressAgeDays: 7 })).toEqual(Either.right({
      enabled: true, dirs: ["/l"], maxAgeDays: 30, compressAgeDays: 7, checkIntervalSeconds: 3600
    }))
  })

  it("the longest interval is MAX_CHECK_INTERVAL_SECONDS, the longest timer the runtime keeps (2^31-1 ms)", () => {
    expect(RetentionPolicy.MAX_CHECK_INTERVAL_SECONDS).toBe(Math.floor((2 ** 31 - 1) / 1000))
    expect(Either.map(RetentionPolicy.decode({ checkIntervalSeconds: 2147483 }), (p) => p.checkIntervalSeconds)).toEqual(Either.right(2147483))
  })

  it.each([
    [{ maxAgeDays: 0 }, "--max-age-days", "0"],
    [{ maxAgeDays: 2.5 }, "--max-age-days", "2.5"],
    [{ compressAgeDays: -1 }, "--compress-age-days", "-1"],
    [{ maxAgeDays: 7, compressAgeDays: 7 }, "--compress-age-days", "7"],
    [{ checkIntervalSeconds: 0 }, "--check-interval-seconds", "0"],
    [{ checkIntervalSeconds: 2147484 }, "--check-interval-seconds", "2147484"],
    [{ enabled: true }, "--dir", ""]
  ] as const)("%j fails naming the flag %s with its value", (input, flag, value) => {
    const names = {
      enabled: "--enabled", dirs: "--dir", maxAgeDays: "--max-age-days",
      compressAgeDays: "--compress-age-days", checkIntervalSeconds: "--check-interval-seconds"
    }
    const error = Either.getOrThrow(Either.flip(RetentionPolicy.decode(input, names)))
    expect([error._tag, error.variable, error.value]).toEqual(["InvalidConfig", flag, value])
  })

  it.effect("layer(input) provides the validated policy", () =>
    Effect.gen(function* () {
      const policy = yield* RetentionPolicy.RetentionPolicy
      expect(policy.maxAgeDays).toBe(14)
    }).pipe(Effect.provide(RetentionPolicy.layer({ maxAgeDays: 14 }))))
})

describe("RetentionPolicy su", () => {
  it("su is carried as given, absent by default, and an empty user is refused naming su", () => {
    expect(Either.getOrThrow(RetentionPolicy.decode({ su: { user: "www-data", group: "adm" } })).su).toEqual({ user: "www-data", group: "adm" })
    expect(RetentionPolicy.defaults.su).toBeUndefined()
    const bad = RetentionPolicy.decode({ su: { user: "", group: "adm" } })
    expect(Either.isLeft(bad) && bad.left.variable).toBe("su")
  })
})

describe("RetentionPolicy.config for hosts that compose Configs", () => {
  it.effect("a cross-field error is a ConfigError.InvalidData at the nested variable, readable, with the value", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Config.nested(RetentionPolicy.config, "TAU").pipe(
        withEnv({ TAU_LOG_RETENTION_MAX_AGE_DAYS: "7", TAU_LOG_RETENTION_COMPRESS_AGE_DAYS: "7" })))
      expect(error._op === "InvalidData" && error.path).toEqual(["TAU", "LOG_RETENTION_COMPRESS_AGE_DAYS"])
      expect(error._op === "InvalidData" && error.message).toBe(
        `"7" is invalid: expected 0 (no compression) or a whole number below the maximum age (7 days)`)
    }))
})
