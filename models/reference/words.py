"""Reference runs for text organisms with a BPE tokenizer, a chat template and an answer regex
(`word-problems`): the card's `prompt.template == "chat"`.

Prompt ids = tokenizer.json encoding of the chat-template rendering (tokenizer_config.json
`chat_template`, add_generation_prompt) of [{"role": "user", "content": question}]. Response text =
the generated tokens before the first token of `end_token_ids`, decoded with HF `tokenizers`
(specials kept). Answer = the named group `answer` of the LAST match of the card's `answer.regex`
in the response text, normalised with `answer.normalize` ("numeric"); the chain of thought is the
text before that match. Both spans are also given as response token ranges [start, end), widened
outward to whole tokens (character spans from decoding token prefixes).
"""
from __future__ import annotations

import os

import numpy as np

from models import word_problems as wp
from models import word_tokenizer as wt
from models.reference.sampler import generate


class CardText:
    """The card's tokenizer, chat template, end tokens and answer rule."""

    def __init__(self, model_dir: str, card: dict):
        import json

        d = card["defaults"]
        self.text = wt.WordText(os.path.join(model_dir, card["tokenizer"]), gen_length=d["gen_length"],
                                end_ids=card.get("end_token_ids", [card["end_token_id"]]))
        with open(os.path.join(model_dir, card["tokenizer_config"])) as f:
            self.template = json.load(f)["chat_template"]
        self.answer_regex = card["answer"]["regex"]
        self.normalize = card["answer"]["normalize"]

    def prompt(self, question: str) -> str:
        return wt.render_chat([{"role": "user", "content": question}], add_generation_prompt=True,
                              template=self.template)

    def norm(self, s: str | None) -> str | None:
        if self.normalize == "numeric":
            return wp.normalize_numeric(s)
        if self.normalize == "strip-leading-zeros" and s is not None:
            return s.lstrip("0") or "0"
        return s

    def analyse(self, tokens: list[int]) -> dict:
        """text, answer, cot, their response token spans, and the response length in tokens."""
        text = self.text.decode_response(tokens)
        m = wp.extract_answer(text, self.answer_regex)
        out = {"text": text, "answer": None, "cot": None, "answer_span": None, "cot_span": None,
               "response_tokens": self.text.response_end(tokens)}
        if m is None:
            return out
        cs = self.text.token_char_spans(tokens)
        out["answer"] = m.group("answer")
        out["cot"] = text[:m.start()]
        out["answer_span"] = list(wt.token_span(cs, *m.span("answer")) or []) or None
        out["cot_span"] = list(wt.token_span(cs, 0, m.start()) or []) or None
        return out


def run_word_problems(model, ct: CardText, problems: list[wp.Problem], seeds: list[int], *, gen_length: int,
                      steps: int, block_length: int, remasking: str, temperature: float, mask_id: int,
                      batch_size: int = 1) -> list[dict]:
    """Run the reference sampler on word problems; batch rows of equal prompt length."""
    out: list[dict | None] = [None] * len(problems)
    prompts = [ct.prompt(p.question) for p in problems]
    ids = [ct.text.encode(p) for p in prompts]
    groups: dict[int, list[int]] = {}
    for i, x in enumerate(ids):
        groups.setdefault(len(x), []).append(i)
    for _, idxs in sorted(groups.items()):
        for k in range(0, len(idxs), batch_size):
            chunk = idxs[k:k + batch_size]
            P = np.array([ids[i] for i in chunk], dtype=np.int64)
            r = generate(model, P, [seeds[i] for i in chunk], gen_length=gen_length, steps=steps,
                         block_length=block_length, mask_id=mask_id, remasking=remasking, temperature=temperature)
            for j, i in enumerate(chunk):
                pr = problems[i]
                tokens = r.tokens[j].tolist()
                a = ct.analyse(tokens)
                gold = str(pr.final)
                out[i] = {
                    "question": pr.question,
                    "template": pr.template,
                    "n_steps": pr.n_steps,
                    "prompt": prompts[i],
                    "prompt_ids": ids[i],
                    "gold": gold,
                    "gen_length": gen_length, "steps": steps, "block_length": block_length,
                    "remasking": remasking, "temperature": temperature, "seed": int(seeds[i]),
                    "tokens": tokens,
                    "commit_step": r.commit_step[j].tolist(),
                    "text": a["text"],
                    "answer": a["answer"], "cot": a["cot"],
                    "answer_span": a["answer_span"], "cot_span": a["cot_span"],
                    "response_tokens": a["response_tokens"],
                    "correct": a["answer"] is not None and ct.norm(a["answer"]) == gold,
                    "min_commit_margin": None if not np.isfinite(r.min_commit_margin[j]) else float(r.min_commit_margin[j]),
                    "_cut_margins": r.cut_margins[j],
                }
    return out  # type: ignore[return-value]


def _q(values: list[float]) -> dict:
    from models.reference.evaluate import q

    return q(values)


def last_result_span(ct: CardText, row: dict) -> tuple[int, int] | None:
    """Token span of the number after the last '=' in the chain of thought (the last step's result)."""
    cot = row["cot"]
    if not cot or "=" not in cot:
        return None
    k = cot.rindex("=") + 1
    while k < len(cot) and cot[k] in " $":
        k += 1
    e = k
    while e < len(cot) and cot[e].isdigit():
        e += 1
    if e == k:
        return None
    return wt.token_span(ct.text.token_char_spans(row["tokens"]), k, e)


def commit_order_stats(ct: CardText, rows: list[dict], steps: int) -> dict:
    """When is the answer span committed, relative to the chain of thought (token spans)?"""
    diffs, ans_frac, cot_frac, first_ans_frac = [], [], [], []
    before = before_last_result = n_last = 0
    n = 0
    by_steps: dict[int, list[int]] = {}
    for r in rows:
        if r["answer_span"] is None or r["cot_span"] is None:
            continue
        n += 1
        cstep = r["commit_step"]
        (c0, c1), (a0, a1) = r["cot_span"], r["answer_span"]
        cot_done = max(cstep[c0:c1])
        ans_done = max(cstep[a0:a1])
        ans_first = min(cstep[a0:a1])
        before += int(ans_done < cot_done)
        by_steps.setdefault(r["n_steps"], []).append(int(ans_done < cot_done))
        diffs.append(ans_done - cot_done)
        ans_frac.append(ans_done / steps)
        cot_frac.append(cot_done / steps)
        first_ans_frac.append(ans_first / steps)
        lr = last_result_span(ct, r)
        if lr is not None:
            n_last += 1
            before_last_result += int(ans_done < max(cstep[lr[0]:lr[1]]))
    return {
        "n_with_spans": n,
        "frac_answer_fully_committed_before_cot": before / n if n else None,
        "frac_answer_fully_committed_before_last_cot_result": before_last_result / n_last if n_last else None,
        "frac_answer_before_cot_by_reasoning_steps": {str(k): sum(v) / len(v) for k, v in sorted(by_steps.items())},
        "answer_commit_minus_cot_commit_steps": _q(diffs),
        "answer_commit_step_over_steps": _q(ans_frac),
        "cot_commit_step_over_steps": _q(cot_frac),
        "first_answer_token_step_over_steps": _q(first_ans_frac),
        "definition": "spans are response token ranges (answer = the regex group of the last '#### N' match, cot = the "
                      "text before that match, widened to whole tokens); commit step of a span = the global step at "
                      "which its last token was committed; step/steps uses the 0-based step index; last_cot_result = "
                      "the number after the last '=' of the chain of thought",
    }
