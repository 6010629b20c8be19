/**
 * `spikecut convert`: a trained QCFS ANN checkpoint → an IF SNN checkpoint (spec §5.3): every QCFS layer becomes an
 * IF neuron with θ = λ, soft reset, v0 = θ/2; weights, BN (kept per step, or folded with --fold-bn) and pooling
 * unchanged. The SNN checkpoint's metadata says route "converted" and lists the thresholds.
 */
import { resolve } from "node:path";
import { UserError, parseNumberFlag, requireString, type CliCommand } from "../command.js";
import { convertToSNN } from "../../snn/convert.js";
import { saveModelCheckpoint, thresholdsOf } from "../../inference/model-io.js";
import { openCheckpoint } from "../../inference/cli-support.js";

const usage = `spikecut convert: turn a trained QCFS ANN checkpoint into an IF SNN checkpoint (spec §5.3)

usage: spikecut convert --checkpoint ANN.safetensors --out SNN.safetensors [--T 8] [--fold-bn] [--json]

Every QCFS (or clip) activation becomes an integrate-and-fire neuron with threshold θ = the trained λ of that
layer, soft reset by subtraction, membrane starting at θ/2, strict v > θ, output θ·spike. Convolutions, linear
layers, batch norm (kept per step unless --fold-bn) and pooling are copied unchanged. The SNN runs in single-step
mode, ready for anytime inference (spikecut calibrate / eval / infer).

options:
  --checkpoint FILE   a QCFS ANN checkpoint written by spikecut train (required)
  --out FILE          where to write the SNN checkpoint (required; written atomically)
  --T N               timesteps the SNN runs by default (default 8)
  --fold-bn           fold every batch norm into the preceding conv/linear (exact in eval mode)
  --json              print one JSON object {input, output, route, T, fold_bn, thresholds}

examples:
  spikecut convert --checkpoint runs/ann/best.safetensors --out runs/ann/snn.safetensors
  spikecut convert --checkpoint runs/ann/best.safetensors --out snn-T16.safetensors --T 16 --fold-bn --json
`;

export const command: CliCommand = {
  name: "convert",
  summary: "turn a trained QCFS ANN checkpoint into an IF SNN checkpoint",
  usage,
  options: {
    checkpoint: { type: "string", short: "c" },
    out: { type: "string", short: "o" },
    T: { type: "string" },
    "fold-bn": { type: "boolean" },
    json: { type: "boolean" },
  },
  async run({ values }, io) {
    const input = requireString(values, "checkpoint");
    const out = requireString(values, "out");
    const T = values.T === undefined ? 8 : parseNumberFlag(values.T, "T", { integer: true, min: 1 });
    const foldBn = Boolean(values["fold-bn"]);
    const loaded = openCheckpoint(input);
    if (loaded.kind !== "ann") {
      throw new UserError(`--checkpoint ${input} holds an SNN (route "${loaded.kind}"), not a QCFS ANN: convert needs the checkpoint of a trained QCFS ANN`);
    }
    if (loaded.model.options.activation === "relu") {
      throw new UserError(`--checkpoint ${input} holds a ReLU ANN: conversion needs QCFS (or clip) activations whose trained λ becomes the IF threshold`);
    }
    const snn = convertToSNN(loaded.model, { T, foldBatchNorm: foldBn });
    const thresholds = thresholdsOf(snn);
    const config = loaded.config ? { ...loaded.config, T } : null;
    try {
      saveModelCheckpoint(out, snn, {
        kind: "converted",
        config,
        thresholds,
        bestAccuracy: loaded.ckpt.meta.bestAccuracy,
        epoch: loaded.ckpt.meta.epoch,
        extra: { converted_from: resolve(input), T, fold_bn: foldBn, ann_L: loaded.model.options.L, ann_history: loaded.ckpt.meta.extra.history ?? null },
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new UserError(`--out ${out}: cannot write the checkpoint (${code})`);
      throw e;
    }
    const layers = Object.keys(thresholds).length;
    if (values.json) {
      io.stdout(JSON.stringify({ input, output: out, route: "converted", model: snn.spec.name, T, fold_bn: foldBn, neurons: "if", layers, thresholds }) + "\n");
    } else {
      io.stdout(`converted ${input} (QCFS ANN, L=${loaded.model.options.L}, ${snn.spec.name}) -> ${out}\n`);
      io.stdout(`  IF SNN, T=${T}, soft reset, v0=θ/2, BN ${foldBn ? "folded" : "kept per step"}, ${layers} spiking layers\n`);
      io.stdout(`  thresholds θ: ${Object.entries(thresholds).map(([k, v]) => `${k}=${+v.toPrecision(5)}`).join(" ")}\n`);
    }
    return 0;
  },
};
