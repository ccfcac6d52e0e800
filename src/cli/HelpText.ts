/**
 * A `HelpDoc` as ANSI text, the same bytes as `@effect/cli`'s `HelpDoc.toAnsiText`, without
 * `@effect/printer`'s layout engine. `toAnsiText` converts the document to a printer `Doc` and
 * lays it out with Wadler–Leijen's algorithm run as Effects; for `effect-logrotate --help` that
 * was 35 ms of a 327 ms profile (issue 10, target 4: start-up). Help documents need none of the
 * layout's choices: every block ends in a hard line break, so nothing is ever fitted onto one
 * line, except a description-list entry with an empty body (handled as the printer does).
 *
 * What is reproduced (see @effect/cli `internal/helpDoc.js`, @effect/printer `internal/layout.js`,
 * @effect/printer-ansi `internal/ansiRender.js`):
 * - Header: bold span, newline. Paragraph: span, newline. Sequence: left, newline, right.
 * - DescriptionList: entries joined by newlines; an entry is its bold term, a blank line, then its
 *   body indented by 2 (the indentation is relative to the column where the entry starts).
 * - Enumeration: `- ` + element, joined by newlines, all indented by 2.
 * - Indentation after a line break is written only when text or a style change follows it (no
 *   trailing whitespace on empty lines).
 * - Styles: a style change writes `ESC[0;…m` with the pushed style combined with the one below it
 *   (foreground, background, bold, italic, strikethrough, underline, in that order); leaving it
 *   writes the style below it as it was pushed.
 * A document this does not cover (a highlight of a colour it does not know) returns `undefined`,
 * and the caller uses `HelpDoc.toAnsiText`. test/cli/HelpText.test.ts checks the bytes against
 * `toAnsiText` for every help page of the CLI and for each kind of block and span.
 */
import type * as HelpDoc from "@effect/cli/HelpDoc"
import type * as Span from "@effect/cli/HelpDoc/Span"

const PAGE_WIDTH = 80

interface Style {
  readonly foreground?: number
  readonly bold?: boolean
  readonly underlined?: boolean
}
const NONE: Style = {}
const combine = (self: Style, that: Style): Style => ({
  ...(self.foreground ?? that.foreground) !== undefined ? { foreground: self.foreground ?? that.foreground! } : {},
  ...(self.bold ?? that.bold) !== undefined ? { bold: self.bold ?? that.bold! } : {},
  ...(self.underlined ?? that.underlined) !== undefined ? { underlined: self.underlined ?? that.underlined! } : {}
})
const sgr = (s: Style): string =>
  `\u001b[${["0", ...(s.foreground !== undefined ? [String(s.foreground)] : []), ...(s.bold ? ["1"] : []), ...(s.underlined ? ["4"] : [])].join(";")}m`

const BOLD: Style = { bold: true }
/** `Ansi.blackBright`, what `Span.weak` renders as. */
const WEAK: Style = { foreground: 90 }
const UNDERLINED: Style = { underlined: true }
/** `Ansi.color(c)` for @effect/printer-ansi's colours, by tag. */
const COLORS: Readonly<Record<string, number>> = {
  Black: 30,
  Red: 31,
  Green: 32,
  Yellow: 33,
  Blue: 34,
  Magenta: 35,
  Cyan: 36,
  White: 37
}

class Unsupported extends Error {}

class Printer {
  out = ""
  column = 0
  /** Indentation owed after a line break, written only if something but a line break follows. */
  pending: number | undefined = undefined
  nest = 0
  readonly stack: Array<Style> = [NONE]

  private flush() {
    if (this.pending !== undefined) {
      this.out += " ".repeat(this.pending)
      this.pending = undefined
    }
  }
  text(s: string) {
    if (s.length === 0) return
    this.flush()
    this.out += s
    this.column += s.length
  }
  line() {
    this.out += "\n"
    this.pending = this.nest
    this.column = this.nest
  }
  styled(style: Style, body: () => void) {
    this.flush()
    this.out += sgr(combine(style, this.stack[this.stack.length - 1]!))
    this.stack.push(style)
    body()
    this.stack.pop()
    this.flush()
    this.out += sgr(this.stack[this.stack.length - 1]!)
  }
  /** `Doc.indent(doc, n)`: n spaces, then the doc, its lines indented by n from the current column. */
  indent(n: number, body: () => void) {
    const saved = this.nest
    this.nest = this.column + n
    this.text(" ".repeat(n))
    body()
    this.nest = saved
  }
}

/** A span's text, without styles. */
export const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    case "Highlight":
    case "Strong":
    case "Weak":
      return spanText(span.value)
  }
}

const spanWidth = (span: Span.Span): number => spanText(span).length

const span = (p: Printer, s: Span.Span): void => {
  switch (s._tag) {
    case "Text":
      return p.text(s.value)
    case "URI":
      return p.styled(UNDERLINED, () => p.text(s.value))
    case "Sequence":
      span(p, s.left)
      return span(p, s.right)
    case "Strong":
      return p.styled(BOLD, () => span(p, s.value))
    case "Weak":
      return p.styled(WEAK, () => span(p, s.value))
    case "Highlight": {
      const code = COLORS[(s.color as { readonly _tag?: string })._tag ?? ""]
      if (code === undefined) throw new Unsupported()
      return p.styled({ foreground: code }, () => span(p, s.value))
    }
  }
}

const block = (p: Printer, doc: HelpDoc.HelpDoc): void => {
  switch (doc._tag) {
    case "Empty":
      return
    case "Header":
      p.styled(BOLD, () => span(p, doc.value))
      return p.line()
    case "Paragraph":
      span(p, doc.value)
      return p.line()
    case "Sequence":
      block(p, doc.left)
      p.line()
      return block(p, doc.right)
    case "DescriptionList":
      return doc.definitions.forEach(([term, body], i) => {
        if (i > 0) p.line()
        // `Doc.cats`: on one line if it fits (only an empty body can: the others end in a line break).
        if (body._tag === "Empty" && p.column + spanWidth(term) + 2 <= PAGE_WIDTH) {
          p.styled(BOLD, () => span(p, term))
          return p.indent(2, () => {})
        }
        p.styled(BOLD, () => span(p, term))
        p.line()
        p.line()
        p.indent(2, () => block(p, body))
      })
    case "Enumeration":
      return p.indent(2, () =>
        doc.elements.forEach((element, i) => {
          if (i > 0) p.line()
          p.text("- ")
          block(p, element)
        })
      )
  }
}

/** The document as `HelpDoc.toAnsiText` renders it, or `undefined` for a document this does not cover. */
export const toAnsiText = (doc: HelpDoc.HelpDoc): string | undefined => {
  const p = new Printer()
  try {
    block(p, doc)
  } catch (e) {
    if (e instanceof Unsupported) return undefined
    throw e
  }
  return p.out
}
