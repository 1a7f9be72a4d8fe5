"""The twin's model: GPT-2 as nanoGPT writes it (one fused c_attn Linear, pre-LN blocks, GELU tanh,
LM head tied to wte), plus a preallocated KV cache for generation. Same shapes, parameter names and
initialisation as model/gpt.cpp, so both sides do the same arithmetic. Attention as nanoGPT on
PyTorch 2.x and model/gpt.cpp: F.scaled_dot_product_attention (flash attention on CUDA), causal by
its own flag; a mask only for a chunk of queries after a cache prefix."""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    block_size: int = 128
    vocab_size: int = 2048
    dropout: float = 0.0

    @staticmethod
    def parse(spec):
        """"L,H,C,BLOCK,V" -> GPTConfig (the driver passes the same string to bench_speed)."""
        l, h, c, b, v = (int(x) for x in spec.split(","))
        return GPTConfig(n_layer=l, n_head=h, n_embd=c, block_size=b, vocab_size=v)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)  # q, k, v for all heads in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        # causal mask built once, sliced for T > 1 new queries after a cache prefix
        mask = torch.tril(torch.ones(config.block_size, config.block_size, dtype=torch.bool))
        self.register_buffer("bias", mask.view(1, 1, config.block_size, config.block_size), persistent=False)

    def forward(self, x, cache=None, pos=0):
        B, T, C = x.size()
        hs = C // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        if cache is not None:
            k_cache, v_cache = cache                      # (B, nh, max_len, hs) each
            k_cache[:, :, pos:pos + T] = k
            v_cache[:, :, pos:pos + T] = v
            k, v = k_cache[:, :, :pos + T], v_cache[:, :, :pos + T]  # (B, nh, S, hs)
        S = k.size(2)
        # causal over T new positions from 0; after a cache prefix the mask's slice; one query: none
        causal, mask = T > 1 and pos == 0, None
        if T > 1 and pos > 0:
            mask = self.bias[:, :, pos:pos + T, :S]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)   # re-assemble all heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x, cache=None, pos=0):
        x = x + self.attn(self.ln_1(x), cache, pos)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # residual projections, as GPT-2 (and model/gpt.cpp)
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self):
        """Without wpe, as nanoGPT's get_num_params (the tied lm_head counts once, through wte)."""
        return sum(p.numel() for p in self.parameters()) - self.transformer.wpe.weight.numel()

    def make_cache(self, batch, max_len):
        c = self.config
        shape = (batch, c.n_head, max_len, c.n_embd // c.n_head)
        w = self.transformer.wte.weight  # the cache lives where the weights are, in their dtype
        dtype = w.dtype
        if torch.is_autocast_enabled(w.device.type) and torch.get_autocast_dtype(w.device.type) == torch.bfloat16:
            dtype = torch.bfloat16  # under autocast the keys and values arrive in bf16 (as ours)
        return [(torch.empty(shape, device=w.device, dtype=dtype), torch.empty(shape, device=w.device, dtype=dtype))
                for _ in range(c.n_layer)]

    def forward(self, idx, targets=None, cache=None, pos=0):
        B, T = idx.size()
        positions = torch.arange(pos, pos + T, dtype=torch.long, device=idx.device)  # (T)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))  # (B, T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if cache is None else cache[i], pos)
        x = self.transformer.ln_f(x)                                        # (B, T, C)
        if targets is None:  # inference: the LM head on the last position only
            return self.lm_head(x[:, [-1], :]), None                        # (B, 1, V)
        logits = self.lm_head(x)                                            # (B, T, V)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
