/**
 * Parses a Dockerfile into instructions and lists where it breaks the image rules of the project
 * (multi-stage, pinned bases, non-root numeric USER, npm ci, no remote ADD, no baked secrets).
 */

/** One instruction after joining continuation lines. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Parsed Dockerfile: its instructions and the text of its comments. */
export interface Dockerfile {
  instructions: Instruction[];
  comments: string[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const comments: string[] = [];
  let pending = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith("#")) {
      comments.push(line.slice(1).trim());
      return;
    }
    if (line === "" && pending === "") return;
    if (pending === "") start = i + 1;
    const continued = line.endsWith("\\");
    pending += (pending === "" ? "" : " ") + (continued ? line.slice(0, -1).trim() : line);
    if (continued) return;
    const [keyword, ...rest] = pending.split(/\s+/);
    instructions.push({ keyword: keyword!.toUpperCase(), args: rest.join(" "), line: start });
    pending = "";
  });
  return { instructions, comments };
}

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** Expands `${NAME}` / `$NAME` from the ARGs declared before the first FROM. */
function expandBase(image: string, globals: Map<string, string>): string {
  return image.replace(/\$\{?(\w+)\}?/g, (_, name: string) => globals.get(name) ?? "");
}

function baseImageProblem(ref: string): string | undefined {
  if (ref === "") return "FROM without an image";
  if (ref.includes("@sha256:")) return undefined;
  const tag = ref.slice(ref.lastIndexOf("/") + 1).split(":")[1];
  if (tag === undefined) return `base image ${ref} has no tag`;
  if (tag === "latest") return `base image ${ref} uses latest`;
  if (!/\d+\.\d+/.test(tag)) return `base image ${ref} is not pinned to a version (tag ${tag})`;
  return undefined;
}

/** Every rule the Dockerfile breaks, as one message each; empty when it is fine. */
export function dockerfileProblems(df: Dockerfile): string[] {
  const problems: string[] = [];
  const globals = new Map<string, string>();
  const stages: Instruction[][] = [];
  const stageNames = new Set<string>();
  for (const ins of df.instructions) {
    if (ins.keyword === "FROM") {
      stages.push([]);
      const [image = "", as, name] = ins.args.split(/\s+/);
      if (as?.toUpperCase() === "AS" && name) stageNames.add(name);
      if (!stageNames.has(image)) {
        const problem = baseImageProblem(expandBase(image, globals));
        if (problem) problems.push(`line ${ins.line}: ${problem}`);
      }
    } else if (stages.length === 0) {
      if (ins.keyword === "ARG") {
        const [name, value = ""] = ins.args.split("=");
        globals.set(name!, value);
      }
    } else {
      stages.at(-1)!.push(ins);
    }
  }
  if (stages.length < 2) problems.push(`not multi-stage: ${stages.length} FROM`);
  for (const ins of df.instructions) {
    if (ins.keyword === "ADD" && /(https?|git|ftp):\/\//i.test(ins.args)) {
      problems.push(`line ${ins.line}: ADD of a URL`);
    }
    if (ins.keyword === "RUN" && /\bnpm\s+(install|i)\b/.test(ins.args)) {
      problems.push(`line ${ins.line}: npm install instead of npm ci`);
    }
    if ((ins.keyword === "ENV" || ins.keyword === "ARG") && SECRET_NAME.test(ins.args.split(/[=\s]/)[0]!)) {
      problems.push(`line ${ins.line}: secret-like ${ins.keyword} ${ins.args.split(/[=\s]/)[0]}`);
    }
  }
  const runs = df.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
  if (!runs.some((r) => /\bnpm ci\b/.test(r))) problems.push("no npm ci");
  if (!runs.some((r) => /\bmake build\b/.test(r))) problems.push("no make build");
  const final = stages.at(-1) ?? [];
  const users = final.filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.args;
  if (user === undefined) problems.push("final stage has no USER");
  else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER ${user} is not numeric uid[:gid]`);
  else if (user.split(":")[0] === "0") problems.push("USER is root");
  if (final.some((i) => i.keyword === "RUN" && /\bnpm ci\b/.test(i.args) && !/--omit=dev/.test(i.args))) {
    problems.push("final stage installs dev dependencies");
  }
  const entry = final.find((i) => i.keyword === "ENTRYPOINT");
  if (entry === undefined) problems.push("final stage has no ENTRYPOINT");
  else if (!entry.args.startsWith("[")) problems.push("ENTRYPOINT is not exec form");
  const documented = df.comments.some((c) => /readyz|healthz/.test(c));
  if (!df.instructions.some((i) => i.keyword === "HEALTHCHECK") && !documented) {
    problems.push("neither HEALTHCHECK nor documented probes");
  }
  return problems;
}
