// The `make audit` gate: its reading of npm's report (table), and the real `npm audit` run against a
// local registry that serves the bulk advisory endpoint, answering clean, vulnerable or 405.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without type declarations
import { auditVerdict } from "../../bin/npm-audit-gate.mjs";

const report = (counts: Record<string, number>, vulns: Record<string, unknown> = {}) =>
  JSON.stringify({ auditReportVersion: 2, vulnerabilities: vulns, metadata: { vulnerabilities: counts } });

describe("auditVerdict", () => {
  it.each([
    ["no advisories", report({ low: 0, moderate: 0, high: 0, critical: 0 }), "clean"],
    ["moderate only", report({ moderate: 2, high: 0, critical: 0 }), "clean"],
    ["one high", report({ high: 1 }, { x: { name: "x", severity: "high", range: "<2" } }), "vulnerable"],
    ["critical count alone", report({ critical: 1 }), "vulnerable"],
    ["405 from the mirror", JSON.stringify({ message: "405 Method Not Allowed - POST" }), "unavailable"],
    ["npm error object", JSON.stringify({ error: { code: "ENOAUDIT", summary: "no" } }), "unavailable"],
    ["not JSON", "npm ERR! network", "unavailable"],
  ])("%s → %s", (_name, stdout, kind) => {
    expect(auditVerdict(stdout).kind).toBe(kind);
  });

  it("names each blocking package and its severity", () => {
    const v = auditVerdict(
      report(
        { high: 1, critical: 1 },
        { a: { name: "a", severity: "high", range: "<1.2.3" }, b: { name: "b", severity: "critical" } },
      ),
    );
    expect(v.lines.join("\n")).toMatch(/high: a <1\.2\.3[\s\S]*critical: b/);
  });
});

describe("npm-audit-gate against a local advisory endpoint", () => {
  let server: Server;
  let mode: "clean" | "high" | "405" = "clean";
  let registry = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (mode === "405" || !req.url?.includes("/security/advisories/bulk")) {
          res.writeHead(405, { allow: "GET,HEAD" }).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        const asked = Object.keys(JSON.parse(body.toString("utf8") || "{}"));
        const advisories: Record<string, unknown[]> = {};
        if (mode === "high" && asked.includes("@grpc/grpc-js")) {
          advisories["@grpc/grpc-js"] = [
            {
              id: 1,
              url: "https://example.invalid/1",
              title: "test advisory",
              severity: "high",
              vulnerable_versions: ">=0.0.0",
              cwe: [],
              cvss: { score: 7.5 },
            },
          ];
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(advisories));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // Asynchronous: the registry above answers from this same event loop.
  const gate = (env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const options = {
        encoding: "utf8" as const,
        env: { ...process.env, npm_config_registry: registry, npm_config_audit: "true", ...env },
        timeout: 60_000,
      };
      execFile(process.execPath, ["bin/npm-audit-gate.mjs"], options, (err, stdout, stderr) => {
        resolve({ status: err ? ((err.code as number | undefined) ?? 1) : 0, stdout, stderr });
      });
    });

  it("passes a clean report", async () => {
    mode = "clean";
    const r = await gate();
    expect(r.stdout).toContain("no high or critical advisories");
    expect(r.status).toBe(0);
  });

  it("fails on a high advisory and names the package", async () => {
    mode = "high";
    const r = await gate();
    expect(r.stderr).toContain("high: @grpc/grpc-js");
    expect(r.status).toBe(1);
  });

  it("warns and passes when the endpoint answers 405, fails when required", async () => {
    mode = "405";
    const r = await gate();
    expect(r.stderr).toMatch(/WARNING: .*405.*NOT CHECKED/);
    expect(r.status).toBe(0);
    expect((await gate({ MESHCANARY_AUDIT: "require" })).status).toBe(1);
  });
});
