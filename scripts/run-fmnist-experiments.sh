#!/usr/bin/env bash
# Reproduces the README's Fashion-MNIST results: QCFS conversion with and without RCS (one seed per line of
# SEEDS), then the evaluation of the converted SNN at T = 8 (acc(t), OCT, Top-K for eps in {0, 0.01, 0.05}).
# Needs the full Fashion-MNIST (apt-get install dataset-fashion-mnist). Each run takes ~20 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-1200}
CONFIGS=${CONFIGS:-fmnist-qcfs fmnist-qcfs-rcs}
CLI="node dist/src/cli/main.js"
for seed in $SEEDS; do
  for cfg in $CONFIGS; do
    out=runs/$cfg-s$seed
    [ -f "$out/eval.json" ] && continue
    $CLI train --config configs/$cfg.yaml --seed "$seed" --out "$out" --json > "$out.train.json"
    # calibration on the first 10000 training images (the reference uses all 60000; see README)
    $CLI eval --checkpoint "$out/last.safetensors" --T 8 --epsilon 0 --epsilon 0.01 --epsilon 0.05 \
      --calibration-limit 10000 --report "$out/report" --json > "$out/eval.json.tmp"
    mv "$out/eval.json.tmp" "$out/eval.json"
  done
done
