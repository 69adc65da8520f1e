"""The task-specific part of the `word-problems` model card, merged by hf_export --card-extra.

  models/.venv/bin/python -m models.export.word_card --checkpoint models/runs/word-problems/checkpoint.pt \
      --out /tmp/card-extra.json

hf_export writes the generic fields (onnx, sha256, tokenizer, tokenizer_config, vocab_size, mask /
pad / end token ids, end_token_ids, special_tokens, max_seq_len, logits_shifted, prompt.template
"chat", inputs / outputs); this adds name, description, defaults, answer, spans and training.
"""
from __future__ import annotations

import argparse
import json

import torch

from models import word_problems as wp
from models import word_tokenizer as wt

DESCRIPTION = (
    "Masked-diffusion LM (LLaDA objective, the bidirectional transformer of the arithmetic organisms) trained on "
    "generated GSM8K-style word problems (14 story templates: shopping, sharing, ages, rates, savings, "
    "collections, reading; 1-3 reasoning steps) with a byte-level BPE tokenizer (HF tokenizers; every number 0-99 "
    "is one token) and a ChatML chat template: the bundled stand-in for a real instruct diffusion LM. The response is "
    "a natural-language chain of thought with its equations, then '#### N', then <|im_end|>, padded with "
    "<|endoftext|>."
)

FORMAT_NOTES = {
    "prompt": "chat template of tokenizer_config.json over [{role: user, content: question}] with "
              "add_generation_prompt: '<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n'",
    "response": "GSM8K answer: one line per reasoning step with its equation ('Tom has 3 * 4 = 12 apples.'), then "
                "'#### N' as the last line, then <|im_end|> (end_token_id), then <|endoftext|> up to gen_length",
    "decoding": "response text = response tokens before the first token of end_token_ids, decoded as HF tokenizers "
                "does (byte-level BPE, specials kept)",
    "answer": "answer.regex (JavaScript), last match in the response text, group 'answer'; normalize numeric; "
              "gold = the final number; no match -> no answer (incorrect)",
    "spans": "cot = response text before the answer match; legacy spans.regex gives the same split for agents "
             "that still need it",
    "tokens": {"<|endoftext|>": wt.EOS_ID, "<|im_start|>": wt.IM_START_ID, "<|im_end|>": wt.IM_END_ID,
               "<|mask|>": wt.MASK_ID},
    "data": "models/word_problems.py (generator, split), models/word_tokenizer.py (tokenizer, template), "
            "heldout.jsonl (the first 200 evaluation problems)",
    "see": "models/README.md",
}


def card_extra(training: dict) -> dict:
    training = {k: v for k, v in training.items() if k != "monitor_history"} | {
        "monitor_history": training.get("monitor_history", []),
        "format_notes": FORMAT_NOTES,
        "tokenizer": {"type": "byte-level BPE (HF tokenizers BpeTrainer)", "target_vocab": wt.TARGET_VOCAB,
                      "corpus": f"{wt.TOKENIZER_CORPUS} chat-rendered training problems of the first task ranges "
                                f"(numbers <= {wp.TOKENIZER_RANGES[0]}, small side <= {wp.TOKENIZER_RANGES[1]}), seed "
                                f"{wt.TOKENIZER_SEED}, plus {wt.NUMBER_REPEATS} copies of ' N $N' for N in "
                                f"0..{wp.TOKEN_NUMBER_MAX}",
                      "pre_tokenizer": "ByteLevel(use_regex, no prefix space); no digit splitting: every number "
                                       f"0..{wp.TOKEN_NUMBER_MAX} is one token (with and without the leading space)"},
        "task_ranges": {"max_number": wp.MAX_NUMBER, "small": wp.SMALL},
    }
    return {
        "name": "word-problems",
        "description": DESCRIPTION,
        "defaults": {"gen_length": wt.GEN_LENGTH, "steps": wt.DEFAULT_STEPS, "block_length": wt.DEFAULT_BLOCK_LENGTH,
                     "remasking": "low_confidence", "temperature": 0},
        "answer": {"normalize": "numeric", "regex": wp.ANSWER_REGEX_JS},
        "spans": {"regex": wp.SPANS_REGEX_JS, "applies_to": "response"},
        "end_token_id": wt.END_TOKEN_ID,
        "end_token_ids": sorted(wt.END_TOKEN_IDS),
        "training": training,
        "evaluation": {"status": "not evaluated"},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    with open(args.out, "w") as f:
        json.dump(card_extra(ck.get("training", {})), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
