// The dashboard's one state object; every update re-renders the affected part from it.

/** How far back the charts look. */
export const SERIES_WINDOW_MS = 5 * 60 * 1000;

export const state = {
  /** "ns/name" -> CanarySummary */
  canaries: new Map(),
  /** "ns/name" of the selected canary */
  selected: null,
  /** CanaryDetail of the selected canary */
  detail: null,
  /** SeriesPoints of the selected canary, oldest first */
  points: [],
  /** Who the API says the caller is, when signed in (undefined: anonymous reads) */
  user: undefined,
};
