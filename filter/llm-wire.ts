// Protobuf codec of proto LlmMetrics (Route field 11) for filter/report.ts: decoded from a
// Directive, encoded for round-trip tests. Field numbers are the proto's; keep them in step.
import { Reader, WIRE_LEN, Writer } from "./protobuf";
import { LlmData, ModelPriceData } from "./wire";

function readPrice(r: Reader): ModelPriceData {
  const p = new ModelPriceData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) p.model = r.str();
    else if (f == 2) p.promptPerMillion = r.double();
    else if (f == 3) p.completionPerMillion = r.double();
    else r.skip();
  }
  r.leave(outer);
  return p;
}

/** Reads an LlmMetrics message (the reader is at its length-delimited field). */
export function readLlmMetrics(r: Reader): LlmData {
  const d = new LlmData();
  const outer = r.enter();
  while (r.next()) {
    const f = r.field;
    if (f == 1) d.maxBodyBytes = r.uint32();
    else if (f == 2) r.repeatedUint32(d.guardrailCodes);
    else if (f == 3) d.guardrailHeader = r.str();
    else if (f == 4) d.guardrailHeaderValue = r.str();
    else if (f == 5) d.guardrailField = r.str();
    else if (f == 6) {
      if (r.room(d.guardrailValues.length)) d.guardrailValues.push(r.str());
    } else if (f == 7) d.schemaTarget = r.uint32();
    else if (f == 8) {
      if (r.room(d.schemaRequired.length)) d.schemaRequired.push(r.str());
    } else if (f == 9 && r.expect(WIRE_LEN)) {
      if (r.room(d.prices.length)) d.prices.push(readPrice(r));
    } else r.skip();
  }
  r.leave(outer);
  return d;
}

/** Writes `d` as LlmMetrics field `field`. */
export function writeLlmMetrics(w: Writer, field: u32, d: LlmData): void {
  w.begin(field);
  w.uint64Field(1, <u64>d.maxBodyBytes);
  w.packedUint32(2, d.guardrailCodes);
  w.stringField(3, d.guardrailHeader);
  w.stringField(4, d.guardrailHeaderValue);
  w.stringField(5, d.guardrailField);
  for (let i = 0; i < d.guardrailValues.length; i++) w.stringAlways(6, d.guardrailValues[i]);
  w.uint64Field(7, <u64>d.schemaTarget);
  for (let i = 0; i < d.schemaRequired.length; i++) w.stringAlways(8, d.schemaRequired[i]);
  for (let i = 0; i < d.prices.length; i++) {
    const p = d.prices[i];
    w.begin(9);
    w.stringField(1, p.model);
    w.doubleField(2, p.promptPerMillion);
    w.doubleField(3, p.completionPerMillion);
    w.end();
  }
  w.end();
}
