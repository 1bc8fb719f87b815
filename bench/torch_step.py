"""The same SAE training step as featurelab's, in PyTorch, for bench/train-step.mjs.

Reads a case (JSON on argv[1]) and raw float32 files written by the bench: the initial weights and
the first `check_steps` batches in fit()'s order. Prints one JSON line: the loss of each check step
(from the same weights and batches as featurelab) and the mean time of a step in the fastest of
`repeats` blocks, batching included (rows gathered from the data by a random permutation, as a DataLoader-free training loop).
The steps follow SAELens / dictionary_learning: ReLU with the norm-weighted L1 penalty; TopK with a
dense scatter of the kept activations, the decoder gradient's parallel part removed and the decoder
rows renormalised after Adam.
"""
import json
import os
import sys
import time

import numpy as np
import torch

case = json.loads(sys.argv[1])
torch.set_num_threads(os.cpu_count() or 1)
d, h, B = case["d"], case["h"], case["B"]
folder = case["dir"]


def load(name, shape):
    return torch.from_numpy(np.fromfile(os.path.join(folder, name + ".f32"), dtype=np.float32).reshape(shape))


def params():
    p = {
        "W_enc": load("W_enc", (d, h)),
        "W_dec": load("W_dec", (h, d)),
        "b_enc": load("b_enc", (h,)),
        "b_dec": load("b_dec", (d,)),
    }
    return {k: v.clone().requires_grad_(True) for k, v in p.items()}


def step(p, opt, x):
    sae_in = x - p["b_dec"]
    pre = sae_in @ p["W_enc"] + p["b_enc"]
    if case["arch"] == "relu":
        f = torch.relu(pre)
        x_hat = f @ p["W_dec"] + p["b_dec"]
        mse = (x_hat - x).pow(2).sum(-1).mean()
        l1 = (f * p["W_dec"].norm(dim=1)).sum(-1).mean()
        loss = mse + case["l1"] * l1
    else:
        vals, idx = pre.topk(case["k"], dim=-1)
        f = torch.zeros_like(pre).scatter_(-1, idx, torch.relu(vals))
        x_hat = f @ p["W_dec"] + p["b_dec"]
        loss = (x_hat - x).pow(2).sum(-1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if case["arch"] == "topk":
        with torch.no_grad():
            W, g = p["W_dec"], p["W_dec"].grad
            g -= (g * W).sum(1, keepdim=True) / W.pow(2).sum(1, keepdim=True).clamp_min(1e-12) * W
    opt.step()
    if case["arch"] == "topk":
        with torch.no_grad():
            p["W_dec"] /= p["W_dec"].norm(dim=1, keepdim=True).clamp_min(1e-12)
    return loss


# Agreement: the check steps from featurelab's initial weights and batches.
p = params()
opt = torch.optim.Adam(p.values(), lr=case["lr"], betas=(0.9, 0.999), eps=1e-8)
batches = load("batches", (case["check_steps"], B, d))
losses = [float(step(p, opt, batches[i])) for i in range(case["check_steps"])]

# Timing: warm-up, then timed steps drawing batches from the data.
data = load("data", (case["rows"], d))
gen = torch.Generator().manual_seed(0)
perm = torch.randperm(case["rows"], generator=gen)
p = params()
opt = torch.optim.Adam(p.values(), lr=case["lr"])
cursor = 0


def next_batch():
    global cursor, perm
    if cursor + B > case["rows"]:
        perm, cursor = torch.randperm(case["rows"], generator=gen), 0
    x = data[perm[cursor : cursor + B]]
    cursor += B
    return x


for _ in range(case["warmup"]):
    step(p, opt, next_batch())
blocks = []
for _ in range(case["repeats"]):
    t0 = time.perf_counter()
    for _ in range(case["timed_steps"]):
        loss = step(p, opt, next_batch())
    float(loss)
    blocks.append((time.perf_counter() - t0) * 1000 / case["timed_steps"])
ms = min(blocks)  # the fastest block, as featurelab's side
print(json.dumps({"losses": losses, "ms": ms, "threads": torch.get_num_threads(), "torch": torch.__version__}))
