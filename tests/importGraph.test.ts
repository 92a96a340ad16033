/**
 * The layering of the TypeScript tree: no import cycle anywhere, and lib/ (pure helpers) never
 * imports config/ (the validator that produces what lib/ consumes). Built from each file's import
 * lines with the TypeScript compiler's own pre-processor, type-only imports included: a type cycle
 * still ties two modules so that neither can change alone.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const SKIPPED_DIRS = new Set(["node_modules", ".git", "bin"]);

function typeScriptFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : typeScriptFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The repository file a relative specifier names, or undefined for a package import. */
function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => fs.existsSync(candidate));
}

/** Repository-relative file → the repository files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of typeScriptFiles(ROOT)) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    const targets = importedFiles
      .map((imported) => resolveLocal(file, imported.fileName))
      .filter((target): target is string => target !== undefined)
      .map((target) => path.relative(ROOT, target));
    graph.set(path.relative(ROOT, file), [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle a depth-first search meets, each as the path that closes it. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const done = new Set<string>();
  const onPath: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    onPath.push(file);
    for (const next of graph.get(file) ?? []) {
      const at = onPath.indexOf(next);
      if (at >= 0) cycles.push([...onPath.slice(at), next]);
      else if (!done.has(next)) visit(next);
    }
    onPath.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!done.has(file)) visit(file);
  return cycles;
}

const graph = importGraph();

describe("import graph", () => {
  it("covers the program, its libraries, tools and tests", () => {
    for (const file of ["index.ts", "config/validate.ts", "lib/topology.ts", "tools/plan/mockRuntime.ts"]) {
      expect(graph.has(file)).toBe(true);
    }
    // The resolver follows relative imports: validate.ts reaches its checks.
    expect(graph.get("config/validate.ts")).toContain("config/checks/cluster.ts");
  });

  it("has no cycle", () => {
    expect(cyclesOf(graph).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });

  it("finds a cycle when there is one (the detector itself)", () => {
    const looped = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(cyclesOf(looped)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
  });

  it("keeps lib/ free of config/ imports", () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      file.startsWith("lib/") ? targets.filter((t) => t.startsWith("config/")).map((t) => `${file} -> ${t}`) : [],
    );
    expect(upward).toEqual([]);
  });
});
