"""A synthetic model directory with a real-sized vocabulary and a tiny hidden size, for memory tests.

    models/.venv/bin/python -m models.export.synthetic_vocab --out DIR [--vocab 151936] [--hidden 8] \
        [--topk K | --topk 0] [--external-data] [--max-seq-len 2048] [--seed 0]

Graph (built with the onnx helper API, random weights from --seed):
    e = Gather(E[V, H], input_ids)                   # [B, L, H]
    h = e + ReduceMean(e, axis=1)                    # every position sees the whole sequence
    logits = MatMul(h, W[H, V]) + bias[V]            # float32[B, L, V]
`bias` is 0 for the first n ids (n = the tokenizer's size, arith-cot's tokenizer is reused) but
the mask, and -30 for the rest, so what the model predicts decodes, while the output is V wide exactly as an
8B model's is (Dream: V = 151,936; LLaDA: 126,464). With --topk K (default 64) the fused top-k
outputs of add_topk_outputs.py are appended; --topk 0 leaves full logits only. --external-data
stores the weights in model.onnx.data as a > 2 GB export does. The card is arith-cot's, with the
name, vocab_size, max_seq_len, outputs and sha256 replaced. Prints {"out", "vocab_size", "k", ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.export.add_topk_outputs import DEFAULT_K, append_topk, sha256_file, topk_outputs

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "arith-cot")


def build(vocab: int, hidden: int, n_real: int, mask_id: int, seed: int) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    emb = rng.normal(0, 1, (vocab, hidden)).astype(np.float32)
    w = rng.normal(0, 1, (hidden, vocab)).astype(np.float32)
    bias = np.full((vocab,), -30.0, dtype=np.float32)
    bias[:n_real] = 0.0
    bias[mask_id] = -30.0  # like a trained masked LM, never predict the mask itself
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["e"], axis=0),
        helper.make_node("ReduceMean", ["e", "axes1"], ["ctx"], keepdims=1),
        helper.make_node("Add", ["e", "ctx"], ["h"]),
        helper.make_node("MatMul", ["h", "W"], ["hw"]),
        helper.make_node("Add", ["hw", "bias"], ["logits"]),
    ]
    inits = [numpy_helper.from_array(emb, "E"), numpy_helper.from_array(w, "W"), numpy_helper.from_array(bias, "bias"),
             helper.make_tensor("axes1", TensorProto.INT64, [1], [1])]
    g = helper.make_graph(nodes, "synthetic_vocab",
                          [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", vocab])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], producer_name="faithsweep-synthetic-vocab",
                             ir_version=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=151_936)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--topk", type=int, default=DEFAULT_K, help="fused top-k entries; 0 = full logits only")
    ap.add_argument("--external-data", action="store_true")
    ap.add_argument("--max-seq-len", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name")
    args = ap.parse_args()
    with open(os.path.join(BASE, "model.json")) as f:
        card = json.load(f)
    with open(os.path.join(BASE, card["tokenizer"])) as f:
        n_real = len(json.load(f)["model"]["vocab"])
    m = build(args.vocab, args.hidden, n_real, card["mask_token_id"], args.seed)
    if args.topk > 0:
        append_topk(m, args.topk)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    for f in ("model.onnx", "model.onnx.data"):
        if os.path.exists(os.path.join(args.out, f)):
            os.remove(os.path.join(args.out, f))
    if args.external_data:
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=1024)
    else:
        onnx.save_model(m, path)
    onnx.checker.check_model(path)
    shutil.copy(os.path.join(BASE, card["tokenizer"]), os.path.join(args.out, card["tokenizer"]))
    card.update({
        "name": args.name or os.path.basename(os.path.normpath(args.out)),
        "description": f"synthetic: V = {args.vocab}, hidden {args.hidden}, random weights (seed {args.seed}); "
                       f"{'fused top-%d outputs' % args.topk if args.topk else 'full logits'}; models/export/synthetic_vocab.py",
        "sha256": sha256_file(path),
        "vocab_size": args.vocab,
        "max_seq_len": args.max_seq_len,
        "outputs": [{"name": "logits", "type": "float32", "shape": ["batch", "seq", args.vocab]}]
                   + (topk_outputs(args.topk) if args.topk else []),
        "training": {"synthetic": True, "seed": args.seed},
        "evaluation": {},
    })
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(json.dumps({"out": args.out, "vocab_size": args.vocab, "k": args.topk, "external_data": args.external_data,
                      "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
