/**
 * `internal/HelpText.toAnsiText` writes the same bytes as `@effect/cli`'s `HelpDoc.toAnsiText` (the
 * oracle), for every help page the CLI prints and for each kind of block and span.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import { describe, expect, it } from "@effect/vitest"
import * as Cli from "../../src/cli/Cli.js"
import * as CliHelp from "../../src/cli/CliHelp.js"
import * as HelpText from "../../src/cli/HelpText.js"
import { VERSION } from "../../src/version.js"

const INFO = { name: "effect-logrotate", version: VERSION, commands: ["append", "sweep", "watch", "logrotate-config"] }

const same = (doc: HelpDoc.HelpDoc) => expect(HelpText.toAnsiText(doc)).toBe(HelpDoc.toAnsiText(doc))

describe("HelpText.toAnsiText", () => {
  it.each([undefined, ...INFO.commands])("renders the CLI's help page for %s byte for byte as HelpDoc.toAnsiText", (command) => {
    const doc = CliHelp.helpDoc(Cli.command, INFO, command)
    const text = HelpText.toAnsiText(doc)
    expect(text).toBeDefined()
    expect(text).toContain(command === undefined ? "COMMANDS" : `$ effect-logrotate ${command}`)
    expect(text).toBe(HelpDoc.toAnsiText(doc))
  })

  it("renders each kind of block as HelpDoc.toAnsiText", () => {
    const p = HelpDoc.p
    same(HelpDoc.empty)
    same(HelpDoc.h1("TITLE"))
    same(p("one paragraph"))
    same(HelpDoc.blocks([HelpDoc.h1("A"), p("x"), p("y"), HelpDoc.h2("B"), p("z")]))
    const list = HelpDoc.descriptionList([
      [Span.text("--one"), p("first")],
      [Span.text("--two"), HelpDoc.sequence(p("second, line 1"), p("second, line 2"))],
      [Span.text("--three"), HelpDoc.descriptionList([[Span.text("nested"), p("deeper")]])],
      [Span.text("--four"), HelpDoc.enumeration([p("a"), p("b")])]
    ])
    same(list)
    same(HelpDoc.sequence(HelpDoc.h1("OPTIONS"), list))
    same(HelpDoc.enumeration([p("a"), HelpDoc.sequence(p("b1"), p("b2")), list]))
    same(HelpDoc.descriptionList([[Span.text("--empty-body"), HelpDoc.empty], [Span.text("--next"), p("after it")]]))
    same(HelpDoc.descriptionList([[Span.text("-".repeat(79)), HelpDoc.empty], [Span.text("--next"), p("after it")]]))
    same(p(Span.text("x".repeat(200) + " " + "y".repeat(50))))
  })

  it("renders each kind of span (styles nested and combined) as HelpDoc.toAnsiText", () => {
    const p = HelpDoc.p
    same(p(Span.strong("bold")))
    same(p(Span.weak("weak")))
    same(p(Span.uri("https://example.com")))
    same(p(Span.spans([Span.text("a "), Span.strong(Span.spans([Span.text("b "), Span.weak("c"), Span.text(" d")])), Span.text(" e")])))
    same(p(Span.strong(Span.weak(Span.uri("u")))))
    same(p(Span.error("red")))
    same(p(Span.code("cyan")))
    same(p(Span.strong(Span.spans([Span.code("c"), Span.weak("w"), Span.error("e")]))))
    same(HelpDoc.descriptionList([[Span.spans([Span.weak("<file>"), Span.text("...")]), p(Span.strong("b"))]]))
  })
})
