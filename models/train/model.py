"""Small pre-LN transformers with rotary position embeddings: `DiffusionLM` (bidirectional, no
causal mask; the masked-diffusion organisms) and `CausalLM` (the same network with a causal mask:
position i attends to positions <= i; the autoregressive organisms, models/train/train_ar.py)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


def rope_tables(L: int, head_dim: int, device=None):
    """Rotary position embedding tables (cos, sin) of shape [L, head_dim // 2], base 10000."""
    inv = 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    ang = torch.arange(L, device=device, dtype=torch.float32)[:, None] * inv[None, :]
    return ang.cos(), ang.sin()


def rope(x, cos, sin):
    """Rotate pairs (first half, second half) of the head dimension; x: [B, H, L, Dh]."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


@dataclass
class Config:
    vocab_size: int
    max_seq_len: int
    d_model: int = 128
    n_layers: int = 6
    n_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.0
    causal: bool = False  # True: CausalLM (checkpoints written before this field load as False)

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.n_heads = c.n_heads
        self.ln1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.fc1 = nn.Linear(c.d_model, c.d_ff)
        self.fc2 = nn.Linear(c.d_ff, c.d_model)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        q = q.view(B, L, H, D // H).transpose(1, 2)
        k = k.view(B, L, H, D // H).transpose(1, 2)
        v = v.view(B, L, H, D // H).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // H))
        if bias is not None:
            att = att + bias
        att = att.softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, L, D)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x


class DiffusionLM(nn.Module):
    """input_ids int64[B, L] -> logits float32[B, L, V]; every position attends to every other."""

    def __init__(self, c: Config):
        super().__init__()
        self.config = c
        self.tok = nn.Embedding(c.vocab_size, c.d_model)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.n_layers)])
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def _bias(self, L: int, x: torch.Tensor, key_padding: torch.Tensor | None) -> torch.Tensor | None:
        """Additive attention bias broadcastable to [B, H, L, L] (None = attend everywhere)."""
        if key_padding is None:
            return None
        bias = torch.zeros(key_padding.shape, dtype=x.dtype, device=x.device)
        return bias.masked_fill(key_padding, float("-inf"))[:, None, None, :]

    def forward(self, input_ids: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """key_padding: bool[B, L], True where the key is padding (training only)."""
        L = input_ids.shape[1]
        x = self.tok(input_ids)
        cos, sin = rope_tables(L, self.config.d_model // self.config.n_heads, input_ids.device)
        bias = self._bias(L, x, key_padding)
        for blk in self.blocks:
            x = blk(x, bias, cos, sin)
        return self.head(self.ln_f(x))

    def hidden(self, input_ids: torch.Tensor, key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """The final normalised hidden states [B, L, d_model] (forward = head(hidden)); lets training
        apply the output head only where the loss needs it."""
        L = input_ids.shape[1]
        x = self.tok(input_ids)
        cos, sin = rope_tables(L, self.config.d_model // self.config.n_heads, input_ids.device)
        bias = self._bias(L, x, key_padding)
        for blk in self.blocks:
            x = blk(x, bias, cos, sin)
        return self.ln_f(x)


class CausalLM(DiffusionLM):
    """input_ids int64[B, L] -> logits float32[B, L, V]; position i attends only to positions <= i,
    so logits[:, i] (the distribution of token i + 1) never depend on later tokens, and right-padding
    never changes the logits at earlier positions. The mask is built from L inside the graph
    (arange comparison), so the ONNX export keeps a dynamic sequence length."""

    def __init__(self, c: Config):
        c.causal = True
        super().__init__(c)

    def _bias(self, L: int, x: torch.Tensor, key_padding: torch.Tensor | None) -> torch.Tensor:
        pos = torch.arange(L, device=x.device)
        future = pos[None, :] > pos[:, None]  # [L(query), L(key)]: key after query
        bias = torch.zeros((L, L), dtype=x.dtype, device=x.device).masked_fill(future, float("-inf"))[None, None]
        pad = super()._bias(L, x, key_padding)
        return bias if pad is None else bias + pad


def build_model(c: Config) -> DiffusionLM:
    """The network a checkpoint's config describes (CausalLM when config.causal)."""
    return CausalLM(c) if c.causal else DiffusionLM(c)
