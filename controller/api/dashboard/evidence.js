// Pure: each check's e-value over time as chart lines on a log10 scale (no DOM).

import { fmtNumber } from "./format.js";

/** One colour per check by its place in the sorted names (hashing names gave two checks one colour). */
const CHECK_COLORS = ["#0d9488", "#7c3aed", "#ea7a0c", "#2563eb", "#db2777", "#65a30d", "#0891b2", "#92400e"];

/** Lowest decade drawn: smaller e-values (strong evidence for the canary) sit on the floor. */
const FLOOR = -2;

/** "100×", "0.01×", "1e6×": a log10 value as the e-value it stands for (short enough for the axis). */
export function fmtEvidence(log10) {
  if (Math.abs(log10) >= 4 && Number.isInteger(log10)) return `1e${log10}×`;
  return `${fmtNumber(10 ** log10)}×`;
}

/**
 * Lines of log10(e-value) per check plus the rollback level, and the y range in whole decades
 * (its span a multiple of 4 so every grid line is a decade). evidence: EvidenceView; domain: [t0, t1].
 */
export function evidenceLines(evidence, domain) {
  const points = evidence?.points ?? [];
  const names = [...new Set(points.flatMap((p) => Object.keys(p.e)))].sort();
  const lines = names.map((name, i) => ({
    label: name,
    color: CHECK_COLORS[i % CHECK_COLORS.length],
    // Analyses come once per tick, thinned to fewer over a long rollout: no gap is missing data.
    gapMs: Number.POSITIVE_INFINITY,
    values: points.flatMap((p, i) => {
      const v = p.e[name] > 0 ? Math.max(FLOOR, Math.log10(p.e[name])) : null;
      // Each step's analysis starts afresh: its line starts anew too.
      return i > 0 && points[i - 1].step !== p.step
        ? [
            [p.t, null],
            [p.t, v],
          ]
        : [[p.t, v]];
    }),
  }));
  const level = evidence?.rollbackAt > 0 ? Math.log10(evidence.rollbackAt) : undefined;
  if (level !== undefined)
    lines.push({
      label: `rollback at ${fmtNumber(evidence.rollbackAt)}×`,
      color: "#b91c1c",
      dashed: true,
      gapMs: Number.POSITIVE_INFINITY,
      values: [
        [domain[0], level],
        [domain[1], level],
      ],
    });
  const top = Math.max(1, level ?? 0, ...lines.flatMap((l) => l.values.map(([, v]) => v ?? FLOOR)));
  const span = Math.ceil((top - FLOOR) / 4) * 4;
  return { lines, yMin: FLOOR, yMax: FLOOR + span };
}
