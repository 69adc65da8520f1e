"""Tiny randomly initialised masked LMs as Hugging Face directories, to exercise hf_export without a download.

    models/.venv/bin/python -m models.export.tiny_mlms --out DIR [--seed 0]

Writes DIR/bert (BertForMaskedLM), DIR/albert (AlbertForMaskedLM) — built from transformers configs
(hidden 32, 2 layers), a WordPiece-style word-level tokenizer of 40 tokens with [PAD] [UNK] [CLS]
[SEP] [MASK] — and DIR/organism: the project's remote-code tinydiff organism architecture
(models/export/hf_tiny, trust_remote_code, AutoModel) with random weights and the word-problems
tokenizer (V = 1037). Prints {"bert": path, "albert": path, "organism": path}.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def write_tokenizer(out: str) -> int:
    """A word-level tokenizer (tokenizers library) of SPECIAL + 35 words; returns its size."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = SPECIAL + [chr(ord("a") + i) for i in range(26)] + [str(d) for d in range(9)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(SPECIAL)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                   "mask_token": "[MASK]", "model_max_length": 64, "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=2)
    return len(words)


def encoder(kind: str, out: str) -> None:
    from transformers import AlbertConfig, AlbertForMaskedLM, BertConfig, BertForMaskedLM

    os.makedirs(out, exist_ok=True)
    v = write_tokenizer(out)
    common = dict(vocab_size=v, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                  max_position_embeddings=64, pad_token_id=0)
    if kind == "bert":
        model = BertForMaskedLM(BertConfig(**common))
    else:
        model = AlbertForMaskedLM(AlbertConfig(embedding_size=16, **common))
    model.eval().save_pretrained(out)


def organism(out: str) -> None:
    from transformers import AutoConfig, AutoModel

    from models.export.make_hf_dir import copy_tokenizer_dir

    os.makedirs(out, exist_ok=True)
    for f in ("configuration_tinydiff.py", "modeling_tinydiff.py"):
        shutil.copy(os.path.join(HERE, "hf_tiny", f), os.path.join(out, f))
    ids = copy_tokenizer_dir(os.path.join(HERE, "..", "word-problems"), out)
    with open(os.path.join(HERE, "..", "word-problems", "tokenizer.json")) as f:
        tj = json.load(f)
    v = max([*tj["model"]["vocab"].values(), *(t["id"] for t in tj.get("added_tokens", []))]) + 1
    config = {"architectures": ["TinyDiffModel"], "model_type": "tinydiff",
              "auto_map": {"AutoConfig": "configuration_tinydiff.TinyDiffConfig",
                           "AutoModel": "modeling_tinydiff.TinyDiffModel"},
              "vocab_size": v, "max_seq_len": 128, "d_model": 32, "n_layers": 2, "n_heads": 2, "d_ff": 64,
              **ids, "torch_dtype": "float32"}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    cfg = AutoConfig.from_pretrained(out, trust_remote_code=True)
    model = AutoModel.from_config(cfg, trust_remote_code=True).eval()
    model.save_pretrained(out)
    if isinstance(ids["eos_token_id"], list):
        with open(os.path.join(out, "generation_config.json"), "w") as f:
            json.dump({"eos_token_id": ids["eos_token_id"], "pad_token_id": ids["pad_token_id"]}, f, indent=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    paths = {k: os.path.join(args.out, k) for k in ("bert", "albert", "organism")}
    encoder("bert", paths["bert"])
    encoder("albert", paths["albert"])
    organism(paths["organism"])
    print(json.dumps(paths))


if __name__ == "__main__":
    main()
