/**
 * The current step's windows, read from telemetry once per tick and shared by everything that
 * tick needs from them (the analysis, the comparison report, status.exposure). Pure over a reader.
 */
import type { RolloutState } from "../rollout/types.js";
import type { TelemetryReader, WindowPoint } from "../telemetry/types.js";

/** Windows with startMs in [fromMs, toMs) as one read returned them. */
export interface StepSeries {
  fromMs: number;
  toMs: number;
  windows: readonly WindowPoint[];
}

/** The state's current step from its start to `nowMs` (the open window included), or undefined outside a step. */
export function readStepSeries(
  reader: TelemetryReader,
  canaryId: string,
  state: RolloutState,
  nowMs: number,
): StepSeries | undefined {
  if (state.phase !== "Progressing" && state.phase !== "Paused") return undefined;
  if (state.stepStartedAt === undefined || nowMs <= state.stepStartedAt) return undefined;
  const fromMs = state.stepStartedAt;
  return { fromMs, toMs: nowMs, windows: reader.series(canaryId, fromMs, nowMs) };
}

/**
 * Windows with startMs in [fromMs, toMs): taken from `series` when it covers that range (the same
 * windows a read would return, oldest first), else read.
 */
export function windowsIn(
  reader: TelemetryReader,
  canaryId: string,
  fromMs: number,
  toMs: number,
  series: StepSeries | undefined,
): WindowPoint[] {
  if (series === undefined || fromMs < series.fromMs || toMs > series.toMs)
    return reader.series(canaryId, fromMs, toMs);
  return series.windows.filter((w) => w.startMs >= fromMs && w.startMs < toMs);
}
