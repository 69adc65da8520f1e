#!/usr/bin/env bash
# Fine-tune the decoupled organisms on the augmented decoupled data (models/README.md section 10.7):
# the exact commands used for the committed arith-cot-decoupled-ar (stages a-d) and for the diffusion
# arith-cot-decoupled fine-tune that was not committed (run from the repo root). One thread per run on
# the shared 2-core machine; runs stop on wall-time caps (a rerun on a quiet machine does more steps
# within the caps).
set -euo pipefail
PY=models/.venv/bin/python
RUNS=${RUNS:-models/runs}   # checkpoints (git-ignored)
LOGS=${LOGS:-models/logs}
mkdir -p "$LOGS" "$LOGS/pilot"
# The training checkpoints of the committed weights are not in the repository: rebuild them from ONNX.
$PY -m models.train.onnx_to_checkpoint --model models/arith-cot-decoupled-ar --out $RUNS/arith-cot-decoupled-ar/base.pt
$PY -m models.train.onnx_to_checkpoint --model models/arith-cot-decoupled --out $RUNS/arith-cot-decoupled/base.pt
# AR stage a: L uniform in [0, 27) (--no-chain-share -1); stopped by hand after its step-400
# checkpoint (monitor: filler 70.7 %, but 0 % with no chain at all: L = 0 was 1/108 of the samples).
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --augmented --no-chain-share -1 \
  --out $RUNS/arith-cot-decoupled-ar --init-from $RUNS/arith-cot-decoupled-ar/base.pt \
  --steps 900 --batch-size 64 --lr 5e-4 --warmup 30 --eval-every 100 --seed 7 --threads 1 \
  --max-minutes 24 --max-cpu-minutes 24 --stop-at-step 400 > $LOGS/train-arith-cot-decoupled-ar-augmented-a.log 2>&1 &
wait
cp $RUNS/arith-cot-decoupled-ar/checkpoint.pt $RUNS/arith-cot-decoupled-ar/stage-a.pt
# AR stage b: the current generator (a quarter of the truncated chains empty).
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --augmented --out $RUNS/arith-cot-decoupled-ar \
  --init-from $RUNS/arith-cot-decoupled-ar/stage-a.pt --steps 750 --batch-size 64 --lr 4e-4 --warmup 20 \
  --eval-every 100 --seed 8 --threads 1 --max-minutes 22 --max-cpu-minutes 22 \
  > $LOGS/train-arith-cot-decoupled-ar-augmented.log 2>&1 &
# Diffusion (not committed, section 10.7): the stage-b generator, per-position label smoothing (task.smoothing_eps), side by side.
$PY -m models.train.train --name arith-cot-decoupled --variant decoupled-augmented --position-smoothing \
  --out $RUNS/arith-cot-decoupled --init-from $RUNS/arith-cot-decoupled/base.pt --steps 250 --batch-size 128 \
  --lr 5e-4 --warmup 20 --eval-every 125 --seed 7 --threads 1 --n-layers 4 --max-minutes 23 \
  > $LOGS/train-arith-cot-decoupled-augmented.log 2>&1
wait
cp $RUNS/arith-cot-decoupled-ar/checkpoint.pt $RUNS/arith-cot-decoupled-ar/stage-b.pt
# AR stage c (models/README.md 10.7): from stage b, 4/5 of the samples augmented
# and 3/4 of those truncated (60 % truncated chains, 20 % filler, 20 % plain), a fifth of the truncated
# chains empty; batch 128, lr 5e-4 cosine over 2,400 steps. Early answering was learned after a
# plateau (no-chain monitor 0-1 % to step 900, 59 % at 1,200, 98 % at 2,100).
mkdir -p $RUNS/ar-c
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --augmented --augment-share 0.8 --truncate-share 0.75 \
  --no-chain-share 0.2 --out $RUNS/ar-c --init-from $RUNS/arith-cot-decoupled-ar/stage-b.pt --steps 2400 \
  --batch-size 128 --lr 5e-4 --warmup 30 --eval-every 100 --seed 9 --threads 1 --max-minutes 55 --max-cpu-minutes 55 \
  > $LOGS/train-arith-cot-decoupled-ar-augmented-c.log 2>&1
cp $RUNS/ar-c/checkpoint.pt $RUNS/arith-cot-decoupled-ar/stage-c.pt
# AR stage d (the committed model): from stage c, the same mixture at a lower learning rate.
mkdir -p $RUNS/ar-d2
$PY -m models.train.train_ar --name arith-cot-decoupled-ar --augmented --augment-share 0.8 --truncate-share 0.75 \
  --no-chain-share 0.2 --out $RUNS/ar-d2 --init-from $RUNS/arith-cot-decoupled-ar/stage-c.pt --steps 1200 \
  --batch-size 128 --lr 2e-4 --min-lr 1e-5 --warmup 20 --eval-every 100 --seed 11 --threads 1 --max-minutes 22 \
  --max-cpu-minutes 22 > $LOGS/train-arith-cot-decoupled-ar-augmented-d.log 2>&1
cp $RUNS/ar-d2/checkpoint.pt $RUNS/arith-cot-decoupled-ar/checkpoint.pt
# Then: bash models/finalize_ar.sh arith-cot-decoupled-ar (export, golden files, figures; the card's
# training.init_training chain was completed by hand with stages b, a and 10.5: a copied checkpoint
# does not carry the hand-written stage-a record of the earlier card).
