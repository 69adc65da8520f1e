"""Save a tiny organism checkpoint as a Hugging Face trust_remote_code directory (to exercise hf_export).

  models/.venv/bin/python -m models.export.make_hf_dir --checkpoint models/runs/arith-cot/checkpoint.pt \
      --out /tmp/hf-arith-cot
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

import torch

from models import task

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf_tiny")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from safetensors.torch import save_file

    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    os.makedirs(args.out, exist_ok=True)
    for f in ("configuration_tinydiff.py", "modeling_tinydiff.py"):
        shutil.copy(os.path.join(HERE, f), os.path.join(args.out, f))
    cfg = dict(ck["config"])
    cfg.pop("dropout", None)
    config = {
        "architectures": ["TinyDiffModel"],
        "model_type": "tinydiff",
        "auto_map": {"AutoConfig": "configuration_tinydiff.TinyDiffConfig",
                     "AutoModel": "modeling_tinydiff.TinyDiffModel"},
        **cfg,
        "mask_token_id": task.MASK_ID, "pad_token_id": task.PAD_ID, "eos_token_id": task.END_ID,
        "torch_dtype": "float32",
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    sd = {f"model.{k}": v.contiguous() for k, v in ck["state_dict"].items()}
    save_file(sd, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
    task.write_tokenizer(os.path.join(args.out, "tokenizer.json"))
    print(args.out)


if __name__ == "__main__":
    main()
