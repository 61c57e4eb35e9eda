#!/usr/bin/env node
// `make audit`: fails on any dependency advisory of high or critical severity. Where the registry
// does not serve npm's advisory endpoint (our mirror answers it with 405), the gate cannot decide:
// it says so loudly and passes, unless MESHCANARY_AUDIT=require makes that a failure too.
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";

const BLOCKING = new Set(["high", "critical"]);

/**
 * Reads `npm audit --json` output. Returns { kind: "clean" | "vulnerable" | "unavailable", lines }.
 * @param {string} stdout
 */
export function auditVerdict(stdout) {
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    return { kind: "unavailable", lines: [`npm audit printed no JSON report: ${stdout.slice(0, 200)}`] };
  }
  const counts = report?.metadata?.vulnerabilities;
  if (!counts || typeof counts !== "object") {
    const why = report?.message ?? report?.error?.summary ?? report?.error?.code ?? "no metadata";
    return { kind: "unavailable", lines: [`npm audit endpoint gave no report: ${why}`] };
  }
  const blocking = Object.values(report.vulnerabilities ?? {}).filter((v) => BLOCKING.has(v?.severity));
  const summary = `high=${counts.high ?? 0} critical=${counts.critical ?? 0} moderate=${counts.moderate ?? 0} low=${counts.low ?? 0}`;
  if (blocking.length === 0 && !(counts.high > 0) && !(counts.critical > 0)) {
    return { kind: "clean", lines: [`npm audit: no high or critical advisories (${summary})`] };
  }
  const names = blocking.map((v) => `  ${v.severity}: ${v.name} ${v.range ?? ""}`.trimEnd());
  return { kind: "vulnerable", lines: [`npm audit: blocking advisories (${summary})`, ...names] };
}

function main() {
  const run = spawnSync("npm", ["audit", "--json", "--audit-level=high"], { encoding: "utf8" });
  const verdict = auditVerdict(run.stdout ?? "");
  const require = process.env.MESHCANARY_AUDIT === "require";
  if (verdict.kind === "unavailable") {
    const tail = require
      ? "MESHCANARY_AUDIT=require: failing"
      : "NOT CHECKED; set MESHCANARY_AUDIT=require to fail";
    console.error(`WARNING: ${verdict.lines[0]} — ${tail}`);
    return require ? 1 : 0;
  }
  for (const line of verdict.lines) (verdict.kind === "clean" ? console.log : console.error)(line);
  return verdict.kind === "clean" ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = main();
