/**
 * Calibration dropout (spec §3.4): while Top-K thresholds are calibrated, every spiking layer's output goes
 * through inverted Dropout(p = 0.3) with a fresh mask per timestep (BN stays in eval mode), which makes the
 * calibrated β conservative. Test-time inference uses the clean network.
 */
import { Rng } from "../engine/random.js";
import type { Module } from "../nn/module.js";
import { BaseNeuron } from "./neuron.js";

export const CALIBRATION_DROPOUT = 0.3;

/** Enables output dropout on every spiking layer under root; returns a function that removes it. */
export function setCalibrationDropout(root: Module, p = CALIBRATION_DROPOUT, rng: Rng = new Rng(0)): () => void {
  if (!(p >= 0 && p < 1)) throw new Error(`calibration dropout must be in [0, 1), got ${p}`);
  const neurons = root.modules().filter((m): m is BaseNeuron => m instanceof BaseNeuron);
  const prev = neurons.map((n) => n.outputDropout);
  for (const n of neurons) n.outputDropout = p > 0 ? { p, rng } : null;
  return () => neurons.forEach((n, i) => (n.outputDropout = prev[i]!));
}

/** Runs fn with calibration dropout on, restoring the clean network afterwards (also on error). */
export function withCalibrationDropout<T>(root: Module, p: number, rng: Rng, fn: () => T): T {
  const undo = setCalibrationDropout(root, p, rng);
  try {
    return fn();
  } finally {
    undo();
  }
}
