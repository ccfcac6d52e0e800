/**
 * `npm run test:package` — the package as a user meets it (issue 11). `.ci/run` runs it after `npm test`;
 * it needs the npm registry (the app's peers and tools come from there), and takes a minute or two.
 *
 *   npm run test:package -- [--keep]
 *
 * 1. `npm pack` (its `prepack` cleans and builds `dist/`); the tarball must hold `dist/`, the
 *    declarations, `LICENSE` and `README.md`, and no tests.
 * 2. A fresh app (`npm init -y`, so CommonJS by default) gets nothing but `npm install <tarball>`:
 *    npm must install the peers (`effect` 3.x, …) at the top level, with one copy of `effect` in
 *    the tree. There: an ESM import of every subpath of the exports map, a CommonJS `require` of
 *    `.`, `./testing` and a module subpath, a CommonJS program running the README's quick start,
 *    and `npx effect-logrotate --help`.
 * 3. Beside it, a second fresh app already on effect 4: `npm install <tarball>` must refuse
 *    (ERESOLVE) instead of installing two majors.
 * 4. The app then gets the tools a user would have (`typescript`, `@types/node`, `@effect/vitest`,
 *    `vitest`, at the versions of this repo's devDependencies), and every ```ts block of README.md
 *    and docs/*.md is written verbatim to a file and typechecked with `strict` and `module nodenext`
 *    (plus a `.cts` file importing the package, typechecked as CommonJS). README blocks are then run
 *    with node, each in an empty temp cwd (they write `logs/…`); doc blocks that import
 *    `@effect/vitest` are run with vitest. A block fenced as ```ts fragment (a shape sketch, an
 *    excerpt of a file) is listed as skipped; every other ```ts block must be a complete program.
 *
 * Output: one line per check, then `N passed, M failed`; exit 1 if anything failed. `--keep` keeps
 * the temp directory.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as Path from "node:path"

const ROOT = Path.resolve(import.meta.dirname, "../..")
const keep = process.argv.includes("--keep")
const tmp = fs.mkdtempSync(Path.join(os.tmpdir(), "effect-logrotate-package-"))
const rootPkg = JSON.parse(fs.readFileSync(Path.join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, unknown>
  peerDependencies?: Record<string, string>
  devDependencies: Record<string, string>
}

const started = Date.now()
let passed = 0
let failed = 0
let skipped = 0
const check = (name: string, ok: boolean, detail = "") => {
  if (ok) passed++
  else failed++
  console.log(`${ok ? "ok  " : "FAIL"} [${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${name}${!ok && detail ? `\n${indent(detail)}` : ""}`)
}
const indent = (text: string) =>
  text.trimEnd().split("\n").slice(0, 40).map((line) => `       ${line}`).join("\n")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}
const run = (cmd: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = {}): Run => {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", npm_config_fund: "false", npm_config_audit: "false", ...env },
    maxBuffer: 64 * 1024 * 1024
  })
  return { code: r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") }
}
const output = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`

/** The ```ts blocks of a markdown file: `fragment` in the info string marks a block that is not a program. */
interface Snippet {
  readonly source: string // e.g. README.md:23
  readonly file: string // e.g. readme-1.mts
  readonly code: string
  readonly fragment: boolean
  readonly vitest: boolean
}
const extract = (mdPath: string, stem: string): Array<Snippet> => {
  const lines = fs.readFileSync(Path.join(ROOT, mdPath), "utf8").split("\n")
  const out: Array<Snippet> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i]!)
    if (!open) continue
    const pad = open[1]!.length
    const words = (open[3] ?? "").split(/\s+/)
    const body: Array<string> = []
    let j = i + 1
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(pad))
    const code = body.join("\n") + "\n"
    const n = out.length + 1
    const vitest = code.includes(`from "@effect/vitest"`)
    out.push({
      source: `${mdPath}:${i + 1}`,
      file: `${stem}-${n}${vitest ? ".test" : ""}.mts`,
      code,
      fragment: words.includes("fragment"),
      vitest
    })
    i = j
  }
  return out
}

const main = () => {
  console.log(`package test in ${tmp}`)

  // 1. Pack.
  const pack = run("npm", ["pack", "--json", "--pack-destination", tmp], ROOT)
  let tarball = ""
  let files: Array<string> = []
  try {
    const info = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    tarball = Path.join(tmp, info[0]!.filename)
    files = info[0]!.files.map((f) => f.path)
  } catch {
    check("npm pack builds (prepack) and packs", false, output(pack))
    return
  }
  const expected = ["LICENSE", "README.md", "package.json", "dist/index.js", "dist/index.d.ts", "dist/testing.js", "dist/bin.js"]
  for (const key of Object.keys(rootPkg.exports)) {
    const entry = rootPkg.exports[key]
    if (typeof entry === "object" && entry !== null) {
      for (const target of Object.values(entry as Record<string, string>)) expected.push(target.replace(/^\.\//, ""))
    }
  }
  const missing = [...new Set(expected)].filter((f) => !files.includes(f))
  check("npm pack builds (prepack) and ships dist/, every exports target, LICENSE and README", pack.code === 0 && missing.length === 0, `missing: ${missing.join(", ")}\n${output(pack)}`)
  const stray = files.filter((f) => f.startsWith("test/") || f.startsWith("node_modules/") || f.startsWith("bench/"))
  check("the tarball ships no tests, benchmarks or node_modules", stray.length === 0, stray.join("\n"))

  // 2. A fresh CommonJS app, nothing but `npm install <tarball>`.
  const app = Path.join(tmp, "app")
  fs.mkdirSync(app)
  run("npm", ["init", "-y"], app)
  const install = run("npm", ["install", tarball], app)
  check("npm install <tarball> into a fresh app succeeds", install.code === 0, output(install))
  if (install.code !== 0) return
  const version = (name: string, from = app) => {
    try {
      return (JSON.parse(fs.readFileSync(Path.join(from, "node_modules", name, "package.json"), "utf8")) as { version: string }).version
    } catch {
      return "absent"
    }
  }
  // The Effect packages the library imports at run time must be the app's (peers), so there is one copy.
  const required = ["effect", "@effect/platform", "@effect/platform-node", "@effect/cli"]
  const undeclared = required.filter((name) => rootPkg.peerDependencies?.[name] === undefined)
  const peerVersions = required.map((name) => `${name}@${version(name)}`)
  const effectMajor = version("effect").split(".")[0]
  check(
    `the Effect packages are peers, and npm installed them at the top level (${peerVersions.join(", ")})`,
    undeclared.length === 0 && effectMajor === "3" && !peerVersions.some((p) => p.endsWith("@absent")),
    `not peerDependencies: ${undeclared.join(", ") || "none"}\ninstalled: ${peerVersions.join(", ")}`
  )
  const ls = run("npm", ["ls", "effect", "--all", "--parseable"], app)
  const effectCopies = ls.stdout.split("\n").filter((line) => line.endsWith(`${Path.sep}effect`))
  const nested = version("effect", Path.join(app, "node_modules", "effect-logrotate"))
  check("one copy of effect serves the app and the library", effectCopies.length === 1 && nested === "absent", `${output(ls)}\nnested effect: ${nested}`)

  // ESM import of every subpath.
  const subpaths = Object.keys(rootPkg.exports).filter((k) => k !== "./package.json").map((k) => `effect-logrotate${k.slice(1)}`)
  fs.writeFileSync(
    Path.join(app, "esm-import.mjs"),
    [
      `import * as Index from "effect-logrotate"`,
      `const subpaths = ${JSON.stringify(subpaths)}`,
      `for (const s of subpaths) {`,
      `  const m = await import(s)`,
      `  if (Object.keys(m).length === 0) throw new Error(s + " exports nothing")`,
      `  const name = s.split("/")[1]`,
      `  if (name && name !== "testing" && name !== "Errors" && Index[name] === undefined) throw new Error(name + " is not in the index")`,
      `  if (name && name !== "testing" && name !== "Errors" && Object.keys(Index[name]).join() !== Object.keys(m).join()) throw new Error(s + " differs from the index's " + name)`,
      `}`,
      `const { MemoryFileSystem } = await import("effect-logrotate/testing")`,
      `if (typeof MemoryFileSystem.layer !== "function") throw new Error("testing: no MemoryFileSystem.layer")`,
      `console.log("imported " + subpaths.length)`
    ].join("\n")
  )
  const esm = run(process.execPath, ["esm-import.mjs"], app)
  check(`ESM: import of each of the ${subpaths.length} subpaths (same members as the index's namespaces)`, esm.code === 0 && esm.stdout.includes(`imported ${subpaths.length}`), output(esm))

  // CommonJS require.
  fs.writeFileSync(
    Path.join(app, "cjs-require.cjs"),
    [
      `const { RotatingAppender, Sweeper } = require("effect-logrotate")`,
      `const { MemoryFileSystem } = require("effect-logrotate/testing")`,
      `const SweeperModule = require("effect-logrotate/Sweeper")`,
      `if (typeof RotatingAppender.layer !== "function") throw new Error("no RotatingAppender.layer")`,
      `if (SweeperModule.layer !== Sweeper.layer) throw new Error("subpath and index differ")`,
      `if (typeof MemoryFileSystem.layer !== "function") throw new Error("no MemoryFileSystem.layer")`,
      `console.log("required")`
    ].join("\n")
  )
  const cjs = run(process.execPath, ["cjs-require.cjs"], app)
  check(`CommonJS: require("effect-logrotate"), "/testing" and "/Sweeper" (node ${process.version})`, cjs.code === 0 && cjs.stdout.includes("required") && !cjs.stderr.includes("Error"), output(cjs))

  // A CommonJS program using effect (its CJS build) with the library: the README quick start.
  fs.writeFileSync(
    Path.join(app, "cjs-quickstart.cjs"),
    [
      `const { NodeFileSystem } = require("@effect/platform-node")`,
      `const { Effect, Layer } = require("effect")`,
      `const { RenameShift, RotatingAppender, RotationPolicy } = require("effect-logrotate")`,
      `const program = Effect.gen(function* () {`,
      `  const log = yield* RotatingAppender.RotatingAppender`,
      `  yield* log.appendJson({ event: "heartbeat", ok: true })`,
      `})`,
      `const Live = RotatingAppender.layer("logs/heartbeat.jsonl").pipe(`,
      `  Layer.provide(Layer.mergeAll(RenameShift.layer, RotationPolicy.layerConfig())),`,
      `  Layer.provide(NodeFileSystem.layer))`,
      `Effect.runPromise(program.pipe(Effect.provide(Live))).then(() => console.log("done"))`
    ].join("\n")
  )
  const cjsCwd = fs.mkdtempSync(Path.join(tmp, "cwd-"))
  const cjsRun = run(process.execPath, [Path.join(app, "cjs-quickstart.cjs")], cjsCwd)
  const cjsBytes = readOr(Path.join(cjsCwd, "logs/heartbeat.jsonl"))
  check("CommonJS: the quick start runs and writes logs/heartbeat.jsonl", cjsRun.code === 0 && cjsBytes === `{"event":"heartbeat","ok":true}\n`, `${output(cjsRun)}\nfile: ${JSON.stringify(cjsBytes)}`)

  // The executable.
  const help = run("npx", ["--no-install", "effect-logrotate", "--help"], app)
  check("npx effect-logrotate --help", help.code === 0 && /sweep/.test(help.stdout) && /append/.test(help.stdout), output(help))

  // 3. An app on effect 4 is refused, not given two majors.
  const app4 = Path.join(tmp, "app-effect4")
  fs.mkdirSync(app4)
  fs.writeFileSync(Path.join(app4, "package.json"), JSON.stringify({ name: "app4", version: "1.0.0", private: true, dependencies: { effect: "^4.0.0" } }))
  const refused = run("npm", ["install", "--dry-run", tarball], app4)
  check("an app on effect 4: npm install <tarball> refuses with ERESOLVE naming effect", refused.code !== 0 && refused.stderr.includes("ERESOLVE") && refused.stderr.includes("effect@"), output(refused))

  // 4. Tools, then every snippet.
  const tools = ["typescript", "@types/node", "@effect/vitest", "vitest"].map((t) => `${t}@${rootPkg.devDependencies[t]}`)
  const toolsInstall = run("npm", ["install", "--save-dev", ...tools], app)
  check(`the app's tools install beside it (${tools.join(" ")})`, toolsInstall.code === 0, output(toolsInstall))
  if (toolsInstall.code !== 0) return

  const snippets = [
    ...extract("README.md", "readme"),
    ...fs.readdirSync(Path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().flatMap((f) => extract(`docs/${f}`, `docs-${f.replace(/\.md$/, "")}`))
  ]
  const src = Path.join(app, "src")
  fs.mkdirSync(src)
  for (const s of snippets.filter((s) => s.fragment)) {
    skipped++
    console.log(`skip ${s.source} (fenced as a fragment)`)
  }
  const programs = snippets.filter((s) => !s.fragment)
  for (const s of programs) fs.writeFileSync(Path.join(src, s.file), s.code)
  fs.writeFileSync(
    Path.join(src, "cjs-types.cts"),
    [
      `import { RotatingAppender, Sweeper } from "effect-logrotate"`,
      `import { MemoryFileSystem } from "effect-logrotate/testing"`,
      `import * as RetentionPlan from "effect-logrotate/RetentionPlan"`,
      `export const layers = [RotatingAppender.layer("logs/a.jsonl"), Sweeper.layer, MemoryFileSystem.layer()] as const`,
      `export const plan: typeof RetentionPlan.plan = RetentionPlan.plan`
    ].join("\n") + "\n"
  )
  fs.writeFileSync(
    Path.join(app, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          types: ["node"],
          skipLibCheck: false,
          rootDir: "src",
          outDir: "out"
        },
        include: ["src"]
      },
      null,
      2
    )
  )
  const tsc = run(process.execPath, [Path.join(app, "node_modules/typescript/bin/tsc"), "-p", "."], app)
  const errorsOf = (file: string) => tsc.stdout.split("\n").filter((l) => l.startsWith(`src/${file}(`)).join("\n")
  const attributed = new Set<string>()
  for (const s of programs) {
    const errors = errorsOf(s.file)
    if (errors) attributed.add(s.file)
    check(`typecheck ${s.source} (strict, nodenext)`, errors === "", errors)
  }
  const cjsErrors = errorsOf("cjs-types.cts")
  check("typecheck a .cts file importing the package and two subpaths (CommonJS, nodenext)", cjsErrors === "", cjsErrors)
  // skipLibCheck is off so that the package's own declarations are checked; errors in other packages'
  // declarations (@effect/platform-node-shared's refer to `ws` without @types/ws) are not ours: listed only.
  const errorLines = tsc.stdout.split("\n").filter((l) => /error TS/.test(l))
  const ours = errorLines.filter((l) => l.startsWith("node_modules/effect-logrotate/"))
  const elsewhere = errorLines.filter((l) => l.startsWith("node_modules/") && !l.startsWith("node_modules/effect-logrotate/"))
  const unexplained = errorLines.filter((l) => !l.startsWith("node_modules/") && !programs.some((s) => l.startsWith(`src/${s.file}(`)) && !l.startsWith("src/cjs-types.cts("))
  check("the package's declarations typecheck (skipLibCheck off)", ours.length === 0 && unexplained.length === 0 && (tsc.code === 0 || errorLines.length > 0), [...ours, ...unexplained].join("\n") || output(tsc))
  for (const l of elsewhere) console.log(`note ${l}`)

  // README programs, each in an empty cwd.
  for (const s of programs.filter((s) => s.source.startsWith("README.md") && !attributed.has(s.file))) {
    const js = Path.join(app, "out", s.file.replace(/\.mts$/, ".mjs"))
    const cwd = fs.mkdtempSync(Path.join(tmp, "cwd-"))
    const r = run(process.execPath, [js], cwd)
    const written = listFiles(cwd)
    const heartbeat = s.code.includes("logs/heartbeat.jsonl")
      ? readOr(Path.join(cwd, "logs/heartbeat.jsonl")) === `{"event":"heartbeat","ok":true}\n`
      : true
    check(
      `run ${s.source}${written.length ? ` (wrote ${written.join(", ")})` : ""}`,
      r.code === 0 && r.stderr.trim() === "" && heartbeat,
      `${output(r)}\nfiles: ${written.join(", ")}`
    )
  }
  // Doc blocks that are tests of the user's own code: run them with vitest.
  const tests = programs.filter((s) => s.vitest && !attributed.has(s.file))
  if (tests.length > 0) {
    const vitest = run(process.execPath, [Path.join(app, "node_modules/vitest/vitest.mjs"), "run", ...tests.map((t) => `src/${t.file}`)], app)
    const passedTests = /Tests\s+(\d+) passed/.exec(vitest.stdout)
    check(`vitest runs the @effect/vitest blocks (${tests.map((t) => t.source).join(", ")}) with effect-logrotate/testing`, vitest.code === 0 && passedTests !== null, output(vitest))
  }
}

const readOr = (path: string) => {
  try {
    return fs.readFileSync(path, "utf8")
  } catch {
    return "absent"
  }
}
const listFiles = (dir: string, prefix = ""): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(Path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  )

try {
  main()
} catch (error) {
  check("the package test itself", false, String(error instanceof Error ? error.stack : error))
}
if (!keep) fs.rmSync(tmp, { recursive: true, force: true })
console.log(`${skipped} fragments skipped; ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
