/**
 * The module graph of the library entries (issue 10, target 6: `import "effect-logrotate"` stays
 * light). What `npm run bench` measures in MiB (bench/package-memory.ts) rests on these structural
 * rules, checked here without timing anything:
 *
 * - No source file imports the package's own barrel (`./index.js`): modules import each other by
 *   their own file, so a subpath import (`effect-logrotate/RotatingAppender`) loads only what it needs.
 * - The modules the library entries (`index.ts`, `testing.ts`) reach never import the CLI (`cli/`,
 *   `bin.ts`), `@effect/cli` or `@effect/platform-node`, nor a dependency's barrel (`effect`,
 *   `@effect/platform`): the `@effect/platform` barrel alone is 92 modules (HTTP, workers,
 *   msgpackr…), +31 MiB of RSS.
 * - Loading `src/index.ts` in a fresh process (module loads traced by a `module.register` hook)
 *   loads none of those either.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import ts from "typescript"

const root = path.resolve(import.meta.dirname, "..")
const src = path.join(root, "src")

interface Import {
  readonly specifier: string
  /** `import type` / `export type … from`: erased at run time (verbatimModuleSyntax keeps every other form). */
  readonly typeOnly: boolean
}

/** The static and dynamic imports (and `export … from`) of a TypeScript file; comments are not code. */
const importsOf = (file: string): Array<Import> => {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true)
  const out: Array<Import> = []
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false })
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly })
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] && ts.isStringLiteral(node.arguments[0])
    ) {
      out.push({ specifier: node.arguments[0].text, typeOnly: false })
    } else if (ts.isImportTypeNode(node)) {
      return // `import("node:fs").Stats` in a type position: erased
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

const sourceFiles = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []
  )

/** Source files reachable at run time from `entries` (relative imports only; `.js` specifiers name `.ts` files). */
const reachable = (entries: ReadonlyArray<string>): Set<string> => {
  const seen = new Set<string>()
  const walk = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const i of importsOf(file)) {
      if (i.typeOnly || !i.specifier.startsWith(".")) continue
      walk(path.resolve(path.dirname(file), i.specifier).replace(/\.js$/, ".ts"))
    }
  }
  entries.forEach(walk)
  return seen
}

const LIBRARY_ENTRIES = [path.join(src, "index.ts"), path.join(src, "testing.ts")]
/** A CLI module, by its path under src/: the executable, and everything in cli/. */
const CLI_FILE = /^(cli\/.+|bin)\.ts$/
/** Specifiers a library module must not load: the CLI's dependencies, and barrels of the dependencies. */
const FORBIDDEN = (specifier: string): string | undefined =>
  /^@effect\/cli(\/|$)/.test(specifier)
    ? "the CLI's parser (@effect/cli)"
    : /^@effect\/platform-node(-shared)?(\/|$)/.test(specifier)
    ? "a Node platform implementation (the user provides NodeFileSystem.layer)"
    : specifier === "effect" || specifier === "@effect/platform"
    ? "a barrel: import the module (effect/Effect, @effect/platform/FileSystem)"
    : undefined

describe("the library's module graph", () => {
  it("no source file imports the package's own barrel (index.ts)", () => {
    const offenders = sourceFiles(src).flatMap((file) =>
      importsOf(file)
        .filter((i) => path.resolve(path.dirname(file), i.specifier) === path.join(src, "index.js"))
        .map((i) => `${path.relative(root, file)} imports ${i.specifier}`)
    )
    expect(offenders).toEqual([])
  })

  it("the modules reachable from index.ts and testing.ts import no CLI module, no @effect/cli or platform-node, no dependency barrel", () => {
    const files = reachable(LIBRARY_ENTRIES)
    // The walk did reach the library (a broken walk would pass vacuously).
    expect([...files].map((f) => path.relative(src, f))).toEqual(
      expect.arrayContaining(["rotation/RotatingAppender.ts", "retention/Sweeper.ts", "retention/Compressor.ts", "logging/NdjsonLogger.ts", "platform/MemoryFileSystem.ts"])
    )
    const offenders = [...files].flatMap((file) => [
      ...(CLI_FILE.test(path.relative(src, file).split(path.sep).join("/")) ? [`${path.relative(root, file)} is a CLI module`] : []),
      ...importsOf(file).flatMap((i) => {
        const why = i.typeOnly ? undefined : FORBIDDEN(i.specifier)
        return why ? [`${path.relative(root, file)} imports "${i.specifier}": ${why}`] : []
      })
    ])
    expect(offenders).toEqual([])
  })

  it("loading src/index.ts loads no CLI module, no @effect/cli or platform-node, no @effect/platform barrel", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "package-graph-"))
    try {
      const hooks = path.join(dir, "hooks.mjs")
      const register = path.join(dir, "register.mjs")
      const trace = path.join(dir, "loaded.txt")
      fs.writeFileSync(
        hooks,
        `import { appendFileSync } from "node:fs"\n` +
          `export async function load(url, context, next) { appendFileSync(${JSON.stringify(trace)}, url + "\\n"); return next(url, context) }\n`
      )
      fs.writeFileSync(register, `import { register } from "node:module"\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
      const entry = pathToFileURL(path.join(src, "index.ts")).href
      const r = spawnSync(
        process.execPath,
        ["--import", "tsx", "--import", pathToFileURL(register).href, "--input-type=module", "-e",
          `const m = await import(${JSON.stringify(entry)}); process.stdout.write(Object.keys(m).sort().join(","))`],
        { cwd: root, encoding: "utf8" }
      )
      expect(r.stderr).toBe("")
      expect(r.status).toBe(0)
      // The entry did load: its namespaces are there.
      expect(r.stdout.split(",")).toEqual(expect.arrayContaining(["RotatingAppender", "Sweeper", "NdjsonLogger", "SafeFs"]))
      const loaded = fs.readFileSync(trace, "utf8").split("\n").filter(Boolean)
      expect(loaded).toContain(pathToFileURL(path.join(src, "retention/Sweeper.ts")).href)
      const offenders = loaded.filter((url) =>
        /\/node_modules\/@effect\/(cli|platform-node|platform-node-shared)\//.test(url) ||
        /\/node_modules\/@effect\/platform\/dist\/(esm|cjs)\/index\.js$/.test(url) ||
        (url.startsWith(pathToFileURL(src).href + "/") && CLI_FILE.test(url.slice(pathToFileURL(src).href.length + 1)))
      )
      expect(offenders).toEqual([])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000) // a child process loading effect under tsx: seconds on a loaded machine (a harness limit, not a timing assertion)
})
