/**
 * A real Kubernetes control plane for the end-to-end tests: etcd and kube-apiserver built by
 * tools/kube/build.sh (`make kube-bins`), run on loopback with ephemeral ports and a temp data dir,
 * static-token admin, service-account signing keys (so the controller can run with its own real
 * ServiceAccount token) and RBAC authorization. Children die with the test process (pdeathsig).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

/** Where tools/kube/build.sh puts the binaries and CRDs. */
export interface KubeBins {
  dir: string;
  etcd: string;
  apiserver: string;
  istioCrds: string;
  gatewayApiCrds: string;
}

const REPO = new URL("../../", import.meta.url).pathname;

/** The cached binaries, or why they are not there (the suite then skips with that message). */
export function kubeBins(): KubeBins | { missing: string } {
  const printed = execFileSync("bash", [join(REPO, "tools/kube/build.sh"), "--print"], { encoding: "utf8" });
  const [dir = "", crds = ""] = printed.trim().split("\n");
  const bins = {
    dir,
    etcd: join(dir, "bin/etcd"),
    apiserver: join(dir, "bin/kube-apiserver"),
    istioCrds: join(crds, "istio.yaml"),
    gatewayApiCrds: join(crds, "gateway-api.yaml"),
  };
  const absent = [bins.etcd, bins.apiserver, bins.istioCrds, bins.gatewayApiCrds].filter(
    (f) => !existsSync(f),
  );
  if (absent.length > 0) return { missing: `${absent.join(", ")} not built: run \`make kube-bins\`` };
  return bins;
}

/** One admin request's answer. */
export interface KubeReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: untyped API responses
  body: any;
}

/** A running etcd + kube-apiserver. */
export interface RealKube {
  url: string;
  /** PEM the server's certificate chains to. */
  ca: string;
  /** Static admin token (system:masters). */
  adminToken: string;
  /** Kubeconfig for a bearer token (admin's by default). */
  kubeconfig(token?: string): string;
  /** A JSON request as admin (or with the given token). */
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
    token?: string,
  ): Promise<KubeReply>;
  /** Stops kube-apiserver and starts it again on the same port and etcd (watch caches are lost). */
  restartApiServer(): Promise<void>;
  close(): Promise<void>;
}

const SA_ISSUER = "https://kubernetes.default.svc.cluster.local";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Spawns a child that is SIGKILLed if this process dies first, logging to a file. */
function spawnTied(bin: string, args: string[], log: string): ChildProcess {
  const fd = openSync(log, "a");
  return spawn("setpriv", ["--pdeathsig", "SIGKILL", "--", bin, ...args], { stdio: ["ignore", fd, fd] });
}

function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls ready() until it holds; fails early (with the log) when the child exits. */
async function waitReady(what: string, child: ChildProcess, log: string, ready: () => Promise<boolean>) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${tail(log)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after 90 s:\n${tail(log)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function httpsJson(
  url: string,
  ca: string,
  token: string,
  method: string,
  body: unknown,
  contentType: string,
): Promise<KubeReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      url,
      {
        method,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(data === undefined ? {} : { "content-type": contentType }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.end(data);
  });
}

/** Starts etcd and kube-apiserver; rejects (with the log's tail) when either fails to come up. */
export async function startRealKube(bins: KubeBins): Promise<RealKube> {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-kube-"));
  const children: ChildProcess[] = [];
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcdLog = join(dir, "etcd.log");
    const etcd = spawnTied(
      bins.etcd,
      [
        "--name=test",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=test=${peerUrl}`,
        "--unsafe-no-fsync",
        "--log-level=warn",
      ],
      etcdLog,
    );
    children.push(etcd);
    await waitReady("etcd", etcd, etcdLog, async () => {
      const r = await fetch(`${etcdUrl}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === "true";
    });

    const adminToken = randomBytes(16).toString("hex");
    writeFileSync(
      join(dir, "tokens.csv"),
      `${adminToken},meshcanary-admin,meshcanary-admin,"system:masters"\n`,
    );
    const keys = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    writeFileSync(join(dir, "sa.pub"), keys.publicKey);
    writeFileSync(join(dir, "sa.key"), keys.privateKey, { mode: 0o600 });
    mkdirSync(join(dir, "certs"));
    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "certs")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      `--service-account-issuer=${SA_ISSUER}`,
      `--api-audiences=${SA_ISSUER}`,
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--authorization-mode=RBAC,Node",
      "--service-cluster-ip-range=10.0.0.0/24",
      // The advertised loopback address is not a valid endpoint; nothing routes to it anyway.
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
      "--profiling=false",
      "--v=1",
    ];
    const url = `https://127.0.0.1:${apiPort}`;
    const apiLog = join(dir, "kube-apiserver.log");
    let ca = "";
    let api: ChildProcess;
    const request = (method: string, path: string, body?: unknown, contentType?: string, token?: string) =>
      httpsJson(url + path, ca, token ?? adminToken, method, body, contentType ?? "application/json");
    const startApi = async () => {
      api = spawnTied(bins.apiserver, apiArgs, apiLog);
      children.push(api);
      await waitReady("kube-apiserver", api, apiLog, async () => {
        const cert = join(dir, "certs/apiserver.crt");
        if (!existsSync(cert)) return false;
        ca = readFileSync(cert, "utf8");
        return (await request("GET", "/readyz")).status === 200;
      });
    };
    await startApi();
    return {
      url,
      get ca() {
        return ca;
      },
      adminToken,
      kubeconfig: (token = adminToken) => kubeconfigFor(url, ca, token),
      request,
      restartApiServer: async () => {
        await stop(api);
        await startApi();
      },
      close: async () => {
        for (const c of children.reverse()) await stop(c);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const c of children.reverse()) await stop(c);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function kubeconfigFor(url: string, ca: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "real",
        cluster: { server: url, "certificate-authority-data": Buffer.from(ca).toString("base64") },
      },
    ],
    users: [{ name: "real", user: { token } }],
    contexts: [{ name: "real", context: { cluster: "real", user: "real", namespace: "default" } }],
    "current-context": "real",
  });
}
