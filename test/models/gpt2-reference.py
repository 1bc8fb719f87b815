# Expected logits for test/models/transformer.test.ts: GPT-2's forward pass written out in numpy
# (Hugging Face's GPT2LMHeadModel, eval mode), on weights given by an integer hash both languages
# compute exactly. Run: /usr/bin/python3 test/models/gpt2-reference.py
import json
import numpy as np


def hashed(k, n):
    i = np.arange(n, dtype=np.int64)
    return (((i * i * 7919 + i * 31 + k * 104729) % 2003) / 2003 - 0.5).astype(np.float64)


def layout(c):
    d, m, V, P = c["n_embd"], c["n_inner"], c["vocab_size"], c["n_positions"]
    out = [("wte.weight", [V, d]), ("wpe.weight", [P, d])]
    for l in range(c["n_layer"]):
        h = f"h.{l}."
        out += [(h + "ln_1.weight", [d]), (h + "ln_1.bias", [d]), (h + "attn.c_attn.weight", [d, 3 * d]), (h + "attn.c_attn.bias", [3 * d]),
                (h + "attn.c_proj.weight", [d, d]), (h + "attn.c_proj.bias", [d]), (h + "ln_2.weight", [d]), (h + "ln_2.bias", [d]),
                (h + "mlp.c_fc.weight", [d, m]), (h + "mlp.c_fc.bias", [m]), (h + "mlp.c_proj.weight", [m, d]), (h + "mlp.c_proj.bias", [d])]
    out += [("ln_f.weight", [d]), ("ln_f.bias", [d])]
    if not c["tie_word_embeddings"]:
        out.append(("lm_head.weight", [V, d]))
    return out


def weights(c):
    w = {}
    for k, (name, shape) in enumerate(layout(c)):
        v = hashed(k, int(np.prod(shape)))
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            v = 1 + 0.2 * v
        elif name.endswith("bias"):
            v = 0.1 * v
        else:
            v = 0.4 * v
        w[name] = v.astype(np.float32).astype(np.float64).reshape(shape)
    return w


def ln(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def act(x, name):
    if name == "gelu_new":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    from math import erf
    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


def forward(c, w, tokens):
    tokens = np.array(tokens)
    B, T = tokens.shape
    d, H = c["n_embd"], c["n_head"]
    dh = d // H
    x = w["wte.weight"][tokens] + w["wpe.weight"][:T][None]
    for l in range(c["n_layer"]):
        h = f"h.{l}."
        a = ln(x, w[h + "ln_1.weight"], w[h + "ln_1.bias"], c["layer_norm_epsilon"])
        qkv = a @ w[h + "attn.c_attn.weight"] + w[h + "attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        q, k, v = (t.reshape(B, T, H, dh).transpose(0, 2, 1, 3) for t in (q, k, v))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        if c["scale_attn_by_inverse_layer_idx"]:
            s = s / (l + 1)
        s = np.where(np.tril(np.ones((T, T), bool)), s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p = p / p.sum(-1, keepdims=True)
        z = (p @ v).transpose(0, 2, 1, 3).reshape(B, T, d)
        x = x + z @ w[h + "attn.c_proj.weight"] + w[h + "attn.c_proj.bias"]
        m = ln(x, w[h + "ln_2.weight"], w[h + "ln_2.bias"], c["layer_norm_epsilon"])
        x = x + act(m @ w[h + "mlp.c_fc.weight"] + w[h + "mlp.c_fc.bias"], c["activation_function"]) @ w[h + "mlp.c_proj.weight"] + w[h + "mlp.c_proj.bias"]
    f = ln(x, w["ln_f.weight"], w["ln_f.bias"], c["layer_norm_epsilon"])
    U = w["wte.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
    return f @ U.T


CASES = {
    "tied": ({"n_embd": 8, "n_layer": 2, "n_head": 2, "n_inner": 32, "vocab_size": 13, "n_positions": 6, "layer_norm_epsilon": 1e-5,
              "activation_function": "gelu_new", "tie_word_embeddings": True, "scale_attn_by_inverse_layer_idx": False},
             [[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]]),
    "untied": ({"n_embd": 6, "n_layer": 1, "n_head": 3, "n_inner": 12, "vocab_size": 7, "n_positions": 4, "layer_norm_epsilon": 1e-5,
                "activation_function": "gelu", "tie_word_embeddings": False, "scale_attn_by_inverse_layer_idx": True},
               [[6, 0, 2, 2]]),
}

print(json.dumps({name: np.round(forward(c, weights(c), toks), 6).tolist() for name, (c, toks) in CASES.items()}))
