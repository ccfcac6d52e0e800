/**
 * Per-directory retention configuration (issue 12, item 2): the file's decoding with its error
 * paths, the precedence of flags, file, environment and defaults, and policies built in code.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer } from "effect"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as RetentionConfig from "../../src/retention/RetentionConfig.js"
import * as RetentionPolicy from "../../src/retention/RetentionPolicy.js"
import * as Sweeper from "../../src/retention/Sweeper.js"

const issuesOf = (json: unknown) => {
  const result = RetentionConfig.decode("/etc/r.json", json)
  return Either.isLeft(result) ? result.left.issues.map((i) => [i.reason, i.path, i.value, i.expected]) : "decoded"
}

const AGE = RetentionPolicy.MAX_AGE_DAYS_FORM
const COMPRESS = RetentionPolicy.COMPRESS_AGE_DAYS_FORM
const BYTES = RetentionPolicy.MAX_TOTAL_BYTES_FORM

describe("RetentionConfig.decode: every error names the JSON path, the value and the accepted form", () => {
  it.each([
    ["not an object", [1], [["invalid-value", "$", "[1]", RetentionConfig.FILE_FORM]]],
    ["null", null, [["invalid-value", "$", "null", RetentionConfig.FILE_FORM]]],
    ["an unknown top-level key (a typo is never ignored)", { default: {} },
      [["unknown-key", "$.default", "{}", `one of the keys "defaults" | "checkIntervalSeconds" | "directories"`]]],
    ["an unknown key in defaults", { defaults: { maxAge: 3 } },
      [["unknown-key", "$.defaults.maxAge", "3", `one of the keys "maxAgeDays" | "compressAgeDays" | "maxTotalBytes" | "naming"`]]],
    ["maxAgeDays 0", { defaults: { maxAgeDays: 0 } }, [["invalid-value", "$.defaults.maxAgeDays", "0", AGE]]],
    ["maxAgeDays as a string", { defaults: { maxAgeDays: "30" } }, [["invalid-value", "$.defaults.maxAgeDays", `"30"`, AGE]]],
    ["maxAgeDays 1.5", { defaults: { maxAgeDays: 1.5 } }, [["invalid-value", "$.defaults.maxAgeDays", "1.5", AGE]]],
    ["compressAgeDays -1", { defaults: { compressAgeDays: -1 } }, [["invalid-value", "$.defaults.compressAgeDays", "-1", COMPRESS]]],
    ["maxTotalBytes with an unknown unit", { defaults: { maxTotalBytes: "10XB" } }, [["invalid-value", "$.defaults.maxTotalBytes", `"10XB"`, BYTES]]],
    ["maxTotalBytes negative", { defaults: { maxTotalBytes: -5 } }, [["invalid-value", "$.defaults.maxTotalBytes", "-5", BYTES]]],
    ["checkIntervalSeconds above the longest timer", { checkIntervalSeconds: 2147484 },
      [["invalid-value", "$.checkIntervalSeconds", "2147484", RetentionPolicy.CHECK_INTERVAL_SECONDS_FORM]]],
    ["directories as a list", { directories: ["/var/log"] }, [["invalid-value", "$.directories", `["/var/log"]`, RetentionConfig.DIRECTORIES_FORM]]],
    ["a directory's settings not an object", { directories: { "/var/log": 7 } },
      [["invalid-value", `$.directories["/var/log"]`, "7", RetentionConfig.DIRECTORY_FORM]]],
    ["a directory's maxAgeDays", { directories: { "/var/log/relay": { maxAgeDays: -1 } } },
      [["invalid-value", `$.directories["/var/log/relay"].maxAgeDays`, "-1", AGE]]],
    ["a directory's naming not a string", { directories: { logs: { naming: 3 } } },
      [["invalid-value", "$.directories.logs.naming", "3", RetentionConfig.NAMING_FORM]]],
    ["a directory's naming that cannot be parsed back", { directories: { logs: { naming: "{prefix}.log" } } },
      [["invalid-value", "$.directories.logs.naming", `"{prefix}.log"`, RetentionConfig.NAMING_FORM]]],
    ["the defaults' naming that cannot be parsed back", { defaults: { naming: "{date}-{prefix}.gz" } },
      [["invalid-value", "$.defaults.naming", `"{date}-{prefix}.gz"`, RetentionConfig.NAMING_FORM]]],
    ["several errors: all of them, each with its path", { defaults: { maxAgeDays: 0 }, directories: { "/a": { compressAgeDays: "x", extra: true } } }, [
      ["invalid-value", "$.defaults.maxAgeDays", "0", AGE],
      ["unknown-key", `$.directories["/a"].extra`, "true", `one of the keys "maxAgeDays" | "compressAgeDays" | "maxTotalBytes" | "naming"`],
      ["invalid-value", `$.directories["/a"].compressAgeDays`, `"x"`, COMPRESS]
    ]]
  ] as const)("%s", (_, json, expected) => {
    const issues = issuesOf(json)
    expect(Array.isArray(issues) ? [...issues].sort() : issues).toEqual([...expected].map((i) => [...i]).sort())
  })

  it("a valid file decodes; sizes may be numbers or ByteSize strings, naming is kept as written", () => {
    expect(RetentionConfig.decode("f", {
      defaults: { maxAgeDays: 30, compressAgeDays: 7, maxTotalBytes: "10GiB" },
      checkIntervalSeconds: 60,
      directories: { "/a": { maxTotalBytes: 1000, naming: "{prefix}.{date}.log" }, "/b": {} }
    })).toEqual(Either.right({
      defaults: { maxAgeDays: 30, compressAgeDays: 7, maxTotalBytes: 10 * 1024 ** 3 },
      checkIntervalSeconds: 60,
      directories: { "/a": { maxTotalBytes: 1000, naming: "{prefix}.{date}.log" }, "/b": {} }
    }))
  })

  it("text that is not JSON is one not-json issue at $, with the parser's message", () => {
    const result = RetentionConfig.parse("/etc/r.json", `{"defaults": {`)
    expect(Either.isLeft(result) && result.left.issues.map((i) => [i.reason, i.path])).toEqual([["not-json", "$"]])
    expect(Either.isLeft(result) && result.left.message).toMatch(/^\/etc\/r\.json: invalid retention configuration \(nothing was swept\):\n {2}\$: not JSON \(.+\): expected valid JSON/)
  })

  it.effect("a file that cannot be read is one unreadable issue naming the file", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(RetentionConfig.read("/nowhere/r.json"))
      expect([error._tag, error.source, error.issues.map((i) => [i.reason, i.path])]).toEqual(
        ["InvalidRetentionConfig", "/nowhere/r.json", [["unreadable", "$"]]])
    }).pipe(Effect.provide(MemoryFileSystem.layer())))
})

const file = (json: unknown) => Either.getOrThrow(RetentionConfig.decode("/etc/r.json", json))
const env = { input: { maxAgeDays: 20, compressAgeDays: 2, maxTotalBytes: 500, dirs: ["/env"] } }
const flags = { input: { maxAgeDays: 9 }, names: { maxAgeDays: "--max-age-days" } }

describe("RetentionConfig.toPolicy: precedence flag > the directory's entry > the file's defaults > environment > built-in default", () => {
  const policyOf = (json: unknown, layers: RetentionConfig.Layers) => Either.getOrThrow(RetentionConfig.toPolicy("/etc/r.json", file(json), layers))
  const thresholds = (json: unknown, layers: RetentionConfig.Layers, dir: string) => Sweeper.thresholdsFor(policyOf(json, layers), dir)

  it.each([
    ["nothing anywhere: built-in defaults", {}, {}, { maxAgeDays: 30, compressAgeDays: 0, maxTotalBytes: undefined }],
    ["environment only", {}, { base: env }, { maxAgeDays: 20, compressAgeDays: 2, maxTotalBytes: 500 }],
    ["the file's defaults over the environment", { defaults: { maxAgeDays: 15, maxTotalBytes: "1KiB" } }, { base: env },
      { maxAgeDays: 15, compressAgeDays: 2, maxTotalBytes: 1024 }],
    ["the directory's entry over the file's defaults", { defaults: { maxAgeDays: 15 }, directories: { "/a": { maxAgeDays: 4 } } }, { base: env },
      { maxAgeDays: 4, compressAgeDays: 2, maxTotalBytes: 500 }],
    ["a flag over the directory's entry, for that field only", { defaults: { maxAgeDays: 15 }, directories: { "/a": { maxAgeDays: 4, maxTotalBytes: 7 } } },
      { base: env, override: flags }, { maxAgeDays: 9, compressAgeDays: 2, maxTotalBytes: 7 }]
  ] as const)("%s", (_, json, layers, expected) => {
    expect(thresholds(json, layers as RetentionConfig.Layers, "/a")).toEqual(expected)
  })

  it("the directories swept: the file's (the environment's list ignored); each keeps its own entry", () => {
    const policy = policyOf({ directories: { "/a": { maxAgeDays: 4 }, "/b": {} } }, { base: env })
    expect(policy.dirs).toEqual(["/a", "/b"])
    expect(policy.directories).toEqual([{ dir: "/a", maxAgeDays: 4 }, { dir: "/b" }])
  })

  it("a file without directories: the environment's list, with the file's defaults", () => {
    const policy = policyOf({ defaults: { maxAgeDays: 3 } }, { base: env })
    expect([policy.dirs, policy.maxAgeDays]).toEqual([["/env"], 3])
  })

  it("explicit dirs (the CLI's <dir> arguments): exactly those, each with its entry when named, the defaults otherwise", () => {
    const policy = policyOf({ defaults: { maxAgeDays: 12 }, directories: { "/a": { maxAgeDays: 4 }, "/b": { maxAgeDays: 5 } } }, { dirs: ["/a/", "/c"] })
    expect(policy.dirs).toEqual(["/a", "/c"])
    expect([Sweeper.thresholdsFor(policy, "/a").maxAgeDays, Sweeper.thresholdsFor(policy, "/c").maxAgeDays]).toEqual([4, 12])
  })

  it("naming is kept as written: the defaults' as the policy's, a directory's in its entry", () => {
    const policy = policyOf({ defaults: { naming: "{prefix}.{date}.log" }, directories: { "/a": { naming: "{prefix}-{date}-{hour}.ndjson" }, "/b": {} } }, {})
    expect([policy.naming, policy.directories]).toEqual(["{prefix}.{date}.log", [{ dir: "/a", naming: "{prefix}-{date}-{hour}.ndjson" }, { dir: "/b" }]])
  })

  it("a relative directory key is resolved against the file's directory", () => {
    expect(policyOf({ directories: { "relay/dlq": {} } }, {}).dirs).toEqual(["/etc/relay/dlq"])
  })

  it("a compression age not below a directory's maximum age names the directory's key in the file", () => {
    const result = RetentionConfig.toPolicy("/etc/r.json", file({ defaults: { compressAgeDays: 5 }, directories: { "/a": { maxAgeDays: 5 } } }), {})
    expect(Either.isLeft(result) && [result.left.variable, result.left.value]).toEqual([`/etc/r.json: $.directories["/a"].maxAgeDays`, "5"])
    const own = RetentionConfig.toPolicy("/etc/r.json", file({ directories: { "/a": { maxAgeDays: 5, compressAgeDays: 6 } } }), {})
    expect(Either.isLeft(own) && [own.left.variable, own.left.value]).toEqual([`/etc/r.json: $.directories["/a"].compressAgeDays`, "6"])
  })

  it("a conflict between layers names where each value came from: a flag, or the file's path", () => {
    const result = RetentionConfig.toPolicy("/etc/r.json", file({ defaults: { compressAgeDays: 10 } }), { override: flags })
    expect(Either.isLeft(result) && [result.left.variable, result.left.value, result.left.expected]).toEqual(
      ["/etc/r.json: $.defaults.compressAgeDays", "10", "0 (no compression) or a whole number below the maximum age (9 days)"])
  })

  it("two keys naming one directory are an error naming the second", () => {
    const result = RetentionConfig.toPolicy("/etc/r.json", file({ directories: { "/a": {}, "/a/": {} } }), {})
    expect(Either.isLeft(result) && result.left.variable).toBe(`/etc/r.json: $.directories["/a/"].dir`)
  })
})

describe("RetentionPolicy.decode with directories (a policy built in code)", () => {
  it("every directory named is swept, with its own settings; the rest take the policy's", () => {
    const policy = Either.getOrThrow(RetentionPolicy.decode({
      enabled: true, dirs: ["/x"], maxAgeDays: 30,
      directories: [{ dir: "/a", maxAgeDays: 3, maxTotalBytes: 100 }, { dir: "/b/", naming: "{prefix}.{date}.log" }]
    }))
    expect(policy.dirs).toEqual(["/x", "/a", "/b"])
    expect(policy.directories).toEqual([{ dir: "/a", maxAgeDays: 3, maxTotalBytes: 100 }, { dir: "/b", naming: "{prefix}.{date}.log" }])
    expect(Sweeper.thresholdsFor(policy, "/a")).toEqual({ maxAgeDays: 3, compressAgeDays: 0, maxTotalBytes: 100 })
    expect(Sweeper.thresholdsFor(policy, "/x")).toEqual({ maxAgeDays: 30, compressAgeDays: 0, maxTotalBytes: undefined })
  })

  it.each([
    [{ dir: "/a", maxAgeDays: 0 }, `directories["/a"].maxAgeDays`, "0"],
    [{ dir: "/a", compressAgeDays: 1.5 }, `directories["/a"].compressAgeDays`, "1.5"],
    [{ dir: "/a", maxTotalBytes: -1 }, `directories["/a"].maxTotalBytes`, "-1"],
    [{ dir: "/a", maxAgeDays: 3, compressAgeDays: 3 }, `directories["/a"].compressAgeDays`, "3"],
    [{ dir: " " }, `directories[" "].dir`, " "]
  ])("%j fails naming %s with its value", (directory, variable, value) => {
    const result = RetentionPolicy.decode({ directories: [directory] })
    expect(Either.isLeft(result) && [result.left._tag, result.left.variable, result.left.value]).toEqual(["InvalidConfig", variable, value])
  })
})

describe("RetentionConfig.load: LOG_RETENTION_CONFIG under the environment", () => {
  const withFile = (text: string) =>
    Layer.effectDiscard(Effect.flatMap(FileSystem.FileSystem, (fs) =>
      Effect.zipRight(fs.makeDirectory("/etc/relay", { recursive: true }), fs.writeFileString("/etc/relay/retention.json", text))))

  it.effect("with a host prefix: the file's settings over the variables, errors naming the prefixed variables", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromMap(new Map([
        ["TAU_LOG_RETENTION_ENABLED", "true"], ["TAU_LOG_RETENTION_CONFIG", "/etc/relay/retention.json"],
        ["TAU_LOG_RETENTION_MAX_AGE_DAYS", "20"], ["TAU_LOG_RETENTION_COMPRESS_AGE_DAYS", "3"]
      ]), { pathDelim: "_" })
      const policy = yield* RetentionConfig.load({ prefix: "TAU" }).pipe(Effect.withConfigProvider(provider))
      expect([policy.enabled, policy.dirs, policy.maxAgeDays, policy.compressAgeDays, policy.directories]).toEqual(
        [true, ["/var/log/a", "/var/log/b"], 20, 3, [{ dir: "/var/log/a", maxAgeDays: 7 }, { dir: "/var/log/b" }]])
      const bad = ConfigProvider.fromMap(new Map([["TAU_LOG_RETENTION_CONFIG", "/etc/relay/retention.json"], ["TAU_LOG_RETENTION_COMPRESS_AGE_DAYS", "7"]]), { pathDelim: "_" })
      const error = yield* Effect.flip(RetentionConfig.load({ prefix: "TAU" }).pipe(Effect.withConfigProvider(bad)))
      expect(error._tag === "InvalidConfig" && [error.variable, error.value]).toEqual([`/etc/relay/retention.json: $.directories["/var/log/a"].maxAgeDays`, "7"])
      for (const [vars, variable, value] of [
        [[["TAU_LOG_RETENTION_MAX_AGE_DAYS", "0"]], "TAU_LOG_RETENTION_MAX_AGE_DAYS", "0"],
        [[["TAU_LOG_RETENTION_COMPRESS_AGE_DAYS", "40"]], "TAU_LOG_RETENTION_COMPRESS_AGE_DAYS", "40"]
      ] as const) {
        const env = ConfigProvider.fromMap(new Map([["TAU_LOG_RETENTION_CONFIG", "/etc/relay/retention.json"], ...vars]), { pathDelim: "_" })
        const e = yield* Effect.flip(RetentionConfig.load({ prefix: "TAU" }).pipe(Effect.withConfigProvider(env)))
        expect(e._tag === "InvalidConfig" && [e.variable, e.value]).toEqual([variable, value])
      }
    }).pipe(Effect.provide(withFile(`{"directories": {"/var/log/a": {"maxAgeDays": 7}, "/var/log/b": {}}}`).pipe(Layer.provideMerge(MemoryFileSystem.layer())))))

  it.effect("layerFile provides the policy of a named file over the environment", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromMap(new Map([["LOG_RETENTION_COMPRESS_AGE_DAYS", "2"], ["LOG_RETENTION_DIRS", "/ignored"]]), { pathDelim: "_" })
      const policy = yield* Effect.flatMap(RetentionPolicy.RetentionPolicy, Effect.succeed).pipe(
        Effect.provide(RetentionConfig.layerFile("/etc/relay/retention.json")), Effect.withConfigProvider(provider))
      expect([policy.dirs, policy.compressAgeDays, Sweeper.thresholdsFor(policy, "/var/log/a").maxAgeDays]).toEqual([["/var/log/a", "/var/log/b"], 2, 7])
    }).pipe(Effect.provide(withFile(`{"directories": {"/var/log/a": {"maxAgeDays": 7}, "/var/log/b": {}}}`).pipe(Layer.provideMerge(MemoryFileSystem.layer())))))

  it.effect("without LOG_RETENTION_CONFIG it is RetentionPolicy.load", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromMap(new Map([["LOG_RETENTION_MAX_AGE_DAYS", "12"]]), { pathDelim: "_" })
      const policy = yield* RetentionConfig.load().pipe(Effect.withConfigProvider(provider))
      expect(policy).toEqual(Either.getOrThrow(RetentionPolicy.decode({ maxAgeDays: 12 })))
    }).pipe(Effect.provide(MemoryFileSystem.layer())))
})
