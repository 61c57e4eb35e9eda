/**
 * A demo HTTP service standing in for one version of an application (stable or canary).
 * Latency, failure rate and LLM-style token counts are configurable and can be changed while it
 * runs (fault injection for the demo and the reliability suites).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ModelBehaviour, writeAnswer } from "./model-answers.js";

/** Behaviour of the app; every field can be changed at run time with `set`. */
export interface AppBehaviour {
  /** Median response latency in milliseconds (log-normal). */
  latencyMedianMs: number;
  /** Log-normal sigma of the latency; 0 = constant latency. */
  latencySigma: number;
  /** Fixed extra latency in milliseconds (the `latency=+200ms` fault). */
  extraLatencyMs: number;
  /** Probability in [0,1] that a request answers 500. */
  errorRate: number;
  /** Mean total tokens reported by the LLM endpoint (`/v1/completions`). */
  tokensMean: number;
  /** Answer the LLM endpoint as a model server (OpenAI-compatible bodies, model-answers.ts). */
  model?: ModelBehaviour;
}

export interface DemoApp {
  readonly version: string;
  readonly port: number;
  readonly url: string;
  readonly behaviour: AppBehaviour;
  set(change: Partial<AppBehaviour>): void;
  /** Requests served so far, by status code. */
  served(): Map<number, number>;
  close(): Promise<void>;
}

export const DEFAULT_BEHAVIOUR: AppBehaviour = {
  latencyMedianMs: 8,
  latencySigma: 0.4,
  extraLatencyMs: 0,
  errorRate: 0.002,
  tokensMean: 400,
};

/** Standard normal draw (Box-Muller). */
function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function sampleLatencyMs(b: AppBehaviour, random: () => number = Math.random): number {
  const base =
    b.latencySigma > 0 ? b.latencyMedianMs * Math.exp(b.latencySigma * gaussian(random)) : b.latencyMedianMs;
  return Math.max(0, base + b.extraLatencyMs);
}

export async function startDemoApp(opts: {
  version: string;
  port?: number;
  behaviour?: Partial<AppBehaviour>;
  random?: () => number;
}): Promise<DemoApp> {
  const behaviour: AppBehaviour = { ...DEFAULT_BEHAVIOUR, ...opts.behaviour };
  const random = opts.random ?? Math.random;
  const served = new Map<number, number>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const fail = random() < behaviour.errorRate;
    const status = fail ? 500 : 200;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-app-version": opts.version,
    };
    if (req.url?.startsWith("/v1/completions") && !fail) {
      const tokens = Math.max(1, Math.round(behaviour.tokensMean * (0.5 + random())));
      headers["x-llm-total-tokens"] = String(tokens);
    }
    const body = JSON.stringify({ version: opts.version, path: req.url, ok: !fail });
    setTimeout(
      () => {
        served.set(status, (served.get(status) ?? 0) + 1);
        const user = String(req.headers["x-user-id"] ?? "");
        if (behaviour.model && !fail && req.url?.startsWith("/v1/completions"))
          writeAnswer(res, behaviour.model, user, random, headers);
        else res.writeHead(status, headers).end(body);
      },
      sampleLatencyMs(behaviour, random),
    );
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => handle(req, res));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    version: opts.version,
    port,
    url: `http://127.0.0.1:${port}`,
    behaviour,
    set: (change) => Object.assign(behaviour, change),
    served: () => new Map(served),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
