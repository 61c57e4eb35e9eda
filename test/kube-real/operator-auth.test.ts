/**
 * Operators authenticate with Kubernetes, against each API server: the controller (installed from
 * istio/, running with its own ServiceAccount token, so its RBAC must include tokenreviews and
 * subjectaccessreviews) serves the HTTP API with kubernetesAuth. Users are ServiceAccounts with
 * Roles: a viewer allowed `get` on one Canary, an operator allowed get/list/patch, a stranger with
 * nothing. On the embedded server `meshcanary dashboard` runs as its own process and reaches the
 * API through the API server's service proxy with the user's kubeconfig.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { RunningController } from "../../controller/app/controller.js";
import { healthySpec, type Json, NS, startWorldOn, until, type World } from "../controller/harness.js";
import { serviceAccountToken } from "../helpers/kube-apply.js";
import {
  backendChoices,
  CONTROLLER_NS,
  embeddedBackend,
  type SuiteApi,
  type SuiteBackend,
  suiteTitle,
} from "./backends.js";

const RBAC = "/apis/rbac.authorization.k8s.io/v1/namespaces";
const sa = (name: string) => `system:serviceaccount:${NS}:${name}`;

for (const choice of backendChoices()) {
  describe.skipIf(choice.skip !== undefined)(suiteTitle("operator authentication", choice), () => {
    let backend: SuiteBackend;
    let world: World<SuiteApi>;
    let controller: RunningController;
    let apiPort = 0;
    const tokens: Record<string, string> = {};

    const must = async (p: Promise<{ status: number; body: Json }>) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const grant = async (namespace: string, name: string, rules: Json[], users: string[]) => {
      await must(world.req("POST", `${RBAC}/${namespace}/roles`, { metadata: { name, namespace }, rules }));
      await must(
        world.req("POST", `${RBAC}/${namespace}/rolebindings`, {
          metadata: { name, namespace },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
          subjects: users.map((u) => ({ kind: "ServiceAccount", name: u, namespace: NS })),
        }),
      );
    };
    const api = async (path: string, user?: string, init: RequestInit = {}) => {
      const auth: Record<string, string> = user ? { authorization: `Bearer ${tokens[user]}` } : {};
      const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const command = (name: string, cmd: string, user: string) =>
      api(`/api/v1/canaries/${NS}/${name}/${cmd}`, user, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    const commandEvents = async () => {
      const list = await must(world.req("GET", `/api/v1/namespaces/${NS}/events`));
      return (list.items as Json[]).filter((e) => e.reason === "CommandRequested").map((e) => e.message);
    };

    beforeAll(async () => {
      backend =
        choice.name === "embedded"
          ? await embeddedBackend({
              serviceEndpoint: (ns, name, port) =>
                ns === CONTROLLER_NS && name === "meshcanary-controller" && port === "8080" && apiPort > 0
                  ? { host: "127.0.0.1", port: apiPort }
                  : undefined,
            })
          : await choice.start();
      world = await startWorldOn(backend, ["reviews", "ratings"]);
      controller = await world.controller({ api: { port: 0, host: "127.0.0.1", kubernetesAuth: true } });
      apiPort = controller.apiPort!;
      for (const user of ["viewer", "operator", "stranger"]) {
        await must(
          world.req("POST", `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: user } }),
        );
        tokens[user] = await serviceAccountToken(world.req, NS, user);
      }
      const canaries = { apiGroups: ["meshcanary.io"], resources: ["canaries"] };
      await grant(NS, "canary-viewer", [{ ...canaries, verbs: ["get"], resourceNames: ["web"] }], ["viewer"]);
      await grant(NS, "canary-operator", [{ ...canaries, verbs: ["get", "list", "patch"] }], ["operator"]);
      // `meshcanary dashboard` needs the service proxy to the controller, nothing more.
      const proxy = { apiGroups: [""], resources: ["services/proxy"], verbs: ["get", "create"] };
      await grant(CONTROLLER_NS, "meshcanary-dashboard", [proxy], ["viewer", "operator"]);
      await world.createCanary("web", healthySpec([10, 50]));
      await world.createCanary(
        "hidden",
        healthySpec([10, 50], { host: "ratings", virtualService: { name: "ratings" } }),
      );
      await until("both canaries to be known", async () => controller.reconciler.has(`${NS}/hidden`), 20_000);
    }, 120_000);
    afterAll(async () => {
      await world?.close();
    });

    it("refuses a request without a Kubernetes token, or with one the API server does not know", async () => {
      const none = await api("/api/v1/canaries");
      expect(none.status).toBe(401);
      expect(none.body.error.message).toContain("missing Authorization: Bearer <Kubernetes token>");
      tokens.forged = `${tokens.operator!.slice(0, -4)}AAAA`;
      const forged = await api("/api/v1/canaries", "forged");
      expect(forged.status).toBe(401);
      expect(forged.body.error.message).toBe(
        "the Kubernetes API server did not authenticate this bearer token",
      );
    });

    it("shows each user only the canaries they may get, as SubjectAccessReview decides", async () => {
      const names = async (user: string) =>
        ((await api("/api/v1/canaries", user)).body.canaries as Json[]).map((c) => c.name).sort();
      expect(await names("operator")).toEqual(["hidden", "web"]);
      expect(await names("viewer")).toEqual(["web"]);
      expect(await names("stranger")).toEqual([]);
      expect((await api(`/api/v1/canaries/${NS}/web`, "viewer")).status).toBe(200);
      const hidden = await api(`/api/v1/canaries/${NS}/hidden`, "viewer");
      expect(hidden.status).toBe(403);
      expect(hidden.body.error.message).toContain(
        `user "${sa("viewer")}" cannot get canaries.meshcanary.io "hidden" in namespace "${NS}"`,
      );
      expect((await api(`/api/v1/canaries/${NS}/web/series`, "stranger")).status).toBe(403);
    });

    it("refuses a command without patch, and records an allowed one with the user's name in an Event", async () => {
      const denied = await command("web", "abort", "viewer");
      expect(denied.status).toBe(403);
      expect(denied.body.error.message).toContain(
        `user "${sa("viewer")}" cannot patch canaries.meshcanary.io "web"`,
      );
      const done = await command("web", "abort", "operator");
      expect(done.status).toBe(200);
      const events = await until(
        "the CommandRequested Event",
        async () => {
          const messages = await commandEvents();
          return messages.length > 0 ? messages : undefined;
        },
        10_000,
      );
      expect(events).toContain(`abort requested by ${sa("operator")} through the meshcanary API`);
      await until(
        "web to abort",
        async () => (await world.canary("web")).status?.phase === "Aborted",
        20_000,
      );
    });

    it.skipIf(choice.name !== "embedded" || !existsSync("build/js/sandbox/cli.js"))(
      "meshcanary dashboard: the user's kubeconfig, through the service proxy, nothing exposed",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "meshcanary-dashboard-"));
        const kubeconfigAs = (user: string) => {
          const kc = parse(backend.api.kubeconfig()) as Json;
          kc.users[0].user = { token: tokens[user] };
          const file = join(dir, `${user}.yaml`);
          writeFileSync(file, stringify(kc), { mode: 0o600 });
          return file;
        };
        const operator = await startDashboard(kubeconfigAs("operator"));
        const viewer = await startDashboard(kubeconfigAs("viewer"));
        const stranger = await startDashboard(kubeconfigAs("stranger"));
        // Where the API server cannot reach the controller (Istio STRICT mTLS), a port-forward can.
        const forwarded = await startDashboard(kubeconfigAs("viewer"), [
          "--url",
          `http://127.0.0.1:${apiPort}`,
        ]);
        try {
          const page = await fetch(operator.url);
          expect(page.status).toBe(200);
          expect(await page.text()).toContain("<html");
          const me = await (await fetch(`${operator.url}api/v1/whoami`)).json();
          expect(me).toEqual({ user: sa("operator"), authenticated: true });
          const post = (base: string, headers: Record<string, string> = {}) =>
            fetch(`${base}api/v1/canaries/${NS}/web/retry`, {
              method: "POST",
              headers: { "content-type": "application/json", ...headers },
              body: "{}",
            });
          // The page's own origin may command; another site's may not borrow the credentials.
          expect((await post(operator.url, { origin: "https://evil.example" })).status).toBe(403);
          expect((await post(operator.url, { origin: operator.url.slice(0, -1) })).status).toBe(200);
          expect(await commandEvents()).toContain(
            `retry requested by ${sa("operator")} through the meshcanary API`,
          );
          // The viewer reads through the proxy but may not command; the stranger may not use the proxy.
          expect((await fetch(`${viewer.url}api/v1/canaries/${NS}/web`)).status).toBe(200);
          expect((await post(viewer.url)).status).toBe(403);
          expect((await fetch(`${stranger.url}api/v1/canaries`)).status).toBe(403);
          expect(await (await fetch(`${forwarded.url}api/v1/whoami`)).json()).toEqual({
            user: sa("viewer"),
            authenticated: true,
          });
          expect((await post(forwarded.url)).status).toBe(403);
        } finally {
          for (const d of [operator, viewer, stranger, forwarded]) d.stop();
        }
      },
      60_000,
    );
  });
}

/** `meshcanary dashboard` as its own process; resolves with the URL it prints. */
async function startDashboard(
  kubeconfig: string,
  extra: string[] = [],
): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["bin/meshcanary.js", "dashboard", "--kubeconfig", kubeconfig, "--port", "0", "--no-open", ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  child.stderr!.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  const url = await until(
    "meshcanary dashboard to listen",
    async () => /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1],
    15_000,
  ).catch((e: Error) => {
    child.kill();
    throw new Error(`${e.message}; output: ${out}`);
  });
  return { url, stop: () => child.kill("SIGINT") };
}
