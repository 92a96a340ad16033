/**
 * The monthly cost ceiling (monthlyCostCeilingUsd): the cluster's estimated cost (lib/costEstimate.ts)
 * from the validated configuration, and the refusal, before any resource exists, of a cluster whose
 * estimate is above the ceiling — or cannot be made, since an unpriced volume or region could hide
 * any amount. 0 turns the ceiling off. docs/cost.md explains the figures and how to raise it.
 */
import { costHeadline, estimateMonthlyCost, formatUsd, fullyPricedRegions, type CostDemand } from "../../lib/costEstimate";
import { volumeRequestFor } from "../../lib/ebsProfiles";
import { PRICE_TABLE, type PriceTable } from "../../lib/prices";
import type { ClusterConfig } from "../schema";
import type { Report } from "./report";

const COST_CEILING_KEY = "monthlyCostCeilingUsd";

/**
 * What the program will ask AWS for, as components/ builds it: gp3 root volumes and one public IPv4
 * per node; on the book platform the Flocker control-state volume and the Flocker dataset at its
 * profile's EBS type, on the current platform the Spark dataset's own gp3 volume.
 */
export function costDemandOf(config: ClusterConfig): CostDemand {
  const common = {
    region: config.region,
    instanceType: config.instanceType,
    nodeCount: config.nodeCount,
    publicIpv4Count: config.nodeCount,
    rootVolume: { volumeType: "gp3", gib: config.rootVolumeSizeGiB },
    ...(config.snapshots === undefined ? {} : { snapshots: { retainCount: config.snapshots.retainCount } }),
  } as const;
  if (config.platform === "current") {
    return { ...common, dataset: { volumeType: "gp3", gib: config.sparkVolumeSizeGiB } };
  }
  const dataset = volumeRequestFor(config.sparkVolumeProfile, config.sparkVolumeSizeGiB);
  return {
    ...common,
    controlStateVolume: { volumeType: "gp3", gib: config.flockerControlVolumeSizeGiB },
    dataset: {
      profile: config.sparkVolumeProfile,
      volumeType: dataset.volumeType,
      gib: config.sparkVolumeSizeGiB,
      ...(dataset.iops === undefined ? {} : { iops: dataset.iops }),
    },
  };
}

/** A round ceiling above `usd`: the next hundred dollars. */
const ceilingAbove = (usd: number) => Math.max(100, Math.ceil((usd + 1) / 100) * 100);

/** Reports the ceiling when the estimate is above it or cannot be made. */
export function checkCostCeiling(config: ClusterConfig, report: Report, table: PriceTable = PRICE_TABLE): void {
  const ceiling = config.monthlyCostCeilingUsd;
  if (ceiling === 0) return;
  const estimate = estimateMonthlyCost(costDemandOf(config), table);
  const value = String(ceiling);
  if (estimate.totalUsd === undefined) {
    const priced = fullyPricedRegions(table);
    report(
      COST_CEILING_KEY,
      value,
      `cannot be checked: the monthly cost ${costHeadline(estimate)}. Add the region's prices to the table ` +
        `(npm run prices, docs/cost.md), use a region it prices completely (${priced.join(", ") || "none"}), ` +
        `or set ${COST_CEILING_KEY} to 0 to deploy without a ceiling`,
    );
    return;
  }
  if (estimate.totalUsd <= ceiling) return;
  const largest = [...estimate.lines]
    .sort((a, b) => (b.monthlyUsd ?? 0) - (a.monthlyUsd ?? 0))
    .slice(0, 2)
    .map((l) => `${l.item} ${l.quantity}: ${formatUsd(l.monthlyUsd ?? 0)}`)
    .join("; ");
  report(
    COST_CEILING_KEY,
    value,
    `is below the estimated monthly cost of ${formatUsd(estimate.totalUsd)} in ${config.region} (largest: ${largest}): ` +
      `if that cost is intended, raise the ceiling, e.g. pulumi config set ${COST_CEILING_KEY} ${ceilingAbove(estimate.totalUsd)}; ` +
      `otherwise lower what drives it (npm run plan prints every line)`,
  );
}

/** The one line a preview or an update logs: the estimate and the ceiling it was checked against. */
export function costNotice(config: ClusterConfig, table: PriceTable = PRICE_TABLE): string {
  const estimate = estimateMonthlyCost(costDemandOf(config), table);
  const ceiling =
    config.monthlyCostCeilingUsd === 0
      ? `no ceiling: ${COST_CEILING_KEY} is 0`
      : `ceiling ${formatUsd(config.monthlyCostCeilingUsd)} (${COST_CEILING_KEY})`;
  return `Monthly cost estimate in ${config.region}: ${costHeadline(estimate)}; ${ceiling}; npm run plan prints every line (docs/cost.md)`;
}
