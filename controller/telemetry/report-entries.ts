/**
 * The entries of a Report that ingest uses, once bounds.ts has named the ones to drop by list and
 * index. Apart from ingest.ts because dropping is not only skipping: a dropped totals entry must be
 * remembered by key (its first usable totals after a baseline are a baseline too), and one broken
 * baseline entry can make the whole baseline unusable; both rules are decided here, once per Report.
 */
import type { Report, VariantTotals } from "../gen/meshcanary/v1/telemetry_pb.js";
import type { DroppedEntry } from "./bounds.js";

/** The entries of a Report that are used, and the keys of its dropped totals entries. */
export interface Entries {
  totals: VariantTotals[];
  baseline: VariantTotals[];
  droppedKeys: readonly string[];
}

/** The key of an entry ("canary\nvariant") where a string is needed: sets of dropped or refused entries. */
export function entryKey(t: VariantTotals): string {
  return `${t.canary}\n${t.variant}`;
}

/** The Report's entries, all used (allocates nothing when bounds dropped none). */
export function allEntries(report: Report): Entries {
  return { totals: report.totals, baseline: report.baseline, droppedKeys: NO_KEYS };
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/**
 * The Report without its dropped entries. A baseline entry of an unknown canary goes alone (its
 * totals entry is unknown too); any other broken baseline entry makes the whole baseline unusable,
 * since counting its key from zero would count history twice.
 */
export function usableEntries(report: Report, dropped: readonly DroppedEntry[]): Entries {
  const skip = new Set<number>();
  const skipBaseline = new Set<number>();
  let baselineBroken = false;
  for (const d of dropped) {
    if (d.list === "totals") skip.add(d.index);
    else if (d.violation.reason === "unknown_canary") skipBaseline.add(d.index);
    else baselineBroken = true;
  }
  const droppedKeys = [...skip].map((i) => entryKey(report.totals[i]!));
  return {
    totals: report.totals.filter((_, i) => !skip.has(i)),
    baseline: baselineBroken ? [] : report.baseline.filter((_, i) => !skipBaseline.has(i)),
    droppedKeys,
  };
}
