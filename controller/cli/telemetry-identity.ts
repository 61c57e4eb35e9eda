/** `--telemetry-identity` and its secret → the telemetry server's IdentityMode (usage errors name the flag). */
import { weakSecret } from "../security/placeholder-secrets.js";
import type { IdentityMode } from "../telemetry/identity.js";
import { CliError, EXIT } from "./exit.js";

const MODES = ["mesh", "credentials", "none"] as const;

/** The identity mode asked for; in a cluster the default is the mesh's (the sidecar's XFCC). */
export function telemetryIdentity(
  flag: string | undefined,
  inCluster: boolean,
  trustDomain: string | undefined,
  env: NodeJS.ProcessEnv,
): IdentityMode {
  const mode = flag?.trim() || (inCluster ? "mesh" : "none");
  switch (mode) {
    case "mesh":
      return { kind: "mesh", ...(trustDomain ? { trustDomain } : {}) };
    case "credentials": {
      const secret = env.MESHCANARY_REPORTER_SECRET?.trim() ?? "";
      if (secret === "")
        throw new CliError(
          "MESHCANARY_REPORTER_SECRET: required by --telemetry-identity credentials (e.g. `openssl rand -hex 32`)",
          EXIT.usage,
        );
      const weak = weakSecret("MESHCANARY_REPORTER_SECRET", secret);
      if (weak) throw new CliError(weak, EXIT.usage);
      return { kind: "credentials", secret };
    }
    case "none":
      return { kind: "none" };
    default:
      throw new CliError(
        `--telemetry-identity: expected one of ${MODES.join(", ")}, got ${JSON.stringify(mode)}`,
        EXIT.usage,
      );
  }
}
