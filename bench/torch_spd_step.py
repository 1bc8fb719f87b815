"""One SPD training step on TMS 5-2 in PyTorch, for bench/spd-step.ts, written from the paper's
definitions (Bushnaq, Braun & Sharkey 2025): W [m, n] tied (the output layer's weight is W^T), C
rank-one subcomponents per matrix (V [d_in, C], U [C, d_out]; the tied layer uses U^T, V^T), a
causal-importance MLP per subcomponent (1 -> H GELU -> 1), lower-leaky hard sigmoid for the masks
m = g + (1 - g) u, upper-leaky for importance minimality; loss = faithfulness + stochastic recon +
layer-wise stochastic recon + coeff * sum_C g^p (p = 1), Adam.

argv[1]: JSON {n, m, C, H, B, prob, coeff, pnorm (default 1), lr, steps, repeats, dir}. Reads float32 files from dir
(W, b, V, U, the two gates' wIn, bIn, wOut, bOut, x, uF0, uF1, uL0, uL1), prints one JSON line:
the loss at those parameters and inputs (for the agreement check) and the median over `repeats`
blocks of the mean step time in ms (sampling the batch and the mask noise included).
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

case = json.loads(sys.argv[1])
torch.set_num_threads(os.cpu_count() or 1)
n, m, C, H, B = case["n"], case["m"], case["C"], case["H"], case["B"]
folder = case["dir"]


def load(name, shape):
    return torch.from_numpy(np.fromfile(os.path.join(folder, name + ".f32"), dtype=np.float32).reshape(shape).copy())


W = load("W", (m, n))
b = load("b", (n,))
params = {"V": load("V", (n, C)), "U": load("U", (C, m))}
for l in range(2):
    for k, shape in (("wIn", (C, H)), ("bIn", (C, H)), ("wOut", (C, H)), ("bOut", (C,))):
        params[f"{k}{l}"] = load(f"{k}{l}", shape)
for p in params.values():
    p.requires_grad_(True)


def lower(x):
    return torch.where(x > 0, torch.clamp(x, max=1), 0.01 * x)


def upper(x):
    return torch.where(x > 1, 1 + 0.01 * (x - 1), torch.clamp(x, 0, 1))


def gate(a, l):
    h = F.gelu(a.unsqueeze(-1) * params[f"wIn{l}"] + params[f"bIn{l}"])
    return (h * params[f"wOut{l}"]).sum(-1) + params[f"bOut{l}"]


def loss_fn(x, uF, uL):
    V1, U1 = params["V"], params["U"]
    V2, U2 = U1.T, V1.T
    W2 = W.T
    h = x @ W.T
    target = F.relu(h @ W2.T + b)
    pre = [gate(x @ V1, 0), gate(h @ V2, 1)]
    ci = [lower(p) for p in pre]
    ci_up = [upper(p) for p in pre]
    faith = (((W - (V1 @ U1).T) ** 2).sum() + ((W2 - (V2 @ U2).T) ** 2).sum()) / (2 * m * n)
    masks = [g + (1 - g) * u for g, u in zip(ci, uF)]
    out = F.relu((((((x @ V1) * masks[0]) @ U1) @ V2) * masks[1]) @ U2 + b)
    recon = ((out - target) ** 2).mean()
    ml = [g + (1 - g) * u for g, u in zip(ci, uL)]
    out0 = F.relu((((x @ V1) * ml[0]) @ U1) @ W2.T + b)
    out1 = F.relu(((h @ V2) * ml[1]) @ U2 + b)
    layerwise = (((out0 - target) ** 2).mean() + ((out1 - target) ** 2).mean()) / 2
    pn = case.get("pnorm", 1)
    minimality = (((ci_up[0] + 1e-12) ** pn).sum(-1) + ((ci_up[1] + 1e-12) ** pn).sum(-1)).mean() if pn != 1 else (ci_up[0].sum(-1) + ci_up[1].sum(-1)).mean()
    return faith + recon + layerwise + case["coeff"] * minimality


x0 = load("x", (B, n))
u0 = [load(k, (B, C)) for k in ("uF0", "uF1", "uL0", "uL1")]
with torch.no_grad():
    check = loss_fn(x0, u0[:2], u0[2:]).item()

opt = torch.optim.Adam(list(params.values()), lr=case["lr"])
torch.manual_seed(0)


def step():
    x = (torch.rand(B, n) < case["prob"]).float() * torch.rand(B, n)
    u = [torch.rand(B, C) for _ in range(4)]
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(x, u[:2], u[2:])
    loss.backward()
    opt.step()
    return loss


for _ in range(3):
    step()
times = []
for _ in range(case["repeats"]):
    t0 = time.perf_counter()
    for _ in range(case["steps"]):
        step()
    times.append((time.perf_counter() - t0) * 1000 / case["steps"])
print(json.dumps({"loss": check, "torch_ms": float(np.median(times)), "blocks_ms": times}))
