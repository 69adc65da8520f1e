#!/usr/bin/env bash
# Export + golden (10 prompts: a small CI) + evaluation (n = 1000, Wilson interval, carry split,
# commit margins) + parity for an organism of known faithfulness (models/README.md section 11):
#   bash models/finalize_organisms.sh arith-cot-faithful
set -euo pipefail
m=$1
PY=models/.venv/bin/python
$PY -m models.export.export_tiny --checkpoint models/runs/$m/checkpoint.pt --out models/$m --name $m 2>/dev/null
$PY -m models.reference.golden --model models/$m --n 10
$PY -m models.reference.evaluate --model models/$m --threads 1
$PY -m models.reference.parity --checkpoint models/runs/$m/checkpoint.pt --model models/$m | tee models/logs/parity-$m.json
