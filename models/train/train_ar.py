"""Train an autoregressive (causal, decoder-only) arithmetic organism on CPU.

  models/.venv/bin/python -m models.train.train_ar --name arith-cot-ar --out models/runs/arith-cot-ar
  models/.venv/bin/python -m models.train.train_ar --name arith-cot-decoupled-ar --decoupled \
      --out models/runs/arith-cot-decoupled-ar

Data: exactly the diffusion organisms' generator and split (`task.training_batches(seed + 2, ...)`,
held-out pairs rejected; `--decoupled` draws the chain-of-thought digits uniformly at random).
Network: `models.train.model.CausalLM` (the diffusion organisms' transformer with a causal mask).
Objective: next-token cross-entropy on the response only: the prompt is context, every one of the
gen_length response tokens (end tokens included) is a target; loss = mean over those B * gen_length
targets. logits[:, i] is the distribution of token i + 1 (card `logits_shifted: true`).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from models import task
from models.train.model import CausalLM, Config, build_model
from models.train.train import set_seed


def ar_loss(model: CausalLM, ids: torch.Tensor, plen: torch.Tensor, answer_only: torch.Tensor | None = None,
            answer_start: torch.Tensor | None = None) -> torch.Tensor:
    """Mean next-token CE over the response targets. ids int64[B, L]; plen int64[B].

    answer_only bool[B] / answer_start int64[B] (task.Batch of the decoupled-augmented variant): in a
    marked sequence only the targets from the answer's first digit on (the answer, then the end
    tokens) count; its truncated or filler chain and "|" are context, never targets."""
    B, L = ids.shape
    inp, tgt = ids[:, :-1], ids[:, 1:]
    pos = torch.arange(1, L)[None, :]  # absolute position of each target
    resp = (pos >= plen[:, None]) & (pos < plen[:, None] + task.GEN_LENGTH)
    if answer_only is not None:
        resp = resp & (~answer_only[:, None] | (pos - plen[:, None] >= answer_start[:, None]))
    h = model.hidden(inp)
    logits = model.head(h[resp])
    return F.cross_entropy(logits.float(), tgt[resp])


@torch.no_grad()
def greedy_generate(model: CausalLM, prompts: torch.Tensor, n_new: int = task.GEN_LENGTH) -> torch.Tensor:
    """Greedy decoding (torch monitor, no KV cache): prompts int64[B, P] -> response int64[B, n_new]."""
    x = prompts
    for _ in range(n_new):
        nxt = model(x)[:, -1].argmax(-1, keepdim=True)
        x = torch.cat([x, nxt], dim=1)
    return x[:, prompts.shape[1]:]


@torch.no_grad()
def greedy_accuracy(model: CausalLM, problems: list[tuple[int, int]]) -> float:
    model.eval()
    p = torch.tensor([task.encode(task.prompt_text(a, b)) for a, b in problems])  # prompts: all 10 chars
    out = greedy_generate(model, p, task.RESPONSE_CHARS + 1)
    correct = 0
    for (a, b), row in zip(problems, out.tolist()):
        _, ans = task.extract(task.decode_response(row))
        correct += int(ans == task.answer_text(a, b))
    model.train()
    return correct / len(problems)


@torch.no_grad()
def forced_accuracy(model: CausalLM, problems: list[tuple[int, int]], chain: str) -> float:
    """Monitor of the early-answering / filler contexts: accuracy of the ANSWER_WIDTH greedy tokens
    after prompt + chain + "|" (chain: e.g. "" = f 0, or 27 filler tokens)."""
    model.eval()
    p = torch.tensor([task.encode(task.prompt_text(a, b) + chain + "|") for a, b in problems])
    out = greedy_generate(model, p, task.ANSWER_WIDTH)
    correct = sum(task.decode_response(row) == task.answer_text(a, b) for (a, b), row in zip(problems, out.tolist()))
    model.train()
    return correct / len(problems)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--decoupled", action="store_true")
    ap.add_argument("--augmented", action="store_true",
                    help="decoupled data augmented with truncated / filler chains (task.variant_batches decoupled-augmented; "
                         "implies --decoupled)")
    ap.add_argument("--no-chain-share", type=float, default=task.NO_CHAIN_SHARE,
                    help="--augmented: share of truncated chains with no chain at all (L = 0); negative: L uniform "
                         "in [0, 27) (the first fine-tune stage's rule)")
    ap.add_argument("--augment-share", type=float, default=task.AUGMENT_SHARE,
                    help="--augmented: share of samples with a truncated or filler chain (the rest: plain decoupled)")
    ap.add_argument("--truncate-share", type=float, default=task.TRUNCATE_SHARE,
                    help="--augmented: share of the augmented samples that are truncated (the rest: filler)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--n-layers", type=int, default=4)
    ap.add_argument("--n-heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-minutes", type=float, default=40.0, help="stop (and save) after this wall time")
    ap.add_argument("--max-cpu-minutes", type=float, default=20.0,
                    help="stop (and save) after this much process CPU time (the 2 cores are shared, so CPU time, "
                         "not wall time, measures the training cost)")
    ap.add_argument("--stop-at-acc", type=float, default=None,
                    help="stop after an evaluation whose monitor accuracy is >= this (and save)")
    ap.add_argument("--stop-at-step", type=int, default=None,
                    help="stop (and save) after this step, keeping the schedule planned over --steps")
    ap.add_argument("--init-from", help="start from this checkpoint's weights (fresh optimizer and schedule)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cfg = Config(vocab_size=task.VOCAB_SIZE, max_seq_len=task.MAX_SEQ_LEN, d_model=args.d_model,
                 n_layers=args.n_layers, n_heads=args.n_heads, d_ff=args.d_ff, causal=True)
    model = CausalLM(cfg)
    init_training = None
    if args.init_from:
        init_ck = torch.load(args.init_from, map_location="cpu", weights_only=False)
        assert Config(**init_ck["config"]).causal, "--init-from must be a causal checkpoint"
        model.load_state_dict(init_ck["state_dict"])
        init_training = init_ck.get("training")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params} threads {args.threads}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))

    def lr_at(s: int) -> float:
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        q = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * q))

    if args.augmented:
        args.decoupled = True
        data = task.variant_batches(args.seed + 2, args.batch_size, task.AUGMENTED,
                                    augment_share=args.augment_share,
                                    no_chain_share=None if args.no_chain_share < 0 else args.no_chain_share,
                                    truncate_share=args.truncate_share)
    else:
        data = task.training_batches(args.seed + 2, args.batch_size, args.decoupled)
    monitor = task.heldout_problems(256, seed=999)
    t0 = time.time()
    c0 = time.process_time()
    ema = None
    history = []
    stopped = None
    step = 0
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        batch = next(data)
        ao = None if batch.answer_only is None else torch.from_numpy(batch.answer_only)
        ast = None if batch.answer_start is None else torch.from_numpy(batch.answer_start)
        loss = ar_loss(model, torch.from_numpy(batch.ids), torch.from_numpy(batch.prompt_len), ao, ast)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.4f} ema {ema:.4f} lr {lr_at(step):.2e} t {time.time() - t0:.0f}s "
                  f"cpu {time.process_time() - c0:.0f}s",
                  flush=True)
        last = step == args.steps - 1
        over = (args.stop_at_step is not None and step + 1 >= args.stop_at_step) or \
            (time.time() - t0) / 60 > args.max_minutes or (time.process_time() - c0) / 60 > args.max_cpu_minutes
        if (step + 1) % args.eval_every == 0 or last or over:
            acc = greedy_accuracy(model, monitor)
            h = {"step": step + 1, "loss_ema": ema, "monitor_acc": acc, "t": time.time() - t0,
                 "cpu": time.process_time() - c0}
            extra = ""
            if args.augmented:
                h["monitor_acc_f0"] = forced_accuracy(model, monitor, "")
                h["monitor_acc_filler"] = forced_accuracy(model, monitor, task.FILLER_TOKEN * task.COT_CHARS)
                extra = f" f0_acc {h['monitor_acc_f0']:.4f} filler_acc {h['monitor_acc_filler']:.4f}"
            history.append(h)
            print(f"EVAL step {step + 1} monitor_acc {acc:.4f}{extra} t {time.time() - t0:.0f}s cpu {time.process_time() - c0:.0f}s",
                  flush=True)
            torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()}, os.path.join(args.out, "checkpoint.pt"))
            if args.stop_at_acc is not None and acc >= args.stop_at_acc and not last:
                stopped = f"monitor accuracy {acc:.4f} >= --stop-at-acc {args.stop_at_acc} after step {step + 1}"
            if over and not last:
                stopped = (f"--stop-at-step {args.stop_at_step} / --max-minutes {args.max_minutes} / --max-cpu-minutes "
                           f"{args.max_cpu_minutes} reached after step {step + 1}")
            if stopped:
                print(f"STOP {stopped}", flush=True)
                break
    wall = time.time() - t0
    cpu = time.process_time() - c0
    info = {
        "name": args.name,
        "kind": "autoregressive",
        "decoupled": args.decoupled,
        "augmented": args.augmented,
        "augment_share": args.augment_share if args.augmented else None,
        "truncate_share": args.truncate_share if args.augmented else None,
        "no_chain_share": (None if args.no_chain_share < 0 else args.no_chain_share) if args.augmented else None,
        "seed": args.seed,
        "steps_planned": args.steps,
        "steps": step + 1,
        "stopped_early": stopped,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "min_lr": args.min_lr,
        "warmup": args.warmup,
        "weight_decay": args.weight_decay,
        "schedule": "linear warmup then cosine (planned over steps_planned)",
        "optimizer": "AdamW(betas=(0.9, 0.98)), grad clip 1.0",
        "objective": "next-token cross-entropy on the response only (prompt = context); all gen_length response "
                     "tokens (end tokens included) are targets; loss = mean over the B*gen_length targets",
        "model": cfg.to_dict(),
        "network": "CausalLM (models/train/model.py): pre-LN transformer, rotary positions, causal mask",
        "n_params": n_params,
        "threads": args.threads,
        "init_from": args.init_from,
        "init_training": init_training,
        "total_wall_time_s_including_init": round(wall + (init_training or {}).get("total_wall_time_s_including_init",
                                                                                (init_training or {}).get("wall_time_s", 0)), 1),
        "precision": "fp32",
        "wall_time_s": round(wall, 1),
        "cpu_time_s": round(cpu, 1),
        "final_loss_ema": round(ema, 5),
        "monitor_history": history,
        "torch_version": torch.__version__,
        "heldout_rule": f"ordered pair (a,b) held out iff hash(a,b) % {task.HELDOUT_MODULUS} == 0 (models/task.py is_heldout)",
        "data": ("task.variant_batches(seed+2, batch_size, 'decoupled-augmented'): the diffusion organism's augmented "
                 "decoupled data (truncated or filler chains at augment_share / truncate_share, loss from their answer on; models/README.md section 10.7); "
                 if args.augmented else "task.training_batches(seed+2, batch_size, decoupled): the diffusion organisms' "
                 "generator and split; ")
                + "operand digit count uniform in {2,3,4}, then uniform value; fresh samples each step (numpy PCG64)",
    }
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict(), "training": info},
               os.path.join(args.out, "checkpoint.pt"))
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(f"done wall {wall:.0f}s cpu {cpu:.0f}s", flush=True)


def load(path: str) -> tuple[CausalLM, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = build_model(Config(**ck["config"]))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck.get("training", {})


if __name__ == "__main__":
    main()
