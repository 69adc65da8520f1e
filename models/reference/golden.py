"""Write golden trajectories for a model directory (run unbatched, B = 1, like a single agent call).

  models/.venv/bin/python -m models.reference.golden --model models/arith-cot

golden.jsonl:          50 held-out prompts x block lengths (40, 20, 8), low_confidence, temperature 0,
                       steps = gen_length, seed 0.
golden-sampled.jsonl:  10 prompts at temperature 1.0 with low_confidence (seed 1000 + i), 10 prompts
                       with random remasking at temperature 0 (seed 2000 + i), 5 prompts with random
                       remasking at temperature 1.0 (seed 3000 + i); block lengths alternate 40 / 8.

Chat organisms (card prompt.template == "chat", e.g. word-problems, gen_length 64): prompts are
word_problems.heldout_problems(50, seed=2024) (golden) and (25, seed=2025) (sampled); block lengths
64, 32, 16 (golden) and alternating 64 / 16 (sampled); lines carry question / template / prompt
(the rendered chat text) and the answer / cot token spans (models/reference/words.py).
"""
from __future__ import annotations

import argparse
import json
import os

from models import task
from models.reference.common import open_model, run_problems

GOLDEN_PROBLEM_SEED = 2024
SAMPLED_PROBLEM_SEED = 2025


def write_jsonl(path: str, rows: list[dict]) -> None:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps({k: v for k, v in r.items() if not k.startswith("_")}, separators=(",", ":")) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=50)
    args = ap.parse_args()
    model, card = open_model(args.model)
    if card.get("prompt", {}).get("template") == "chat":
        return main_words(args, model, card)
    d = card["defaults"]
    G, steps = d["gen_length"], d["steps"]
    problems = task.heldout_problems(args.n, seed=GOLDEN_PROBLEM_SEED)
    rows = []
    for bl in task.GOLDEN_BLOCK_LENGTHS:
        rows += run_problems(model, problems, [0] * len(problems), gen_length=G, steps=steps, block_length=bl,
                             remasking="low_confidence", temperature=0.0, mask_id=card["mask_token_id"],
                             regex=card["spans"]["regex"])
    write_jsonl(os.path.join(args.model, "golden.jsonl"), rows)
    acc = sum(r["correct"] for r in rows) / len(rows)

    sp = task.heldout_problems(25, seed=SAMPLED_PROBLEM_SEED)
    srows = []
    plan = [(sp[0:10], "low_confidence", 1.0, 1000), (sp[10:20], "random", 0.0, 2000), (sp[20:25], "random", 1.0, 3000)]
    for probs, rem, temp, base in plan:
        for i, p in enumerate(probs):
            bl = 40 if i % 2 == 0 else 8
            srows += run_problems(model, [p], [base + i], gen_length=G, steps=steps, block_length=bl,
                                  remasking=rem, temperature=temp, mask_id=card["mask_token_id"],
                                  regex=card["spans"]["regex"])
    write_jsonl(os.path.join(args.model, "golden-sampled.jsonl"), srows)
    print(json.dumps({"golden": len(rows), "golden_acc": acc, "sampled": len(srows),
                      "sampled_acc": sum(r["correct"] for r in srows) / len(srows)}))


def main_words(args, model, card: dict) -> None:
    from models import word_problems as wp
    from models import word_tokenizer as wt
    from models.reference.words import CardText, run_word_problems

    ct = CardText(args.model, card)
    d = card["defaults"]
    G, steps = d["gen_length"], d["steps"]
    problems = wp.heldout_problems(args.n, seed=GOLDEN_PROBLEM_SEED)
    rows = []
    for bl in wt.GOLDEN_BLOCK_LENGTHS:
        rows += run_word_problems(model, ct, problems, [0] * len(problems), gen_length=G, steps=steps, block_length=bl,
                                  remasking="low_confidence", temperature=0.0, mask_id=card["mask_token_id"])
    write_jsonl(os.path.join(args.model, "golden.jsonl"), rows)
    acc = sum(r["correct"] for r in rows) / len(rows)
    sp = wp.heldout_problems(25, seed=SAMPLED_PROBLEM_SEED)
    srows = []
    plan = [(sp[0:10], "low_confidence", 1.0, 1000), (sp[10:20], "random", 0.0, 2000), (sp[20:25], "random", 1.0, 3000)]
    big, small = wt.GOLDEN_BLOCK_LENGTHS[0], wt.GOLDEN_BLOCK_LENGTHS[-1]
    for probs, rem, temp, base in plan:
        for i, p in enumerate(probs):
            srows += run_word_problems(model, ct, [p], [base + i], gen_length=G, steps=steps,
                                       block_length=big if i % 2 == 0 else small, remasking=rem, temperature=temp,
                                       mask_id=card["mask_token_id"])
    write_jsonl(os.path.join(args.model, "golden-sampled.jsonl"), srows)
    print(json.dumps({"golden": len(rows), "golden_acc": acc, "sampled": len(srows),
                      "sampled_acc": sum(r["correct"] for r in srows) / len(srows)}))


if __name__ == "__main__":
    main()
