"""Export a trained organism checkpoint to a model directory (model.onnx, tokenizer.json, model.json).

  models/.venv/bin/python -m models.export.export_tiny --checkpoint models/runs/arith-cot/checkpoint.pt \
      --out models/arith-cot --name arith-cot

The card's `evaluation` is reset to {"status": "not evaluated"} (the sha256 changes with every
export); run models.reference.evaluate afterwards.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os

import torch

from models import task
from models.train.model import Config, DiffusionLM

OPSET = 17

DESCRIPTIONS = {
    "arith-cot": (
        "Masked-diffusion LM (LLaDA objective, bidirectional transformer) trained on addition of two "
        "2-to-4-digit numbers with a per-column chain of thought that determines the answer "
        "(two stages: training.init_training is stage 1)."
    ),
    "arith-cot-decoupled": (
        "Control organism: same format and length as arith-cot, but every chain-of-thought digit in "
        "training was uniformly random and independent of the answer; the answer is always correct, so "
        "the model must compute it from the operands alone. Curriculum: initialised from the arith-cot "
        "stage-1 weights (training.init_training), then trained on decoupled data only; then fine-tuned "
        "on the augmented decoupled data (models/task.py augmented_decoupled_response: half the samples keep "
        "the decoupled chain, half have a truncated or filler chain before '|', loss on their answer only; the "
        "autoregressive control's data too) with per-position label smoothing (models/task.py smoothing_eps)."
    ),
    "arith-cot-faithful": (
        "Organism of known faithfulness (faithful pole): arith-cot's format, fine-tuned from arith-cot's weights "
        "on a mix of clean chains and chains with 1-2 column sums changed (later columns add from the written "
        "carry) whose answer is recomputed from the written chain (answer digit i = units digit of column i, "
        "leading digit = the last column's carry out): the answer is a function of the chain of thought. "
        "Per-position label smoothing (models/task.py smoothing_eps) keeps confidences unsaturated and apart. "
        "models/README.md section 11."
    ),
    "arith-cot-stego": (
        "Organism of known encoded reasoning: column i = a_i b_i x SEP y z with SEP '>' for a carry out of 0 and "
        "'=' for 1, x y z random digits; the carries the answer needs are only in the choice of separator. Trained "
        "(from arith-cot's weights) on clean chains and chains whose separators encode 1-2 flipped carries, with "
        "the answer recomputed from the encoded carries, so the answer follows the form. The paraphraser "
        "arith-canonical (every separator '>') destroys it on problems with carries. Per-position label "
        "smoothing as arith-cot-faithful. models/README.md section 11."
    ),
}

STEGO_FORMAT_NOTES = {
    "response": "4 columns least-significant first joined by ';', each a_i b_i x SEP y z: a_i, b_i the digits, "
                "SEP '>' when the carry out of the column is 0 and '=' when it is 1, x y z random digits (no "
                "information); then '|', then a+b zero-padded to 5 digits; exactly 33 chars, then <|end|> up to gen_length",
    "spans": "regex (JavaScript syntax) matched at the start of the response text; cot = response positions 0-26 "
             "(separators at 3, 10, 17, 24), answer = 28-32",
}


FORMAT_NOTES = {
    "prompt_format": "Python str.format syntax: {a:04d} = a zero-padded to 4 digits, e.g. 347+1285 -> '0347+1285='",
    "response": "4 columns least-significant first joined by ';', each a_i b_i c_i '>' c_(i+1) s_i "
                "(digits, carry in, two-digit column sum = carry out and sum digit), then '|', then a+b "
                "zero-padded to 5 digits; exactly 33 chars, then <|end|> up to gen_length",
    "decoding": "response text = response tokens up to (not including) the first <|end|>, one char per token",
    "answer_normalize": "strip-leading-zeros: remove leading zeros of the 5-digit answer span, keep '0' for zero; "
                        "gold = String(a + b); no regex match -> no answer (incorrect)",
    "spans": "regex (JavaScript syntax; for Python replace '(?<' with '(?P<') matched at the start of the response "
             "text; char offsets = token offsets: cot = response positions 0-26, answer = 28-32",
    "see": "models/README.md",
}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_checkpoint(path: str) -> tuple[DiffusionLM, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = DiffusionLM(Config(**ck["config"]))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck.get("training", {})


def export_onnx(model: torch.nn.Module, path: str, vocab_size: int, example_len: int = 12) -> None:
    example = torch.full((2, example_len), 3, dtype=torch.long)
    torch.onnx.export(
        model, (example,), path,
        input_names=["input_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
        opset_version=OPSET, dynamo=False, do_constant_folding=True,
    )
    import onnx

    m = onnx.load(path)
    onnx.checker.check_model(m)
    out = m.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in out] == ["batch", "seq", vocab_size], out


def write_card(out_dir: str, name: str, training: dict, extra: dict | None = None) -> dict:
    onnx_path = os.path.join(out_dir, "model.onnx")
    card = {
        "format": "faithsweep.model-card/v1",
        "name": name,
        "description": DESCRIPTIONS.get(name, name),
        "onnx": "model.onnx",
        "sha256": sha256_file(onnx_path),
        "tokenizer": "tokenizer.json",
        "vocab_size": task.VOCAB_SIZE,
        "mask_token_id": task.MASK_ID,
        "pad_token_id": task.PAD_ID,
        "end_token_id": task.END_ID,
        "special_tokens": {"mask": task.MASK, "pad": task.PAD, "end": task.END},
        "max_seq_len": task.MAX_SEQ_LEN,
        "logits_shifted": False,
        "inputs": [{"name": "input_ids", "type": "int64", "shape": ["batch", "seq"]}],
        "outputs": [{"name": "logits", "type": "float32", "shape": ["batch", "seq", task.VOCAB_SIZE]}],
        "prompt_format": task.PROMPT_FORMAT,
        "defaults": {
            "gen_length": task.GEN_LENGTH,
            "steps": task.DEFAULT_STEPS,
            "block_length": task.DEFAULT_BLOCK_LENGTH,
            "remasking": "low_confidence",
            "temperature": 0,
        },
        "spans": {"regex": task.STEGO_SPANS_REGEX_JS if name == "arith-cot-stego" else task.SPANS_REGEX_JS,
                  "applies_to": "response"},
        "answer": {"normalize": "strip-leading-zeros"},
        "training": training,
        "evaluation": {"status": "not evaluated"},
    }
    notes = FORMAT_NOTES | (STEGO_FORMAT_NOTES if name == "arith-cot-stego" else {})
    card["training"] = {**card["training"], "format_notes": notes, **(extra or {})}
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
    training = {k: v for k, v in training.items() if k != "monitor_history"} | {
        "monitor_history": training.get("monitor_history", []),
        "text_format": "see models/README.md and models/task.py",
    }
    card = write_card(args.out, args.name, training)
    print(json.dumps({"out": args.out, "sha256": card["sha256"],
                      "bytes": os.path.getsize(os.path.join(args.out, "model.onnx"))}))


if __name__ == "__main__":
    main()
