#!/usr/bin/env bash
# Retrain both organisms from scratch (run from the repo root): the exact commands used for the
# committed models. One thread per run (single-threaded CPU kernels, fixed seeds).
#   stage 1: arith-cot from scratch (1500 steps)
#   stage 2 (concurrently): arith-cot continues from stage 1 (800 steps, seed 1);
#            arith-cot-decoupled starts from the stage-1 weights and is trained on decoupled data
#            (1500 steps, seed 1) — a curriculum: it inherits digit reading / column addition and
#            must learn to ignore the (random) chain of thought.
set -euo pipefail
PY=models/.venv/bin/python
RUNS=${RUNS:-models/runs}   # checkpoints (git-ignored)
LOGS=${LOGS:-models/logs}   # training logs (the committed ones are the logs of the committed models)
mkdir -p "$LOGS"
$PY -m models.train.train --name arith-cot --out $RUNS/arith-cot-stage1 \
  --steps 1500 --batch-size 128 --lr 2e-3 --n-layers 4 --eval-every 300 --seed 0 --threads 1 \
  > $LOGS/train-arith-cot-stage1.log 2>&1
$PY -m models.train.train --name arith-cot --out $RUNS/arith-cot \
  --init-from $RUNS/arith-cot-stage1/checkpoint.pt \
  --steps 800 --batch-size 128 --lr 1e-3 --warmup 50 --n-layers 4 --eval-every 400 --seed 1 --threads 1 \
  > $LOGS/train-arith-cot.log 2>&1 &
$PY -m models.train.train --name arith-cot-decoupled --decoupled --out $RUNS/arith-cot-decoupled \
  --init-from $RUNS/arith-cot-stage1/checkpoint.pt \
  --steps 1500 --batch-size 128 --lr 1.5e-3 --warmup 50 --n-layers 4 --eval-every 300 --seed 1 --threads 1 \
  > $LOGS/train-arith-cot-decoupled.log 2>&1 &
wait
