"""Tokenizer, chat template and model text of the `word-problems` organism.

  models/.venv/bin/python -m models.word_tokenizer --out models/word-problems   # tokenizer.json + tokenizer_config.json

Tokenizer: byte-level BPE trained with Hugging Face `tokenizers` (BpeTrainer) on rendered training
text (seed TOKENIZER_SEED, TOKENIZER_CORPUS problems) plus NUMBER_REPEATS copies of every number
0..TOKEN_NUMBER_MAX (99) written both ways it occurs (" 57" and "$57"); the problems are those of the
first task ranges (word_problems.TOKENIZER_RANGES: numbers <= 99), so the tokenizer is unchanged by the
narrower ranges the organism is now trained on. Pre-tokenizer: GPT-2 style ByteLevel
(its word regex, no prefix space; no digit splitting), so every number a problem can contain is ONE
token (`Ġ57` after a space, `57` after "$"; checked by build_tokenizer): an equation "a op b = c"
is then a single classification of c's token given a's and b's, which a ~1M-parameter model
learns on CPU (with single-digit tokens it did not; models/README.md section 8).
Decoder: ByteLevel. Special tokens are added tokens with fixed ids:

    0 <|endoftext|>   EOS; also fills the generated region after the end of turn
    1 <|im_start|>    start of a chat turn
    2 <|im_end|>      end of turn (the response's end token)
    3 <|mask|>        the diffusion mask

tokenizer_config.json (transformers format) holds the ChatML-style `chat_template`
(CHAT_TEMPLATE), bos_token null, eos_token <|endoftext|>, pad_token <|endoftext|>,
mask_token <|mask|>, add_bos_token false and `added_tokens_decoder`.

Model text: prompt = render_chat([{"role": "user", "content": question}], add_generation_prompt=True)
= "<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n"; response = answer +
"<|im_end|>", then <|endoftext|> up to GEN_LENGTH tokens.
"""
from __future__ import annotations

import argparse
import functools
import json
import os

import numpy as np

from models import word_problems as wp

EOS, IM_START, IM_END, MASK = "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|mask|>"
SPECIAL_TOKENS = [EOS, IM_START, IM_END, MASK]
EOS_ID, IM_START_ID, IM_END_ID, MASK_ID = 0, 1, 2, 3
PAD_ID = EOS_ID
END_TOKEN_ID = IM_END_ID  # the card's end_token_id (the turn ends here)
END_TOKEN_IDS = [EOS_ID, IM_END_ID]  # the response ends at the first of these

TARGET_VOCAB = 1536
TOKENIZER_SEED = 77
TOKENIZER_CORPUS = 30000

GEN_LENGTH = 48  # response tokens (answer + <|im_end|> + <|endoftext|> padding)
MAX_PROMPT_TOKENS = 64  # rendered prompt, checked by the generator (longer prompts are rejected)
MAX_SEQ_LEN = MAX_PROMPT_TOKENS + GEN_LENGTH
DEFAULT_STEPS = GEN_LENGTH
DEFAULT_BLOCK_LENGTH = GEN_LENGTH
GOLDEN_BLOCK_LENGTHS = (48, 24, 16)

# ChatML-style: one "<|im_start|>{role}\n{content}<|im_end|>\n" per message (an optional system
# message is just the first message), then "<|im_start|>assistant\n" as the generation prompt.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


NUMBER_REPEATS = 20


def corpus_texts(n: int = TOKENIZER_CORPUS, seed: int = TOKENIZER_SEED) -> list[str]:
    """Rendered prompt + response text of n training problems (specials are stripped by the trainer),
    then NUMBER_REPEATS copies of " N $N" for every N in 0..TOKEN_NUMBER_MAX (so that every number is
    merged into one token whatever its frequency in the problems)."""
    out = [" ".join(f" {v} ${v}" for v in range(wp.TOKEN_NUMBER_MAX + 1)) for _ in range(NUMBER_REPEATS)]
    with wp.ranges(wp.TOKENIZER_RANGES):  # the tokenizer's corpus: problems of the first ranges (<= 99)
        for i, pr in zip(range(n), wp.training_problems(seed)):
            out.append(prompt_text(pr.question, system="You are a helpful assistant." if i % 10 == 0 else None))
            out.append(pr.answer + IM_END)
    return out


def build_tokenizer(vocab_size: int = TARGET_VOCAB):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus_texts(), trainer=trainer)
    for t, i in zip(SPECIAL_TOKENS, (EOS_ID, IM_START_ID, IM_END_ID, MASK_ID)):
        assert tok.token_to_id(t) == i, (t, tok.token_to_id(t))
    for v in range(wp.TOKEN_NUMBER_MAX + 1):
        for form in (f" {v}", f"{v}"):
            ids = tok.encode(form, add_special_tokens=False).ids
            assert len(ids) == 1, f"number {form!r} is {len(ids)} tokens; raise NUMBER_REPEATS"
    return tok


def tokenizer_config(max_seq_len: int = MAX_SEQ_LEN) -> dict:
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                     "single_word": False, "special": True}
            for i, t in enumerate(SPECIAL_TOKENS)
        },
        "additional_special_tokens": [IM_START, IM_END],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": EOS,
        "mask_token": MASK,
        "model_max_length": max_seq_len,
        "pad_token": EOS,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }


def write_tokenizer_files(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    tok = build_tokenizer()
    tok.save(os.path.join(out_dir, "tokenizer.json"), pretty=True)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(), f, indent=2, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------- rendering / encoding
@functools.lru_cache(maxsize=4)
def _template(src: str):
    # as transformers renders chat templates: sandboxed, trim_blocks + lstrip_blocks
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(src)


def render_chat(messages: list[dict], add_generation_prompt: bool = True, template: str = CHAT_TEMPLATE) -> str:
    return _template(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                      bos_token="", eos_token=EOS)


def prompt_text(question: str, system: str | None = None) -> str:
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": question}]
    return render_chat(msgs, add_generation_prompt=True)


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


class WordText:
    """Encoding / decoding of the organism's text with a given tokenizer.json."""

    def __init__(self, tokenizer_json: str, gen_length: int = GEN_LENGTH, end_ids: list[int] | None = None):
        self.tok = load_tokenizer(tokenizer_json)
        self.gen_length = gen_length
        self.end_ids = set(end_ids if end_ids is not None else END_TOKEN_IDS)

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def prompt_ids(self, question: str) -> list[int]:
        return self.encode(prompt_text(question))

    def response_ids(self, answer: str) -> list[int]:
        ids = self.encode(answer + IM_END)
        if len(ids) > self.gen_length:
            raise ValueError(f"response of {len(ids)} tokens exceeds gen_length {self.gen_length}")
        return ids + [EOS_ID] * (self.gen_length - len(ids))

    def response_end(self, ids) -> int:
        """Index of the first end token (len(ids) if none)."""
        for k, i in enumerate(ids):
            if int(i) in self.end_ids:
                return k
        return len(ids)

    def decode_response(self, ids) -> str:
        """Response text: tokens before the first end token, decoded as HF does (specials kept)."""
        ids = [int(i) for i in ids]
        return self.tok.decode(ids[:self.response_end(ids)], skip_special_tokens=False)

    def token_char_spans(self, ids) -> list[tuple[int, int]]:
        """[start, end) character span of each response token (before the first end token) in the
        decoded text, by decoding prefixes (exact for this ASCII-only organism)."""
        ids = [int(i) for i in ids]
        ids = ids[:self.response_end(ids)]
        spans, prev = [], 0
        for k in range(1, len(ids) + 1):
            n = len(self.tok.decode(ids[:k], skip_special_tokens=False))
            spans.append((prev, n))
            prev = n
        return spans


def token_span(char_spans: list[tuple[int, int]], lo: int, hi: int) -> tuple[int, int] | None:
    """The response token range [a, b) covering characters [lo, hi) (widened to whole tokens)."""
    toks = [k for k, (s, e) in enumerate(char_spans) if s < hi and e > lo]
    if not toks:
        return None
    return toks[0], toks[-1] + 1


def length_stats(tokenizer_json: str, n: int = 20000, seed: int = 5) -> dict:
    wt = WordText(tokenizer_json)
    pl, rl = [], []
    for _, pr in zip(range(n), wp.training_problems(seed)):
        pl.append(len(wt.prompt_ids(pr.question)))
        rl.append(len(wt.encode(pr.answer + IM_END)))
    pl, rl = np.array(pl), np.array(rl)
    return {"prompt_max": int(pl.max()), "prompt_mean": float(pl.mean()), "prompt_min": int(pl.min()),
            "response_max": int(rl.max()), "response_mean": float(rl.mean()), "response_min": int(rl.min())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()
    write_tokenizer_files(args.out)
    tj = os.path.join(args.out, "tokenizer.json")
    info = {"vocab_size": load_tokenizer(tj).get_vocab_size()}
    if args.stats:
        info |= length_stats(tj)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
