"""Adds fused top-k outputs to an exported model (the agent reads them instead of full logits).

    models/.venv/bin/python -m models.export.add_topk_outputs --model models/arith-cot --k 8 \
        --out test/fixtures/models/arith-cot-topk

The new graph keeps `logits` and appends `topk_logprobs` float32[B, L, K] (log-softmax over the
full vocabulary, then the K largest) and `topk_ids` int64[B, L, K], so full logits need not leave
the device. The card is copied with the new name and sha256; golden files are not copied.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil

import onnx
from onnx import TensorProto, helper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--k", type=int, default=8)
    args = ap.parse_args()
    with open(os.path.join(args.model, "model.json")) as f:
        card = json.load(f)
    m = onnx.load(os.path.join(args.model, card["onnx"]))
    g = m.graph
    k_name = "topk_k"
    g.initializer.append(helper.make_tensor(k_name, TensorProto.INT64, [1], [args.k]))
    g.node.append(helper.make_node("LogSoftmax", ["logits"], ["logprobs_full"], axis=-1))
    g.node.append(helper.make_node("TopK", ["logprobs_full", k_name], ["topk_logprobs", "topk_ids"], axis=-1, largest=1, sorted=1))
    g.output.append(helper.make_tensor_value_info("topk_logprobs", TensorProto.FLOAT, ["batch", "seq", args.k]))
    g.output.append(helper.make_tensor_value_info("topk_ids", TensorProto.INT64, ["batch", "seq", args.k]))
    onnx.checker.check_model(m)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    onnx.save(m, path)
    with open(path, "rb") as f:
        card["sha256"] = hashlib.sha256(f.read()).hexdigest()
    card["name"] = os.path.basename(os.path.normpath(args.out))
    card["outputs"] = card["outputs"] + [
        {"name": "topk_logprobs", "type": "float32", "shape": ["batch", "seq", args.k]},
        {"name": "topk_ids", "type": "int64", "shape": ["batch", "seq", args.k]},
    ]
    card["description"] = f"{card.get('description', '')} (with fused top-{args.k} outputs added by add_topk_outputs.py)"
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    shutil.copy(os.path.join(args.model, card["tokenizer"]), os.path.join(args.out, card["tokenizer"]))
    print(json.dumps({"out": args.out, "sha256": card["sha256"], "k": args.k}))


if __name__ == "__main__":
    main()
