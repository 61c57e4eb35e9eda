/** YAML in and out for the CLI: multi-document files (unreadable or malformed input is exit 1) and output. */
import { readFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";
import { CliError, EXIT } from "./exit.js";

/** One parsed document and how to name it in messages, e.g. "document 2, line 14". */
export interface YamlDocument {
  value: unknown;
  label: string;
}

/** A file's text; "-" is standard input, read to its end (a pipe may not have it all at once). */
export async function readInput(file: string): Promise<string> {
  if (file !== "-") return readYamlFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

function readYamlFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`${file}: ${e instanceof Error ? e.message : String(e)}`, EXIT.failed);
  }
}

export function readYamlDocuments(file: string, input: string = readYamlFile(file)): YamlDocument[] {
  const text = input;
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) return [];
  const out: YamlDocument[] = [];
  documents.forEach((doc, i) => {
    const line = lineOf(text, doc.range[0]);
    const label = `document ${i + 1}, line ${line}`;
    if (doc.errors.length > 0) {
      throw new CliError(`${file} (${label}): invalid YAML: ${doc.errors[0]?.message}`, EXIT.failed);
    }
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) out.push({ value, label });
  });
  return out;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === "\n") line++;
  return line;
}

/** YAML without anchors/aliases for repeated objects, so readers can copy any part of it. */
export function toYaml(value: unknown): string {
  return stringify(value, { aliasDuplicateObjects: false });
}
