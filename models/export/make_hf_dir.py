"""Save a tiny organism checkpoint as a Hugging Face trust_remote_code directory (to exercise hf_export).

  models/.venv/bin/python -m models.export.make_hf_dir --checkpoint models/runs/arith-cot/checkpoint.pt \
      --out /tmp/hf-arith-cot
  models/.venv/bin/python -m models.export.make_hf_dir --checkpoint models/runs/word-problems/checkpoint.pt \
      --out /tmp/hf-word-problems --tokenizer-dir models/word-problems

Without --tokenizer-dir: the character-level arithmetic tokenizer of models/task.py (ids from there).
With --tokenizer-dir DIR: DIR/tokenizer.json and DIR/tokenizer_config.json are copied (as a real HF
model directory holds them); mask / pad ids come from tokenizer_config.json's mask_token / pad_token,
and eos_token_id is the list [<|im_end|>, eos_token] when the vocabulary has <|im_end|> (the turn
ends there; also written to generation_config.json, as chat models do), else eos_token.
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
    ap.add_argument("--tokenizer-dir", help="copy tokenizer.json + tokenizer_config.json from here (BPE organisms)")
    args = ap.parse_args()
    from safetensors.torch import save_file

    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    os.makedirs(args.out, exist_ok=True)
    for f in ("configuration_tinydiff.py", "modeling_tinydiff.py"):
        shutil.copy(os.path.join(HERE, f), os.path.join(args.out, f))
    cfg = dict(ck["config"])
    cfg.pop("dropout", None)
    if args.tokenizer_dir:
        ids = copy_tokenizer_dir(args.tokenizer_dir, args.out)
    else:
        ids = {"mask_token_id": task.MASK_ID, "pad_token_id": task.PAD_ID, "eos_token_id": task.END_ID}
        task.write_tokenizer(os.path.join(args.out, "tokenizer.json"))
    config = {
        "architectures": ["TinyDiffModel"],
        "model_type": "tinydiff",
        "auto_map": {"AutoConfig": "configuration_tinydiff.TinyDiffConfig",
                     "AutoModel": "modeling_tinydiff.TinyDiffModel"},
        **cfg,
        **ids,
        "torch_dtype": "float32",
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if isinstance(ids["eos_token_id"], list):
        with open(os.path.join(args.out, "generation_config.json"), "w") as f:
            json.dump({"eos_token_id": ids["eos_token_id"], "pad_token_id": ids["pad_token_id"]}, f, indent=2)
    sd = {f"model.{k}": v.contiguous() for k, v in ck["state_dict"].items()}
    save_file(sd, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
    print(args.out)


def copy_tokenizer_dir(src: str, out: str) -> dict:
    """Copy tokenizer.json + tokenizer_config.json; return mask / pad / eos ids for config.json."""
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), os.path.join(out, f))
    with open(os.path.join(src, "tokenizer.json")) as f:
        tj = json.load(f)
    with open(os.path.join(src, "tokenizer_config.json")) as f:
        tc = json.load(f)
    vocab = dict(tj["model"]["vocab"]) | {t["content"]: t["id"] for t in tj.get("added_tokens", [])}
    eos = vocab[tc["eos_token"]]
    eos_ids = [vocab["<|im_end|>"], eos] if "<|im_end|>" in vocab and vocab["<|im_end|>"] != eos else eos
    return {"mask_token_id": vocab[tc["mask_token"]], "pad_token_id": vocab[tc["pad_token"]], "eos_token_id": eos_ids}


if __name__ == "__main__":
    main()
