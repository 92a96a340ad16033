/**
 * Comments and documents cite only files the repository has, and never the design workspace beside
 * it: a newcomer who follows a reference finds the file. The scanner itself is tested first on
 * crafted text, so that a clean repository is not a scanner that sees nothing.
 */
import * as fs from "fs";
import * as path from "path";
import {
  danglingReferences,
  hashComments,
  outsideReferences,
  proseOf,
  repositoryBadReferences,
  scriptComments,
} from "./helpers/references";

const ROOT = path.join(__dirname, "..");
/** Built from parts so that this file does not itself contain the forbidden pointer. */
const OUTSIDE = ["..", "shared", "design", ["system", "md"].join(".")].join("/");
/** Fixtures of files the repository lacks, built from parts for the same reason. */
const MISSING_DOC = ["docs/missing", "md"].join(".");
const MISSING_SIBLING = ["../USAGE", "md"].join(".");
const GONE_DOC = ["docs/gone", "md"].join(".");
const LOOSE_NOTE = ["system", "md"].join(".");

function existsIn(...paths: string[]): (p: string) => boolean {
  const known = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/");
    for (let i = 1; i <= parts.length; i++) known.add(parts.slice(0, i).join("/"));
  }
  return (p) => known.has(p);
}

function dangling(file: string, text: string, exists: (p: string) => boolean): string[] {
  return danglingReferences(file, proseOf(file, text), exists).map((r) => `${r.line}:${r.reference}`);
}

describe("the repository", () => {
  test("cites no missing file and nothing outside itself", () => {
    const bad = repositoryBadReferences(ROOT).map((r) => `${r.file}:${r.line}: ${r.reference} (${r.why})`);
    expect(bad).toEqual([]);
  });
});

describe("the reference scanner", () => {
  const repo = existsIn(
    "docs/flocker.md",
    "docs/README.md",
    "lib/ports.ts",
    "scripts/README.md",
    "scripts/lib/common.sh",
    "README.md",
  );

  test("finds a missing file cited in a TypeScript comment, on the comment's own line", () => {
    const text = [
      "/**",
      ` * Facts: docs/flocker.md and ${MISSING_DOC}.`,
      " */",
      "// see tests/pki.test.ts",
      "export const x = 1;",
      "",
    ].join("\n");
    expect(dangling("lib/x.ts", text, repo)).toEqual([`2:${MISSING_DOC}`, "4:tests/pki.test.ts"]);
  });

  test("leaves strings and URLs alone", () => {
    const text = [
      `const fixture = "${MISSING_DOC}"; // a comment naming lib/ports.ts`,
      `// https://github.com/pulumi/pulumi-eks/blob/main/nodejs/eks/${MISSING_DOC}`,
      "const url = `https://example.com/${fixture}`;",
      "",
    ].join("\n");
    expect(scriptComments("lib/x.ts", text).map((c) => c.line)).toEqual([1, 2]);
    expect(dangling("lib/x.ts", text, repo)).toEqual([]);
  });

  test("refuses a bare design-note name that is not beside the citing file", () => {
    expect(dangling("lib/agentYml.ts", "/** agent.yml (flocker.md §3.1) */\n", repo)).toEqual(["1:flocker.md"]);
    expect(dangling("lib/agentYml.ts", "/** agent.yml (docs/flocker.md, agent.yml) */\n", repo)).toEqual([]);
    // Beside the citing file a bare name is a sibling: the docs index linking its neighbours.
    expect(dangling("docs/README.md", `- [Flocker](flocker.md) and ${LOOSE_NOTE}\n`, repo)).toEqual([`1:${LOOSE_NOTE}`]);
  });

  test("resolves ./ and ../ against the citing file", () => {
    expect(dangling("scripts/lib/common.sh", "# Helpers (see ../README.md).\n", repo)).toEqual([]);
    expect(dangling("scripts/lib/common.sh", `# Helpers (see ${MISSING_SIBLING} and ./README.md).\n`, repo)).toEqual([
      `1:${MISSING_SIBLING}`,
      "1:./README.md",
    ]);
  });

  test("ignores upstream paths under directories the project does not have", () => {
    const text = "/** Flocker's flocker/node/agents/ebs.py; pulumi-eks nodes/userdata.ts; lib/gone.ts. */\n";
    expect(dangling("lib/x.ts", text, repo)).toEqual(["1:lib/gone.ts"]);
  });

  test("a sentence's full stop ends a reference, a further extension does not", () => {
    expect(dangling("README.md", `Read ${GONE_DOC}. Or docs/flocker.md.\n`, repo)).toEqual([`1:${GONE_DOC}`]);
    expect(dangling("README.md", "Keep lib/ports.ts.orig out.\n", repo)).toEqual([]);
  });

  test("reads # comments of shell and YAML, not $# or a shebang", () => {
    expect(hashComments('#!/usr/bin/env bash\n[ $# -gt 0 ] # see scripts/gone.sh\necho "${#x}"\n')).toEqual([
      { line: 2, text: " see scripts/gone.sh" },
    ]);
    expect(dangling(".github/workflows/ci.yml", "jobs: # runs tests/gone.test.ts\n", repo)).toEqual(["1:tests/gone.test.ts"]);
    expect(dangling(".ci/run", "#!/usr/bin/env bash\n# then tests/run-all.sh\n", repo)).toEqual(["2:tests/run-all.sh"]);
  });

  test("reads every line of a document, and finds the references a README makes", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const cited = danglingReferences("README.md", proseOf("README.md", readme), () => false).map((r) => r.reference);
    expect(cited).toEqual(expect.arrayContaining(["docs/architecture.md", "docs/testing.md", "scripts/README.md"]));
  });

  test("refuses the design workspace anywhere in a file, code included", () => {
    const elsewhere = OUTSIDE.split("/").slice(1).join("/").replace("design", "reference");
    const found = outsideReferences("lib/x.ts", `const a = 1;\nconst p = "${OUTSIDE}";\n// as ${elsewhere} says\n`);
    expect(found.map((r) => [r.line, r.reference, r.why])).toEqual([
      [2, OUTSIDE.split("/").slice(0, 2).join("/"), "points outside the repository"],
      [3, elsewhere.split("/").slice(0, 2).join("/"), "points outside the repository"],
    ]);
  });
});
