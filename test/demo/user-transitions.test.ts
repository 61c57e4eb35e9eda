/**
 * The load generator's flip count (sandbox/apps/user-transitions.ts): a user's move between versions
 * counts only when routing's order is known, i.e. the later request was sent after the earlier
 * answer arrived. The reordered case is the demo flake "user(s) moved canary→stable before any
 * rollback" with routing that only ever moved stable→canary.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { startLoad } from "../../sandbox/apps/load-generator.js";
import { UserTransitions } from "../../sandbox/apps/user-transitions.js";

/** An answer: request `seq` of `user` answered by `version` when `sent` requests had been sent. */
type Answer = [user: number, seq: number, version: string, sent: number];

const cases: { name: string; answers: Answer[]; counts: Record<string, number> }[] = [
  {
    // Routing order: seq 1 (v1, before the weight change), then seq 0 (v2, it waited in a queue).
    // seq 0 is answered first; seq 1, sent before that answer, arrives after it.
    name: "two requests in flight together, routed out of send order: no flip",
    answers: [
      [0, 0, "v2", 2],
      [0, 1, "v1", 2],
    ],
    counts: {},
  },
  {
    name: "a request sent after the earlier answer arrived: a flip",
    answers: [
      [0, 0, "v2", 1],
      [0, 1, "v1", 2],
    ],
    counts: { "v2->v1": 1 },
  },
  {
    name: "an older answer arriving late is ignored",
    answers: [
      [0, 1, "v2", 2],
      [0, 0, "v1", 2],
    ],
    counts: {},
  },
  {
    name: "sequential moves both ways, other users apart",
    answers: [
      [0, 0, "v1", 1],
      [1, 1, "v2", 2],
      [0, 2, "v2", 3],
      [1, 3, "v2", 4],
      [0, 4, "v1", 5],
    ],
    counts: { "v1->v2": 1, "v2->v1": 1 },
  },
  {
    // After an unordered pair the later-sent answer stands; the next ordered request compares to it.
    name: "after an unordered pair, an ordered move from the later-sent answer counts",
    answers: [
      [0, 0, "v2", 2],
      [0, 1, "v1", 2],
      [0, 2, "v2", 3],
    ],
    counts: { "v1->v2": 1 },
  },
];

describe("UserTransitions", () => {
  for (const c of cases) {
    it(c.name, () => {
      const t = new UserTransitions();
      for (const [user, seq, version, sent] of c.answers) t.answered(user, seq, version, sent);
      expect(Object.fromEntries(t.counts)).toEqual(c.counts);
    });
  }
});

/**
 * Through real HTTP: a stand-in proxy whose routing only moves v1→v2. It holds the first request it
 * receives undecided, routes the second to v1, moves to v2 and answers the first; the second's answer
 * goes out once the client has the first's, and later requests wait for both. The user sees v2 (sent
 * first) then v1 (sent second): a reordering, not a move routing made.
 */
describe("load generator flips through real HTTP", () => {
  it("counts no flip for a pair routed out of send order", async () => {
    let routeTo = "v1";
    let first: ServerResponse | undefined;
    let second: (() => void) | undefined;
    const later: ServerResponse[] = [];
    const served: string[] = [];
    const answer = (res: ServerResponse, version: string) =>
      res.writeHead(200, { "x-app-version": version }).end();
    const server = createServer((_req, res) => {
      if (first === undefined) first = res;
      else if (second === undefined) {
        const version = routeTo; // routed before the change
        second = () => answer(res, version);
        routeTo = "v2";
        answer(first, routeTo);
      } else if (served.length < 2) later.push(res);
      else answer(res, routeTo);
    });
    const onServed = (_sentAtMs: number, version: string) => {
      served.push(version);
      if (served.length === 1) second?.();
      if (served.length === 2) for (const res of later.splice(0)) answer(res, routeTo);
    };
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const load = startLoad({
      target: `http://127.0.0.1:${port}`,
      authority: "svc",
      rps: 100,
      users: 1,
      onServed,
    });
    try {
      await until(() => served.length > 20);
      expect(served.slice(0, 3)).toEqual(["v2", "v1", "v2"]);
      expect(load.stats().transitions.get("v2->v1")).toBeUndefined();
    } finally {
      await load.stop();
      server.close();
    }
  });
});

async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
