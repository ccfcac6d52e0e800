import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Either, Layer } from "effect"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"

const fromEnv = (env: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" })
const load = (env: Record<string, string>, prefix?: string) =>
  RotationPolicy.load(prefix ? { prefix } : undefined).pipe(Effect.withConfigProvider(fromEnv(env)), Effect.either)

describe("RotationPolicy from configuration", () => {
  it.effect("defaults when nothing is set: 10 MiB and 5 backups", () =>
    Effect.gen(function* () {
      expect(yield* load({})).toEqual(Either.right({ maxBytes: 10 * 1024 * 1024, maxFiles: 5 }))
    }))

  it.effect.each([
    [{ LOG_ROTATION_MAX_BYTES: "512KiB" }, { maxBytes: 524288, maxFiles: 5 }],
    [{ LOG_ROTATION_MAX_BYTES: "10MB", LOG_ROTATION_MAX_FILES: "0" }, { maxBytes: 10_000_000, maxFiles: 0 }],
    [{ LOG_ROTATION_MAX_BYTES: "0" }, { maxBytes: 0, maxFiles: 5 }],
    [{ LOG_ROTATION_MAX_BYTES: "1GiB", LOG_ROTATION_MAX_FILES: "12" }, { maxBytes: 1024 ** 3, maxFiles: 12 }],
    [{ LOG_ROTATION_MAX_FILES: "1" }, { maxBytes: 10 * 1024 * 1024, maxFiles: 1 }]
  ] as const)("reads %j", ([env, policy]) =>
    Effect.gen(function* () {
      expect(yield* load(env)).toEqual(Either.right(policy))
    }))

  it.effect.each([
    ["LOG_ROTATION_MAX_BYTES", "-1"], ["LOG_ROTATION_MAX_BYTES", "abc"], ["LOG_ROTATION_MAX_BYTES", "1.5"],
    ["LOG_ROTATION_MAX_BYTES", "10XB"], ["LOG_ROTATION_MAX_BYTES", ""],
    ["LOG_ROTATION_MAX_FILES", "-1"], ["LOG_ROTATION_MAX_FILES", "abc"], ["LOG_ROTATION_MAX_FILES", "1.5"],
    ["LOG_ROTATION_MAX_FILES", ""], ["LOG_ROTATION_MAX_FILES", "5 files"]
  ] as const)("%s=%j is an InvalidConfig naming the variable, the value and the accepted form", ([variable, value]) =>
    Effect.gen(function* () {
      const result = yield* load({ [variable]: value })
      const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))
      expect(error?._tag).toBe("InvalidConfig")
      expect([error?.variable, error?.value]).toEqual([variable, value])
      expect(error?.message).toContain(`${variable}=${JSON.stringify(value)}`)
      expect(error?.expected).toMatch(variable.endsWith("BYTES") ? /KiB, MiB, GiB/ : /whole number >= 0/)
    }))

  it.effect("a host prefix nests the names: TAU_LOG_ROTATION_MAX_BYTES and TAU_LOG_ROTATION_MAX_FILES", () =>
    Effect.gen(function* () {
      const env = { TAU_LOG_ROTATION_MAX_BYTES: "1MiB", TAU_LOG_ROTATION_MAX_FILES: "3", LOG_ROTATION_MAX_FILES: "9" }
      expect(yield* load(env, "TAU")).toEqual(Either.right({ maxBytes: 1024 * 1024, maxFiles: 3 }))
      const bad = yield* load({ TAU_LOG_ROTATION_MAX_BYTES: "lots" }, "TAU")
      expect(Either.isLeft(bad) && [bad.left.variable, bad.left.value]).toEqual(["TAU_LOG_ROTATION_MAX_BYTES", "lots"])
    }))

  it.effect("layerConfig fails the layer with the typed error, so nothing starts with a bad policy", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.provide(RotationPolicy.RotationPolicy, RotationPolicy.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(fromEnv({ LOG_ROTATION_MAX_FILES: "many" }))))))
      expect([error._tag, error.variable]).toEqual(["InvalidConfig", "LOG_ROTATION_MAX_FILES"])
    }))

  it.effect.each([
    [{ LOG_ROTATION_COMPRESS: "true" }, { maxBytes: 10 * 1024 * 1024, maxFiles: 5, compress: true }],
    [{ LOG_ROTATION_COMPRESS: "1", LOG_ROTATION_MAX_FILES: "3" }, { maxBytes: 10 * 1024 * 1024, maxFiles: 3, compress: true }],
    // false is the default: the policy is exactly the { maxBytes, maxFiles } it always was
    [{ LOG_ROTATION_COMPRESS: "false" }, { maxBytes: 10 * 1024 * 1024, maxFiles: 5 }],
    [{ LOG_ROTATION_COMPRESS: "off" }, { maxBytes: 10 * 1024 * 1024, maxFiles: 5 }]
  ] as const)("LOG_ROTATION_COMPRESS: reads %j", ([env, policy]) =>
    Effect.gen(function* () {
      expect(yield* load(env)).toEqual(Either.right(policy))
    }))

  it.effect("LOG_ROTATION_COMPRESS=sometimes is an InvalidConfig naming the variable, the value and the accepted words; a prefix nests it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load({ LOG_ROTATION_COMPRESS: "sometimes" }).pipe(Effect.flatten))
      expect([error._tag, error.variable, error.value]).toEqual(["InvalidConfig", "LOG_ROTATION_COMPRESS", "sometimes"])
      expect(error.expected).toBe("one of true, false, 1, 0, yes, no, on, off")
      expect(yield* load({ TAU_LOG_ROTATION_COMPRESS: "yes" }, "TAU")).toEqual(
        Either.right({ maxBytes: 10 * 1024 * 1024, maxFiles: 5, compress: true }))
    }))

  it("unsafeMake keeps compress when given and adds no field when not", () => {
    expect(RotationPolicy.unsafeMake({ maxBytes: 1, maxFiles: 2, compress: true })).toEqual({ maxBytes: 1, maxFiles: 2, compress: true })
    expect(Object.keys(RotationPolicy.unsafeMake({ maxBytes: 1, maxFiles: 2 }))).toEqual(["maxBytes", "maxFiles"])
  })

  it("unsafeMake throws InvalidConfig on negative and fractional numbers", () => {
    expect(() => RotationPolicy.unsafeMake({ maxBytes: -1, maxFiles: 1 })).toThrow(/maxBytes="-1" is invalid/)
    expect(() => RotationPolicy.unsafeMake({ maxBytes: 1, maxFiles: 1.5 })).toThrow(/maxFiles="1.5" is invalid/)
    expect(RotationPolicy.unsafeMake({ maxBytes: 0, maxFiles: 0 })).toEqual({ maxBytes: 0, maxFiles: 0 })
  })

  it("decode returns the policy, or a Left InvalidConfig naming the field, the value and the accepted form", () => {
    expect(RotationPolicy.decode({ maxBytes: 10, maxFiles: 2, compress: true })).toEqual(Either.right({ maxBytes: 10, maxFiles: 2, compress: true }))
    const error = Either.getOrThrow(Either.flip(RotationPolicy.decode({ maxBytes: 10, maxFiles: -3 })))
    expect([error._tag, error.variable, error.value, error.expected]).toEqual(["InvalidConfig", "maxFiles", "-3", RotationPolicy.MAX_FILES_FORM])
  })

  it("the deprecated make still returns the policy and throws on invalid numbers, as published", () => {
    expect(RotationPolicy.make({ maxBytes: 5, maxFiles: 1 })).toEqual({ maxBytes: 5, maxFiles: 1 })
    expect(() => RotationPolicy.make({ maxBytes: -1, maxFiles: 1 })).toThrow()
  })
})

describe("RotationPolicy.config for hosts that compose Configs", () => {
  it.effect("an invalid value is a ConfigError.InvalidData at the nested variable, its message the value and the accepted form (no packed text)", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Config.nested(RotationPolicy.config, "TAU").pipe(
        Effect.withConfigProvider(fromEnv({ TAU_LOG_ROTATION_MAX_FILES: "many" }))))
      expect(error._op).toBe("InvalidData")
      expect(error._op === "InvalidData" && [error.path, error.message]).toEqual([
        ["TAU", "LOG_ROTATION_MAX_FILES"], `"many" is invalid: expected ${RotationPolicy.MAX_FILES_FORM}`
      ])
    }))

  it.effect("checkedSettings carry the InvalidConfig as a value, whole through nesting", () =>
    Effect.gen(function* () {
      const checked = yield* Config.nested(RotationPolicy.checkedSettings.maxBytes, "TAU").pipe(
        Effect.withConfigProvider(fromEnv({ TAU_LOG_ROTATION_MAX_BYTES: "10 parsecs" })))
      const error = Either.getOrThrow(Either.flip(checked))
      expect([error._tag, error.variable, error.value]).toEqual(["InvalidConfig", "LOG_ROTATION_MAX_BYTES", "10 parsecs"])
    }))
})
