/**
 * `npm run build`'s second step: bundles the `effect-logrotate` executable with esbuild, after
 * `tsc` has emitted the library (dist/*.js, *.d.ts). It replaces tsc's dist/bin.js with the
 * bundle's entry and writes the code it loads to dist/chunks/ (ESM chunks, platform node, target
 * node20, minified, with source maps).
 *
 * Why: unbundled, the CLI loads about 3,000 modules of effect and @effect/* (1.2 s of CPU for
 * `--help`, 10–15× a bare `node -e 0`); bundled, it reads one file. Effect and @effect/* are
 * bundled in rather than left external: external, start-up is dominated by loading them
 * (measured: 1.0 s of CPU vs 0.2 s; bench/startup.ts). The entry keeps its contract (src/bin.ts):
 * it has no static import, installs its signal listeners, then imports the rest (chunks in
 * dist/chunks/: CliMain and what it shares with the commands). The commands' code (CliCommands.ts:
 * appender, sweeper, worker) is a chunk of its own that `Cli.ts` imports only when a command
 * runs, so `--help` does not load it. The library entries (`import "effect-logrotate"`) are tsc's files, unbundled, and
 * share the app's copy of effect.
 *
 * `yaml`, `toml` and `ini` (about 400 KB that @effect/cli imports only to parse `Args.file*` /
 * `Options.file*` content, which this CLI does not use) are replaced by stubs whose `parse`
 * throws, so they cost nothing at start-up.
 */
import * as esbuild from "esbuild"
import { rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const dist = join(root, "dist")

/** @type {esbuild.Plugin} */
const unusedFileParsers = {
  name: "unused-file-parsers",
  setup(build) {
    build.onResolve({ filter: /^(yaml|toml|ini)$/ }, (args) => ({ path: args.path, namespace: "unused-file-parser" }))
    build.onLoad({ filter: /.*/, namespace: "unused-file-parser" }, (args) => ({
      loader: "js",
      contents: `export const parse = () => { throw new Error(${JSON.stringify(
        `${args.path} files cannot be read: the effect-logrotate CLI bundle does not include a ${args.path} parser`
      )}) }`
    }))
  }
}

rmSync(join(dist, "chunks"), { recursive: true, force: true })
const result = await esbuild.build({
  entryPoints: { bin: join(root, "src", "bin.ts") },
  outdir: dist,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: "linked",
  plugins: [unusedFileParsers],
  metafile: true,
  logLevel: "warning"
})
const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"))
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
// On stderr: `npm pack --json` runs this in prepack, and its stdout must stay JSON.
console.error(`bundled the CLI: ${outputs.map(([name, o]) => `${name.slice(name.indexOf("dist/"))} ${kib(o.bytes)}`).join(", ")}`)
