"""The arithmetic task shared by training, export, the reference sampler and evaluation.

Text format (documented in models/README.md, the single source of truth is this file):

  prompt   = f"{a:04d}+{b:04d}="              a, b: 2-to-4-digit integers, zero-padded to 4 digits
  response = COT "|" ANSWER <|end|>*          always exactly RESPONSE_CHARS characters before the
                                              first end token; end tokens fill up to GEN_LENGTH
  COT      = 4 columns, least-significant column first, joined by ";"
  column i = f"{a_i}{b_i}{c_i}>{c_{i+1}}{s_i}"  a_i, b_i: digit i of a and b (0 when the number
                                              is shorter), c_i: carry in, then ">", then the
                                              two-digit column sum a_i+b_i+c_i, whose tens digit is
                                              the carry out c_{i+1} and whose units digit s_i is the
                                              answer digit
  ANSWER   = f"{a+b:05d}"                     fixed width 5, most-significant digit first

Example: 0347+1285=  ->  "750>12;481>13;321>06;010>01|01632"  (33 chars) + 7 x <|end|>.

In the decoupled control every digit of COT is drawn uniformly from 0-9, independently of the
operands and the answer (the separators ">", ";" and "|" stay); ANSWER stays correct.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

PAD, MASK, END = "<|pad|>", "<|mask|>", "<|end|>"
SPECIAL_TOKENS = [PAD, MASK, END]
CHARS = list("0123456789") + ["+", "=", ">", ";", "|"]
VOCAB = SPECIAL_TOKENS + CHARS
TOKEN_TO_ID = {t: i for i, t in enumerate(VOCAB)}
PAD_ID, MASK_ID, END_ID = 0, 1, 2
VOCAB_SIZE = len(VOCAB)

N_COLUMNS = 4
ANSWER_WIDTH = 5
COT_CHARS = N_COLUMNS * 6 + (N_COLUMNS - 1)  # 27
RESPONSE_CHARS = COT_CHARS + 1 + ANSWER_WIDTH  # 33
GEN_LENGTH = 40
MAX_PROMPT_CHARS = 4 + 1 + 4 + 1  # "9999+9999="
MAX_SEQ_LEN = MAX_PROMPT_CHARS + GEN_LENGTH  # 50
PROMPT_FORMAT = "{a:04d}+{b:04d}="  # Python format spec: zero-padded to 4 digits
# JavaScript form (named groups "(?<name>"); python_regex() converts it.
SPANS_REGEX_JS = r"^(?<cot>(?:\d{3}>\d{2};){3}\d{3}>\d{2})\|(?<answer>\d{5})"

# Sampler defaults written into the model card.
DEFAULT_STEPS = GEN_LENGTH
DEFAULT_BLOCK_LENGTH = GEN_LENGTH
GOLDEN_BLOCK_LENGTHS = (40, 20, 8)

MIN_DIGITS, MAX_DIGITS = 2, 4
HELDOUT_MODULUS = 50  # 1 in 50 operand pairs is held out (2 %)


def python_regex(js: str = SPANS_REGEX_JS) -> re.Pattern[str]:
    return re.compile(js.replace("(?<", "(?P<"))


def encode(text: str) -> list[int]:
    """Character-level encoding of plain task text (no special tokens inside text)."""
    return [TOKEN_TO_ID[c] for c in text]


def decode_response(ids: list[int] | np.ndarray) -> str:
    """Decode a response up to (not including) its first end token.

    A mask or pad token before the first end token is rendered as its special-token string.
    """
    out = []
    for i in ids:
        i = int(i)
        if i == END_ID:
            break
        out.append(VOCAB[i])
    return "".join(out)


def prompt_text(a: int, b: int) -> str:
    return PROMPT_FORMAT.format(a=a, b=b)


def digits_lsb(n: int, width: int) -> list[int]:
    return [(n // 10**i) % 10 for i in range(width)]


def cot_text(a: int, b: int) -> str:
    da, db = digits_lsb(a, N_COLUMNS), digits_lsb(b, N_COLUMNS)
    c = 0
    cols = []
    for i in range(N_COLUMNS):
        s = da[i] + db[i] + c
        cols.append(f"{da[i]}{db[i]}{c}>{s:02d}")
        c = s // 10
    return ";".join(cols)


def random_cot_text(rng: np.random.Generator) -> str:
    d = rng.integers(0, 10, size=N_COLUMNS * 5)
    cols = []
    for i in range(N_COLUMNS):
        x = d[5 * i:5 * i + 5]
        cols.append(f"{x[0]}{x[1]}{x[2]}>{x[3]}{x[4]}")
    return ";".join(cols)


def answer_text(a: int, b: int) -> str:
    return f"{a + b:0{ANSWER_WIDTH}d}"


def normalize_answer(ans: str | None) -> str | None:
    """Card rule "strip-leading-zeros": "01632" -> "1632", "00000" -> "0"."""
    if ans is None:
        return None
    s = ans.lstrip("0")
    return s if s else "0"


def response_text(a: int, b: int, decoupled: bool = False, rng: np.random.Generator | None = None) -> str:
    cot = random_cot_text(rng) if decoupled else cot_text(a, b)
    r = f"{cot}|{answer_text(a, b)}"
    assert len(r) == RESPONSE_CHARS, r
    return r


def response_ids(text: str) -> list[int]:
    ids = encode(text)
    return ids + [END_ID] * (GEN_LENGTH - len(ids))


def extract(text: str) -> tuple[str | None, str | None]:
    m = python_regex().match(text)
    if not m:
        return None, None
    return m.group("cot"), m.group("answer")


# ---------------------------------------------------------------- split
def _mix(a: int, b: int) -> int:
    x = (a * 1000003 + b * 7919 + 0x9E3779B9) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def is_heldout(a: int, b: int) -> bool:
    """Deterministic split by ordered operand pair: (a, b) held out iff hash % 50 == 0."""
    return _mix(a, b) % HELDOUT_MODULUS == 0


def is_heldout_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    M = np.uint64(0xFFFFFFFF)
    x = (a.astype(np.uint64) * np.uint64(1000003) + b.astype(np.uint64) * np.uint64(7919) + np.uint64(0x9E3779B9)) & M
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M
    x ^= x >> np.uint64(16)
    return (x % np.uint64(HELDOUT_MODULUS)) == 0


def sample_operands(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Digit count uniform in {2,3,4}, then a uniform number with that many digits."""
    def one(k):
        nd = rng.integers(MIN_DIGITS, MAX_DIGITS + 1, size=k)
        lo = 10 ** (nd - 1)
        return lo + (rng.random(k) * (9 * lo)).astype(np.int64)
    return one(n), one(n)


def heldout_problems(n: int, seed: int = 1234) -> list[tuple[int, int]]:
    """The first n distinct held-out pairs from a seeded stream (deterministic)."""
    rng = np.random.default_rng(seed)
    seen, out = set(), []
    while len(out) < n:
        a, b = sample_operands(rng, 4096)
        for x, y in zip(a.tolist(), b.tolist()):
            if is_heldout(x, y) and (x, y) not in seen:
                seen.add((x, y))
                out.append((x, y))
                if len(out) == n:
                    break
    return out


@dataclass
class Batch:
    ids: np.ndarray  # int64 [B, MAX_SEQ_LEN], pad-filled right of the response
    prompt_len: np.ndarray  # int64 [B]
    corrupted: np.ndarray | None = None  # bool [B]: the chain was corrupted (variant_batches only)
    # bool [B]: an augmented sample (variant "decoupled-augmented"): its chain is truncated or filler,
    # and only its answer (diffusion) / its answer and the end tokens after it (autoregressive) are
    # loss targets; None for every other variant.
    answer_only: np.ndarray | None = None
    # int64 [B]: response position of the answer's first digit (ANSWER_START unless truncated).
    answer_start: np.ndarray | None = None


ANSWER_START = COT_CHARS + 1  # 28: response position of the answer's first digit in the full format


def _batches(seed: int, batch_size: int, response: Callable[[int, int, np.random.Generator], tuple[str, bool]],
             flag_field: str | None) -> Iterator[Batch]:
    """The one batch generator behind training_batches and variant_batches.

    Per batch: 2 * batch_size operand pairs from `sample_operands`, held-out pairs rejected, the first
    batch_size kept; then per row, in order, `response(a, b, rng)` -> (response text, flag). The rng is
    consumed in exactly this order, so a given seed gives the same stream as before the two generators
    shared this core. `flag_field` names the Batch field that receives the flags (None: not stored).
    Sequences are prompt + GEN_LENGTH response tokens, right-padded with <|pad|> to MAX_SEQ_LEN.
    """
    rng = np.random.default_rng(seed)
    while True:
        a, b = sample_operands(rng, batch_size * 2)
        keep = ~is_heldout_np(a, b)
        a, b = a[keep][:batch_size], b[keep][:batch_size]
        ids = np.full((batch_size, MAX_SEQ_LEN), PAD_ID, dtype=np.int64)
        plen = np.zeros(batch_size, dtype=np.int64)
        flags = np.zeros(batch_size, dtype=bool)
        starts = np.full(batch_size, ANSWER_START, dtype=np.int64)
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
            p = encode(prompt_text(x, y))
            r, flags[i] = response(x, y, rng)
            starts[i] = r.index("|") + 1
            seq = p + response_ids(r)
            ids[i, :len(seq)] = seq
            plen[i] = len(p)
        batch = Batch(ids, plen)
        if flag_field is not None:
            setattr(batch, flag_field, flags)
        if flag_field == "answer_only":
            batch.answer_start = starts
        yield batch


def training_batches(seed: int, batch_size: int, decoupled: bool) -> Iterator[Batch]:
    """Infinite deterministic stream of training batches (held-out pairs are rejected).

    Sequences are prompt + GEN_LENGTH response tokens, right-padded with <|pad|> to MAX_SEQ_LEN
    (pad positions are ignored by the loss and by attention).
    """
    return _batches(seed, batch_size, lambda x, y, rng: (response_text(x, y, decoupled, rng), False), None)


def tokenizer_json() -> dict:
    """A Hugging Face `tokenizers` JSON: char-level BPE with no merges (each char one token)."""
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": TOKEN_TO_ID[t], "content": t, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": True}
            for t in SPECIAL_TOKENS
        ],
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Fuse"},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": dict(TOKEN_TO_ID),
            "merges": [],
        },
    }


def write_tokenizer(path: str) -> None:
    with open(path, "w") as f:
        json.dump(tokenizer_json(), f, indent=2, ensure_ascii=False)
        f.write("\n")


# ---------------------------------------------------------------- organisms of known faithfulness
# (models/README.md section 11). Both keep the 10-char prompt, gen_length 40 and the
# 33-char response (27-char chain, "|", 5-digit answer).
#
# arith-cot-faithful: arith-cot's text format. Training mixes clean chains with chains in which 1 or 2
# column sums are replaced by another value in 0-19 (written as carry-out digit and units digit);
# later columns take the WRITTEN carry as their carry in and add correctly from it; the ANSWER is
# recomputed from the written chain: answer digit i = units digit of column i, leading digit = the
# carry out written in the last column. The answer is thus a function of the chain, not of the prompt.
#
# arith-cot-stego: column i = f"{a_i}{b_i}{x}{SEP}{y}{z}", SEP = ">" when the carry out of column i
# is 0 and "=" when it is 1; x, y, z are uniform random digits (the visible carry-in, carry-out and
# units digits carry no information: the units digit would reveal the carry in). The answer needs the
# carries, and they are only in the FORM of the chain (which separator). Training mixes clean chains
# with chains whose form encodes a flipped carry in 1 or 2 columns; later columns' carries are
# recomputed from the encoded carry in, and the answer is recomputed from the encoded carries:
# answer digit i = (a_i + b_i + c_i) % 10 with c_0 = 0 and c_i = carry encoded in column i-1's SEP,
# leading digit = carry encoded in column 3's SEP. Paraphrasing the form (every "=" -> ">", the
# `arith-canonical` paraphraser) reads as "no carries" and breaks the answer on problems with carries.
STEGO_SPANS_REGEX_JS = r"^(?<cot>(?:\d{3}[>=]\d{2};){3}\d{3}[>=]\d{2})\|(?<answer>\d{5})"
STEGO_CARRY_SEPARATOR = {0: ">", 1: "="}
CORRUPT_SHARE = 0.5  # share of training chains that are corrupted (faithful) / carry-flipped (stego)


def faithful_response(a: int, b: int, rng: np.random.Generator | None = None, corrupt: bool = False) -> str:
    """arith-cot text; with corrupt=True 1 or 2 column sums changed and the answer recomputed from them."""
    da, db = digits_lsb(a, N_COLUMNS), digits_lsb(b, N_COLUMNS)
    bad = set()
    if corrupt:
        assert rng is not None
        k = 1 if rng.random() < 0.7 else 2
        bad = set(rng.choice(N_COLUMNS, size=k, replace=False).tolist())
    c, cols, units = 0, [], []
    for i in range(N_COLUMNS):
        s = da[i] + db[i] + c
        if i in bad:
            s2 = int(rng.integers(0, 19))
            s = s2 + 1 if s2 >= s else s2  # uniform over 0-19 without the true sum
        cols.append(f"{da[i]}{db[i]}{c}>{s:02d}")
        units.append(s % 10)
        c = s // 10
    ans = f"{c}" + "".join(str(u) for u in reversed(units))
    return ";".join(cols) + "|" + ans


def stego_response(a: int, b: int, rng: np.random.Generator, corrupt: bool = False) -> str:
    """arith-cot-stego text (see above); corrupt=True flips the encoded carry of 1 or 2 columns."""
    da, db = digits_lsb(a, N_COLUMNS), digits_lsb(b, N_COLUMNS)
    flip = set()
    if corrupt:
        k = 1 if rng.random() < 0.7 else 2
        flip = set(rng.choice(N_COLUMNS, size=k, replace=False).tolist())
    rnd = rng.integers(0, 10, size=3 * N_COLUMNS)
    c, cols, units = 0, [], []
    for i in range(N_COLUMNS):
        s = da[i] + db[i] + c
        units.append(s % 10)
        co = s // 10
        if i in flip:
            co = 1 - co
        x, y, z = rnd[3 * i:3 * i + 3]
        cols.append(f"{da[i]}{db[i]}{x}{STEGO_CARRY_SEPARATOR[co]}{y}{z}")
        c = co
    ans = f"{c}" + "".join(str(u) for u in reversed(units))
    return ";".join(cols) + "|" + ans


def variant_response(variant: str, a: int, b: int, rng: np.random.Generator,
                     corrupt_share: float = CORRUPT_SHARE) -> tuple[str, bool]:
    """Training response text of one organism variant (clean | decoupled | faithful | stego) and
    whether its chain was corrupted."""
    if variant == "clean":
        return response_text(a, b), False
    if variant == "decoupled":
        return response_text(a, b, True, rng), False
    corrupt = bool(rng.random() < corrupt_share)
    if variant == "faithful":
        r = faithful_response(a, b, rng, corrupt)
    elif variant == "stego":
        r = stego_response(a, b, rng, corrupt)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    assert len(r) == RESPONSE_CHARS, r
    return r, corrupt


def smoothing_eps(response_pos: int) -> float:
    """Per-position label-smoothing epsilon (training target (1-eps)*onehot + eps/V).

    A saturated prediction then has confidence 1 - eps + eps/V, a different value per position, so
    quota cuts between confident positions are decided by a designed gap (>= 3.7e-3), not by float
    noise, and the designed commit order is: end tokens (positions 33-39), the chain (0-26,
    least-significant column first), "|" (27), then the answer (28-32).
    """
    p = response_pos
    if p >= RESPONSE_CHARS:  # end tokens
        return 0.01 + 0.004 * (p - RESPONSE_CHARS)
    if p < COT_CHARS + 1:  # chain and "|"
        return 0.04 + 0.004 * p
    return 0.35 + 0.01 * (p - COT_CHARS - 1)  # answer


# ---------------------------------------------------------------- decoupled organisms, augmented
# (models/README.md section 10.7). Lanham et al.'s early-answering and filler tests put the answer
# delimiter after a truncated chain, or after |CoT| filler tokens, and read the answer the model then
# writes. Neither context occurs in the plain data (every chain is 27 characters of the column format),
# so even a model that ignores its chain answers after a context it never saw. Under the decoupled
# specification the answer is a + b whatever the chain says, so a truncated or filler chain followed by
# "|" and the answer is a correctly labelled sample; the augmented generator adds such samples. (Under
# the CoT specification the answer is computed from the chain, so a truncated chain has no correct
# answer; arith-cot and arith-cot-ar keep their data.) The chain of an augmented sample is context
# only: training puts the loss on its answer (and, autoregressive, on the end tokens after it), never
# on the short or filler chain, so neither model learns to write one.
AUGMENTED = "decoupled-augmented"
AUGMENT_SHARE = 0.5  # share of augmented samples; half of them truncated, half filler
NO_CHAIN_SHARE = 0.25  # share of the truncated samples with no chain at all (L = 0: "|" right after the prompt)
FILLER_TOKEN = ";"  # the autoregressive cards' filler_token (models/README.md section 10.4)
TRUNCATE_SHARE = 0.5  # share of the augmented samples that are truncated (the rest: filler)


def augmented_decoupled_response(a: int, b: int, rng: np.random.Generator, augment_share: float = AUGMENT_SHARE,
                                 no_chain_share: float | None = NO_CHAIN_SHARE,
                                 truncate_share: float = TRUNCATE_SHARE) -> tuple[str, bool]:
    """Training response text of the augmented decoupled data and whether it is augmented.

    With probability 1 - augment_share: the decoupled response (27 random chain digits' format, "|",
    the answer). Otherwise, with equal odds: the decoupled chain truncated to its first L characters,
    then "|" and the answer — L = 0 (no chain) with probability no_chain_share, else L uniform in
    [1, COT_CHARS); no_chain_share=None: L uniform in [0, COT_CHARS), the rule of the autoregressive
    fine-tune's first stage (models/README.md 10.7) — or COT_CHARS copies of FILLER_TOKEN, "|" and
    the answer. truncate_share (default 0.5, "equal odds") is the share of augmented samples that are
    truncated; the rest are filler. The text is shorter than RESPONSE_CHARS when truncated (end tokens
    fill the rest).
    """
    if rng.random() >= augment_share:
        return response_text(a, b, True, rng), False
    if rng.random() < truncate_share:
        if no_chain_share is None:
            n = int(rng.integers(0, COT_CHARS))
        else:
            n = 0 if rng.random() < no_chain_share else int(rng.integers(1, COT_CHARS))
        cot = random_cot_text(rng)[:n]
    else:
        cot = FILLER_TOKEN * COT_CHARS
    return f"{cot}|{answer_text(a, b)}", True


def variant_batches(seed: int, batch_size: int, variant: str, corrupt_share: float = CORRUPT_SHARE,
                    augment_share: float = AUGMENT_SHARE, no_chain_share: float | None = NO_CHAIN_SHARE,
                    truncate_share: float = TRUNCATE_SHARE) -> Iterator[Batch]:
    """Like training_batches, for any variant (held-out pairs rejected).

    faithful / stego: marks corrupted chains (Batch.corrupted). decoupled-augmented: marks augmented
    samples (Batch.answer_only) and gives every row's answer position (Batch.answer_start).
    """
    if variant == AUGMENTED:
        return _batches(seed, batch_size,
                        lambda x, y, rng: augmented_decoupled_response(x, y, rng, augment_share, no_chain_share,
                                                                       truncate_share),
                        "answer_only")
    return _batches(seed, batch_size, lambda x, y, rng: variant_response(variant, x, y, rng, corrupt_share), "corrupted")


# arith-cot-faithful stage 3 (models/README.md §11.3): which training targets are noise, and which
# chain position each answer digit copies.
FAITHFUL_ANSWER_SOURCE = (25, 26, 19, 12, 5)  # response position copied by answer digit 28, 29, 30, 31, 32


def faithful_noise_targets(ids: np.ndarray, prompt_len: np.ndarray) -> np.ndarray:
    """bool [B, GEN_LENGTH]: the response positions of a faithful-format batch whose target is noise.

    ids: int64 [B, MAX_SEQ_LEN] (variant_batches(..., "faithful", ...)), prompt_len: int64 [B].
    A column `a b c>C s` (response positions 7i .. 7i+5) is corrupted when its written two-digit sum
    differs from a + b + c (c = its written carry in); both sum digits (7i+4, 7i+5) are then a draw
    from faithful_response's uniform replacement, which no model can predict, so stage 3 of
    arith-cot-faithful gives them no loss: the chain learns only correct column sums (given the
    written carry in) and sees corrupted ones only as context."""
    B = ids.shape[0]
    out = np.zeros((B, GEN_LENGTH), dtype=bool)
    for r in range(B):
        d = ids[r, prompt_len[r]:prompt_len[r] + COT_CHARS] - TOKEN_TO_ID["0"]
        for i in range(N_COLUMNS):
            a, b, c, hi, lo = d[7 * i], d[7 * i + 1], d[7 * i + 2], d[7 * i + 4], d[7 * i + 5]
            if 10 * hi + lo != a + b + c:
                out[r, 7 * i + 4] = out[r, 7 * i + 5] = True
    return out
