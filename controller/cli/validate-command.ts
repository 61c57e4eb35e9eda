/**
 * `validate <file>`: checks every Canary in a (multi-document) YAML file and prints every error
 * with its field path. Exit 0 when all are valid, 1 when any is invalid or none is present.
 */
import type { Command } from "commander";
import { validateCanary } from "../spec/validate.js";
import { CliError, EXIT } from "./exit.js";
import { readInput, readYamlDocuments } from "./yaml-documents.js";

/** The verdict on one document: its name and its errors ("path: message"), none when valid. */
export interface DocumentVerdict {
  label: string;
  errors: string[];
}

export function registerValidateCommand(cli: Command): void {
  cli
    .command("validate")
    .description("check the Canaries in a YAML file; prints every error with its field path")
    .argument(
      "<file>",
      "YAML file, may hold several documents (others than Canaries are skipped); - for stdin",
    )
    .action(async (path: string) => {
      const file = path === "-" ? "stdin" : path;
      const verdicts = validateDocuments(readYamlDocuments(file, await readInput(path)));
      if (verdicts.length === 0) throw new CliError(`${file}: no document of kind Canary`, EXIT.failed);
      const lines = verdicts.flatMap((v) =>
        v.errors.length === 0
          ? [`${file}: ${v.label}: valid`]
          : [`${file}: ${v.label}: ${v.errors.length} error(s)`, ...v.errors.map((e) => `  ${e}`)],
      );
      process.stdout.write(`${lines.join("\n")}\n`);
      const invalid = verdicts.filter((v) => v.errors.length > 0).length;
      if (invalid > 0) throw new CliError(`${file}: ${invalid} invalid Canary document(s)`, EXIT.failed);
    });
}

/** Validates the documents that claim to be Canaries (kind Canary or the meshcanary.io API group). */
export function validateDocuments(
  documents: ReadonlyArray<{ value: unknown; label: string }>,
): DocumentVerdict[] {
  return documents
    .filter((d) => isCanaryDocument(d.value))
    .map((d) => {
      const result = validateCanary(d.value);
      const label = `${d.label} (Canary ${nameOf(d.value)})`;
      return { label, errors: result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`) };
    });
}

function isCanaryDocument(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const { kind, apiVersion } = value as { kind?: unknown; apiVersion?: unknown };
  return kind === "Canary" || (typeof apiVersion === "string" && apiVersion.startsWith("meshcanary.io/"));
}

function nameOf(value: unknown): string {
  const metadata = (value as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  const name = typeof metadata?.name === "string" ? metadata.name : "(no name)";
  return typeof metadata?.namespace === "string" ? `${metadata.namespace}/${name}` : name;
}
