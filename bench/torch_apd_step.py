"""One APD training step on a TMS target in PyTorch, for the step-time ratio beside bench/apd-tms.ts
(whose JSON line has ms_per_step), written from the APD paper's definitions and the top-k form of
ApolloResearch/apd: C components of factorised A [C, n, r], B [C, r, m] (the tied output layer
uses B^T, A^T); gradient attributions sum_f (sum_l dout_f/dpost_l . pre_l P_{c,l})^2 with the
gradients of the target (no create_graph); batch top-k over [B, C]; loss = faithfulness + coeff *
top-k output MSE + coeff * factorised Schatten-p of the kept components; Adam.

/usr/bin/python3 bench/torch_apd_step.py '{"n": 5, "m": 2, "C": 5, "topk": 0.211, "B": 2048,
  "coeffs": [1, 1, 0.7], "p": 1, "lr": 0.03, "steps": 200, "repeats": 5}' (optional "threads": 1)
prints one JSON line: the median over `repeats` blocks of the mean step time in ms (batch sampling
included). The target's W is random (a step's cost does not depend on it beyond sparsity).
"""
import json
import os
import sys
import time

import torch

case = json.loads(sys.argv[1])
torch.set_num_threads(case.get("threads", os.cpu_count() or 1))
torch.manual_seed(0)
n, m, C, B = case["n"], case["m"], case["C"], case["B"]
r = min(n, m) + 1
c_faith, c_min, c_simp = case["coeffs"]
p, topk = case["p"], case["topk"]
W = torch.randn(n, m) * 0.5  # [d_in, d_out] of linear1; linear2 is W^T
bias = torch.full((n,), -0.1)
A = (torch.randn(C, n, r) * (2 / ((C + 1) * n * r)) ** 0.5).requires_grad_(True)
Bf = (torch.randn(C, r, m) * (2 / ((C + 1) * r * m)) ** 0.5).requires_grad_(True)
opt = torch.optim.AdamW([A, Bf], lr=case["lr"], weight_decay=0.0)
n_params = 2 * n * m


def batch():
    x = torch.rand(B, n)
    return torch.where(torch.rand(B, n) < 0.05, x, torch.zeros_like(x))


def step():
    x = batch()
    # The target, with its post-activations kept for the gradients.
    h = x @ W
    h.requires_grad_(True)
    o = h @ W.T
    o.requires_grad_(True)
    out = torch.relu(o + bias)
    # Component acts from the detached pre-activations: [B, C, d_out] per layer.
    P1 = torch.einsum("cir,cro->cio", A, Bf)  # [C, n, m]
    P2 = P1.transpose(1, 2)  # tied: [C, m, n]
    acts1 = torch.einsum("bi,cio->bco", x, P1)
    acts2 = torch.einsum("bi,cio->bco", h.detach(), P2)
    attr = torch.zeros(B, C)
    for f in range(n):
        g1, g2 = torch.autograd.grad(out[:, f].sum(), [h, o], retain_graph=True)
        attr = attr + (torch.einsum("bo,bco->bc", g1, acts1) + torch.einsum("bo,bco->bc", g2, acts2)) ** 2
    k = int(topk * B)
    idx = attr.detach().reshape(-1).topk(k).indices
    mask = torch.zeros(B * C)
    mask[idx] = 1.0
    mask = mask.reshape(B, C)
    # The top-k forward pass.
    inner1 = torch.einsum("bi,cir->bcr", x, A) * mask[:, :, None]
    z1 = torch.einsum("bcr,cro->bo", inner1, Bf)
    inner2 = torch.einsum("bi,cir->bcr", z1, Bf.transpose(1, 2)) * mask[:, :, None]
    z2 = torch.einsum("bcr,cro->bo", inner2, A.transpose(1, 2))
    minimality = ((torch.relu(z2 + bias) - out.detach()) ** 2).mean()
    faith = 2 * ((W - P1.sum(0)) ** 2).sum() / n_params
    S = (A**2).sum(1) * (Bf**2).sum(2)  # [C, r]; the tied layer's is the same
    simp = 2 * ((mask[:, :, None] * S[None] + 1e-16) ** (p / 2)).sum() / n_params / B
    loss = c_faith * faith + c_min * minimality + c_simp * simp
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


for _ in range(10):
    step()
blocks = []
for _ in range(case["repeats"]):
    t0 = time.perf_counter()
    for _ in range(case["steps"]):
        step()
    blocks.append((time.perf_counter() - t0) / case["steps"] * 1000)
blocks.sort()
print(json.dumps({"case": f"TMS {n}-{m}, C {C}, B {B}", "torch_ms": round(blocks[len(blocks) // 2], 3), "torch_blocks_ms": [round(v, 3) for v in blocks], "threads": torch.get_num_threads()}))
