/**
 * No secret reaches the controller's log, at trace level, while every path that handles one runs and
 * logs: telemetry streams with a wrong and the right token, API writes with a wrong and the right
 * bearer token, Kubernetes calls (bearer token in the kubeconfig) failing with 500s, and a webhook
 * whose URL carries credentials in userinfo, path and query failing to deliver.
 */
import { createServer } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningController, startController } from "../../controller/app/controller.js";
import { type ReporterSim, startReporterSim } from "../../sandbox/reporter-sim.js";
import { request } from "../api/http-client.js";
import { healthySpec, NS, startWorld, until, type World } from "../controller/harness.js";

const TELEMETRY_TOKEN = "tel-7f3a9c0d1e2b";
const WRONG_TELEMETRY_TOKEN = "tel-wrong-55aa11";
const API_TOKEN = "api-c4d9e8f7a6b5";
const WRONG_API_TOKEN = "api-wrong-0099ee";
const HOOK_PASSWORD = "hookpass-31c7";
const HOOK_SECRET = "T000-B000-hooksecret9d2e";

let world: World;
let controller: RunningController;
const sims: ReporterSim[] = [];
const logs: string[] = [];

beforeAll(async () => {
  world = await startWorld(["reviews"]);
  controller = await startController({
    kubeconfigText: world.api.kubeconfig(),
    namespace: NS,
    telemetry: { port: 0, host: "127.0.0.1", token: TELEMETRY_TOKEN },
    api: { port: 0, host: "127.0.0.1", writeToken: API_TOKEN },
    leaderElection: {
      enabled: false,
      namespace: NS,
      name: "meshcanary-controller",
      identity: "logs",
      leaseDurationSeconds: 2,
    },
    tickMs: 200,
    logger: pino({ level: "trace" }, { write: (line: string) => logs.push(line) }),
  });
});
afterAll(async () => {
  for (const s of sims) s.close();
  await controller.close();
  await world.close();
});

const write = (token: string, command: string) =>
  request(`http://127.0.0.1:${controller.apiPort}/api/v1/canaries/${NS}/quiet/${command}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: "{}",
  });

const sim = (token: string) => {
  const s = startReporterSim({
    address: `127.0.0.1:${controller.telemetryPort}`,
    token,
    canary: `${NS}/quiet`,
    rps: 500,
    failureRate: { stable: 0.001, canary: 0.001 },
  });
  sims.push(s);
  return s;
};

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const logged = (msg: string) => logs.some((l) => JSON.parse(l).msg === msg);

describe("controller logs", () => {
  it("carry no token, kubeconfig credential or webhook secret", async () => {
    const closedPort = await freePort();
    world.api.faults.failNext({ method: "PUT", path: /\/virtualservices\/reviews$/, status: 500, times: 2 });
    await world.createCanary("quiet", {
      ...healthySpec([10, 50]),
      analysis: { minStepDuration: "60s" },
      webhooks: [
        {
          name: "chat",
          url: `http://ops:${HOOK_PASSWORD}@127.0.0.1:${closedPort}/services/${HOOK_SECRET}?token=${HOOK_SECRET}`,
          timeoutSeconds: 1,
        },
      ],
    });
    const refused = sim(WRONG_TELEMETRY_TOKEN);
    await until("the wrong-token stream to end", async () => refused.ended());
    const accepted = sim(TELEMETRY_TOKEN);
    await until("the right-token stream to get a Directive", async () => accepted.directives.length > 0);
    await until(
      "the rollout to start",
      async () => (await world.canary("quiet")).status?.phase === "Progressing",
    );
    expect((await write(WRONG_API_TOKEN, "pause")).status).toBe(401);
    // Status writes fail past their retries: the controller logs the API's error.
    world.api.faults.failNext({ method: "PATCH", path: /\/canaries\/quiet\/status$/, status: 500, times: 8 });
    expect((await write(API_TOKEN, "pause")).status).toBe(200);
    await until("the webhook failure to be logged", async () => logged("webhook delivery failed"), 20_000);

    // Every secret-handling path ran and logged something.
    expect(logged("telemetry stream refused: missing or wrong x-meshcanary-token")).toBe(true);
    await until("the status write failure to be logged", async () => logged("status write failed"), 20_000);
    const text = logs.join("\n");
    const hook = logs.map((l) => JSON.parse(l)).find((l) => l.msg === "webhook delivery failed");
    expect(hook.url).toBe(`http://127.0.0.1:${closedPort}`);
    expect(hook.error).toContain("ECONNREFUSED");
    for (const secret of [
      TELEMETRY_TOKEN,
      WRONG_TELEMETRY_TOKEN,
      API_TOKEN,
      WRONG_API_TOKEN,
      world.api.token,
      HOOK_PASSWORD,
      HOOK_SECRET,
    ]) {
      expect(text).not.toContain(secret);
    }
  }, 40_000);
});
