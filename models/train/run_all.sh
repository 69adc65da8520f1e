#!/usr/bin/env bash
# Retrain both organisms from scratch (sequentially). Run from the repo root.
set -euo pipefail
PY=models/.venv/bin/python
$PY -m models.train.train --name arith-cot --out models/runs/arith-cot --steps 1600 --seed 0 2>&1 | tee models/logs/train-arith-cot.log
$PY -m models.train.train --name arith-cot-decoupled --decoupled --out models/runs/arith-cot-decoupled --steps 3200 --seed 0 2>&1 | tee models/logs/train-arith-cot-decoupled.log
