"""PyTorch-vs-ONNX logits parity on 100 inputs, unbatched and batched.

  models/.venv/bin/python -m models.reference.parity --checkpoint models/runs/arith-cot/checkpoint.pt \
      --model models/arith-cot

Inputs: 100 held-out prompts followed by their gold response with each response token masked
with a random probability (as in a partially decoded state); seq lengths vary from 46 to 50, plus
a few shorter truncated inputs. Unbatched = 100 calls with B = 1; batched = rows of equal length
stacked (B up to 32). Fails (exit 1) when max |torch - onnx| > 1e-4.

Chat organisms (card prompt.template == "chat"): the same with word problems (held-out problems of
seed 4321, chat-rendered prompt + gold response, lengths vary with the prompt).
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from models import task
from models.export.export_tiny import load_checkpoint
from models.reference.common import open_model

TOL = 1e-4


def make_inputs(n: int, seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for a, b in task.heldout_problems(n, seed=4321):
        p = task.encode(task.prompt_text(a, b))
        r = np.array(task.response_ids(task.response_text(a, b)))
        m = rng.random(len(r)) < rng.random()
        r[m] = task.MASK_ID
        seq = np.array(p + r.tolist(), dtype=np.int64)
        if rng.random() < 0.1:
            seq = seq[: int(rng.integers(1, len(seq)))]
        out.append(seq)
    return out


def make_inputs_words(model_dir: str, card: dict, n: int, seed: int = 7) -> list[np.ndarray]:
    from models import word_problems as wp
    from models.reference.words import CardText

    ct = CardText(model_dir, card)
    rng = np.random.default_rng(seed)
    out = []
    for pr in wp.heldout_problems(n, seed=4321):
        p = ct.text.encode(ct.prompt(pr.question))
        r = np.array(ct.text.response_ids(pr.answer))
        m = rng.random(len(r)) < rng.random()
        r[m] = card["mask_token_id"]
        seq = np.array(p + r.tolist(), dtype=np.int64)
        if rng.random() < 0.1:
            seq = seq[: int(rng.integers(1, len(seq)))]
        out.append(seq)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(2)
    tmodel, _ = load_checkpoint(args.checkpoint)
    omodel, card = open_model(args.model)
    inputs = (make_inputs_words(args.model, card, args.n) if card.get("prompt", {}).get("template") == "chat"
              else make_inputs(args.n))

    def t_logits(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return tmodel(torch.from_numpy(x)).numpy()

    unb = max(float(np.abs(t_logits(x[None]) - omodel(x[None])).max()) for x in inputs)
    groups: dict[int, list[np.ndarray]] = {}
    for x in inputs:
        groups.setdefault(len(x), []).append(x)
    bat = 0.0
    n_batches = 0
    cross = 0.0  # ONNX batched vs ONNX unbatched
    for L, xs in groups.items():
        for k in range(0, len(xs), 32):
            X = np.stack(xs[k:k + 32])
            o = omodel(X)
            bat = max(bat, float(np.abs(t_logits(X) - o).max()))
            cross = max(cross, max(float(np.abs(o[i:i + 1] - omodel(X[i:i + 1])).max()) for i in range(len(X))))
            n_batches += 1
    res = {"model": args.model, "n_inputs": len(inputs), "seq_lengths": sorted(groups),
           "max_abs_diff_unbatched": unb, "max_abs_diff_batched": bat, "n_batches": n_batches,
           "max_abs_diff_onnx_batched_vs_unbatched": cross, "tolerance": TOL,
           "ok": unb <= TOL and bat <= TOL}
    print(json.dumps(res))
    if not res["ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
