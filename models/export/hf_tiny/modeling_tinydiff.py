"""The faithsweep tiny masked-diffusion LM as a Hugging Face model (trust_remote_code).

Same architecture and parameter names as models/train/model.py (bidirectional pre-LN transformer,
rotary positions), so a training checkpoint's state_dict loads under the `model.` prefix.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import PreTrainedModel
from transformers.modeling_outputs import MaskedLMOutput

from .configuration_tinydiff import TinyDiffConfig


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


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_heads = c.n_heads
        self.ln1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.fc1 = nn.Linear(c.d_model, c.d_ff)
        self.fc2 = nn.Linear(c.d_ff, c.d_model)

    def forward(self, x, cos, sin):
        B, L, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        q = q.view(B, L, H, D // H).transpose(1, 2)
        k = k.view(B, L, H, D // H).transpose(1, 2)
        v = v.view(B, L, H, D // H).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = ((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // H))).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, L, D)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Core(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok = nn.Embedding(c.vocab_size, c.d_model)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.n_layers)])
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        self.head_dim = c.d_model // c.n_heads

    def forward(self, input_ids):
        x = self.tok(input_ids)
        cos, sin = rope_tables(input_ids.shape[1], self.head_dim, input_ids.device)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for b in self.blocks:
            x = b(x, cos, sin)
        return self.head(self.ln_f(x))


class TinyDiffModel(PreTrainedModel):
    config_class = TinyDiffConfig
    base_model_prefix = "model"

    def __init__(self, config):
        super().__init__(config)
        self.model = Core(config)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, **kwargs):
        return MaskedLMOutput(logits=self.model(input_ids))
