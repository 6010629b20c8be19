export type { CutoffPolicy, PolicyName, PolicyStateBase, CalibrateOptions } from "./types.js";
export { runOnline } from "./types.js";
export { timestepPolicy, type TimestepState } from "./timestep.js";
export { topkPolicy, topkGridTable, type TopKState, type TopKGridTable } from "./topk.js";
export { confidencePolicy, type ConfidenceState } from "./confidence.js";
export { conformalPolicy, conformalSet, conformalThreshold, type ConformalState } from "./conformal.js";

import type { CutoffPolicy, PolicyName, PolicyStateBase } from "./types.js";
import { timestepPolicy } from "./timestep.js";
import { topkPolicy } from "./topk.js";
import { confidencePolicy } from "./confidence.js";
import { conformalPolicy } from "./conformal.js";

/** All policies by name. */
export const policies: Record<PolicyName, CutoffPolicy<any>> = {
  timestep: timestepPolicy,
  topk: topkPolicy,
  confidence: confidencePolicy,
  conformal: conformalPolicy,
};

export const policyNames: readonly PolicyName[] = ["topk", "confidence", "conformal", "timestep"];

export function isPolicyName(s: string): s is PolicyName {
  return (policyNames as readonly string[]).includes(s);
}

/** Look a policy up by name (throws RangeError for unknown names). */
export function getPolicy(name: PolicyName | string): CutoffPolicy<PolicyStateBase> {
  if (!isPolicyName(name)) throw new RangeError(`unknown cutoff policy "${name}" (expected one of ${policyNames.join(", ")})`);
  return policies[name];
}
