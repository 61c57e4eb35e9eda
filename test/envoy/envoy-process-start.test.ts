/**
 * startEnvoyProcess's start-up handshake against a stand-in for Envoy that, like Envoy, creates its
 * --admin-address-path file before it writes the address into it. Reading the file in between once
 * made a sidecar start wait out its whole deadline on an empty admin address.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { startEnvoyProcess } from "../../sandbox/envoy/envoy-process.js";

const dir = mkdtempSync(join(tmpdir(), "meshcanary-fake-envoy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LISTENER_PORT = 15001;

// The file stays empty for 500 ms, ten of the starter's 50-ms polls, before the address is written.
const FAKE_ENVOY = `#!/usr/bin/env node
const { writeFileSync } = require("node:fs");
const { createServer } = require("node:http");
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const addressPath = arg("--admin-address-path");
writeFileSync(addressPath, "");
const listeners = { listener_statuses: [{ local_address: { socket_address: { port_value: ${LISTENER_PORT} } } }] };
const admin = createServer((req, res) => res.end(JSON.stringify(req.url.startsWith("/listeners") ? listeners : {})));
setTimeout(() => admin.listen(0, "127.0.0.1", () => writeFileSync(addressPath, "127.0.0.1:" + admin.address().port)), 500);
process.on("SIGTERM", () => process.exit(0));
`;

it("waits for the admin address to be written, not only for its file to exist", async () => {
  const binary = join(dir, "fake-envoy.cjs");
  writeFileSync(binary, FAKE_ENVOY);
  chmodSync(binary, 0o755);
  const envoyDir = mkdtempSync(join(dir, "run-"));
  const envoy = await startEnvoyProcess({ binary, dir: envoyDir, bootstrap: {}, startTimeoutMs: 10_000 });
  try {
    expect(envoy.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(envoy.port).toBe(LISTENER_PORT);
  } finally {
    await envoy.stop();
  }
});
