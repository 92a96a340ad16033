/**
 * Volume sizes as Flocker 1.15's Docker plugin reads them (`docker volume create -o size=...`).
 *
 * The plugin's `parse_num` (flocker/dockerplugin/_api.py) tests the text against the prefix regex
 * `^(\d+){1}([KMGTkmgt][IiBb]){0,1}([Bb]){0,1}`, then takes the unit to be *every* character that
 * is not a digit or a dot and the number to be what remains once that unit is removed. Text it
 * cannot read silently becomes its 75 GiB default, and a number with a dot raises an error. So
 * "10 G" quietly makes a 75 GiB volume and "1G5" a 15 GiB one: we accept only the exact form, and
 * `flockerParseNum` says what Flocker itself would do, for the error messages.
 *
 * Flocker then rounds the byte count up to its 1 GiB allocation unit (blockdevice.py
 * `allocated_size`) and asks EBS for `int(Byte(size).to_GiB())` GiB.
 */

const KIB = 1024n;
const MIB = KIB * 1024n;
const GIB = MIB * 1024n;
const TIB = GIB * 1024n;

/** Flocker's `DEFAULT_SIZE` (RACKSPACE_MINIMUM_VOLUME_SIZE): what unreadable sizes become. */
export const FLOCKER_DEFAULT_SIZE_GIB = 75;

/** Unit spellings `parse_num` accepts (compared lower-cased) and what they multiply by. */
const UNIT_BYTES: Readonly<Record<string, bigint>> = {
  "": 1n,
  k: KIB,
  kb: KIB,
  kib: KIB,
  m: MIB,
  mb: MIB,
  mib: MIB,
  g: GIB,
  gb: GIB,
  gib: GIB,
  t: TIB,
  tb: TIB,
  tib: TIB,
};

/** Flocker's own regex: a *prefix* match, which is why we add the whole-string check below. */
const FLOCKER_PREFIX = /^(\d+){1}([KMGTkmgt][IiBb]){0,1}([Bb]){0,1}/;
/** The exact form we accept: digits, then nothing or a unit (case-insensitive), then the end. */
const EXACT_SIZE = /^(\d+)([A-Za-z]*)$/;

export interface FlockerSize {
  /** The size in bytes, as the plugin stores it in the dataset's `maximum_size`. */
  readonly bytes: number;
  /** `int(Byte(size).to_GiB())`: whole GiB, rounded down. */
  readonly gib: number;
}

/** A size in bytes as a `FlockerSize` (BigInt inside so huge inputs do not lose precision). */
function sizeFromBytes(bytes: bigint): FlockerSize {
  return { bytes: Number(bytes), gib: Number(bytes / GIB) };
}

/**
 * The size Flocker reads from `text`, or undefined when Flocker would not read it exactly as written
 * (trailing text, spaces, decimals, unknown units: Flocker's default or an error instead).
 */
export function parseFlockerSize(text: string): FlockerSize | undefined {
  const match = EXACT_SIZE.exec(text);
  if (!match) return undefined;
  const [, digits, unit] = match;
  const multiplier = UNIT_BYTES[unit.toLowerCase()];
  if (multiplier === undefined) return undefined;
  return sizeFromBytes(BigInt(digits) * multiplier);
}

/** True when `size` is a whole number of GiB, i.e. Flocker creates exactly that EBS volume. */
export function isWholeGiB(size: FlockerSize): boolean {
  return BigInt(size.bytes) % GIB === 0n;
}

/** What Flocker 1.15's `parse_num` really does with a text (an emulation, for messages and tests). */
export type FlockerParseOutcome =
  { readonly kind: "size"; readonly size: FlockerSize } | { readonly kind: "default" } | { readonly kind: "error" };

export function flockerParseNum(text: string): FlockerParseOutcome {
  // `if size_from_opts:` in VolumeDriver.Create: an empty option means the default size.
  if (text === "" || !FLOCKER_PREFIX.test(text)) return { kind: "default" };
  // `unit = expression.translate(None, "1234567890.")`: all non-digits, non-dots, wherever they are.
  const unit = text.replace(/[0-9.]/g, "");
  // `num = int(expression.replace(unit, ""))`: Python's str.replace("", "") leaves the text unchanged.
  const rest = unit === "" ? text : text.split(unit).join("");
  if (!/^\d+$/.test(rest)) return { kind: "error" }; // int("1.5") raises ValueError
  const multiplier = UNIT_BYTES[unit.toLowerCase()];
  if (multiplier === undefined) return { kind: "default" };
  return { kind: "size", size: sizeFromBytes(BigInt(rest) * multiplier) };
}
