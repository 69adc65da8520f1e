"""Exercise hf_export on a tiny organism saved as a trust_remote_code HF directory.

  models/.venv/bin/python -m models.export.check_hf_export --checkpoint models/runs/arith-cot/checkpoint.pt \
      --reference models/arith-cot --work /tmp/hf-check

Builds the HF directory (make_hf_dir), exports it four ways (fp32; fp32 with external data forced;
fp16; fp32 declared Dream-style shifted and un-shifted in the graph) and compares each ONNX's logits
with the reference organism's model.onnx on 20 inputs.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

from models.reference.parity import make_inputs
from models.reference.sampler import OnnxLM


def run(*a: str) -> None:
    subprocess.run([sys.executable, "-m", *a], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--work", default="/tmp/hf-check")
    args = ap.parse_args()
    hf = os.path.join(args.work, "hf")
    run("models.export.make_hf_dir", "--checkpoint", args.checkpoint, "--out", hf)
    ref = OnnxLM(os.path.join(args.reference, "model.onnx"))
    xs = [x for x in make_inputs(20) if len(x) > 1]
    variants = {
        "fp32": [],
        "fp32-external-data": ["--external-data", "always"],
        "fp16": ["--fp16"],
        "shifted-unshift": ["--logits-shifted", "true", "--unshift"],
        "shifted-raw": ["--logits-shifted", "true"],
    }
    report = {}
    for name, extra in variants.items():
        out = os.path.join(args.work, name)
        shutil.rmtree(out, ignore_errors=True)
        run("models.export.hf_export", "--model", hf, "--out", out, "--trust-remote-code", *extra)
        card = json.load(open(os.path.join(out, "model.json")))
        m = OnnxLM(os.path.join(out, "model.onnx"))
        diffs, agree, total = [], 0, 0
        for x in xs:
            r = ref(x[None])
            o = m(x[None])
            assert o.dtype == np.float32
            if name == "shifted-unshift":
                r = np.concatenate([r[:, :1], r[:, :-1]], axis=1)
            diffs.append(float(np.abs(r - o).max()))
            agree += int((r.argmax(-1) == o.argmax(-1)).sum())
            total += r.shape[1]
        report[name] = {"max_abs_diff_vs_reference": max(diffs), "argmax_agreement": agree / total, "logits_shifted": card["logits_shifted"],
                        "files": sorted(os.listdir(out)),
                        "external_data": card["training"]["export"].get("external_data")}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
