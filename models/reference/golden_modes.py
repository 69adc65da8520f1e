"""Writes golden-modes.jsonl for an organism: the reference sampler of every mode (models/reference/
modes.py) x temperature 0 and > 0 x steps = gen_length, gen_length/2, gen_length/4 x two block
lengths, on a few held-out prompts. test/agent/golden-modes.test.ts replays every line in TypeScript.

  ~/.cache/faithsweep/pyenv/bin/python -m models.reference.golden_modes --model models/arith-cot
"""
from __future__ import annotations

import argparse
import json
import os

from models import task
from models.reference.common import open_model
from models.reference.golden import write_jsonl
from models.reference.modes import generate_mode

# (name, options): every mode, and llada's options, in the spec's snake_case names.
SETTINGS = [
    {"mode": "llada", "remasking": "low_confidence"},
    {"mode": "llada", "remasking": "random", "end_confidence": "lowest"},
    {"mode": "llada", "remasking": "low_confidence", "cfg_scale": 1.0, "suppress_end": True},
    {"mode": "dream", "remasking": "maskgit_plus", "top_p": 0.9},
    {"mode": "dream", "remasking": "topk_margin"},
    {"mode": "dream", "remasking": "entropy", "tie_break": "model"},
    {"mode": "fast-dllm", "remasking": "low_confidence", "confidence_threshold": 0.9},
    {"mode": "fast-dllm", "remasking": "low_confidence", "threshold_factor": 1.0},
]
TEMPERATURES = (0.0, 0.5)
BLOCK_LENGTHS = (40, 8)
PROMPT_SEED = 77


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=2)
    args = ap.parse_args()
    model, card = open_model(args.model, threads=1)
    G = card["defaults"]["gen_length"]
    ends = tuple(card.get("end_token_ids", [card["end_token_id"]]))
    rows = []
    for i, (a, b) in enumerate(task.heldout_problems(args.n, seed=PROMPT_SEED)):
        prompt = task.prompt_text(a, b)
        ids = task.encode(prompt)
        for o in SETTINGS:
            for temp in TEMPERATURES:
                for steps in (G, G // 2, G // 4):
                    for bl in BLOCK_LENGTHS:
                        seed = 100 + i
                        r = generate_mode(model, ids, seed, gen_length=G, steps=steps, block_length=bl,
                                          mask_id=card["mask_token_id"], mode=o["mode"], remasking=o["remasking"],
                                          temperature=temp, top_p=o.get("top_p", 1.0),
                                          threshold=o.get("confidence_threshold"), factor=o.get("threshold_factor"),
                                          end_ids=ends, end_confidence=o.get("end_confidence", "model"),
                                          suppress_end=o.get("suppress_end", False), cfg_scale=o.get("cfg_scale", 0.0),
                                          tie_break=o.get("tie_break", "float64"))
                        rows.append({"prompt": prompt, "prompt_ids": ids, "gen_length": G, "steps": steps,
                                     "block_length": bl, "temperature": temp, "seed": seed, "sampler": o,
                                     "tokens": r.tokens[0].tolist(), "commit_step": r.commit_step[0].tolist()})
    write_jsonl(os.path.join(args.model, "golden-modes.jsonl"), rows)
    print(json.dumps({"lines": len(rows)}))


if __name__ == "__main__":
    main()
