// The controller's V8 heap flags: the deployment and the ingest benchmark use the same ones (the
// benchmark's memory figures are the deployment's), and Node really applies them.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CONTROLLER_NODE_FLAGS } from "../../bench/ingest.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const MIB = 1024 * 1024;
/** DESIGN §7: controller RSS at 10,000 proxies. */
const RSS_BUDGET_MIB = 500;

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  resources: { limits: { memory: string } };
}

function controllerContainer(): Container {
  const docs = parseAllDocuments(readFileSync(`${root}istio/controller/deployment.yaml`, "utf8"));
  const deployment = docs.map((d) => d.toJS()).find((d) => d?.kind === "Deployment");
  const containers: Container[] = deployment.spec.template.spec.containers;
  return containers.find((c) => c.name === "controller")!;
}

function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory limit ${quantity}: expected <n>Mi or <n>Gi`);
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
}

describe("controller heap flags", () => {
  const container = controllerContainer();
  const nodeOptions = container.env?.find((e) => e.name === "NODE_OPTIONS")?.value;

  it("are the deployment's NODE_OPTIONS, the same flags the ingest benchmark runs with", () => {
    expect(nodeOptions?.split(/\s+/)).toEqual(CONTROLLER_NODE_FLAGS);
  });

  it("give a V8 heap limit inside the RSS budget, and the budget fits the container limit", () => {
    const out = execFileSync(
      process.execPath,
      ["-e", "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))"],
      { env: { ...process.env, NODE_OPTIONS: nodeOptions } },
    );
    const limitMib = Number(out.toString()) / MIB;
    // Old space 320 + young generation 3 x 16: the rest of the budget is native (HTTP/2, buffers).
    expect(limitMib).toBeGreaterThanOrEqual(320);
    expect(limitMib).toBeLessThan(RSS_BUDGET_MIB - 100);
    expect(mebibytes(container.resources.limits.memory)).toBeGreaterThan(RSS_BUDGET_MIB);
  });
});
