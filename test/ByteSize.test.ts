import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as ByteSize from "../src/ByteSize.js"

describe("ByteSize", () => {
  it.each([
    ["0", 0], ["1", 1], ["1048576", 1048576], ["512KiB", 512 * 1024], ["10MiB", 10 * 1024 ** 2], ["1GiB", 1024 ** 3],
    ["10MB", 10_000_000], ["1KB", 1000], ["2GB", 2e9], ["7B", 7], ["10mib", 10 * 1024 ** 2], [" 10 MiB ", 10 * 1024 ** 2]
  ] as const)("parses %j as %d bytes", (input, bytes) => {
    expect(ByteSize.parse(input)).toEqual(Either.right(bytes))
  })

  it.each(["", " ", "-1", "abc", "1.5", "10XB", "MiB", "1e6", "0x10", "10 M i B", "99999999999GiB"])("rejects %j, naming the accepted form", (input) => {
    const result = ByteSize.parse(input)
    expect(Either.isLeft(result) && result.left).toContain("KiB, MiB, GiB")
  })

  it.each([[0, "0B"], [1023, "1023B"], [1024, "1KiB"], [10 * 1024 ** 2, "10MiB"], [3 * 1024 ** 3, "3GiB"], [1536, "1536B"]])(
    "formats %d as %s", (bytes, text) => {
      expect(ByteSize.format(bytes)).toBe(text)
    })

  it.prop("format then parse is the identity", [Schema.Int.pipe(Schema.between(0, 2 ** 40))], ([n]) => {
    expect(ByteSize.parse(ByteSize.format(n))).toEqual(Either.right(n))
  })

  it("the ByteSize schema decodes and reports the input", () => {
    expect(Schema.decodeUnknownSync(ByteSize.ByteSize)("512KiB")).toBe(524288)
    expect(() => Schema.decodeUnknownSync(ByteSize.ByteSize)("10XB")).toThrow(/got "10XB"/)
  })
})
