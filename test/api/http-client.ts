/** A minimal node:http client for the API tests (full control over Origin, Host and body). */
import { request as httpRequest, type IncomingMessage } from "node:http";

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
  json(): unknown;
}

export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** An open SSE connection that collects the `data:` payloads and comments it receives. */
export interface SseClient {
  status: number;
  /** Parsed `data:` payloads so far. */
  events: unknown[];
  /** Comment lines (": ...") so far. */
  comments: string[];
  /** Resolves once `pred` holds for the received data, checking on every chunk. */
  until(pred: () => boolean): Promise<void>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      let buffer = "";
      const waiters: Array<{ pred: () => boolean; done: () => void }> = [];
      const client: SseClient = {
        status: res.statusCode ?? 0,
        events: [],
        comments: [],
        until: (pred) =>
          new Promise((done) => {
            if (pred()) done();
            else waiters.push({ pred, done });
          }),
        close: () => req.destroy(),
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          parseBlock(buffer.slice(0, end), client);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        for (const w of [...waiters]) {
          if (w.pred()) {
            waiters.splice(waiters.indexOf(w), 1);
            w.done();
          }
        }
      });
      res.on("error", () => {});
      resolve(client);
    });
    req.on("error", reject);
    req.end();
  });
}

function parseBlock(block: string, client: SseClient): void {
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) client.comments.push(line.slice(1).trim());
    else if (line.startsWith("data: ")) client.events.push(JSON.parse(line.slice(6)));
  }
}
