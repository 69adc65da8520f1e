"""Train the `word-problems` organism: a masked-diffusion LM (LLaDA objective) on GSM8K-style
word problems with a byte-level BPE tokenizer and a ChatML chat template (models/word_problems.py,
models/word_tokenizer.py). Same bidirectional transformer as the arithmetic organisms
(models/train/model.py).

  models/.venv/bin/python -m models.train.train_words --tokenizer models/word-problems/tokenizer.json \
      --out models/runs/word-problems

Sequence = chat-rendered prompt (user turn + generation prompt) ++ response, the response being
the GSM8K answer + "<|im_end|>", padded with <|endoftext|> to gen_length (those end tokens are
part of the response and of the loss). A batch is right-padded to its longest sequence; those
positions (after prompt + gen_length) are excluded from attention by position, not by token id,
since the padding id <|endoftext|> also occurs inside responses.

Objective (as models/train/train.py): prompt never masked; per sequence t ~ U(0,1) (stratified
over the batch), p = (1 - 1e-3) t + 1e-3; each response token masked w.p. p; loss = mean over
sequences of sum over masked positions of CE / p, divided by gen_length.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import time

import numpy as np
import torch
import torch.nn.functional as F

from models import word_problems as wp
from models import word_tokenizer as wt
from models.train.model import Config, DiffusionLM
from models.train.train import EPS, set_seed


RESULT_RE = re.compile(r"= \$?(\d+)")


def number_token_ids(text: wt.WordText) -> dict[int, set[int]]:
    """{v: {id of " v", id of "v"}} for every number 0..MAX_NUMBER (each is one token)."""
    out = {}
    for v in range(wp.MAX_NUMBER + 1):
        out[v] = {text.encode(f" {v}")[0], text.encode(f"{v}")[0]}
    return out


def digit_init(model: DiffusionLM, text: wt.WordText, scale: float) -> None:
    """Initialise the rows of every number token (" v" and "v", v in 0..TOKEN_NUMBER_MAX) in the input
    embedding AND the output head with the number's decimal digits: dims 0-9 a one-hot of v % 10 and
    dims 10-19 a one-hot of v // 10, times `scale` (the other dims keep their random init). A
    departure from plain random init (this project's; no paper): an equation's result then starts as
    a function of digit features shared by all numbers (units and tens, with a carry) instead of one
    independent class per number, and the head scores a number by its tens and units separately.
    The architecture and the exported graph are unchanged (it is only the starting point of training)."""
    with torch.no_grad():
        for v in range(wp.TOKEN_NUMBER_MAX + 1):
            for i in {text.encode(f" {v}")[0], text.encode(f"{v}")[0]}:
                for W in (model.tok.weight, model.head.weight):
                    W[i, :20] = 0.0
                    W[i, v % 10] = scale
                    W[i, 10 + v // 10] = scale


def encode_batch(text: wt.WordText, problems: list[wp.Problem], rng: np.random.Generator | None = None,
                 result_mask_frac: float = 0.0, num_ids: dict[int, set[int]] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ids int64[B, Lmax] (right-padded with <|endoftext|>), prompt lengths int64[B], and the
    result-masking curriculum bool[B, Lmax]: for a fraction `result_mask_frac` of the rows, one
    equation k is drawn uniformly and EVERY response token of the results of equations k..last
    (each result's every occurrence: in its equation, in later equations, in `#### N`) is True."""
    G = text.gen_length
    prompts = [text.prompt_ids(p.question) for p in problems]
    resps = [text.response_ids(p.answer) for p in problems]
    L = max(len(p) for p in prompts) + G
    ids = np.full((len(problems), L), wt.PAD_ID, dtype=np.int64)
    plen = np.zeros(len(problems), dtype=np.int64)
    forced = np.zeros((len(problems), L), dtype=bool)
    for i, (p, r) in enumerate(zip(prompts, resps)):
        ids[i, :len(p) + G] = p + r
        plen[i] = len(p)
        if rng is not None and result_mask_frac > 0 and rng.random() < result_mask_frac:
            results = [int(m.group(1)) for m in RESULT_RE.finditer(problems[i].cot)]
            k = int(rng.integers(len(results)))
            toks = set().union(*(num_ids[v] for v in results[k:]))
            forced[i, len(p):len(p) + G] = np.isin(np.asarray(r), list(toks))
    return ids, plen, forced


def llada_loss(model: DiffusionLM, ids: torch.Tensor, plen: torch.Tensor, G: int, gen: torch.Generator,
               forced: torch.Tensor | None = None, forced_max_weight: float = 10.0):
    """LLaDA loss; `forced` (bool[B, L], the result-masking curriculum) adds masks on top of the
    random ones. A randomly masked token has weight 1/p (the LLaDA ELBO); a token masked only by
    the curriculum has weight min(1/p, forced_max_weight) (so that rows with tiny p do not dominate
    the clipped gradient). Returns (loss, mean CE over masked tokens, mean CE over forced tokens)."""
    B, L = ids.shape
    pos = torch.arange(L)[None, :]
    resp = (pos >= plen[:, None]) & (pos < plen[:, None] + G)
    t = (torch.arange(B, dtype=torch.float32) + torch.rand(B, generator=gen)) / B
    p = (1 - EPS) * t + EPS
    rand_masked = (torch.rand(B, L, generator=gen) < p[:, None]) & resp
    extra = (forced & resp & ~rand_masked) if forced is not None else torch.zeros_like(rand_masked)
    masked = rand_masked | extra
    x = torch.where(masked, torch.full_like(ids, wt.MASK_ID), ids)
    key_padding = pos >= (plen[:, None] + G)
    h = model.hidden(x, key_padding.expand(B, L))
    logits = model.head(h[masked])  # the output head only where the loss is taken
    ce = F.cross_entropy(logits.float(), ids[masked], reduction="none")
    w_full = (1.0 / p)[:, None].expand(B, L)
    w_full = torch.where(extra, w_full.clamp(max=forced_max_weight), w_full)
    w = w_full[masked]
    loss = (ce * w).sum() / (B * G)
    fsel = (forced & resp)[masked] if forced is not None else None
    ce_forced = ce[fsel].mean().detach() if fsel is not None and bool(fsel.any()) else torch.tensor(float("nan"))
    return loss, ce.mean().detach(), ce_forced


@torch.no_grad()
def greedy_accuracy(model: DiffusionLM, text: wt.WordText, problems: list[wp.Problem], per_step: int = 2) -> float:
    """Monitor: low_confidence, temperature 0, `per_step` tokens committed per step (gen_length /
    per_step steps), one block (torch, right-padded batch with masked keys; not the reference sampler)."""
    model.eval()
    G = text.gen_length
    prompts = [text.prompt_ids(p.question) for p in problems]
    B = len(problems)
    L = max(len(p) for p in prompts) + G
    x = torch.full((B, L), wt.PAD_ID, dtype=torch.long)
    plen = torch.tensor([len(p) for p in prompts])
    for i, p in enumerate(prompts):
        x[i, :len(p)] = torch.tensor(p)
        x[i, len(p):len(p) + G] = wt.MASK_ID
    pos = torch.arange(L)[None, :]
    resp = (pos >= plen[:, None]) & (pos < plen[:, None] + G)
    kp = pos >= (plen[:, None] + G)
    open_ = resp.clone()
    r = torch.arange(B)
    for _ in range(G // per_step):
        logits = model(x, kp.expand(B, L)).double()
        conf, x0 = logits.softmax(-1).max(-1)
        conf = torch.where(open_, conf, torch.full_like(conf, -math.inf))
        for _ in range(per_step):
            idx = conf.argmax(-1)
            x[r, idx] = x0[r, idx]
            open_[r, idx] = False
            conf[r, idx] = -math.inf
    correct = 0
    for i, pr in enumerate(problems):
        row = x[i, plen[i]:plen[i] + G].tolist()
        m = wp.extract_answer(text.decode_response(row))
        correct += int(m is not None and wp.normalize_numeric(m.group("answer")) == str(pr.final))
    model.train()
    return correct / B


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="word-problems")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--n-layers", type=int, default=4)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--eval-every", type=int, default=300)
    ap.add_argument("--monitor-n", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init-from", help="start from this checkpoint's weights (fresh optimizer and schedule)")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop (and save) after this wall time; 0 = no limit")
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop (and save) after this many steps, the schedule still being that of --steps; 0 = --steps")
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--result-mask-frac", type=float, default=0.5,
                    help="fraction of rows whose results k..last are masked at every occurrence (curriculum)")
    ap.add_argument("--digit-init", type=float, default=0.0,
                    help="scale of the digit-feature init of number tokens (embedding and head); 0 = off")
    ap.add_argument("--decay-start", type=float, default=0.0,
                    help="with --max-minutes: lr constant after warm-up until this fraction of the wall-time "
                         "budget, then cosine to --min-lr at the budget (a wall-clock schedule); 0 = step cosine")
    ap.add_argument("--forced-max-weight", type=float, default=10.0,
                    help="loss weight cap of tokens masked only by the curriculum")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    text = wt.WordText(args.tokenizer)
    V = text.tok.get_vocab_size()
    cfg = Config(vocab_size=V, max_seq_len=wt.MAX_SEQ_LEN, d_model=args.d_model, n_layers=args.n_layers,
                 n_heads=args.n_heads, d_ff=args.d_ff)
    model = DiffusionLM(cfg)
    init_training = None
    if args.digit_init and not args.init_from:
        digit_init(model, text, args.digit_init)
    if args.init_from:
        ck = torch.load(args.init_from, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["state_dict"])
        init_training = ck.get("training")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params} vocab {V}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))

    def lr_at(s: int) -> float:
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        if args.decay_start and args.max_minutes:
            q = (time.time() - t0) / (args.max_minutes * 60)
            if q <= args.decay_start:
                return args.lr
            q = min(1.0, (q - args.decay_start) / (1 - args.decay_start))
            return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * q))
        q = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * q))

    gen = torch.Generator().manual_seed(args.seed + 1)
    stream = wp.training_problems(args.seed + 2)
    curriculum_rng = np.random.default_rng(args.seed + 3)
    num_ids = number_token_ids(text)
    monitor = wp.heldout_problems(args.monitor_n, seed=999)
    t0 = time.time()
    ema = None
    history = []
    ck_path = os.path.join(args.out, "checkpoint.pt")
    step = 0
    lr_trace = []
    for step in range(args.steps):
        lr_now = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr_now
        ids, plen, forced = encode_batch(text, [next(stream) for _ in range(args.batch_size)], curriculum_rng,
                                         args.result_mask_frac, num_ids)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
            loss, ce, ce_forced = llada_loss(model, torch.from_numpy(ids), torch.from_numpy(plen), text.gen_length,
                                             gen, torch.from_numpy(forced), args.forced_max_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        last = (step == args.steps - 1 or step + 1 == args.stop_at
                or bool(args.max_minutes and time.time() - t0 > args.max_minutes * 60))
        if step % 50 == 0 or last:
            lr_trace.append([step, lr_now])
            print(f"step {step} loss {loss.item():.4f} ema {ema:.4f} ce {ce.item():.4f} "
                  f"ce_results {ce_forced.item():.4f} lr {lr_now:.2e} "
                  f"t {time.time() - t0:.0f}s", flush=True)
        if (step + 1) % args.eval_every == 0 or last:
            acc = greedy_accuracy(model, text, monitor)
            history.append({"step": step + 1, "loss_ema": ema, "monitor_acc": acc, "t": time.time() - t0})
            print(f"EVAL step {step + 1} monitor_acc {acc:.4f} t {time.time() - t0:.0f}s", flush=True)
            torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()}, ck_path)
        if last:
            break
    wall = time.time() - t0
    prev = (init_training or {}).get("total_wall_time_s_including_init", (init_training or {}).get("wall_time_s", 0))
    info = {
        "name": args.name,
        "seed": args.seed,
        "steps": args.steps,
        "steps_done": step + 1,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "min_lr": args.min_lr,
        "warmup": args.warmup,
        "weight_decay": args.weight_decay,
        "schedule": ("linear warmup, constant lr until {:.0%} of the {}-minute wall-clock budget, then cosine to "
                     "min_lr at the budget (lr_trace: [step, lr] every 50 steps)".format(args.decay_start, args.max_minutes)
                     if args.decay_start and args.max_minutes else "linear warmup then cosine"),
        "lr_trace": lr_trace,
        "digit_init": args.digit_init,
        "max_minutes": args.max_minutes,
        "task_ranges": {"max_number": wp.MAX_NUMBER, "small": wp.SMALL},
        "optimizer": "AdamW(betas=(0.9, 0.98)), grad clip 1.0",
        "objective": "LLaDA masked diffusion: prompt never masked; t~U(0,1) per sequence (stratified over the batch), "
                     "p=(1-1e-3)t+1e-3; each response token (<|im_end|> and <|endoftext|> padding included) masked "
                     "w.p. p; loss = mean_seq sum_masked CE*w / gen_length, w = 1/p; plus the result-masking "
                     f"curriculum: in a fraction {args.result_mask_frac} of the rows every occurrence of the results "
                     "of equations k..last (k uniform) is masked too, those extra masks weighted min(1/p, "
                     f"{args.forced_max_weight})",
        "result_mask_frac": args.result_mask_frac,
        "forced_max_weight": args.forced_max_weight,
        "model": cfg.to_dict(),
        "n_params": n_params,
        "threads": args.threads,
        "init_from": args.init_from,
        "init_training": init_training,
        "wall_time_s": round(wall, 1),
        "total_wall_time_s_including_init": round(wall + prev, 1),
        "precision": "fp32 weights, CPU bfloat16 autocast for forward/backward" if not args.no_bf16 else "fp32",
        "final_loss_ema": round(ema, 5),
        "monitor_history": history,
        "torch_version": torch.__version__,
        "gen_length": text.gen_length,
        "heldout_rule": f"(template, numbers) held out iff hash % {wp.HELDOUT_MODULUS} == 0 (models/word_problems.py is_heldout)",
        "data": "models/word_problems.py training_problems(seed + 2): template uniform over "
                f"{len(wp.TEMPLATES)} templates, fresh problems every step (numpy PCG64)",
    }
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict(), "training": info}, ck_path)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(f"done wall {wall:.0f}s", flush=True)


if __name__ == "__main__":
    main()
