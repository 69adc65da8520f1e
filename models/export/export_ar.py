"""Export an autoregressive organism checkpoint (models/train/train_ar.py) to a model directory:
model.onnx, tokenizer.json (the diffusion organisms' file, same ids) and model.json (the card, with
`kind: autoregressive`, `logits_shifted: true`, `answer_delimiter`, `forced_answer_regex` and
`filler_token`; contract in models/README.md section "AR").

  models/.venv/bin/python -m models.export.export_ar --checkpoint models/runs/arith-cot-ar/checkpoint.pt \
      --out models/arith-cot-ar --name arith-cot-ar

The card's `evaluation` is reset ({"status": "not evaluated"}); run models.reference.ar_eval after.
"""
from __future__ import annotations

import argparse
import json
import os

import torch

from models import task
from models.export.export_tiny import FORMAT_NOTES, export_onnx, sha256_file
from models.reference.ar import ANSWER_DELIMITER, FORCED_ANSWER_REGEX_JS
from models.train.model import CausalLM, Config

# The filler token (Lanham et al. 2023 use "..."): a token that carries no information about the
# operands or the answer, is not a digit, not a special token and not the answer delimiter. ";" is
# the chain of thought's own step separator, the closest analogue of a neutral "..." in this
# vocabulary (and, unlike "+"/"=", a token the models read inside a chain of thought). Chosen before
# the filler test was run; models/README.md section "AR" also reports the other candidates.
FILLER_TOKEN = task.FILLER_TOKEN  # ";"

DESCRIPTIONS = {
    "arith-cot-ar": (
        "Autoregressive (causal transformer, next-token loss on the response) counterpart of arith-cot: "
        "trained on the same data generator and split, with the correct per-column chain of thought "
        "that determines the answer."
    ),
    "arith-cot-decoupled-ar": (
        "Autoregressive control, counterpart of arith-cot-decoupled: the same data generator and split, "
        "every chain-of-thought digit in training uniformly random and independent of the answer; the "
        "answer is always correct, so the model must compute it from the operands alone. Fine-tuned on the "
        "augmented decoupled data (models/task.py augmented_decoupled_response; models/README.md 10.7): "
        "samples whose chain is truncated at a random length (none at all included) or replaced by filler ';' "
        "before '|', loss on their answer and end tokens only, so a forced answer after such a chain is in "
        "distribution (the diffusion control keeps the plain decoupled data: its time-dimension tests never "
        "force an answer after such a chain)."
    ),
}


def load_checkpoint(path: str) -> tuple[CausalLM, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = Config(**ck["config"])
    assert cfg.causal, f"{path} is not a causal (autoregressive) checkpoint"
    model = CausalLM(cfg)
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck.get("training", {})


def write_card(out_dir: str, name: str, training: dict) -> dict:
    card = {
        "format": "faithsweep.model-card/v1",
        "name": name,
        "kind": "autoregressive",
        "description": DESCRIPTIONS.get(name, name),
        "onnx": "model.onnx",
        "sha256": sha256_file(os.path.join(out_dir, "model.onnx")),
        "tokenizer": "tokenizer.json",
        "vocab_size": task.VOCAB_SIZE,
        "mask_token_id": task.MASK_ID,  # in the vocabulary (same tokenizer) but never used by this model
        "pad_token_id": task.PAD_ID,
        "end_token_id": task.END_ID,
        "special_tokens": {"mask": task.MASK, "pad": task.PAD, "end": task.END},
        "max_seq_len": task.MAX_SEQ_LEN,
        "logits_shifted": True,
        "inputs": [{"name": "input_ids", "type": "int64", "shape": ["batch", "seq"]}],
        "outputs": [{"name": "logits", "type": "float32", "shape": ["batch", "seq", task.VOCAB_SIZE]}],
        "prompt_format": task.PROMPT_FORMAT,
        "defaults": {"gen_length": task.GEN_LENGTH, "temperature": 0},
        "spans": {"regex": task.SPANS_REGEX_JS, "applies_to": "response"},
        "answer": {"normalize": "strip-leading-zeros"},
        "answer_delimiter": ANSWER_DELIMITER,
        "forced_answer_regex": FORCED_ANSWER_REGEX_JS,
        "filler_token": FILLER_TOKEN,
        "decoding": {
            "rule": "token at absolute position p (k = p - prompt_len) = argmax_v logits[p-1][v] at temperature 0; "
                    "argmax_v (logits[p-1][v] + T * -log(-log(uniform(seed, k, p, v)))) at temperature T > 0 "
                    "(float64, ties -> lowest id); stop after the first end token or gen_length response tokens",
            "see": "models/README.md section AR; models/reference/ar.py",
        },
        "training": {**training, "format_notes": FORMAT_NOTES},
        "evaluation": {"status": "not evaluated"},
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    return card


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model, training = load_checkpoint(args.checkpoint)
    export_onnx(model, os.path.join(args.out, "model.onnx"), task.VOCAB_SIZE)
    task.write_tokenizer(os.path.join(args.out, "tokenizer.json"))
    card = write_card(args.out, args.name, training)
    print(json.dumps({"out": args.out, "sha256": card["sha256"],
                      "bytes": os.path.getsize(os.path.join(args.out, "model.onnx"))}))


if __name__ == "__main__":
    main()
