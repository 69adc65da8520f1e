"""Rebuild a PyTorch checkpoint of a committed tiny organism from its ONNX initializers.

  models/.venv/bin/python -m models.train.onnx_to_checkpoint --model models/arith-cot \
      --out models/runs/arith-cot/checkpoint.pt

The exported graph (models/export/export_tiny.py, torch.onnx.export with constant folding) keeps
embedding, LayerNorm and bias tensors under their module names and stores every Linear weight
transposed ([in, out]) under an anonymous "onnx::MatMul_N" name, in forward order per block
(qkv, proj, fc1, fc2), then the output head. This script maps them back, loads them into
`DiffusionLM` (4 layers, d_model 128: the architecture in the card) — or `CausalLM` when the card's
`kind` is "autoregressive" (models/export/export_ar.py: the same initializer layout) — and checks that
its logits equal onnxruntime's on held-out prompts (max abs diff printed; exits non-zero above 1e-3;
autoregressive: prompt + a clean decoupled-format response, so every causal position is compared).
Used to fine-tune the arith-cot-faithful / arith-cot-stego organisms from arith-cot's weights when
the training checkpoint (git-ignored models/runs/) is not on the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from models import task
from models.train.model import Config, build_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="model directory (model.onnx, model.json)")
    ap.add_argument("--out", required=True, help="checkpoint path to write")
    args = ap.parse_args()
    card = json.load(open(os.path.join(args.model, "model.json")))
    cfg_d = card["training"]["model"] if "model" in card.get("training", {}) else None
    cfg = Config(**cfg_d) if cfg_d else Config(vocab_size=task.VOCAB_SIZE, max_seq_len=task.MAX_SEQ_LEN, n_layers=4)
    ar = card.get("kind") == "autoregressive"
    cfg.causal = ar
    m = onnx.load(os.path.join(args.model, "model.onnx"))
    named = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    matmuls = [i.name for i in m.graph.initializer if i.name.startswith("onnx::MatMul_")]
    model = build_model(cfg)
    sd = model.state_dict()
    out = {}
    for k in sd:
        if k in named:
            out[k] = torch.from_numpy(named[k].copy())
    order = []
    for b in range(cfg.n_layers):
        order += [f"blocks.{b}.qkv.weight", f"blocks.{b}.proj.weight", f"blocks.{b}.fc1.weight", f"blocks.{b}.fc2.weight"]
    order.append("head.weight")
    assert len(matmuls) == len(order), (len(matmuls), len(order))
    for k, n in zip(order, matmuls):
        w = torch.from_numpy(named[n].T.copy())
        assert w.shape == sd[k].shape, (k, w.shape, sd[k].shape)
        out[k] = w
    missing = set(sd) - set(out)
    assert not missing, missing
    model.load_state_dict(out)
    model.eval()
    sess = ort.InferenceSession(os.path.join(args.model, "model.onnx"), providers=["CPUExecutionProvider"])
    worst = 0.0
    for a, b in task.heldout_problems(16, seed=77):
        resp = task.response_ids(task.response_text(a, b)) if ar else [task.MASK_ID] * task.GEN_LENGTH
        ids = np.array([task.encode(task.prompt_text(a, b)) + resp], dtype=np.int64)
        ref = sess.run(None, {"input_ids": ids})[0]
        with torch.no_grad():
            got = model(torch.from_numpy(ids)).numpy()
        worst = max(worst, float(np.abs(ref - got).max()))
    print(json.dumps({"model": args.model, "max_abs_diff_vs_onnx": worst}))
    if worst > 1e-3:
        sys.exit(1)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict(),
                "training": card.get("training", {})}, args.out)


if __name__ == "__main__":
    main()
