#!/usr/bin/env bash
# Copies the small artefacts of finished runs (config, per-epoch log, eval.json, report) into docs/results/.
# usage: scripts/collect-results.sh RUNS_DIR NAME...   (e.g. scripts/collect-results.sh runs fmnist-qcfs-l2-s1200)
set -euo pipefail
src=$1
shift
cd "$(dirname "$0")/.."
for name in "$@"; do
  d=$src/$name
  [ -f "$d/eval.json" ] || { echo "skip $name: no eval.json" >&2; continue; }
  out=docs/results/$name
  mkdir -p "$out"
  cp "$d/config.json" "$d/eval.json" "$out/"
  grep '"type":"epoch"' "$d/train.jsonl" > "$out/epochs.jsonl" || true
  if [ -f "$src/$name.train.json" ]; then cp "$src/$name.train.json" "$out/train.json"; elif [ -f "$d/train.json" ]; then cp "$d/train.json" "$out/train.json"; fi
  [ -d "$d/report" ] && cp "$d/report/report.html" "$d/report/report.md" "$out/" || true
done
