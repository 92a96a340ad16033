/**
 * Checks of the snapshot schedule of the Flocker datasets (Data Lifecycle Manager's limits).
 */
import type { SnapshotSchedule } from "../schema";
import { readBoolean, readInteger, type Report } from "./report";

/** The intervals Data Lifecycle Manager accepts for an hourly schedule. */
const SNAPSHOT_INTERVALS_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;
/** DLM keeps at most this many snapshots per count-based retention rule. */
const MAX_SNAPSHOT_RETAIN_COUNT = 1000;

export interface SnapshotTexts {
  readonly enabled: string;
  readonly intervalHours: string;
  readonly time: string;
  readonly retainCount: string;
}

/** The schedule when snapshots are on; `null` when they are off; undefined on a problem. */
export function checkSnapshots(texts: SnapshotTexts, report: Report): SnapshotSchedule | null | undefined {
  const enabled = readBoolean("snapshots", texts.enabled, report);
  const intervalHours = readInteger(
    "snapshotIntervalHours",
    texts.intervalHours,
    {
      min: 1,
      max: 24,
      allowed: `use one of ${SNAPSHOT_INTERVALS_HOURS.join(", ")} (the intervals Data Lifecycle Manager allows)`,
    },
    report,
  );
  if (intervalHours !== undefined && !(SNAPSHOT_INTERVALS_HOURS as readonly number[]).includes(intervalHours)) {
    report(
      "snapshotIntervalHours",
      texts.intervalHours,
      `is not allowed: use one of ${SNAPSHOT_INTERVALS_HOURS.join(", ")} (the intervals Data Lifecycle Manager allows)`,
    );
  }
  const timeMatch = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(texts.time);
  if (!timeMatch) report("snapshotTime", texts.time, "is not a time of day: use HH:MM in UTC, 24-hour clock (e.g. 03:00)");
  const retainCount = readInteger(
    "snapshotRetainCount",
    texts.retainCount,
    { min: 1, max: MAX_SNAPSHOT_RETAIN_COUNT, allowed: `use a whole number from 1 to ${MAX_SNAPSHOT_RETAIN_COUNT}` },
    report,
  );
  if (enabled === undefined || intervalHours === undefined || retainCount === undefined || !timeMatch) return undefined;
  if (!(SNAPSHOT_INTERVALS_HOURS as readonly number[]).includes(intervalHours)) return undefined;
  return enabled ? { intervalHours, time: texts.time, retainCount } : null;
}
