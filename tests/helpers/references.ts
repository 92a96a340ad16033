/**
 * Finds the files that comments and documents name, so that a test can refuse a reference to a
 * file the repository does not have (a design note cited from memory, a renamed script, a deleted
 * test), and any pointer into the design workspace outside the repository.
 *
 * Only prose is read for file references: the comments of TypeScript and JavaScript sources (found
 * with the TypeScript parser, so a `//` inside a string or a URL is not a comment), the `#`
 * comments of shell scripts and YAML files, and the whole of Markdown documents. Code is left
 * alone: a string in a test may name a missing file on purpose.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** Directories never scanned: installed packages, build output, local state. */
const SKIPPED_DIRS = new Set(["node_modules", "bin", ".git", "plan-output", ".pulumi-state"]);

const SCRIPT_FILES = /\.(ts|js|mjs|cjs)$/;
const HASH_COMMENT_FILES = /\.(sh|bash|bats|ya?ml)$/;
const DOCUMENT_FILES = /\.md$/;
/** Extensionless shell scripts (`.ci/run`, the bats stubs) are recognised by their first line. */
const SHELL_SHEBANG = /^#!.*\b(ba)?sh\b/;

/** A reference must end in one of the repository's own kinds of file to be checked. */
const CHECKED_EXTENSIONS = "md|ts|js|mjs|json|sh|bash|bats|yaml|yml";
/**
 * A relative path (one or more `/`, optionally starting with `./` or `../`) or a bare name, ending
 * in a checked extension. Not preceded by a path character, so an absolute path or a package path
 * (`@scope/pkg/index.ts`) is not a relative reference; not followed by one or by a further
 * extension, so a backup copy's name does not count as the file's.
 */
const REFERENCE = new RegExp(
  String.raw`(?<![\w./~@$-])((?:\.{1,2}/)*(?:[\w.-]+/)*[\w.-]+\.(?:${CHECKED_EXTENSIONS}))(?![\w/-]|\.\w)`,
  "g",
);
/** The design workspace beside the repository: never to be named from inside it. */
const OUTSIDE_REPOSITORY = /\.\.\/shared\b|\bshared\/(?:design|reference)\b/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/**
 * The project's top-level directories: a path under one of them names a file of this repository
 * even when the directory does not exist (yet). A path under any other directory that the
 * repository lacks is an upstream file (Flocker's `flocker/node/agents/ebs.py`), not a reference.
 */
const PROJECT_DIRS = new Set([
  "docs",
  "lib",
  "tests",
  "scripts",
  "components",
  "config",
  "tools",
  "policy",
  "preflight",
  "examples",
]);

export interface Prose {
  /** 1-based line of the prose's first character in its file. */
  readonly line: number;
  readonly text: string;
}

export interface BadReference {
  /** Repository-relative path of the citing file. */
  readonly file: string;
  readonly line: number;
  /** The reference as written. */
  readonly reference: string;
  readonly why: string;
}

/** Repository-relative paths of every file, sorted, without installed packages and build output. */
function repositoryFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      const relative = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.isFile()) files.push(relative);
    }
  };
  walk("");
  return files.sort();
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/** Every comment of a TypeScript or JavaScript source, each once, in order. */
export function scriptComments(fileName: string, text: string): Prose[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const starts = lineStarts(text);
  const seen = new Map<number, Prose>();
  const collect = (ranges: readonly ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) {
      if (!seen.has(range.pos)) seen.set(range.pos, { line: lineOf(starts, range.pos), text: text.slice(range.pos, range.end) });
    }
  };
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(text, node.pos));
    collect(ts.getTrailingCommentRanges(text, node.end));
    // getChildren includes the tokens, the end-of-file token too, so no comment is skipped.
    for (const child of node.getChildren(source)) visit(child);
  };
  visit(source);
  return [...seen.entries()].sort(([a], [b]) => a - b).map(([, prose]) => prose);
}

/** The `#` comments of a shell or YAML file: each line's text from a `#` that starts a word. */
export function hashComments(text: string): Prose[] {
  const prose: Prose[] = [];
  text.split("\n").forEach((line, index) => {
    const match = /(?:^|\s)#(?!!)(.*)$/.exec(line);
    if (match) prose.push({ line: index + 1, text: match[1] });
  });
  return prose;
}

/** The prose of a file by its kind; nothing for other kinds (JSON, data, binaries). */
export function proseOf(file: string, text: string): Prose[] {
  if (DOCUMENT_FILES.test(file)) return text.split("\n").map((line, index) => ({ line: index + 1, text: line }));
  if (SCRIPT_FILES.test(file)) return scriptComments(file, text);
  if (HASH_COMMENT_FILES.test(file)) return hashComments(text);
  if (!path.posix.basename(file).includes(".") && SHELL_SHEBANG.test(text)) return hashComments(text);
  return [];
}

/** Pointers into the design workspace outside the repository, anywhere in a file (code included). */
export function outsideReferences(file: string, text: string): BadReference[] {
  const starts = lineStarts(text);
  return [...text.matchAll(OUTSIDE_REPOSITORY)].map((match) => ({
    file,
    line: lineOf(starts, match.index ?? 0),
    reference: match[0],
    why: "points outside the repository",
  }));
}

/**
 * The references in a file's prose that name no file of the repository. `exists` answers for a
 * repository-relative path (file or directory). A reference may be relative to the citing file's
 * directory or to the repository root. Of bare names (no `/`) only Markdown files are checked:
 * prose names commands and upstream files that way (`ebs.py`, `action.yml`, `install-docker.sh`
 * where a script's own directory is meant).
 */
export function danglingReferences(
  file: string,
  prose: readonly Prose[],
  exists: (repositoryPath: string) => boolean,
): BadReference[] {
  const found: BadReference[] = [];
  const dir = path.posix.dirname(file);
  for (const { line, text } of prose) {
    const withoutUrls = text.replace(URL, (url) => " ".repeat(url.length));
    const starts = lineStarts(withoutUrls);
    for (const match of withoutUrls.matchAll(REFERENCE)) {
      const reference = match[1];
      const bare = !reference.includes("/");
      if (bare && !reference.endsWith(".md")) continue;
      const relative = !reference.startsWith(".");
      const fromDir = path.posix.normalize(path.posix.join(dir, reference));
      const fromRoot = path.posix.normalize(reference);
      const candidates = relative ? [fromDir, fromRoot] : [fromDir];
      if (candidates.some((candidate) => !candidate.startsWith("../") && exists(candidate))) continue;
      if (!bare && relative) {
        const top = reference.split("/")[0];
        const ours = PROJECT_DIRS.has(top) || exists(top) || exists(path.posix.join(dir, top));
        if (!ours) continue;
      }
      found.push({
        file,
        line: line + lineOf(starts, match.index ?? 0) - 1,
        reference,
        why: "no such file in the repository",
      });
    }
  }
  return found;
}

/** Every bad reference of the repository at `root`, in file order. */
export function repositoryBadReferences(root: string): BadReference[] {
  const files = repositoryFiles(root);
  const paths = new Set<string>();
  for (const file of files) {
    const parts = file.split("/");
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join("/"));
  }
  const exists = (repositoryPath: string) => paths.has(repositoryPath);
  return files.flatMap((file) => {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    if (text.includes("\u0000")) return [];
    return [...outsideReferences(file, text), ...danglingReferences(file, proseOf(file, text), exists)];
  });
}
