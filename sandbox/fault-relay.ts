// A TCP relay for data-path faults (reliability suites, soak): pass bytes, cut (every open
// connection dropped and new ones refused, as a partitioned network), or delay every chunk in
// both directions (a slow controller whose replies and acks arrive past the report interval).
import { connect, createServer, type Server, type Socket } from "node:net";

/** What the relay does to traffic right now. */
export type RelayMode = { kind: "pass" } | { kind: "cut" } | { kind: "delay"; ms: number };

export class FaultRelay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private mode: RelayMode = { kind: "pass" };
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;
  /** Connections accepted while cut (refused at once). */
  refused = 0;

  constructor(private target: number) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((down) => this.accept(down));
    await new Promise<void>((r) => this.server!.listen(port, "127.0.0.1", r));
    const addr = this.server.address();
    this.port = typeof addr === "object" && addr ? addr.port : 0;
  }

  /** Points new connections at another controller port. */
  retarget(port: number): void {
    this.target = port;
  }

  set(mode: RelayMode): void {
    this.mode = mode;
    if (mode.kind === "cut") for (const s of this.sockets) s.destroy();
  }

  private accept(down: Socket): void {
    if (this.mode.kind === "cut") {
      this.refused++;
      down.destroy();
      return;
    }
    const up = connect(this.target, "127.0.0.1");
    for (const s of [down, up]) {
      this.sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        this.sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    this.pipe(down, up);
    this.pipe(up, down);
  }

  /** Copies bytes from one side to the other, delayed while the mode says so (order kept). */
  private pipe(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const mode = this.mode;
      if (mode.kind !== "delay") {
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      // Each chunk leaves `ms` after it arrived, after the chunks before it.
      const due = Date.now() + mode.ms;
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            const t = setTimeout(
              () => {
                this.timers.delete(t);
                if (!to.destroyed) to.write(chunk);
                resolve();
              },
              Math.max(0, due - Date.now()),
            );
            this.timers.add(t);
          }),
      );
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
