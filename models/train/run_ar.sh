#!/usr/bin/env bash
# Train the two autoregressive organisms (run from the repo root): the exact commands used for the
# committed models. One thread per run (torch.set_num_threads(1)); the two runs side by side; each stops
# after 20 min of process CPU time or 40 min of wall time (the 2 cores are shared with other work).
# Data: the diffusion organisms' generator and split (task.training_batches), see train_ar.py.
set -euo pipefail
PY=models/.venv/bin/python
RUNS=${RUNS:-models/runs}   # checkpoints (git-ignored)
LOGS=${LOGS:-models/logs}
mkdir -p "$LOGS"
$PY -m models.train.train_ar --name arith-cot-ar --out $RUNS/arith-cot-ar \
  --steps 1200 --batch-size 64 --lr 2e-3 --warmup 60 --eval-every 150 --seed 0 --threads 1 \
  --max-minutes 40 --max-cpu-minutes 20 --stop-at-acc 1.0 > $LOGS/train-arith-cot-ar.log 2>&1 &
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --decoupled --out $RUNS/arith-cot-decoupled-ar \
  --steps 1200 --batch-size 64 --lr 2e-3 --warmup 60 --eval-every 150 --seed 0 --threads 1 \
  --max-minutes 40 --max-cpu-minutes 20 --stop-at-acc 1.0 > $LOGS/train-arith-cot-decoupled-ar.log 2>&1 &
wait
