"""The same SAE training step as featurelab's, in PyTorch, for bench/train-step.mjs.

Reads a case (JSON on argv[1]) and raw float32 files written by the bench: the initial weights and
the first `check_steps` batches in fit()'s order. Prints one JSON line: the loss of each check step
(from the same weights and batches as featurelab) and the mean time of a step in the fastest of
`repeats` blocks, batching included (rows gathered from the data by a random permutation, as a DataLoader-free training loop).
The steps follow SAELens / dictionary_learning: ReLU with the norm-weighted L1 penalty; TopK and
BatchTopK with a dense scatter of the kept activations, the decoder gradient's parallel part removed and
the decoder rows renormalised after Adam; JumpReLU as SAELens' JumpReLUTrainingSAE (L0 loss, threshold
trained through straight-through pseudo-derivatives with the rectangle kernel); Gated as SAELens' gated
SAE (the auxiliary reconstruction through the frozen decoder), with unit-norm decoder rows.
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


# The trained parameters: BatchTopK's threshold is an EMA, not trained, and plays no part in the loss.
TRAINED = [n for n in case["shapes"] if not (case["arch"] == "batchtopk" and n == "threshold")]
UNIT_NORM = case["arch"] in ("topk", "batchtopk", "gated")


def params():
    return {n: load(n, tuple(case["shapes"][n])).clone().requires_grad_(True) for n in TRAINED}


def rectangle(u):
    return ((u / case["bandwidth"]).abs() < 0.5).to(u.dtype)


class Step(torch.autograd.Function):
    """H(π − θ): no gradient to π; −K/ε to θ (SAELens' Step)."""

    @staticmethod
    def forward(ctx, pre, theta):
        ctx.save_for_backward(pre, theta)
        return (pre > theta).to(pre.dtype)

    @staticmethod
    def backward(ctx, g):
        pre, theta = ctx.saved_tensors
        return None, (-(1.0 / case["bandwidth"]) * rectangle(pre - theta) * g).sum(0)


class JumpReLU(torch.autograd.Function):
    """π·H(π − θ): H to π; −(θ/ε)·K to θ (SAELens' JumpReLU)."""

    @staticmethod
    def forward(ctx, pre, theta):
        ctx.save_for_backward(pre, theta)
        return pre * (pre > theta).to(pre.dtype)

    @staticmethod
    def backward(ctx, g):
        pre, theta = ctx.saved_tensors
        return (pre > theta).to(pre.dtype) * g, (-(theta / case["bandwidth"]) * rectangle(pre - theta) * g).sum(0)


def mse_of(x_hat, x):
    return (x_hat - x).pow(2).sum(-1).mean()


def loss_of(p, x):
    arch = case["arch"]
    sae_in = x - p["b_dec"]
    if arch == "gated":
        proj = sae_in @ p["W_enc"]
        gate = proj + p["b_gate"]
        mag = proj * p["r_mag"].exp() + p["b_mag"]
        f = (gate > 0).to(x.dtype) * torch.relu(mag)
        gate_act = torch.relu(gate)
        sparsity = (gate_act * p["W_dec"].norm(dim=1)).sum(-1).mean()
        aux = mse_of(gate_act @ p["W_dec"].detach() + p["b_dec"].detach(), x)
        return mse_of(f @ p["W_dec"] + p["b_dec"], x) + case["l1"] * sparsity + aux
    pre = sae_in @ p["W_enc"] + p["b_enc"]
    if arch == "relu":
        f = torch.relu(pre)
        return mse_of(f @ p["W_dec"] + p["b_dec"], x) + case["l1"] * (f * p["W_dec"].norm(dim=1)).sum(-1).mean()
    if arch == "jumprelu":
        theta = torch.relu(p["threshold"])
        f = JumpReLU.apply(pre, theta)
        return mse_of(f @ p["W_dec"] + p["b_dec"], x) + case["l1"] * Step.apply(pre, theta).sum(-1).mean()
    if arch == "topk":
        vals, idx = pre.topk(case["k"], dim=-1)
        f = torch.zeros_like(pre).scatter_(-1, idx, torch.relu(vals))
    else:  # batchtopk: the batch's B·k largest ReLU'd pre-activations
        a = torch.relu(pre)
        vals, idx = a.flatten().topk(case["k"] * x.shape[0])
        f = torch.zeros_like(a).flatten().scatter_(-1, idx, vals).view_as(a)
    return mse_of(f @ p["W_dec"] + p["b_dec"], x)


def step(p, opt, x):
    loss = loss_of(p, x)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if UNIT_NORM:
        with torch.no_grad():
            W, g = p["W_dec"], p["W_dec"].grad
            g -= (g * W).sum(1, keepdim=True) / W.pow(2).sum(1, keepdim=True).clamp_min(1e-12) * W
    opt.step()
    if UNIT_NORM:
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
