/**
 * A small, dated table of AWS on-demand list prices (USD, Linux) for the monthly cost estimate of
 * `npm run plan`. It is what the estimate is computed from — not a quote, not looked up live.
 * Every price names the page it was read from and that page's own date; the table as a whole was
 * compiled on TABLE_DATE. Prices the sources did not give are absent, and the estimate says so
 * rather than guessing. Check https://aws.amazon.com/ec2/pricing/on-demand/ and
 * https://aws.amazon.com/ebs/pricing/ before relying on a figure, and update this file with the
 * date when you do.
 */

/** The day this table was compiled from the sources below. */
export const TABLE_DATE = "2026-11-30";

/** AWS bills a month of on-demand time as 730 hours in its own examples and calculator. */
export const HOURS_PER_MONTH = 730;

export interface Price {
  readonly usd: number;
  readonly per: "hour" | "GB-month";
  /** The page the figure was read from. */
  readonly source: string;
  /** What the source says about itself: its date and the region it quotes. */
  readonly sourceNote: string;
}

const EC2_LINUX_TABLE = {
  source: "https://gist.github.com/franc3000/cfa43461aeb2e7bd4c2c53cb89f808a8",
  sourceNote:
    "a copy of AWS's on-demand Linux price table, last changed 2017-10-31; the region is not stated (the pricing page opens on US East, N. Virginia)",
};
const GP3 = {
  source: "https://www.saisci.com/aws/gp2-vs-gp3-cost-comparison-ebs-volumes/",
  sourceNote: "quotes the Amazon EBS pricing page for N. Virginia, updated 2021-02-04",
};
const GP2 = {
  source: "https://docs.aws.amazon.com/prescriptive-guidance/latest/optimize-costs-microsoft-workloads/ebs-migrate-gp2-gp3.html",
  sourceNote: "AWS Prescriptive Guidance, gp2 at $0.10 per GiB-month; no region stated",
};

export interface RegionPrices {
  /** Instance types, per hour. */
  readonly instances: Readonly<Record<string, Price>>;
  /** EBS volume types, per GB-month of provisioned storage. */
  readonly volumes: Readonly<Record<string, Price>>;
  /** Set when the region's prices were not found separately and another region's are used. */
  readonly sameAs?: string;
}

const US_EAST_1: RegionPrices = {
  instances: {
    "t2.medium": { usd: 0.0464, per: "hour", ...EC2_LINUX_TABLE },
    "m4.large": { usd: 0.1, per: "hour", ...EC2_LINUX_TABLE },
  },
  volumes: {
    gp3: { usd: 0.08, per: "GB-month", ...GP3 },
    gp2: { usd: 0.1, per: "GB-month", ...GP2 },
    // standard (magnetic, Flocker's bronze) and io1 (gold, also billed per provisioned IOPS): no
    // source was found for them, so the estimate leaves them out and says so.
  },
};

export const PRICE_TABLE: Readonly<Record<string, RegionPrices>> = {
  "us-east-1": US_EAST_1,
  // No separate us-west-2 figures were found: the estimate uses the us-east-1 ones and says so.
  "us-west-2": { ...US_EAST_1, sameAs: "us-east-1" },
};
