"""A transformer forward pass in PyTorch, for bench/forward.mjs: GPT-2 (learned positions, LayerNorm,
GELU-tanh MLP, tied unembedding) or Llama (RMSNorm, RoPE, grouped-query attention, SwiGLU), float32,
random weights of the shapes the case gives, no autograd. Prints one JSON line: the fastest of
`repeats` timed forward passes over `batch` × `positions` tokens, in tokens per second.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

c = json.loads(sys.argv[1])
torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(0)
d, L, H, V, m = c["d_model"], c["n_layers"], c["n_heads"], c["d_vocab"], c["d_mlp"]
K = c.get("n_kv_heads", H)
dh = d // H
B, T = c["batch"], c["positions"]
r = lambda *s: torch.randn(*s) * 0.02


def rotate_half(x):
    return torch.cat((-x[..., dh // 2:], x[..., : dh // 2]), dim=-1)


if c["family"] == "gpt2":
    W = {"wte": r(V, d), "wpe": r(c["n_ctx"], d)}
    blocks = [{"ln1": (torch.ones(d), torch.zeros(d)), "attn": r(d, 3 * d), "attn_b": torch.zeros(3 * d), "proj": r(d, d), "proj_b": torch.zeros(d),
               "ln2": (torch.ones(d), torch.zeros(d)), "fc": r(d, m), "fc_b": torch.zeros(m), "out": r(m, d), "out_b": torch.zeros(d)} for _ in range(L)]
    lnf = (torch.ones(d), torch.zeros(d))

    def forward(ids):
        x = W["wte"][ids] + W["wpe"][:T]
        for b in blocks:
            a = F.layer_norm(x, (d,), *b["ln1"])
            q, k, v = (a @ b["attn"] + b["attn_b"]).split(d, dim=-1)
            q, k, v = (t.view(B, T, H, dh).transpose(1, 2) for t in (q, k, v))
            z = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") else torch.softmax((q @ k.transpose(2, 3)) / math.sqrt(dh) + torch.full((T, T), float("-inf")).triu(1), -1) @ v
            x = x + z.transpose(1, 2).reshape(B, T, d) @ b["proj"] + b["proj_b"]
            h = F.layer_norm(x, (d,), *b["ln2"])
            x = x + F.gelu(h @ b["fc"] + b["fc_b"], approximate="tanh") @ b["out"] + b["out_b"]
        return F.layer_norm(x, (d,), *lnf) @ W["wte"].T
else:
    E = r(V, d)
    blocks = [{"n1": torch.ones(d), "q": r(H * dh, d), "k": r(K * dh, d), "v": r(K * dh, d), "o": r(d, H * dh), "n2": torch.ones(d),
               "gate": r(m, d), "up": r(m, d), "down": r(d, m)} for _ in range(L)]
    norm_f, lm_head = torch.ones(d), r(V, d)
    inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, dh, 2).float() / dh))
    freqs = torch.arange(T).float()[:, None] * inv[None]
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def forward(ids):
        x = E[ids]
        for b in blocks:
            h = rms(x, b["n1"])
            q = (h @ b["q"].T).view(B, T, H, dh).transpose(1, 2)
            k = (h @ b["k"].T).view(B, T, K, dh).transpose(1, 2)
            v = (h @ b["v"].T).view(B, T, K, dh).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k, v = k.repeat_interleave(H // K, 1), v.repeat_interleave(H // K, 1)
            z = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(dh) + mask, -1) @ v
            x = x + z.transpose(1, 2).reshape(B, T, H * dh) @ b["o"].T
            h = rms(x, b["n2"])
            x = x + (F.silu(h @ b["gate"].T) * (h @ b["up"].T)) @ b["down"].T
        return rms(x, norm_f) @ lm_head.T

ids = torch.randint(0, V, (B, T))
best = float("inf")
with torch.no_grad():
    forward(ids)  # warm-up
    for _ in range(c["repeats"]):
        t0 = time.perf_counter()
        forward(ids)
        best = min(best, time.perf_counter() - t0)
print(json.dumps({"tokens_per_second": B * T / best, "seconds": best, "torch": torch.__version__, "threads": torch.get_num_threads()}))
