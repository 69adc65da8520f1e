"""Adds fused top-k outputs to an exported model (the agent reads them instead of full logits).

    models/.venv/bin/python -m models.export.add_topk_outputs --model models/arith-cot --k 8 \
        --out test/fixtures/models/arith-cot-topk

The new graph keeps `logits` and appends `topk_logprobs` float32[B, L, K] (log-probabilities over
the full vocabulary of the K largest logits, sorted descending: l_i - logsumexp(l)) and `topk_ids` int64[B, L, K], so full
logits need not leave the device: the agent then copies B*L*K entries per pass instead of
B*L*V and its sampler's cost per masked position is O(K), not O(V). The card is copied with the
new name, sha256 and outputs; golden files are not copied. Which samplers stay exact under
top-k: docs/gpu.md "Vocabulary-sized memory".

Models over 2 GB (protobuf's limit) keep their weights in external data (`model.onnx.data`, or
whatever `location` the graph's initializers name): the graph is loaded WITHOUT its external
data, the two nodes are appended, and the graph is saved next to a streamed copy of every
external data file (not a hard link: onnx's checker refuses those), so the weights are never
read into memory.
`--in-place` rewrites model.onnx and model.json of --model itself (external data untouched).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil

import onnx
from onnx import TensorProto, helper

#: Default K of the exporter and of this script: enough for second-choice interventions and
#: margins, small next to any real vocabulary (0.05 % of V = 126,464).
DEFAULT_K = 64


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def external_locations(m: onnx.ModelProto) -> list[str]:
    """Relative paths of the external data files the graph's initializers refer to."""
    out: set[str] = set()
    for t in m.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            for e in t.external_data:
                if e.key == "location":
                    out.add(e.value)
    return sorted(out)


def append_topk(m: onnx.ModelProto, k: int, logits: str = "logits") -> None:
    """Appends TopK(logits, k) and logits - ReduceLogSumExp(logits) as outputs topk_logprobs / topk_ids, in place.

    ReduceLogSumExp takes its axes as an input from opset 18 on, as an attribute before.

    Shapes: logits float32[B, L, V] -> topk_logprobs float32[B, L, k], topk_ids int64[B, L, k].
    Raises ValueError if the graph has no `logits` output or already has top-k outputs.
    """
    names = [o.name for o in m.graph.output]
    if logits not in names:
        raise ValueError(f"the graph has no '{logits}' output (outputs: {names})")
    if "topk_ids" in names or "topk_logprobs" in names:
        raise ValueError("the graph already has top-k outputs")
    if k < 1:
        raise ValueError(f"k must be >= 1 (got {k})")
    g = m.graph
    g.initializer.append(helper.make_tensor("topk_k", TensorProto.INT64, [1], [k]))
    # log p_i = l_i - logsumexp(l) for the K largest logits: no second V-wide tensor (a LogSoftmax
    # output) is materialised next to the logits.
    g.node.append(helper.make_node("TopK", [logits, "topk_k"], ["topk_logits", "topk_ids"], axis=-1, largest=1, sorted=1))
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 17)
    if opset >= 18:  # axes became an input in opset 18
        g.initializer.append(helper.make_tensor("topk_axes", TensorProto.INT64, [1], [-1]))
        g.node.append(helper.make_node("ReduceLogSumExp", [logits, "topk_axes"], ["topk_lse"], keepdims=1))
    else:
        g.node.append(helper.make_node("ReduceLogSumExp", [logits], ["topk_lse"], axes=[-1], keepdims=1))
    g.node.append(helper.make_node("Sub", ["topk_logits", "topk_lse"], ["topk_logprobs"]))
    g.output.append(helper.make_tensor_value_info("topk_logprobs", TensorProto.FLOAT, ["batch", "seq", k]))
    g.output.append(helper.make_tensor_value_info("topk_ids", TensorProto.INT64, ["batch", "seq", k]))


def _copy(src: str, dst: str) -> None:
    """Copies an external data file (streamed; not a hard link: onnx's checker refuses those)."""
    if os.path.abspath(src) == os.path.abspath(dst):
        return
    if os.path.exists(dst):
        os.remove(dst)
    shutil.copyfile(src, dst)


def vocab_width(m: onnx.ModelProto, logits: str = "logits") -> int | None:
    """V of the `logits` output when the graph declares it statically, else None."""
    for o in m.graph.output:
        if o.name == logits:
            dims = o.type.tensor_type.shape.dim
            if len(dims) == 3 and dims[2].dim_value > 0:
                return int(dims[2].dim_value)
    return None


def add_topk_to_file(src_onnx: str, dst_onnx: str, k: int) -> dict:
    """Writes `dst_onnx` = `src_onnx` + fused top-k outputs, carrying external data along.

    K is capped at V when the graph declares V (TopK needs k <= V). Returns {"sha256": of
    dst_onnx, "k": K used, "external_data": [{"file", "sha256"}...]}. Never loads the external
    weights into memory; the checker runs on the path (which handles > 2 GB models).
    """
    m = onnx.load(src_onnx, load_external_data=False)
    locations = external_locations(m)
    v = vocab_width(m)
    k = min(k, v) if v else k
    append_topk(m, k)
    src_dir, dst_dir = os.path.dirname(os.path.abspath(src_onnx)), os.path.dirname(os.path.abspath(dst_onnx))
    os.makedirs(dst_dir, exist_ok=True)
    for loc in locations:
        _copy(os.path.join(src_dir, loc), os.path.join(dst_dir, loc))
    tmp = dst_onnx + ".tmp"
    onnx.save(m, tmp)  # the graph alone: external tensors keep their location fields
    os.replace(tmp, dst_onnx)
    onnx.checker.check_model(dst_onnx)
    return {"sha256": sha256_file(dst_onnx), "k": k,
            "external_data": [{"file": loc, "sha256": sha256_file(os.path.join(dst_dir, loc))} for loc in locations]}


def topk_outputs(k: int) -> list[dict]:
    """The card's entries for the two fused outputs."""
    return [{"name": "topk_logprobs", "type": "float32", "shape": ["batch", "seq", k]},
            {"name": "topk_ids", "type": "int64", "shape": ["batch", "seq", k]}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory (model.json + model.onnx [+ external data])")
    ap.add_argument("--out", help="output directory (required unless --in-place)")
    ap.add_argument("--in-place", action="store_true", help="rewrite --model's model.onnx and model.json")
    ap.add_argument("--k", type=int, default=DEFAULT_K, help=f"entries kept per position (default {DEFAULT_K})")
    args = ap.parse_args()
    if not args.in_place and not args.out:
        raise SystemExit("give --out DIR or --in-place")
    out = args.model if args.in_place else args.out
    with open(os.path.join(args.model, "model.json")) as f:
        card = json.load(f)
    os.makedirs(out, exist_ok=True)
    info = add_topk_to_file(os.path.join(args.model, card["onnx"]), os.path.join(out, card["onnx"]), args.k)
    args.k = info["k"]
    card["sha256"] = info["sha256"]
    if not args.in_place:
        card["name"] = os.path.basename(os.path.normpath(out))
    card["outputs"] = [o for o in card["outputs"] if o["name"] not in ("topk_logprobs", "topk_ids")] + topk_outputs(args.k)
    card["description"] = f"{card.get('description', '')} (with fused top-{args.k} outputs added by add_topk_outputs.py)"
    if info["external_data"]:
        export = card.setdefault("training", {}).setdefault("export", {})
        export["external_data"] = info["external_data"][0] if len(info["external_data"]) == 1 else info["external_data"]
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    if not args.in_place:
        for key in ("tokenizer", "tokenizer_config"):
            if card.get(key):
                shutil.copy(os.path.join(args.model, card[key]), os.path.join(out, card[key]))
    print(json.dumps({"out": out, "sha256": card["sha256"], "k": args.k,
                      "external_data": [e["file"] for e in info["external_data"]]}))


if __name__ == "__main__":
    main()
