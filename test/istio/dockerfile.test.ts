import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { dockerfileProblems, parseDockerfile } from "./dockerfile-rules.js";

const dockerfile = readFileSync("Dockerfile", "utf8");

describe("Dockerfile", () => {
  const df = parseDockerfile(dockerfile);

  it("follows every image rule", () => {
    expect(dockerfileProblems(df)).toEqual([]);
  });

  it("runs the controller as the entrypoint, as non-root 65532", () => {
    const entry = df.instructions.filter((i) => i.keyword === "ENTRYPOINT").at(-1)!;
    expect(JSON.parse(entry.args)).toEqual(["node", "bin/meshcanary.js", "controller"]);
    expect(df.instructions.filter((i) => i.keyword === "USER").at(-1)!.args).toBe("65532:65532");
  });

  it("ships only production dependencies and the compiled JS in the runtime stage", () => {
    const from = df.instructions.map((i) => i.keyword).lastIndexOf("FROM");
    const runtime = df.instructions.slice(from + 1);
    const copies = runtime.filter((i) => i.keyword === "COPY").map((i) => i.args);
    expect(copies).toContain("--from=deps /app/node_modules ./node_modules");
    expect(copies).toContain("--from=build /src/build/js ./build/js");
    expect(copies.some((c) => /^\.\s/.test(c))).toBe(false); // never the whole context
    const deps = df.instructions.find((i) => i.keyword === "RUN" && /--omit=dev/.test(i.args));
    expect(deps).toBeDefined();
  });

  it("documents probes that the Deployment really has", () => {
    const deployment = parse(readFileSync("istio/controller/deployment.yaml", "utf8"));
    const container = deployment.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(df.comments.join(" ")).toMatch(/\/healthz.*\/readyz/);
  });

  it("has a .dockerignore keeping local state and credentials out of the context", () => {
    const ignored = readFileSync(".dockerignore", "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", "build", ".git", ".env", ".npmrc"]) expect(ignored).toContain(entry);
  });
});

describe("dockerfileProblems catches", () => {
  const good = [
    "ARG BASE=node:20.20.2-bookworm-slim",
    "FROM $BASE AS build",
    "RUN npm ci",
    "RUN make build",
    "FROM $BASE",
    "COPY --from=build /src/build/js ./build/js",
    "USER 65532",
    "# probes: /healthz and /readyz",
    'ENTRYPOINT ["node"]',
  ].join("\n");

  it("nothing in a minimal good file", () => {
    expect(dockerfileProblems(parseDockerfile(good))).toEqual([]);
  });

  it.each([
    ["a single stage", good.replace(/FROM \$BASE\n/, ""), "not multi-stage: 1 FROM"],
    ["latest", good.replace("node:20.20.2-bookworm-slim", "node:latest"), "uses latest"],
    ["an untagged base", good.replace("node:20.20.2-bookworm-slim", "node"), "has no tag"],
    ["a floating tag", good.replace("node:20.20.2-bookworm-slim", "node:20-bookworm-slim"), "not pinned"],
    ["a named user", good.replace("USER 65532", "USER node"), "USER node is not numeric"],
    ["root", good.replace("USER 65532", "USER 0:0"), "USER is root"],
    ["no user", good.replace("USER 65532\n", ""), "final stage has no USER"],
    [
      "npm install",
      good.replace("RUN npm ci", "RUN npm ci\nRUN npm install left-pad"),
      "npm install instead",
    ],
    [
      "continued npm install",
      good.replace("RUN npm ci", "RUN npm ci && \\\n  npm i x"),
      "npm install instead",
    ],
    ["ADD of a URL", good.replace("USER", "ADD https://example.com/x.tgz /x\nUSER"), "ADD of a URL"],
    ["a secret ENV", good.replace("USER", "ENV MESHCANARY_TOKEN=abc\nUSER"), "secret-like ENV"],
    ["a secret ARG", good.replace("USER", "ARG NPM_TOKEN\nUSER"), "secret-like ARG"],
    ["no probes documented", good.replace("# probes: /healthz and /readyz\n", ""), "neither HEALTHCHECK"],
    ["shell-form entrypoint", good.replace('["node"]', "node x"), "not exec form"],
  ])("%s", (_, text, problem) => {
    const problems = dockerfileProblems(parseDockerfile(text));
    expect(
      problems.some((p) => p.includes(problem)),
      problems.join("; "),
    ).toBe(true);
  });
});
