#!/usr/bin/env python3
"""
Moves the flat src/ into its areas (issue 12: "a layout that shows the three parts and the CLI on
top") and rewrites every reference to the moved files. A one-off tool: not part of the package
(package.json "files" ships dist/ and src/ only); delete it once the layout is merged.

    python3 scripts/restructure.py            # apply: git mv + rewrite, then verify
    python3 scripts/restructure.py --dry-run  # print the plan and the files it would rewrite, change nothing
    python3 scripts/restructure.py --check    # exit 1 if applying would change anything (0 = already done)
    python3 scripts/restructure.py --moves-table  # print "old -> new" of the modules in this tree, as markdown
                                                  # (for a change note: write notes that name old paths after the
                                                  # run, or the run rewrites their old paths too)

Driven by MODULES below. It refuses to start (exit 2, nothing changed) while a src/**/*.ts file or a
top-level test/*.test.ts file is not mapped: add the new module to MODULES (or the test to
TESTS_BY_NAME) and run it again. It runs on a flat tree, on an already restructured tree (nothing to
do), and on a mixed one: flat files from branches merged after the layout, files git already moved
by rename detection that still hold imports written for the flat layout (resolved from their old
place when they do not resolve from the new one).

What it does, in order:
 1. Plans the moves: src/<old>.ts -> src/<area>/<Name>.ts for every MODULES entry; a mirrored test
    test/<Name>[.<kind>].test.ts -> test/<test area>/... where the test area is the first component
    of its module's area (internal modules' tests sit beside their area's tests). test/faults/,
    test/support/, test/campaigns/, test/package/ stay where they are.
 2. Rewrites, in every text file git knows (tracked and untracked-not-ignored, package-lock.json
    excepted):
    - code (.ts .mts .cts .js .mjs .cjs): every relative specifier or path string ("./x", "../x",
      `import(...)`, `new URL("..", import.meta.url)`, `path.resolve(import.meta.dirname, "x")`):
      resolved from the file's place to a file, recomputed from the file's new place. A relative
      import that resolves to nothing is an error;
    - markdown: relative link targets, the same way;
    - every file: root-relative mentions `src/<old>.ts`, `src/<old>.js`, `dist/<old>.js`,
      `dist/<old>.d.ts` (+ `.map`), `test/<X>.test.ts` (README, docs/, specs/, comments, package.json
      "exports"/"sideEffects"/"imports", tsconfig*.json, .ci/run, ...);
    - the special cases in SPECIAL below (each says why).
 3. `git mv`s the files (plain rename for an untracked file), removes directories left empty.
 4. Regenerates the module list of docs/architecture.md (between its two markers) from MODULES.
 5. Verifies: every relative import of every code file resolves; every package.json "exports" target
    has its source file; no root-relative mention of an old path is left.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

# --------------------------------------------------------------------------------------------------
# The mapping. (old path under src/ without .ts, new directory under src/ ("" = src/ itself), one line
# for docs/architecture.md ("" = the first sentence of the module's doc comment)).
# A module's public subpath (package.json "exports", e.g. "effect-logrotate/RotatingAppender") keeps
# its name: only its dist/ target moves.
# --------------------------------------------------------------------------------------------------
MODULES: list[tuple[str, str, str]] = [
    # Shared by the parts, and the package's entries.
    ("index", "", "the package entry: every public module as a namespace (`effect-logrotate`)"),
    ("testing", "", "test helpers for users: the in-memory FileSystem (`effect-logrotate/testing`)"),
    ("Errors", "", "every error the library fails with, as tagged values"),
    ("ByteSize", "", "byte sizes as operators write them (`512KiB`, `10MB`)"),
    ("ConfigValue", "", "settings read through Effect `Config`; errors name the variable, the value and the accepted form"),
    ("version", "", "the package version (`effect-logrotate --version`)"),
    ("bin", "", "the executable (dist/bin.js): signal guards, then loads cli/CliMain"),
    # platform: file-system pieces rotation and retention stand on.
    ("SafeFs", "platform", "descriptor-level file operations that act on the file that was checked (no-follow, fstat identity)"),
    ("MemoryFileSystem", "platform", "a deterministic in-memory `FileSystem` with fault injection, for tests"),
    ("internal/LockFile", "platform/internal", "a cross-process exclusive lock file (one writer per file, one sweep per directory)"),
    ("internal/LockNames", "platform/internal", "the names lock files take, and the check that an active file never takes one"),
    ("internal/FaultSchedule", "platform/internal", ""),
    # rotation: writing, and rotating what is written.
    ("RotationPolicy", "rotation", "the size-rotation policy `{ maxBytes, maxFiles }` and its configuration"),
    ("RenameShift", "rotation", "rotation by renaming: `<name>` -> `.1` -> `.2` ..., planned purely"),
    ("RotatingAppender", "rotation", "one NDJSON file, rotated by size, one writer per file"),
    ("DailyAppender", "rotation", "one NDJSON file per UTC day, named as retention manages them"),
    ("LineReader", "rotation", "a Node readable (stdin) fed into an appender byte for byte"),
    ("internal/ByteCuts", "rotation/internal", "where a run of raw bytes must rotate (pure)"),
    ("internal/LineBuffer", "rotation/internal", "encoded lines waiting to be written, and where to rotate"),
    ("internal/BackupCompression", "rotation/internal", ""),
    # retention: what happens to files once written.
    ("DatedFile", "retention", "the names retention manages: `<prefix>-YYYY-MM-DD.ndjson`, `.gz`, `.gz.tmp` (pure)"),
    ("FileNaming", "retention", ""),
    ("internal/Calendar", "retention/internal", ""),
    ("RetentionPolicy", "retention", "the retention policy (ADR-0016) and its configuration"),
    ("RetentionConfig", "retention", ""),
    ("RetentionPlan", "retention", "the planner: compress, delete, finish or keep, and why (pure)"),
    ("SizeCap", "retention", ""),
    ("Compressor", "retention", "crash- and interrupt-safe gzip of a checked file, in bounded memory"),
    ("Sweeper", "retention", "executes a plan per directory; a sweep reports failures, never fails"),
    ("RetentionWorker", "retention", "the background worker: a sweep at start, then every interval"),
    ("LogrotateConfig", "retention", "the logrotate configuration doing the built-in retention's job (pure)"),
    ("internal/UserIds", "retention/internal", "user and group names to ids, for the sweep's `su` (pure)"),
    ("internal/PlanWording", "retention/internal", "the words of a dry run and a report for planned actions, shared by Sweeper and the CLI"),
    # logging: Effect's logger on top of an appender.
    ("NdjsonLogger", "logging", "an Effect `Logger` writing each entry as one NDJSON line through an appender"),
    ("LogEvents", "logging", ""),
    # cli: the `effect-logrotate` command, on top of the three parts. Nothing here is a public subpath.
    ("Cli", "cli", "the commands (`append`, `sweep`, `watch`, `logrotate-config`) and their options"),
    ("CliArgs", "cli", "the command line checked before `@effect/cli` parses it (a typo never becomes a path)"),
    ("CliCommands", "cli", "the code the commands run, loaded only when one runs"),
    ("CliHelp", "cli", "`--help` pages built from the command definitions"),
    ("CliMain", "cli", "runs the CLI with Node's runtime and maps the outcome to an exit code"),
    ("SweepOutput", "cli", "what `sweep` prints for a report (pure)"),
    ("internal/EnvPrefix", "cli", "`--env-prefix` checked against the environment (pure)"),
    ("internal/HelpText", "cli", "a `HelpDoc` as ANSI text, without the printer's layout engine"),
]

# Top-level test files that do not mirror one module: file name up to its first "." -> test area ("" = stays).
TESTS_BY_NAME: dict[str, str] = {
    "SweepAttacks": "retention",
    "SweepProcesses": "retention",
    "SweeperPolicies": "retention",
    "CliPolicies": "cli",
    "WatchEvents": "cli",
    "PackageGraph": "",
    "examples": "",
    "integration": "",
}

# The order and the headings of docs/architecture.md's module list.
AREAS: list[tuple[str, str]] = [
    ("", "shared, and the package's entries"),
    ("platform", "file-system pieces both parts stand on"),
    ("rotation", "writing, and rotating what is written"),
    ("retention", "what happens to files once written: compress, delete"),
    ("logging", "Effect's logger on top of an appender"),
    ("cli", "the `effect-logrotate` command, on top of the three parts"),
]

ARCH_DOC = "docs/architecture.md"
ARCH_BEGIN = "<!-- modules: generated by scripts/restructure.py from its MODULES; do not edit by hand -->"
ARCH_END = "<!-- end of modules -->"

ROOT = Path(__file__).resolve().parent.parent
SELF = PurePosixPath(Path(__file__).resolve().relative_to(ROOT).as_posix())
CODE_EXT = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")
SKIP_TEXT = {"package-lock.json", "LICENSE"}

errors: list[str] = []
warnings: list[str] = []


def posix(p: str) -> str:
    return os.path.normpath(p).replace(os.sep, "/")


def exists(rel: str) -> bool:
    return (ROOT / rel).exists()


def is_file(rel: str) -> bool:
    return (ROOT / rel).is_file()


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


# ------------------------------------------------------------------------------------------------
# 1. The plan
# ------------------------------------------------------------------------------------------------
def plan() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(moves: current path -> new path, for files that move now;
        origins: old flat path -> new path, for every mapped file whether moved now, before, or absent;
        origin_of: current path of an already moved file -> its old flat path)."""
    seen_keys: set[str] = set()
    dest_of: dict[str, str] = {}
    for key, area, _ in MODULES:
        if key in seen_keys:
            errors.append(f"MODULES maps {key} twice")
        seen_keys.add(key)
        dest = posix(f"{area}/{PurePosixPath(key).name}") if area else PurePosixPath(key).name
        if dest in dest_of.values():
            errors.append(f"MODULES sends two modules to src/{dest}.ts")
        dest_of[key] = dest
    dests = {d: k for k, d in dest_of.items()}

    moves: dict[str, str] = {}
    origins: dict[str, str] = {}
    origin_of: dict[str, str] = {}
    unmapped: list[str] = []
    present_modules: set[str] = set()

    for path in sorted((ROOT / "src").rglob("*")):
        if path.is_dir():
            continue
        rel = path.relative_to(ROOT / "src").as_posix()
        if not rel.endswith(".ts") or rel.endswith(".d.ts"):
            unmapped.append(f"src/{rel} (not a .ts module: map it by hand)")
            continue
        stem = rel[: -len(".ts")]
        if stem in dest_of:
            present_modules.add(stem)
            dest = dest_of[stem]
            if dest != stem:
                if exists(f"src/{dest}.ts"):
                    errors.append(f"src/{stem}.ts and src/{dest}.ts both exist: merge them by hand first")
                moves[f"src/{stem}.ts"] = f"src/{dest}.ts"
        elif stem in dests:
            present_modules.add(dests[stem])
            if dests[stem] != stem:
                origin_of[f"src/{stem}.ts"] = f"src/{dests[stem]}.ts"
        else:
            unmapped.append(f"src/{rel}")

    for key, dest in dest_of.items():
        if key != dest:
            origins[f"src/{key}.ts"] = f"src/{dest}.ts"
        if key not in present_modules:
            warnings.append(f"MODULES maps src/{key}.ts, which is not in this tree (fine while its branch is not merged)")

    # Tests: test area of a module = first component of its area.
    test_area_of_name: dict[str, str] = {}
    for key, area, _ in MODULES:
        test_area_of_name[PurePosixPath(key).name] = area.split("/")[0] if area else ""
    for name, area in TESTS_BY_NAME.items():
        test_area_of_name[name] = area
    test_areas = {a for a in test_area_of_name.values() if a}

    for path in sorted((ROOT / "test").glob("*")):
        if not path.is_file() or not re.search(r"\.test\.[cm]?[jt]s$", path.name):
            continue
        name = path.name.split(".")[0]
        if name not in test_area_of_name:
            unmapped.append(f"test/{path.name} (add its module to MODULES, or '{name}' to TESTS_BY_NAME)")
            continue
        area = test_area_of_name[name]
        if area:
            dest = f"test/{area}/{path.name}"
            if exists(dest):
                errors.append(f"test/{path.name} and {dest} both exist: merge them by hand first")
            moves[f"test/{path.name}"] = dest
    for area in sorted(test_areas):
        for path in sorted((ROOT / "test" / area).glob("*")):
            if path.is_file() and re.search(r"\.test\.[cm]?[jt]s$", path.name):
                name = path.name.split(".")[0]
                if test_area_of_name.get(name) == area:
                    origin_of[f"test/{area}/{path.name}"] = f"test/{path.name}"
                    origins[f"test/{path.name}"] = f"test/{area}/{path.name}"
    for cur, new in moves.items():
        if cur.startswith("test/"):
            origins[cur] = new

    if unmapped:
        print("FAILED: these files are not mapped; add them to MODULES / TESTS_BY_NAME in scripts/restructure.py:", file=sys.stderr)
        for u in unmapped:
            print(f"  - {u}", file=sys.stderr)
        sys.exit(2)
    return moves, origins, origin_of


# ------------------------------------------------------------------------------------------------
# 2. Path translation
# ------------------------------------------------------------------------------------------------
JS_TO_TS = [(".js", ".ts"), (".mjs", ".mts"), (".cjs", ".cts"), (".js", ".tsx")]
DIST_EXT = re.compile(r"^dist/(.+?)(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$")


class Translator:
    def __init__(self, moves: dict[str, str], origins: dict[str, str], origin_of: dict[str, str]):
        self.moves = moves
        self.origins = origins
        self.origin_of = origin_of

    def new_place(self, cur: str) -> str:
        return self.moves.get(cur, cur)

    def old_place(self, cur: str) -> str:
        """Where a file was in the flat layout (its current place if it never moved)."""
        return self.origin_of.get(cur, cur)

    def _file(self, rel: str) -> str | None:
        if rel in self.moves:
            return self.moves[rel]
        if is_file(rel):
            return rel
        if rel in self.origins:
            return self.origins[rel]
        return None

    def translate(self, rel: str, dir_ok: bool) -> str | None:
        """The new path of what `rel` (repo-relative, current layout or stale flat one) names, in the
        same spelling (.js for a .ts source); None when it names nothing known."""
        if rel.startswith("../") or rel == "..":
            return None  # outside the repository
        found = self._file(rel)
        if found is not None:
            return found
        for js, ts in JS_TO_TS:
            if rel.endswith(js):
                found = self._file(rel[: -len(js)] + ts)
                if found is not None:
                    return found[: -len(ts)] + js
        m = DIST_EXT.match(rel)
        if m:
            src = f"src/{m.group(1)}.ts"
            new = self._file(src)
            if new is not None and new.startswith("src/"):
                return f"dist/{new[len('src/'):-len('.ts')]}{m.group(2)}"
            return rel  # build output of something not mapped: unchanged
        if rel == "dist" or rel.startswith("dist/"):
            return rel
        if dir_ok and (ROOT / rel).is_dir():
            return rel
        return None

    def respecify(self, spec: str, file_cur: str, *, dir_ok: bool, is_import: bool) -> str:
        """`spec`, relative to `file_cur`'s directory, rewritten for the file's new place."""
        file_new = self.new_place(file_cur)
        trail = "/" if spec.endswith("/") and spec not in ("./", "../") else ""
        target = None
        for base in dict.fromkeys([file_cur, self.old_place(file_cur)]):
            rel = posix(str(PurePosixPath(base).parent / spec))
            target = self.translate(rel, dir_ok)
            if target is not None:
                if base != file_cur and is_import:
                    notes.append(f"{file_cur}: \"{spec}\" resolved from its old place {base}")
                break
        if target is None:
            if is_import:
                errors.append(f"{file_cur}: relative import \"{spec}\" resolves to no file")
            return spec
        if file_new == file_cur and posix(str(PurePosixPath(file_cur).parent / spec)) == target:
            return spec  # nothing moved: keep the spelling
        new_spec = posix(os.path.relpath(target, str(PurePosixPath(file_new).parent)))
        if spec.startswith("./") or spec.startswith("../") or spec in (".", ".."):
            if not new_spec.startswith("."):
                new_spec = "./" + new_spec
        return new_spec + trail


notes: list[str] = []

# A relative string: "./x", "../x" (not in a template with ${}).
REL_STRING = re.compile(r"""(["'`])(\.{1,2}/[^"'`\s$\\]*)\1""")
# Strings resolved against the file's directory although they do not start with ./ or ../
DIRNAME_ARG = re.compile(r"""(import\.meta\.dirname\s*,\s*)(["'])([^"'`\s$\\]+)\2""")
URL_ARG = re.compile(r"""(new\s+URL\(\s*)(["'])([^"'`\s$\\]+)\2(\s*,\s*import\.meta\.url)""")
IMPORT_CONTEXT = re.compile(r"""(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\(|\bvi\.mock\s*\(|\bvi\.importActual\s*\()\s*$""")
MD_LINK = re.compile(r"""(\]\()([^)\s]+?)((?:#[^)\s]*)?\))""")


def rewrite_code(text: str, cur: str, tr: Translator) -> str:
    """Directory-relative arguments first (they may name directories), then every other relative string."""
    def dirname_rel(m: re.Match[str]) -> str:
        return m.group(1) + m.group(2) + tr.respecify(m.group(3), cur, dir_ok=True, is_import=False) + m.group(2)

    def url_arg(m: re.Match[str]) -> str:
        return m.group(1) + m.group(2) + tr.respecify(m.group(3), cur, dir_ok=True, is_import=False) + m.group(2) + m.group(4)

    # Directory-relative arguments first (they may name directories); mark them so REL_STRING skips them.
    out: list[str] = []
    last = 0
    spans: list[tuple[int, int, str]] = []
    for m in DIRNAME_ARG.finditer(text):
        spans.append((m.start(), m.end(), dirname_rel(m)))
    for m in URL_ARG.finditer(text):
        spans.append((m.start(), m.end(), url_arg(m)))
    spans.sort()
    covered: list[tuple[int, int]] = []
    for s, e, rep in spans:
        if covered and s < covered[-1][1]:
            continue
        covered.append((s, e))
        out.append(rewrite_rel_strings(text, last, s, cur, tr))
        out.append(rep)
        last = e
    out.append(rewrite_rel_strings(text, last, len(text), cur, tr))
    return "".join(out)


def rewrite_rel_strings(text: str, start: int, end: int, cur: str, tr: Translator) -> str:
    chunk = text[start:end]

    def rel_string(m: re.Match[str]) -> str:
        q, spec = m.group(1), m.group(2)
        abs_start = start + m.start()
        is_import = bool(IMPORT_CONTEXT.search(text[max(0, abs_start - 40): abs_start]))
        return q + tr.respecify(spec, cur, dir_ok=False, is_import=is_import) + q

    return REL_STRING.sub(rel_string, chunk)


def rewrite_markdown_links(text: str, cur: str, tr: Translator) -> str:
    def link(m: re.Match[str]) -> str:
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/") or target.startswith("#"):
            return m.group(0)
        return m.group(1) + tr.respecify(target, cur, dir_ok=True, is_import=False) + m.group(3)

    return MD_LINK.sub(link, text)


def mention_table(origins: dict[str, str]) -> dict[str, str]:
    """Root-relative spellings of every old path -> the new spelling."""
    table: dict[str, str] = {}
    for old, new in origins.items():
        if old == new:
            continue
        if old.startswith("src/") and old.endswith(".ts"):
            o, n = old[4:-3], new[4:-3]
            table[f"src/{o}.ts"] = f"src/{n}.ts"
            table[f"src/{o}.js"] = f"src/{n}.js"
            for ext in (".d.ts.map", ".d.ts", ".js.map", ".js"):
                table[f"dist/{o}{ext}"] = f"dist/{n}{ext}"
        else:
            table[old] = new
    return table


def rewrite_mentions(text: str, table: dict[str, str]) -> str:
    if not table:
        return text
    alternation = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])(\./)?({alternation})(?![\w-])")
    return pattern.sub(lambda m: (m.group(1) or "") + table[m.group(2)], text)


# ------------------------------------------------------------------------------------------------
# Special cases, each with its reason. A special case that no longer finds its text is a warning.
# ------------------------------------------------------------------------------------------------
def special_bundle_chunks(path: str, text: str) -> str:
    """tsc now emits src/cli/ to dist/cli/, where scripts/bundle-cli.mjs wrote its chunks (and which
    it empties first): the bundle's chunks go to dist/chunks/ instead."""
    if not any(area == "cli" or area.startswith("cli/") for _, area, _ in MODULES):
        return text
    if path == "scripts/bundle-cli.mjs":
        for old, new in [
            ('rmSync(join(dist, "cli"), ', 'rmSync(join(dist, "chunks"), '),
            ('chunkNames: "cli/[name]-[hash]"', 'chunkNames: "chunks/[name]-[hash]"'),
        ]:
            if old in text:
                text = text.replace(old, new)
            elif new not in text:
                warnings.append(f"{path}: special case 'bundle chunks' did not find {old!r}: move the chunks out of dist/cli/ by hand")
    return re.sub(r"(?<![\w./-])dist/cli/(?![\w-])", "dist/chunks/", text)


PACKAGE_GRAPH = "test/PackageGraph.test.ts"


def special_package_graph(path: str, text: str, tr: Translator) -> str:
    """test/PackageGraph.test.ts names source files relative to src/ ("Sweeper.ts"), and found the CLI
    modules by their file name (Cli*.ts): it now names them by their place, and a CLI module is one
    under src/cli/ (which also catches SweepOutput, HelpText and EnvPrefix) or bin.ts."""
    if tr.old_place(path) != PACKAGE_GRAPH and path != PACKAGE_GRAPH:
        return text

    def literal(m: re.Match[str]) -> str:
        q, stem = m.group(1), m.group(2)
        new = tr.translate(f"src/{stem}.ts", dir_ok=False)
        if new is None or not new.startswith("src/"):
            return m.group(0)
        return f"{q}{new[4:]}{q}"

    text = re.sub(r"""(["'])([A-Za-z][\w/]*)\.ts\1""", literal, text)
    for old, new in [
        (
            "const CLI_FILE = /^(Cli[A-Za-z]*|bin)\\.ts$/",
            "/** A CLI module, by its path under src/: the executable, and everything in cli/. */\n"
            "const CLI_FILE = /^(cli\\/.+|bin)\\.ts$/",
        ),
        (
            "CLI_FILE.test(path.basename(file))",
            'CLI_FILE.test(path.relative(src, file).split(path.sep).join("/"))',
        ),
        (
            "(url.startsWith(pathToFileURL(src).href) && CLI_FILE.test(url.slice(url.lastIndexOf(\"/\") + 1)))",
            "(url.startsWith(pathToFileURL(src).href + \"/\") && CLI_FILE.test(url.slice(pathToFileURL(src).href.length + 1)))",
        ),
        ("never import the CLI (`Cli*.ts`,\n *   `bin.ts`)", "never import the CLI (`cli/`,\n *   `bin.ts`)"),
    ]:
        if old in text:
            text = text.replace(old, new)
        elif new not in text:
            warnings.append(f"{path}: special case 'CLI modules by place' did not find {old!r}: check CLI_FILE by hand")
    return text


# ------------------------------------------------------------------------------------------------
# 4. docs/architecture.md
# ------------------------------------------------------------------------------------------------
def first_sentence(rel: str) -> str:
    try:
        text = (ROOT / rel).read_text()
    except OSError:
        return ""
    m = re.search(r"/\*\*(.*?)\*/", text, re.S)
    if not m:
        return ""
    lines = [re.sub(r"^\s*\*\s?", "", line).strip() for line in m.group(1).split("\n")]
    prose = " ".join(line for line in lines if line and not line.startswith("@"))
    s = re.split(r"(?<=[.:])\s", prose, maxsplit=1)[0].rstrip(".:")
    return s[0].lower() + s[1:] if s[:1].isupper() and not s[1:2].isupper() else s


def architecture_block(tr: Translator) -> str:
    try:
        exports = json.loads((ROOT / "package.json").read_text()).get("exports", {})
    except (OSError, ValueError):
        exports = {}
    public = {k[2:] for k in exports if k.startswith("./") and k != "./package.json"}
    rows: dict[str, list[str]] = {a: [] for a, _ in AREAS}
    for key, area, line in MODULES:
        cur = f"src/{key}.ts"
        new = tr.translate(cur, dir_ok=False)
        if new is None or not (is_file(cur) or is_file(new)):
            continue  # not in this tree
        name = PurePosixPath(key).name
        what = line or first_sentence(new if is_file(new) else cur) or "(no doc comment)"
        sub = "" if name in ("index", "testing", "bin", "version") else (f" · `effect-logrotate/{name}`" if name in public else "")
        top = area.split("/")[0]
        rows.setdefault(top, []).append(f"- `{new[4:]}`: {what}{sub}")
    out = [ARCH_BEGIN]
    for area, heading in AREAS:
        if not rows.get(area):
            continue
        out.append("")
        out.append(f"**`src/{area + '/' if area else ''}`**: {heading}")
        out.append("")
        out.extend(rows[area])
    for area in rows:
        if area not in dict(AREAS) and rows[area]:
            warnings.append(f"area {area!r} has no heading in AREAS")
    out.append("")
    out.append(ARCH_END)
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------
def text_files() -> list[str]:
    listed = git("ls-files", "-co", "--exclude-standard", "-z").split("\0")
    out = []
    for f in listed:
        if not f or f in SKIP_TEXT or f == str(SELF) or not is_file(f):
            continue
        data = (ROOT / f).read_bytes()
        if b"\0" in data:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        out.append(f)
    return sorted(set(out))


def rewritten(path: str, text: str, tr: Translator, table: dict[str, str]) -> str:
    if path.endswith(CODE_EXT):
        text = rewrite_code(text, path, tr)
    if path.endswith(".md"):
        text = rewrite_markdown_links(text, path, tr)
    text = special_bundle_chunks(path, text)
    text = special_package_graph(path, text, tr)
    text = rewrite_mentions(text, table)
    return text


def verify(table: dict[str, str]) -> None:
    """Runs on the result: imports resolve, exports targets exist, no old mention is left."""
    tr = Translator({}, {}, {})
    for f in text_files():
        text = (ROOT / f).read_text()
        if f.endswith(CODE_EXT):
            for m in REL_STRING.finditer(text):
                if IMPORT_CONTEXT.search(text[max(0, m.start() - 40): m.start()]):
                    rel = posix(str(PurePosixPath(f).parent / m.group(2)))
                    if tr.translate(rel, dir_ok=False) is None:
                        errors.append(f"after: {f}: import \"{m.group(2)}\" resolves to no file")
        stale = [k for k in table if re.search(rf"(?<![\w./-])(\./)?{re.escape(k)}(?![\w-])", text)]
        for k in stale:
            errors.append(f"after: {f} still mentions {k}")
    pkg = json.loads((ROOT / "package.json").read_text())

    def targets(v: object) -> list[str]:
        if isinstance(v, str):
            return [v]
        if isinstance(v, dict):
            return [t for x in v.values() for t in targets(x)]
        return []

    for key, value in {**pkg.get("exports", {}), **pkg.get("imports", {})}.items():
        for t in targets(value):
            m = DIST_EXT.match(t.removeprefix("./"))
            src = f"src/{m.group(1)}.ts" if m else t.removeprefix("./")
            if not is_file(src):
                errors.append(f"after: package.json {key} -> {t}: no {src}")
    for t in pkg.get("sideEffects", []) if isinstance(pkg.get("sideEffects"), list) else []:
        m = DIST_EXT.match(t.removeprefix("./"))
        src = f"src/{m.group(1)}.ts" if m else t.removeprefix("./")
        if not is_file(src):
            errors.append(f"after: package.json sideEffects {t}: no {src}")


def main() -> int:
    args = set(sys.argv[1:])
    unknown = args - {"--dry-run", "--check", "--moves-table"}
    if unknown:
        print(__doc__)
        return 2
    dry = "--dry-run" in args or "--check" in args
    os.chdir(ROOT)
    if "src" not in os.listdir(ROOT):
        print("no src/ here", file=sys.stderr)
        return 2

    moves, origins, origin_of = plan()
    if errors:
        print("FAILED before changing anything:", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 2
    tr = Translator(moves, origins, origin_of)
    table = mention_table(origins)
    if "--moves-table" in args:
        print("| before | after |")
        print("|---|---|")
        for old, new in origins.items():
            if old.startswith("src/") and (is_file(old) or is_file(new)):
                print(f"| `{old}` | `{new}` |")
        print("| `test/<Name>.test.ts` | `test/<area>/<Name>.test.ts` (the area of its module) |")
        return 0

    changed: dict[str, str] = {}
    for f in text_files():
        text = (ROOT / f).read_text()
        new = rewritten(f, text, tr, table)
        if new != text:
            changed[f] = new
    if errors:
        print("FAILED before changing anything:", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 2

    # docs/architecture.md (its text as it will be once the other rewrites are written).
    arch_text = changed.get(ARCH_DOC) or ((ROOT / ARCH_DOC).read_text() if exists(ARCH_DOC) else None)
    if arch_text is None or ARCH_BEGIN not in arch_text or ARCH_END not in arch_text:
        warnings.append(f"{ARCH_DOC} has no generated block (its two marker lines): module list not written")
    else:
        before, rest = arch_text.split(ARCH_BEGIN, 1)
        after = rest.split(ARCH_END, 1)[1]
        arch_new = before + architecture_block(tr) + after
        if arch_new != ((ROOT / ARCH_DOC).read_text()):
            changed[ARCH_DOC] = arch_new
        else:
            changed.pop(ARCH_DOC, None)

    for cur, new in sorted(moves.items()):
        print(f"move    {cur} -> {new}")
    for f in sorted(changed):
        print(f"rewrite {f}")
    for n in notes:
        print(f"note    {n}")
    for w in warnings:
        print(f"WARNING {w}")
    if not moves and not changed:
        print("nothing to do: the tree has the layout")
    if dry:
        return 1 if ("--check" in args and (moves or changed)) else 0

    tracked = set(git("ls-files", "-z").split("\0"))
    for f, text in changed.items():
        (ROOT / f).write_text(text)
    for cur, new in sorted(moves.items()):
        (ROOT / new).parent.mkdir(parents=True, exist_ok=True)
        if cur in tracked:
            git("mv", cur, new)
        else:
            os.rename(ROOT / cur, ROOT / new)
    for top in ("src", "test"):
        for d in sorted((ROOT / top).rglob("*"), key=lambda p: -len(p.parts)):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()

    verify(table)
    if errors:
        print("FAILED after the changes (fix MODULES or the files named, then run again):", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print(f"done: {len(moves)} files moved, {len(changed)} rewritten; verified imports, exports and mentions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
