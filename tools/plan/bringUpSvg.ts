/**
 * The plan's picture: the bring-up model (tools/plan/bringUpModel.ts) as Graphviz DOT, one column per
 * wave, one lane per node (or per group of identical nodes) inside a box per role, cluster-wide
 * steps in a box per phase, colour by phase, the critical path in red and the slowest path in
 * orange; rendered to SVG by Graphviz compiled to WebAssembly (@viz-js/viz), no browser needed.
 */
import { laneTitle, type BringUpModel, type Vertex } from "./bringUpModel";

/** Fill colour per phase (the program's top-level components), pale so that red and orange stand out. */
const PHASE_COLOURS: Readonly<Record<string, string>> = {
  network: "#dbe9f6",
  pki: "#f3e3f3",
  storage: "#f6ecd2",
  nodes: "#dff0d8",
  images: "#eef3d0",
  flocker: "#d9f0ef",
  "flocker-plugin": "#cfe6f0",
  swarm: "#e4e2f6",
  spark: "#fbe1d4",
};
/** For components added later: still one colour each, and in the legend. */
const SPARE_COLOURS = ["#f0e0e8", "#e0ecdc", "#ece4d4", "#dde4ee", "#eeeeee"];
const CRITICAL = "#d62728";
const SLOWEST = "#ff8c00";

/** Role boxes, in bring-up reading order. */
const ROLE_ORDER = ["manager", "control", "sparkmaster", "worker"];

export interface DiagramTitle {
  readonly stack: string;
  readonly nodeCount: number;
  readonly resourceCount: number;
  readonly criticalSteps: number;
  readonly slowestMinutes: string;
  /** e.g. "$392.09 a month (estimate, lib/priceTable.json)"; omitted when unknown. */
  readonly cost?: string;
  /** `--set` overrides, shown so that a picture says which configuration it shows. */
  readonly overrides: Readonly<Record<string, string>>;
}

const quote = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const html = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Colour per phase present in the model, known phases first in bring-up order. */
function phaseColours(model: BringUpModel): Map<string, string> {
  const present = new Set(model.vertices.map((v) => v.component));
  const colours = new Map<string, string>();
  for (const [phase, colour] of Object.entries(PHASE_COLOURS)) if (present.has(phase)) colours.set(phase, colour);
  [...present]
    .filter((phase) => !colours.has(phase))
    .sort()
    .forEach((phase, i) => colours.set(phase, SPARE_COLOURS[i % SPARE_COLOURS.length]));
  return colours;
}

function vertexLine(v: Vertex, colours: ReadonlyMap<string, string>): string {
  const shape = "box";
  const style = v.type.startsWith("command:") ? "rounded,filled" : "filled";
  const colour = v.critical ? CRITICAL : v.slowest ? SLOWEST : "#7f7f7f";
  const width = v.critical || v.slowest ? 2.2 : 0.8;
  const tooltip = `${v.steps.length > 4 ? `${v.steps.slice(0, 3).join(", ")} … ${v.steps.at(-1)} (${v.steps.length})` : v.steps.join(", ")} · ${v.type} · wave ${v.wave + 1}`;
  return `    ${quote(v.id)} [label=${quote(v.label)}, shape=${shape}, style=${quote(style)}, fillcolor=${quote(colours.get(v.component)!)}, color=${quote(colour)}, penwidth=${width}, tooltip=${quote(tooltip)}];`;
}

function legend(title: DiagramTitle, model: BringUpModel, colours: ReadonlyMap<string, string>): string {
  const overrides = Object.entries(title.overrides)
    .map(([k, v]) => `${k.replace(/^[^:]+:/, "")}=${v}`)
    .join(", ");
  const phases = [...colours]
    .map(([phase, colour]) => `<td bgcolor="${colour}" border="1" color="#7f7f7f">&nbsp;${phase}&nbsp;</td>`)
    .join("");
  const facts = [
    `${title.nodeCount} nodes`,
    `${title.resourceCount} resources`,
    `${model.waveCount} waves (columns)`,
    title.cost,
  ].filter(Boolean);
  const row = (content: string) => `<tr><td align="left" colspan="${colours.size + 1}">${content}</td></tr>`;
  return [
    `<<table border="0" cellspacing="3" cellpadding="1">`,
    row(`<font point-size="14">Bring-up of stack ${html(title.stack)}${overrides ? html(` (--set ${overrides})`) : ""}</font>`),
    row(html(facts.join(" · "))),
    row(`<font color="${CRITICAL}">critical path (red): ${title.criticalSteps} sequential steps</font>`),
    row(
      `<font color="${SLOWEST}">slowest path (orange): about ${html(title.slowestMinutes)} min with the assumed step durations of tools/plan/stepDurations.ts</font>`,
    ),
    row("rounded: a remote step over SSH · square: a cloud or local resource · ×N: N identical steps of the nodes in one lane"),
    `<tr><td align="left">phase:</td>${phases}</tr>`,
    `</table>>`,
  ].join("");
}

/** The DOT text of the picture. */
export function bringUpDot(model: BringUpModel, title: DiagramTitle): string {
  const colours = phaseColours(model);
  const lines: string[] = [];
  lines.push("digraph bringup {");
  lines.push(
    `  graph [rankdir=LR, newrank=true, fontname="Helvetica", fontsize=11, nodesep=0.08, ranksep=0.28, labelloc=t, labeljust=l, pad=0.2, label=${legend(title, model, colours)}];`,
  );
  lines.push(`  node [fontname="Helvetica", fontsize=9, height=0.26, margin="0.1,0.02"];`);
  lines.push(`  edge [color="#b0b0b0", arrowsize=0.45, penwidth=0.7];`);

  // The wave axis: column headers that every step of the wave is ranked with.
  for (let wave = 0; wave < model.waveCount; wave++) {
    lines.push(`  "wave ${wave + 1}" [shape=plaintext, fontsize=10, fontcolor="#555555", label="wave ${wave + 1}"];`);
  }
  for (let wave = 1; wave < model.waveCount; wave++) lines.push(`  "wave ${wave}" -> "wave ${wave + 1}" [style=invis];`);

  // Cluster-wide steps, one box per phase.
  const shared = model.vertices.filter((v) => v.lane === undefined);
  const phases = [...new Set(shared.map((v) => v.component))];
  for (const phase of phases) {
    lines.push(`  subgraph ${quote(`cluster_phase_${phase}`)} {`);
    lines.push(`    label=${quote(`${phase} (cluster-wide)`)}; style="rounded"; color="#9e9e9e"; fontsize=10;`);
    for (const v of shared.filter((s) => s.component === phase)) lines.push(vertexLine(v, colours));
    lines.push("  }");
  }

  // Per-node steps: one box per role, one lane per node or group of identical nodes.
  const roles = [...new Set(model.lanes.map((l) => l.role))].sort(
    (a, b) => (ROLE_ORDER.indexOf(a) + 1 || 99) - (ROLE_ORDER.indexOf(b) + 1 || 99),
  );
  for (const role of roles) {
    lines.push(`  subgraph ${quote(`cluster_role_${role}`)} {`);
    lines.push(`    label=${quote(`${role} nodes`)}; style="rounded,bold"; color="#5f6b7a"; fontsize=11;`);
    for (const lane of model.lanes.filter((l) => l.role === role)) {
      const members = model.vertices.filter((v) => v.lane === lane.id);
      if (members.length === 0) continue;
      lines.push(`    subgraph ${quote(`cluster_${lane.id}`)} {`);
      lines.push(`      label=${quote(laneTitle(lane))}; style="dashed"; color="#9e9e9e"; fontsize=10;`);
      for (const v of members) lines.push(`  ${vertexLine(v, colours)}`);
      lines.push("    }");
    }
    lines.push("  }");
  }

  for (let wave = 0; wave < model.waveCount; wave++) {
    const ids = model.vertices.filter((v) => v.wave === wave).map((v) => quote(v.id));
    lines.push(`  { rank=same; "wave ${wave + 1}"; ${ids.join("; ")} }`);
  }

  for (const e of model.edges) {
    const attrs = e.critical
      ? ` [color="${CRITICAL}", penwidth=2.4, arrowsize=0.7]`
      : e.slowest
        ? ` [color="${SLOWEST}", penwidth=2.2, arrowsize=0.7]`
        : "";
    lines.push(`  ${quote(e.from)} -> ${quote(e.to)}${attrs};`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** DOT to SVG with Graphviz's dot engine (WebAssembly); throws with Graphviz's message on bad DOT. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}
