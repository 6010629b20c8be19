#!/usr/bin/env bash
# Reproduces the README's direct-training results: vgg-small with LIF + TEBN + TET (T = 4) on the bundled
# Fashion-MNIST subset, repeated over time and as emulated events; then the cutoff evaluation at T = 4.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI="node dist/src/cli/main.js"
for cfg in fmnist-lif-tet fmnist-events-lif; do
  out=runs/$cfg-bundled
  [ -f "$out/eval.json" ] && continue
  mkdir -p "$out"
  $CLI train --config configs/$cfg.yaml --bundled --out "$out" --json > "$out/train.json"
  $CLI eval --checkpoint "$out/last.safetensors" --epsilon 0 --epsilon 0.01 --epsilon 0.05 \
    --calibration-limit 2000 --report "$out/report" --json > "$out/eval.json.tmp"
  mv "$out/eval.json.tmp" "$out/eval.json"
done
