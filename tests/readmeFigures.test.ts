/**
 * The README and docs/ cannot drift: their generated blocks (written by `npm run figures`) must still be what
 * a fresh run gives for their deterministic parts — the config table, the validator's example
 * message, the plan's resource, wave and critical-path counts and example, the bats case counts.
 * Timings and jest's counts are shown there but not compared. The fix when this fails:
 * npm run figures.
 */
import {
  PLAN_SIZES,
  batsCounts,
  batsRows,
  configErrorExample,
  configTable,
  planExample,
  planFigures,
  planScalingTable,
  documentOf,
  readBlock,
  replaceBlock,
  scalingCounts,
} from "../tools/dev/figures";

test("blocks are found by name between their markers, and replaced in place", () => {
  const text = "a\n<!-- figures:start x -->\nold\n<!-- figures:end -->\nb\n";
  expect(readBlock(text, "x")).toBe("old\n");
  expect(replaceBlock(text, "x", "new")).toBe("a\n<!-- figures:start x -->\nnew\n<!-- figures:end -->\nb\n");
  expect(() => readBlock(text, "y")).toThrow('no generated block "y"');
});

test("the config table is config/schema.ts's (npm run figures)", () => {
  expect(readBlock(documentOf("config-table"), "config-table")).toBe(configTable());
});

test("the example of a refused configuration is the validator's own message (npm run figures)", () => {
  expect(readBlock(documentOf("config-error-example"), "config-error-example")).toBe(configErrorExample());
});

test("the bats case counts are bats's own count (npm run figures)", () => {
  expect(batsRows(readBlock(documentOf("test-counts"), "test-counts"))).toEqual(batsCounts().map((s) => `${s.file} ${s.tests}`));
});

test(
  "the plan's counts at 10, 30 and 100 nodes and its example are a fresh run's (npm run figures)",
  async () => {
    const rows = await Promise.all(PLAN_SIZES.map((size) => planFigures(size)));
    expect(scalingCounts(readBlock(documentOf("plan-scaling"), "plan-scaling"))).toEqual(scalingCounts(planScalingTable(rows)));
    expect(scalingCounts(planScalingTable(rows))).toHaveLength(PLAN_SIZES.length);
    expect(readBlock(documentOf("plan-example"), "plan-example")).toBe(planExample(rows[0].text));
  },
  // Three program runs (100 nodes is the long one) on a machine that may be busy.
  300_000,
);
