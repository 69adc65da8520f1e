#!/usr/bin/env bash
# Train the two autoregressive organisms (run from the repo root): the exact commands used for the
# committed models. Data: the diffusion organisms' generator and split (task.training_batches), see
# train_ar.py. The 2 cores were shared with other work (load 10-14), so the runs also stop on a
# wall-time / CPU-time cap; a rerun on a quiet machine with the same flags does the same steps
# except where a cap (not a step count) stopped a run (see models/README.md section 10.5).
set -euo pipefail
PY=models/.venv/bin/python
RUNS=${RUNS:-models/runs}   # checkpoints (git-ignored)
LOGS=${LOGS:-models/logs}
mkdir -p "$LOGS"
# arith-cot-ar: from scratch, one thread; stopped by its 40-min wall-time cap.
$PY -m models.train.train_ar --name arith-cot-ar --out $RUNS/arith-cot-ar \
  --steps 1200 --batch-size 64 --lr 2e-3 --warmup 60 --eval-every 150 --seed 0 --threads 1 \
  --max-minutes 40 --max-cpu-minutes 20 --stop-at-acc 1.0 > $LOGS/train-arith-cot-ar.log 2>&1 &
# arith-cot-decoupled-ar stage 1: from scratch, one thread, side by side with arith-cot-ar; stopped
# after its step-600 checkpoint (it was stopped by hand then; --stop-at-step reproduces that).
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --decoupled --out $RUNS/arith-cot-decoupled-ar \
  --steps 1200 --batch-size 64 --lr 2e-3 --warmup 60 --eval-every 150 --seed 0 --threads 1 \
  --max-minutes 40 --max-cpu-minutes 20 --stop-at-acc 1.0 --stop-at-step 600 \
  > $LOGS/train-arith-cot-decoupled-ar.log 2>&1
# (A continuation with two threads, fresh schedule, seed 1 — logs/train-arith-cot-decoupled-ar-stage2.log —
# was stopped after 100 steps without a checkpoint for lack of time (loss EMA 1.329 -> 1.314); the
# committed model is stage 1's step-600 checkpoint. A curriculum from arith-cot-ar's step-300 weights —
# logs/train-arith-cot-decoupled-ar-curriculum.log — was no better after 200 steps and was stopped.)
wait
# arith-cot-decoupled-ar stage 2 (the committed model): from stage 1's weights, fresh schedule, two
# threads; stopped by its 38-min wall cap after step 2251 (96.9 % monitor; 97.8 % held-out).
cp $RUNS/arith-cot-decoupled-ar/checkpoint.pt $RUNS/arith-cot-decoupled-ar-stage1.pt
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --decoupled --out $RUNS/arith-cot-decoupled-ar \
  --init-from $RUNS/arith-cot-decoupled-ar-stage1.pt --steps 6000 --batch-size 128 --lr 1e-3 --warmup 100 \
  --eval-every 250 --seed 2 --threads 2 --max-minutes 38 --max-cpu-minutes 80 --stop-at-acc 0.99 \
  > $LOGS/train-arith-cot-decoupled-ar-r2.log 2>&1
