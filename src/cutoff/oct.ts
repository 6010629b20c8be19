/**
 * Optimal Cutoff Timestep (spec §2.3, code semantics): the earliest t from which the prediction stays
 * correct through T (inclusive), T when the sample is wrong at T. An oracle: it needs the label.
 */
import type { CutoffOutputs, Evaluation } from "./types.js";
import { correctTable } from "./features.js";
import { evaluateStops } from "./metrics.js";

/** Per-sample OCT, 1-based. */
export function octTimesteps(out: CutoffOutputs): Int32Array {
  const { T, N } = out;
  const c = correctTable(out);
  const r = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    // s[T] forced to 1 after the suffix product: walk back while correct
    let t = T - 1;
    if (c[t * N + n]) while (t > 0 && c[(t - 1) * N + n]) t--;
    r[n] = t + 1;
  }
  return r;
}

/** OCT accuracy (always acc(T)), mean OCT and the per-sample OCT. */
export function oct(out: CutoffOutputs): Evaluation {
  return evaluateStops(out, octTimesteps(out));
}
