// What this VM has counted since its last flush to shared data (filter/shared-tallies.ts), where the
// reporting worker picks it up: per-variant tallies, bound to each applied routing table, and health
// counters. Tallies of canaries no longer routed are forgotten once flushed, so memory follows the
// table, not every canary ever seen.

import { RoutingTable } from "./config";
import { addCounter, forgetUnrouted } from "./merge";
import { reporterRouted } from "./reporter";
import { flushTallies } from "./shared-tallies";
import { slowRouted } from "./slow-counts";
import { bindTotals } from "./totals-binding";
import { CounterEntry, VariantTotalsData } from "./wire";

/** This VM's tallies since its last flush to shared data, per canary + "\n" + variant. */
const totals = new Map<string, VariantTotalsData>();
/** This VM's health counters since its last flush (e.g. directive_rejected). */
const counters = new Array<CounterEntry>();
/** Canary ids of the routing table requests are decided on (the Directive's once one arrived). */
let routed = new Set<string>();

/** Points `table`'s route variants at this VM's tallies (kept across tables). */
export function bindTable(table: RoutingTable): void {
  bindTotals(table, totals);
}

/** Records the canaries requests are now decided on, for forgetting the others' tallies. */
export function setRouted(table: RoutingTable): void {
  const canaries = new Set<string>();
  for (let i = 0; i < table.routes.length; i++) canaries.add(table.routes[i].canary);
  routed = canaries;
  reporterRouted(canaries);
  slowRouted(table);
}

/** Adds `value` to health counter `key` of the next report (e.g. directive_rejected). */
export function countFilterEvent(key: string, value: u64): void {
  addCounter(counters, key, value);
}

/** Moves this VM's tallies and counters into shared data; then drops unrouted canaries' tallies. */
export function flushVmTallies(): void {
  if (flushTallies(totals, counters)) forgetUnrouted(totals, routed);
}
