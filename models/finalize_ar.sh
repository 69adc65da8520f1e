#!/usr/bin/env bash
# Export + golden + evaluation/faithfulness tests for one autoregressive organism (repo root):
#   bash models/finalize_ar.sh arith-cot-ar
# N / N_TESTS override the held-out evaluation size (1000) and the tests' prompts (200).
set -euo pipefail
m=$1
PY=models/.venv/bin/python
$PY -m models.export.export_ar --checkpoint models/runs/$m/checkpoint.pt --out models/$m --name $m 2>/dev/null
$PY -m models.reference.ar_golden --model models/$m
$PY -m models.reference.ar_eval --model models/$m --n ${N:-1000} --n-tests ${N_TESTS:-200} \
  --mistakes-per-prompt ${PER_PROMPT:-4} --figures models/logs/ar-figures-$m.json
