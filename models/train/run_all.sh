#!/usr/bin/env bash
# Retrain both organisms from scratch (run from the repo root). These are the exact commands used for
# the committed models; they were run concurrently, one thread each, on the shared 2-core machine
# (single-threaded CPU kernels: the same seed gives the same weights whether run together or apart).
set -euo pipefail
PY=models/.venv/bin/python
mkdir -p models/logs
$PY -m models.train.train --name arith-cot --out models/runs/arith-cot \
  --steps 1500 --batch-size 128 --lr 2e-3 --n-layers 4 --eval-every 300 --seed 0 --threads 1 \
  > models/logs/train-arith-cot.log 2>&1 &
$PY -m models.train.train --name arith-cot-decoupled --decoupled --out models/runs/arith-cot-decoupled \
  --steps 2400 --batch-size 128 --lr 2e-3 --n-layers 6 --eval-every 300 --seed 0 --threads 1 \
  > models/logs/train-arith-cot-decoupled.log 2>&1 &
wait
