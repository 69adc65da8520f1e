#!/usr/bin/env bash
# Retrain both organisms from scratch (run from the repo root). These are the exact commands used for
# the committed models; they were run concurrently (arith-cot with 2 threads, decoupled with 1 thread)
# on the shared 2-core machine. Running them one after the other gives the same weights only if the
# thread counts are kept (CPU kernels may reduce in a different order with a different thread count).
set -euo pipefail
PY=models/.venv/bin/python
mkdir -p models/logs
$PY -m models.train.train --name arith-cot --out models/runs/arith-cot --steps 1600 --seed 0 --threads 2 \
  2>&1 | tee models/logs/train-arith-cot.log
$PY -m models.train.train --name arith-cot-decoupled --decoupled --out models/runs/arith-cot-decoupled \
  --steps 3000 --batch-size 128 --eval-every 500 --seed 0 --threads 1 2>&1 | tee models/logs/train-arith-cot-decoupled.log
