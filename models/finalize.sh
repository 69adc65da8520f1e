#!/usr/bin/env bash
# Export + golden + evaluation + parity for one trained organism (run from the repo root):
#   bash models/finalize.sh arith-cot
set -euo pipefail
m=$1
PY=models/.venv/bin/python
$PY -m models.export.export_tiny --checkpoint models/runs/$m/checkpoint.pt --out models/$m --name $m 2>/dev/null
$PY -m models.reference.golden --model models/$m
$PY -m models.reference.evaluate --model models/$m
$PY -m models.reference.parity --checkpoint models/runs/$m/checkpoint.pt --model models/$m | tee models/logs/parity-$m.json
