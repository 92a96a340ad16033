/**
 * `npm run prices -- [--region R ...] [--offer FILE=URL ...] [--price-list FILE=URL ...]
 *  [--ec2details FILE=URL@DATE] [--out FILE]`: writes the cost estimate's price table
 * (lib/priceTable.json) from AWS's published price list, filtered to what the stack can use: the
 * instance types the validator accepts, in every region the inputs have; gp3, gp2, io1 (and its
 * IOPS) and magnetic EBS storage; snapshot storage; public IPv4 addresses.
 *
 * Inputs (any mix; docs/cost.md has the command the committed table was made with):
 * - `--region R`: downloads AWS's offer files for R (AmazonEC2 and AmazonVPC, from the region
 *   indexes at pricing.us-east-1.amazonaws.com); `--region all` takes every region of the index;
 * - `--offer FILE=URL`: an offer file in the bulk format already on disk, and the URL it came from;
 * - `--price-list FILE=URL`: a JSON array of Price List query API items (`aws pricing
 *   get-products`), and where the file came from;
 * - `--ec2details FILE=URL@DATE`: tedivm/ec2details' api/ec2instances.json (instance prices only),
 *   where it came from and the date of that copy.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { stackInstanceTypes } from "../../../lib/instanceTypes";
import type { PriceSource } from "../../../lib/prices";
import { offersFromPriceListItems, pricesFromEc2Details, type Ec2Details, type PriceListItem } from "./adapters";
import { pricesFromOffer, type OfferFile, type PriceFact, type Wanted } from "./priceList";
import { buildPriceTable, formatPriceTable } from "./priceTable";

const PRICE_LIST_HOST = "https://pricing.us-east-1.amazonaws.com";
const DEFAULT_OUT = path.join(__dirname, "..", "..", "..", "lib", "priceTable.json");
/** An offer file of a large region is hundreds of MB: a generous bound per download, and two tries. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60 * 1000;
const DOWNLOAD_ATTEMPTS = 2;

const USAGE =
  "usage: npm run prices -- [--region R|all ...] [--offer FILE=URL ...] [--price-list FILE=URL ...] " +
  "[--ec2details FILE=URL@DATE] [--out FILE]";

class UsageError extends Error {}

interface Input {
  readonly id: string;
  readonly source: PriceSource;
  readonly facts: readonly PriceFact[];
}

/** `FILE=URL` (and `@DATE` when `dated`), split; a usage error names the option and the form. */
export function fileWithOrigin(option: string, text: string, dated: boolean): { file: string; url: string; date?: string } {
  const match = (dated ? /^([^=]+)=(https:\/\/[^@\s]+)@(\d{4}-\d{2}-\d{2})$/ : /^([^=]+)=(https:\/\/\S+)$/).exec(text);
  if (!match) {
    throw new UsageError(
      `--${option} takes ${dated ? "FILE=URL@YYYY-MM-DD" : "FILE=URL"} (the URL it was read from), got "${text}"`,
    );
  }
  return { file: match[1], url: match[2], date: match[3] };
}

const day = (isoDate: string) => isoDate.slice(0, 10);

/** Facts from one offer, under an id naming its service, region and publication date. */
function offerInput(offer: OfferFile, url: string, wanted: Wanted, region?: string): Input {
  const service = offer.offerCode ?? "AmazonEC2";
  const id = `${service}${region ? `/${region}` : ""}@${offer.publicationDate}`;
  return {
    id,
    source: {
      url,
      date: day(offer.publicationDate),
      note: `AWS Price List offer ${service}${region ? ` for ${region}` : ""}, publicationDate ${offer.publicationDate}`,
    },
    facts: pricesFromOffer(offer, id, wanted, region),
  };
}

async function download(url: string): Promise<unknown> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return await response.json();
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`could not download ${url}: ${String(lastError)}`);
}

/** The offers of `regions` ("all": every region AWS lists) for EC2 and VPC, from AWS. */
async function downloadedInputs(regions: readonly string[], wanted: Wanted, log: (line: string) => void): Promise<Input[]> {
  const inputs: Input[] = [];
  for (const service of ["AmazonEC2", "AmazonVPC"]) {
    const indexUrl = `${PRICE_LIST_HOST}/offers/v1.0/aws/${service}/current/region_index.json`;
    const index = (await download(indexUrl)) as { regions: Record<string, { currentVersionUrl: string }> };
    const wantedRegions = regions.includes("all") ? Object.keys(index.regions) : regions;
    for (const region of wantedRegions) {
      const entry = index.regions[region];
      if (entry === undefined) throw new Error(`${service} has no offer for region ${region} (${indexUrl})`);
      const url = `${PRICE_LIST_HOST}${entry.currentVersionUrl}`;
      log(`reading ${url}`);
      inputs.push(offerInput((await download(url)) as OfferFile, url, wanted, region));
    }
  }
  return inputs;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, "utf8"));

export async function generatePrices(argv: readonly string[], log: (line: string) => void): Promise<string> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      region: { type: "string", multiple: true },
      offer: { type: "string", multiple: true },
      "price-list": { type: "string", multiple: true },
      ec2details: { type: "string", multiple: true },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    log(USAGE);
    return "";
  }
  const wanted: Wanted = { instanceTypes: new Set(stackInstanceTypes()) };
  const inputs: Input[] = [];
  for (const text of values.offer ?? []) {
    const { file, url } = fileWithOrigin("offer", text, false);
    inputs.push(offerInput(readJson(file) as OfferFile, url, wanted));
  }
  for (const text of values["price-list"] ?? []) {
    const { file, url } = fileWithOrigin("price-list", text, false);
    const offers = offersFromPriceListItems(readJson(file) as (PriceListItem | string)[]);
    inputs.push(...offers.map((offer) => offerInput(offer, url, wanted)));
  }
  for (const text of values.ec2details ?? []) {
    const { file, url, date } = fileWithOrigin("ec2details", text, true);
    const id = `ec2details@${date}`;
    const note = "tedivm/ec2details: Linux on-demand (shared tenancy) prices that project extracts from the AmazonEC2 offer";
    inputs.push({
      id,
      source: { url, date: date as string, note },
      facts: pricesFromEc2Details(readJson(file) as Ec2Details, id, wanted),
    });
  }
  if (values.region?.length) inputs.push(...(await downloadedInputs(values.region, wanted, log)));
  if (inputs.length === 0) throw new UsageError(`no input: ${USAGE}`);

  const sources: Record<string, PriceSource> = {};
  for (const input of inputs) {
    const earlier = sources[input.id];
    // Two files of one offer (two GetProducts recordings of the same publication) share an id.
    sources[input.id] =
      earlier === undefined || earlier.url === input.source.url
        ? input.source
        : { ...earlier, url: `${earlier.url} ${input.source.url}` };
    log(`${input.id}: ${input.facts.length} prices (${input.source.url})`);
  }
  const command = `npm run prices -- ${argv.map((a) => a.replace(/^[^=]*\//, "…/")).join(" ")}`;
  const table = buildPriceTable(
    sources,
    inputs.flatMap((i) => i.facts),
    command,
    new Date().toISOString().slice(0, 10),
  );
  const out = values.out ?? DEFAULT_OUT;
  fs.writeFileSync(out, formatPriceTable(table));
  log(`wrote ${out}: ${Object.keys(table.regions).length} regions`);
  return out;
}

if (require.main === module) {
  generatePrices(process.argv.slice(2), (line) => console.log(line)).catch((error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`prices: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(usage ? 2 : 1);
  });
}
