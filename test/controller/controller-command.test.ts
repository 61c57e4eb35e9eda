/** `meshcanary controller` flags: the Deployment's args, local defaults, tokens, usage errors (exit 2). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type ControllerFlags,
  controllerCommand,
  controllerOptions,
} from "../../controller/cli/controller-command.js";
import { CliError } from "../../controller/cli/exit.js";
import { runCli } from "../cli/run-cli.js";

/** The flags commander makes of argv, with the real option definitions but without running the controller. */
async function flagsOf(argv: string[]): Promise<ControllerFlags> {
  let captured: ControllerFlags | undefined;
  const cmd = controllerCommand().action((flags: ControllerFlags) => {
    captured = flags;
  });
  await cmd.parseAsync(argv, { from: "user" });
  if (!captured) throw new Error("action did not run");
  return captured;
}

const noFiles = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

/** The container's args with $(VAR) expanded from its env, as the kubelet does. */
function deploymentArgs(env: Record<string, string>): string[] {
  const docs = parse(
    readFileSync(new URL("../../istio/controller/deployment.yaml", import.meta.url), "utf8"),
  );
  const container = docs.spec.template.spec.containers[0];
  return (container.args as string[]).map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? ""));
}

describe("controller command", () => {
  it("accepts the Deployment's args and environment", async () => {
    const env = {
      POD_NAME: "meshcanary-controller-7d9f-abcde",
      POD_NAMESPACE: "meshcanary-system",
      MESHCANARY_TOKEN: "telemetry-secret",
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
    };
    const options = controllerOptions(await flagsOf(deploymentArgs(env)), env, noFiles);
    expect(options).toMatchObject({
      inCluster: true,
      telemetry: { host: "0.0.0.0", port: 9090, token: "telemetry-secret" },
      api: { host: "0.0.0.0", port: 8080, kubernetesAuth: true },
      leaderElection: {
        enabled: true,
        namespace: "meshcanary-system",
        name: "meshcanary-controller",
        identity: env.POD_NAME,
        leaseDurationSeconds: 15,
      },
    });
    expect(options.api?.writeToken).toBeUndefined();
  });

  it("binds loopback and runs alone by default outside a cluster", async () => {
    const options = controllerOptions(await flagsOf(["--kubeconfig", "/tmp/kc"]), {}, noFiles);
    expect(options).toMatchObject({
      kubeconfig: "/tmp/kc",
      telemetry: { host: "127.0.0.1", port: 9090 },
      api: { host: "127.0.0.1", port: 8080 },
      leaderElection: { enabled: false, namespace: "meshcanary-system" },
    });
    expect(options.telemetry.token).toBeUndefined();
    expect(options.leaderElection.identity).toMatch(/-[0-9a-f]{6}$/);
    const bound = controllerOptions(await flagsOf(["--bind", "::", "--no-leader-elect"]), {}, noFiles);
    expect(bound.api?.host).toBe("::");
    expect(bound.leaderElection.enabled).toBe(false);
  });

  it("takes the API write token from a file, else MESHCANARY_API_TOKEN", async () => {
    const fromFile = controllerOptions(
      await flagsOf(["--api-token-file", "/run/token"]),
      { MESHCANARY_API_TOKEN: "from-env" },
      (path) => (path === "/run/token" ? "from-file\n" : noFiles(path)),
    );
    expect(fromFile.api?.writeToken).toBe("from-file");
    // A shared token replaces Kubernetes authentication (it is never both).
    expect(fromFile.api?.kubernetesAuth).toBeUndefined();
    const fromEnv = controllerOptions(await flagsOf([]), { MESHCANARY_API_TOKEN: "from-env" }, noFiles);
    expect(fromEnv.api?.writeToken).toBe("from-env");
    const empty = async () =>
      controllerOptions(await flagsOf(["--api-token-file", "/run/token"]), {}, () => "\n");
    await expect(empty()).rejects.toThrow(/--api-token-file: "\/run\/token" must hold one token/);
    await expect(empty()).rejects.toBeInstanceOf(CliError);
  });

  it("ends usage errors with exit 2 through main", async () => {
    const unknown = await runCli("controller", "--no-such-flag");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--no-such-flag");
    const badPort = await runCli("controller", "--http-port", "99999");
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--http-port: expected a port number 0..65535, got "99999"');
    const badTick = await runCli("controller", "--tick", "0");
    expect(badTick.code).toBe(2);
    expect(badTick.stderr).toContain("--tick");
  });
});
