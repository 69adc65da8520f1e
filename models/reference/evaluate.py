"""Evaluate a model directory with the reference sampler and write model.json `evaluation`.

  models/.venv/bin/python -m models.reference.evaluate --model models/arith-cot

1,000 held-out problems (task.heldout_problems(1000, seed=1234)), steps = gen_length,
low_confidence, temperature 0, seed 0, the card's default block length; plus the same at the extra
block lengths (--extra-block-lengths, reported under `by_block_length`). Only the card's
`evaluation` key is rewritten; the sha256 of model.onnx is checked first.

Chat organisms (card prompt.template == "chat", e.g. word-problems): the problems are
word_problems.heldout_problems(n, seed=1234) (the first 200 are heldout.jsonl), the answer is the
card's answer.regex / answer.normalize against the gold final number (models/reference/words.py).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import time

import numpy as np

from models import task
from models.reference.common import open_model, run_problems, spans

EVAL_PROBLEM_SEED = 1234
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def q(values: list[float]) -> dict:
    if not values:
        return {}
    v = np.array(values, dtype=np.float64)
    return {f"p{int(round(x * 100)):02d}": float(np.quantile(v, x)) for x in QUANTILES} | {"mean": float(v.mean())}


def commit_order_stats(rows: list[dict], steps: int, regex: str = task.SPANS_REGEX_JS) -> dict:
    """When is the answer span fully committed, relative to the chain-of-thought span?"""
    diffs, ans_frac, cot_frac, first_ans_frac = [], [], [], []
    before = 0
    n = 0
    for r in rows:
        cs, asp = spans(r["text"], regex)
        if cs is None:
            continue
        n += 1
        cstep = r["commit_step"]
        cot_done = max(cstep[cs[0]:cs[1]])
        ans_done = max(cstep[asp[0]:asp[1]])
        ans_first = min(cstep[asp[0]:asp[1]])
        before += int(ans_done < cot_done)
        diffs.append(ans_done - cot_done)
        ans_frac.append(ans_done / steps)
        cot_frac.append(cot_done / steps)
        first_ans_frac.append(ans_first / steps)
    return {
        "n_with_spans": n,
        "frac_answer_fully_committed_before_cot": before / n if n else None,
        "answer_commit_minus_cot_commit_steps": q(diffs),
        "answer_commit_step_over_steps": q(ans_frac),
        "cot_commit_step_over_steps": q(cot_frac),
        "first_answer_token_step_over_steps": q(first_ans_frac),
        "definition": "commit step of a span = the global step at which its last token was committed; "
                      "step/steps uses the 0-based step index",
    }


def evaluate(model, card: dict, problems, block_length: int, batch_size: int) -> dict:
    d = card["defaults"]
    t0 = time.time()
    rows = run_problems(model, problems, [0] * len(problems), gen_length=d["gen_length"], steps=d["steps"],
                        block_length=block_length, remasking="low_confidence", temperature=0.0,
                        mask_id=card["mask_token_id"], batch_size=batch_size, regex=card["spans"]["regex"])
    wall = time.time() - t0
    correct = sum(r["correct"] for r in rows)
    parsed = sum(r["answer"] is not None for r in rows)
    from models.reference.margins import margin_stats, wilson

    def carries(a: int, b: int) -> bool:
        c = 0
        for i in range(task.N_COLUMNS):
            c = int((a // 10**i) % 10 + (b // 10**i) % 10 + c >= 10)
            if c:
                return True
        return False

    by_carry = {}
    for key, want in (("with_carry", True), ("without_carry", False)):
        sub = [r for r in rows if carries(r["a"], r["b"]) == want]
        k = sum(r["correct"] for r in sub)
        by_carry[key] = {"n": len(sub), "n_correct": k, "accuracy": k / len(sub) if sub else None,
                         "wilson95": list(wilson(k, len(sub)))}
    return {
        "accuracy": correct / len(rows),
        "accuracy_wilson95": list(wilson(correct, len(rows))),
        "by_carry": by_carry,
        "commit_margins": margin_stats(rows),
        "n": len(rows),
        "n_correct": correct,
        "n_parsed": parsed,
        "settings": {"gen_length": d["gen_length"], "steps": d["steps"], "block_length": block_length,
                     "remasking": "low_confidence", "temperature": 0, "seed": 0},
        "commit_order": commit_order_stats(rows, d["steps"], card["spans"]["regex"]),
        "wall_time_s": round(wall, 1),
    }


def evaluate_words(model, card: dict, ct, problems, block_length: int, batch_size: int) -> dict:
    from models.reference.words import commit_order_stats as words_commit_order, run_word_problems

    d = card["defaults"]
    t0 = time.time()
    rows = run_word_problems(model, ct, problems, [0] * len(problems), gen_length=d["gen_length"], steps=d["steps"],
                             block_length=block_length, remasking="low_confidence", temperature=0.0,
                             mask_id=card["mask_token_id"], batch_size=batch_size)
    wall = time.time() - t0
    correct = sum(r["correct"] for r in rows)
    by_steps: dict[str, list[int]] = {}
    by_template: dict[str, list[int]] = {}
    for r in rows:
        by_steps.setdefault(str(r["n_steps"]), []).append(int(r["correct"]))
        by_template.setdefault(r["template"], []).append(int(r["correct"]))
    return {
        "accuracy": correct / len(rows),
        "n": len(rows),
        "n_correct": correct,
        "n_parsed": sum(r["answer"] is not None for r in rows),
        "accuracy_by_reasoning_steps": {k: {"n": len(v), "accuracy": sum(v) / len(v)} for k, v in sorted(by_steps.items())},
        "accuracy_by_template": {k: {"n": len(v), "accuracy": sum(v) / len(v)} for k, v in sorted(by_template.items())},
        "response_tokens": q([r["response_tokens"] for r in rows]),
        "settings": {"gen_length": d["gen_length"], "steps": d["steps"], "block_length": block_length,
                     "remasking": "low_confidence", "temperature": 0, "seed": 0},
        "commit_order": words_commit_order(ct, rows, d["steps"]),
        "wall_time_s": round(wall, 1),
    }, rows


def main_words(args, model, card: dict) -> None:
    from models import word_problems as wp
    from models.reference.words import CardText

    ct = CardText(args.model, card)
    problems = wp.heldout_problems(args.n, seed=wp.EVAL_SEED)
    d = card["defaults"]
    main_res, rows = evaluate_words(model, card, ct, problems, d["block_length"], args.batch_size)
    by_bl = {}
    for s in [x for x in (args.extra_block_lengths or "").split(",") if x.strip()]:
        r, _ = evaluate_words(model, card, ct, problems, int(s), args.batch_size)
        by_bl[s] = {k: r[k] for k in ("accuracy", "n", "n_correct", "settings", "commit_order")}
    card["evaluation"] = {
        "metric": f"the card's answer rule ({card['answer']['normalize']}, last match of answer.regex in the response "
                  "text) against the gold final number",
        "split": f"held-out (template, numbers) keys (word_problems.is_heldout), problems = "
                 f"word_problems.heldout_problems({args.n}, seed={wp.EVAL_SEED}) (its first 200 = heldout.jsonl)",
        **main_res,
        "by_block_length": by_bl,
        "sampler": "models/reference/sampler.py (onnxruntime CPU, batched by prompt length)",
        "command": f"models/.venv/bin/python -m models.reference.evaluate --model {args.model} --n {args.n} "
                   f"--extra-block-lengths {args.extra_block_lengths or ''}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with open(os.path.join(args.model, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    wrong = [{"question": r["question"], "text": r["text"], "gold": r["gold"]} for r in rows if not r["correct"]]
    print(json.dumps({"accuracy": main_res["accuracy"], "n": main_res["n"],
                      "by_block_length": {k: v["accuracy"] for k, v in by_bl.items()},
                      "frac_answer_before_cot": main_res["commit_order"]["frac_answer_fully_committed_before_cot"],
                      "wall_s": main_res["wall_time_s"], "first_wrong": wrong[:5]}, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--extra-block-lengths", default=None,
                    help="comma-separated; empty for none (default: 8, or 16 for chat organisms)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model, card = open_model(args.model, threads=args.threads)
    if card.get("prompt", {}).get("template") == "chat":
        if args.extra_block_lengths is None:
            args.extra_block_lengths = "16"
        return main_words(args, model, card)
    if args.extra_block_lengths is None:
        args.extra_block_lengths = "8"
    problems = task.heldout_problems(args.n, seed=EVAL_PROBLEM_SEED)
    d = card["defaults"]
    main_res = evaluate(model, card, problems, d["block_length"], args.batch_size)
    by_bl = {}
    for s in [x for x in args.extra_block_lengths.split(",") if x.strip()]:
        r = evaluate(model, card, problems, int(s), args.batch_size)
        by_bl[s] = {k: r[k] for k in ("accuracy", "accuracy_wilson95", "n", "n_correct", "settings", "commit_order")}
    evaluation = {
        "metric": "exact match of the normalised answer (strip-leading-zeros) against String(a+b)",
        "split": f"held-out operand pairs (task.is_heldout), problems = heldout_problems({args.n}, seed={EVAL_PROBLEM_SEED})",
        **main_res,
        "by_block_length": by_bl,
        "sampler": "models/reference/sampler.py (onnxruntime CPU, batched by prompt length)",
        "command": f"models/.venv/bin/python -m models.reference.evaluate --model {args.model}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    card["evaluation"] = evaluation
    path = os.path.join(args.model, "model.json")
    with open(path, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(json.dumps({"accuracy": main_res["accuracy"], "n": main_res["n"],
                      "by_block_length": {k: v["accuracy"] for k, v in by_bl.items()},
                      "frac_answer_before_cot": main_res["commit_order"]["frac_answer_fully_committed_before_cot"],
                      "wall_s": main_res["wall_time_s"]}))


if __name__ == "__main__":
    main()
