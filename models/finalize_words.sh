#!/usr/bin/env bash
# Export + golden + evaluation + parity for the word-problems organism, through the generic HF path
# (run from the repo root, after models/train/run_words.sh):
#   1. make_hf_dir: the checkpoint as a Hugging Face trust_remote_code directory, with the organism's
#      tokenizer.json + tokenizer_config.json (chat template) copied in;
#   2. hf_export: that directory -> models/word-problems/{model.onnx, tokenizer.json,
#      tokenizer_config.json, model.json}, the task fields of the card from models/export/word_card.py;
#   3. golden trajectories, evaluation (writes the card's `evaluation`), PyTorch-vs-ONNX parity.
#   N=500 bash models/finalize_words.sh     # fewer evaluation problems (default 1000)
#   EXTRA= bash models/finalize_words.sh    # no extra block length in the evaluation (default EXTRA=16)
set -euo pipefail
m=word-problems
PY=${PY:-models/.venv/bin/python}
RUNS=${RUNS:-models/runs}
HF=$RUNS/$m-hf
N=${N:-1000}
$PY -m models.export.make_hf_dir --checkpoint $RUNS/$m/checkpoint.pt --out $HF --tokenizer-dir models/$m
$PY -m models.export.word_card --checkpoint $RUNS/$m/checkpoint.pt --out $HF/card-extra.json
$PY -m models.export.hf_export --model $HF --out models/$m --name $m --trust-remote-code \
  --card-extra $HF/card-extra.json 2>/dev/null
$PY -m models.reference.golden --model models/$m
$PY -m models.reference.evaluate --model models/$m --n $N --batch-size 64 --threads ${THREADS:-1} \
  --extra-block-lengths "${EXTRA-16}"
$PY -m models.reference.parity --checkpoint $RUNS/$m/checkpoint.pt --model models/$m | tee models/logs/parity-$m.json
