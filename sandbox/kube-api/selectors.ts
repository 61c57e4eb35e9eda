/**
 * Label and field selectors as list and watch requests send them (`labelSelector=app=x,tier!=db`,
 * `fieldSelector=metadata.name=foo`). Parsing returns an error message naming the bad term.
 */
import type { KubeObject } from "./types.js";

/** A compiled selector: true when the object is selected. */
export type Selector = (obj: KubeObject) => boolean;

const MATCH_ALL: Selector = () => true;

/** Splits on commas that are not inside parentheses ("a in (x,y),b" → ["a in (x,y)", "b"]). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== "");
}

function labelTerm(term: string): Selector | string {
  const set = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, list] = set;
    const values = list!.split(",").map((v) => v.trim());
    if (op === "in") return (o) => values.includes(o.metadata.labels?.[key!] ?? "\u0000");
    return (o) => !values.includes(o.metadata.labels?.[key!] ?? "\u0000");
  }
  const cmp = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
  if (cmp) {
    const [, key, op, value] = cmp;
    if (op === "!=") return (o) => o.metadata.labels?.[key!] !== value;
    return (o) => o.metadata.labels?.[key!] === value;
  }
  const exists = /^(!?)([^\s!=(),]+)$/.exec(term);
  if (exists) {
    const [, not, key] = exists;
    if (not) return (o) => o.metadata.labels?.[key!] === undefined;
    return (o) => o.metadata.labels?.[key!] !== undefined;
  }
  return `labelSelector: unable to parse requirement ${JSON.stringify(term)}`;
}

function all(selectors: Selector[]): Selector {
  return (o) => selectors.every((s) => s(o));
}

/** Compiles a label selector (=, ==, !=, in, notin, exists, !exists). */
export function parseLabelSelector(text: string | null | undefined): Selector | string {
  if (!text) return MATCH_ALL;
  const parts: Selector[] = [];
  for (const term of splitTerms(text)) {
    const s = labelTerm(term);
    if (typeof s === "string") return s;
    parts.push(s);
  }
  return all(parts);
}

/** Value at a dotted field path as a string ("" when absent, as Kubernetes field selectors compare). */
function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return "";
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur === undefined || cur === null ? "" : String(cur);
}

/** Compiles a field selector (path=value, path==value, path!=value; any dotted path). */
export function parseFieldSelector(text: string | null | undefined): Selector | string {
  if (!text) return MATCH_ALL;
  const parts: Selector[] = [];
  for (const term of splitTerms(text)) {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) return `fieldSelector: invalid selector ${JSON.stringify(term)}`;
    const [, path, op, value] = m;
    if (op === "!=") parts.push((o) => fieldValue(o, path!) !== value);
    else parts.push((o) => fieldValue(o, path!) === value);
  }
  return all(parts);
}
