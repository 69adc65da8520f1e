"""Train a masked-diffusion (LLaDA objective) arithmetic model on CPU.

  models/.venv/bin/python -m models.train.train --name arith-cot --out models/runs/arith-cot
  models/.venv/bin/python -m models.train.train --name arith-cot-decoupled --decoupled \
      --out models/runs/arith-cot-decoupled

Objective (LLaDA, SFT form): the prompt is never masked; per sequence t ~ U(0,1) and
p = (1 - eps) * t + eps; every response position (end tokens included) is masked independently with
probability p; loss = mean over sequences of [ sum over masked positions of CE / p ] / gen_length.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from models import task
from models.train.model import Config, DiffusionLM

EPS = 1e-3


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def position_eps_table() -> torch.Tensor:
    """float32[GEN_LENGTH]: task.smoothing_eps of every response position."""
    return torch.tensor([task.smoothing_eps(p) for p in range(task.GEN_LENGTH)], dtype=torch.float32)


def llada_loss(model: DiffusionLM, ids: torch.Tensor, plen: torch.Tensor, gen: torch.Generator,
               eps_table: torch.Tensor | None = None, answer_weight: torch.Tensor | None = None,
               answer_only: torch.Tensor | None = None, answer_start: torch.Tensor | None = None,
               faithful_targets: tuple[torch.Tensor, torch.Tensor, float] | None = None):
    """answer_weight: float32[B] or None — multiplies the loss of the answer positions (28-32) of each
    sequence (arith-cot-faithful stage 2: corrupted chains weigh more there, so the answer learns to
    copy the chain while the chain keeps its 50 % clean data).

    answer_only: bool[B] or None, with answer_start: int64[B] (task.Batch of the decoupled-augmented
    variant) — in a marked sequence only the ANSWER_WIDTH answer positions starting at response
    position answer_start can be masked (so only they are loss targets); its truncated or filler
    chain, "|" and end tokens stay visible as context. With eps_table, their smoothing is the one of
    the answer positions 28-32 of the full format, wherever the answer stands.

    faithful_targets: (noise bool[B, GEN_LENGTH] from task.faithful_noise_targets, corrupted bool[B],
    weight w) or None — arith-cot-faithful stage 3 (models/README.md §11.3): no loss on the noise
    targets (the sum digits of corrupted columns); on a corrupted chain, answer digit j weighs w where
    the chain position it copies (task.FAITHFUL_ANSWER_SOURCE[j]) is visible and 0 where it is masked
    (its target is then unpredictable); clean chains weigh 1 everywhere."""
    B, L = ids.shape
    pos = torch.arange(L)[None, :]
    resp = (pos >= plen[:, None]) & (pos < plen[:, None] + task.GEN_LENGTH)
    role_pos = (pos - plen[:, None]).expand(B, L)  # response position whose smoothing eps applies
    if answer_only is not None:
        rp = pos - plen[:, None]
        in_answer = (rp >= answer_start[:, None]) & (rp < answer_start[:, None] + task.ANSWER_WIDTH)
        resp = resp & (~answer_only[:, None] | in_answer)
        role_pos = torch.where(answer_only[:, None] & in_answer, rp - answer_start[:, None] + task.ANSWER_START, role_pos)
    # stratified t (one stratum of width 1/B per sequence, random offset): each batch covers (0, 1)
    # evenly; the estimator stays an unbiased estimate of the LLaDA loss with t ~ U(0, 1).
    t = (torch.arange(B, dtype=torch.float32) + torch.rand(B, generator=gen)) / B
    p = (1 - EPS) * t + EPS
    masked = (torch.rand(B, L, generator=gen) < p[:, None]) & resp
    x = torch.where(masked, torch.full_like(ids, task.MASK_ID), ids)
    key_padding = ids == task.PAD_ID
    logits = model(x, key_padding)
    if eps_table is None:
        ce = F.cross_entropy(logits[masked], ids[masked], reduction="none")
    else:
        # per-position label smoothing: target (1 - eps_p) * onehot + eps_p / V, eps_p by response position
        rpos = role_pos.clamp(0, task.GEN_LENGTH - 1)[masked]
        eps = eps_table[rpos]
        logp = logits[masked].float().log_softmax(-1)
        ce = -(1 - eps) * logp.gather(-1, ids[masked][:, None])[:, 0] - eps * logp.mean(-1)
    w = (1.0 / p)[:, None].expand(B, L)
    if answer_weight is not None:
        rp = pos - plen[:, None]
        is_answer = (rp >= task.COT_CHARS + 1) & (rp < task.RESPONSE_CHARS)
        w = torch.where(is_answer, w * answer_weight[:, None], w)
    if faithful_targets is not None:
        noise, corrupted, cw = faithful_targets
        G = task.GEN_LENGTH
        ridx = plen[:, None] + torch.arange(G)[None, :]  # absolute index of each response position
        wm = torch.ones(B, L)
        wm.scatter_(1, ridx, torch.where(noise, 0.0, 1.0))
        src_masked = masked.gather(1, ridx)[:, list(task.FAITHFUL_ANSWER_SOURCE)]  # [B, 5]
        aw = torch.where(corrupted[:, None], torch.where(src_masked, 0.0, cw), 1.0)
        wm.scatter_(1, ridx[:, task.COT_CHARS + 1:task.RESPONSE_CHARS], aw)
        w = w * wm
    w = w[masked]
    loss = (ce * w).sum() / (B * task.GEN_LENGTH)
    # unweighted CE per masked token, for logging
    return loss, ce.mean().detach()


@torch.no_grad()
def greedy_accuracy(model: DiffusionLM, problems: list[tuple[int, int]], block_length: int = task.GEN_LENGTH,
                    regex: str = task.SPANS_REGEX_JS) -> float:
    """Quick monitor: low_confidence, temperature 0, steps = gen_length (torch; not the reference)."""
    model.eval()
    by_len: dict[int, list[tuple[int, int]]] = {}
    for a, b in problems:
        by_len.setdefault(len(task.prompt_text(a, b)), []).append((a, b))
    correct = 0
    G = task.GEN_LENGTH
    for plen, probs in by_len.items():
        p = torch.tensor([task.encode(task.prompt_text(a, b)) for a, b in probs])
        x = torch.cat([p, torch.full((len(probs), G), task.MASK_ID)], dim=1)
        for blk in range(G // block_length):
            lo, hi = plen + blk * block_length, plen + (blk + 1) * block_length
            for _ in range(block_length):
                logits = model(x).double()
                conf, x0 = logits.softmax(-1).max(-1)
                m = x == task.MASK_ID
                conf = torch.where(m, conf, torch.full_like(conf, -math.inf))
                conf[:, hi:] = -math.inf
                idx = conf.argmax(-1)
                r = torch.arange(len(probs))
                x[r, idx] = x0[r, idx]
        for (a, b), row in zip(probs, x[:, plen:].tolist()):
            m = task.python_regex(regex).match(task.decode_response(row))
            correct += int(m is not None and m.group("answer") == task.answer_text(a, b))
    model.train()
    return correct / len(problems)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--decoupled", action="store_true")
    ap.add_argument("--variant", choices=["clean", "decoupled", "faithful", "stego", task.AUGMENTED],
                    help="training data (models/task.py variant_response); default clean, or decoupled with --decoupled")
    ap.add_argument("--position-smoothing", action="store_true",
                    help="per-position label smoothing (task.smoothing_eps): unsaturated, distinct confidences")
    ap.add_argument("--max-minutes", type=float, default=0.0, help="stop (and save) after this wall time (0 = no limit)")
    ap.add_argument("--corrupt-share", type=float, default=task.CORRUPT_SHARE,
                    help="share of corrupted chains (faithful / stego variants)")
    ap.add_argument("--corrupt-answer-weight", type=float, default=1.0,
                    help="loss weight of the answer positions of corrupted chains (faithful: > 1 teaches copying)")
    ap.add_argument("--faithful-targets", action="store_true",
                    help="faithful variant, stage 3: no loss on corrupted column sums; corrupted chains' answer digits "
                         "weigh --corrupt-answer-weight where the copied chain digit is visible, 0 where it is masked")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--n-layers", type=int, default=6)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--eval-every", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init-from", help="start from this checkpoint's weights (fresh optimizer and schedule)")
    ap.add_argument("--no-bf16", action="store_true", help="disable CPU bfloat16 autocast (weights stay fp32)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cfg = Config(vocab_size=task.VOCAB_SIZE, max_seq_len=task.MAX_SEQ_LEN, d_model=args.d_model,
                 n_layers=args.n_layers, n_heads=args.n_heads, d_ff=args.d_ff)
    model = DiffusionLM(cfg)
    init_training = None
    if args.init_from:
        init_ck = torch.load(args.init_from, map_location="cpu", weights_only=False)
        model.load_state_dict(init_ck["state_dict"])
        init_training = init_ck.get("training")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))

    def lr_at(s: int) -> float:
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        q = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * q))

    gen = torch.Generator().manual_seed(args.seed + 1)
    variant = args.variant or ("decoupled" if args.decoupled else "clean")
    if variant in ("clean", "decoupled"):
        data = task.training_batches(args.seed + 2, args.batch_size, variant == "decoupled")
    else:
        data = task.variant_batches(args.seed + 2, args.batch_size, variant, args.corrupt_share)
    regex = task.STEGO_SPANS_REGEX_JS if variant == "stego" else task.SPANS_REGEX_JS
    eps_table = position_eps_table() if args.position_smoothing else None
    monitor = task.heldout_problems(256, seed=999)
    t0 = time.time()
    c0 = time.process_time()
    ema = None
    history = []
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        batch = next(data)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
            aw, ft = None, None
            if args.faithful_targets:
                ft = (torch.from_numpy(task.faithful_noise_targets(batch.ids, batch.prompt_len)),
                      torch.from_numpy(batch.corrupted), args.corrupt_answer_weight)
            elif args.corrupt_answer_weight != 1.0 and batch.corrupted is not None:
                aw = torch.where(torch.from_numpy(batch.corrupted), args.corrupt_answer_weight, 1.0).float()
            ao = None if batch.answer_only is None else torch.from_numpy(batch.answer_only)
            ast = None if batch.answer_start is None else torch.from_numpy(batch.answer_start)
            loss, ce = llada_loss(model, torch.from_numpy(batch.ids), torch.from_numpy(batch.prompt_len), gen, eps_table, aw,
                                  ao, ast, ft)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.4f} ema {ema:.4f} ce {ce.item():.4f} lr {lr_at(step):.2e} "
                  f"t {time.time() - t0:.0f}s cpu {time.process_time() - c0:.0f}s", flush=True)
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            acc = greedy_accuracy(model, monitor, regex=regex)
            history.append({"step": step + 1, "loss_ema": ema, "monitor_acc": acc, "t": time.time() - t0})
            print(f"EVAL step {step + 1} monitor_acc {acc:.4f} t {time.time() - t0:.0f}s", flush=True)
            torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()}, os.path.join(args.out, "checkpoint.pt"))
        if args.max_minutes and time.time() - t0 > 60 * args.max_minutes:
            print(f"stopping at step {step + 1}: --max-minutes {args.max_minutes}", flush=True)
            acc = greedy_accuracy(model, monitor, regex=regex)
            history.append({"step": step + 1, "loss_ema": ema, "monitor_acc": acc, "t": time.time() - t0})
            print(f"EVAL step {step + 1} monitor_acc {acc:.4f} t {time.time() - t0:.0f}s", flush=True)
            break
    wall = time.time() - t0
    info = {
        "name": args.name,
        "decoupled": variant in ("decoupled", task.AUGMENTED),
        "augment_share": task.AUGMENT_SHARE if variant == task.AUGMENTED else None,
        "no_chain_share": task.NO_CHAIN_SHARE if variant == task.AUGMENTED else None,
        "variant": variant,
        "position_smoothing": ("per-position label smoothing, eps by response position = models/task.py smoothing_eps: "
                               "end tokens 0.010-0.034, chain and '|' 0.040-0.148 (+0.004 per position), answer 0.35-0.39")
        if args.position_smoothing else None,
        "steps_done": step + 1,
        "corrupt_share": args.corrupt_share if variant in ("faithful", "stego") else None,
        "corrupt_answer_weight": args.corrupt_answer_weight,
        "faithful_targets": ("no loss on corrupted column sums; corrupted chains' answer digits weigh corrupt_answer_weight "
                             "where the copied chain digit is visible, 0 where masked") if args.faithful_targets else None,
        "seed": args.seed,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "min_lr": args.min_lr,
        "warmup": args.warmup,
        "weight_decay": args.weight_decay,
        "schedule": "linear warmup then cosine",
        "optimizer": "AdamW(betas=(0.9, 0.98)), grad clip 1.0",
        "objective": "LLaDA masked diffusion: prompt never masked; t~U(0,1) per sequence (stratified over the batch), p=(1-1e-3)t+1e-3; "
                     "each response token (end tokens included) masked w.p. p; loss = mean_seq sum_masked CE/p / gen_length",
        "model": cfg.to_dict(),
        "n_params": n_params,
        "threads": args.threads,
        "init_from": args.init_from,
        "init_training": init_training,
        "total_wall_time_s_including_init": round(wall + (init_training or {}).get("total_wall_time_s_including_init",
                                                                                (init_training or {}).get("wall_time_s", 0)), 1),
        "precision": "fp32 weights, CPU bfloat16 autocast for forward/backward" if not args.no_bf16 else "fp32",
        "wall_time_s": round(wall, 1),
        "cpu_time_s": round(time.process_time() - c0, 1),
        "final_loss_ema": round(ema, 5),
        "monitor_history": history,
        "torch_version": torch.__version__,
        "heldout_rule": f"ordered pair (a,b) held out iff hash(a,b) % {task.HELDOUT_MODULUS} == 0 (models/task.py is_heldout)",
        "data": "operand digit count uniform in {2,3,4}, then uniform value; fresh samples each step (numpy PCG64, seed+2)"
                + (f"; {task.AUGMENTED}: task.variant_batches (1/2 of the samples with a truncated or filler chain, "
                   "loss on their answer only; models/README.md section 10.7)" if variant == task.AUGMENTED else ""),
    }
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict(), "training": info},
               os.path.join(args.out, "checkpoint.pt"))
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(f"done wall {wall:.0f}s", flush=True)


if __name__ == "__main__":
    main()
