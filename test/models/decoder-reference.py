# Checkpoints and expected logits for test/models/decoder.test.ts: small random models of each family in
# Hugging Face's exact layout (config.json + model.safetensors, or shards with model.safetensors.index.json;
# float32, float16 or bfloat16 weights), and their logits from forward passes written here in PyTorch from
# Hugging Face's published definitions (modeling_gpt_neox, modeling_llama, modeling_mistral, modeling_qwen2,
# modeling_gemma2), computed in float64 on the stored weights.
#   /usr/bin/python3 test/models/decoder-reference.py <out dir>   → <out dir>/<case>/…, <out dir>/expected.json
import json
import math
import os
import struct
import sys

import torch

torch.manual_seed(0)
DTYPES = {"float32": (torch.float32, "F32"), "float16": (torch.float16, "F16"), "bfloat16": (torch.bfloat16, "BF16")}


def save_safetensors(path, tensors, dtype):
    torch_dtype, code = DTYPES[dtype]
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.to(torch_dtype).contiguous()
        raw = (t.view(torch.int16) if t.element_size() == 2 else t).numpy().tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def save_folder(folder, config, tensors, dtype, shards=1):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if shards == 1:
        save_safetensors(os.path.join(folder, "model.safetensors"), tensors, dtype)
        return
    names = list(tensors)
    weight_map = {}
    for s in range(shards):
        part = names[s::shards]
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        save_safetensors(os.path.join(folder, file), {n: tensors[n] for n in part}, dtype)
        weight_map.update({n: file for n in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)


def rand(*shape, scale=None):
    scale = scale if scale is not None else 1 / math.sqrt(shape[-1])
    return torch.randn(*shape) * scale


# --- pieces shared by the families (as Hugging Face writes them) ---

def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_inv_freq(dim, base, scaling):
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if scaling is None:
        return inv
    if scaling["rope_type"] == "linear":
        return inv / scaling["factor"]
    # _compute_llama3_parameters
    factor, low, high, old = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"], scaling["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv
    inv_llama = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, inv_llama)


def rope_cos_sin(T, dim, base, scaling):
    freqs = torch.arange(T, dtype=torch.float64)[:, None] * rope_inv_freq(dim, base, scaling)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()  # [T, dim]


def mask(T, window=None):
    q = torch.arange(T)[:, None]
    k = torch.arange(T)[None, :]
    allowed = k <= q
    if window:
        allowed = allowed & (q - k < window)
    return torch.where(allowed, 0.0, float("-inf")).double()


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


ACT = {
    "gelu": lambda x: torch.nn.functional.gelu(x),
    "gelu_pytorch_tanh": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
    "silu": torch.nn.functional.silu,
}


def attention(q, k, v, scale, m, softcap=None):
    # q [B, H, T, dh]; k, v [B, Hkv, T, dh]: repeat_kv, then scaled scores, soft cap, mask, softmax.
    rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    s = q @ k.transpose(2, 3) * scale
    if softcap:
        s = torch.tanh(s / softcap) * softcap
    p = torch.softmax(s + m, dim=-1)
    return p @ v


# --- GPT-NeoX (modeling_gpt_neox) ---

def neox_weights(c):
    d, m, V, L = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
    w = {"gpt_neox.embed_in.weight": rand(V, d, scale=1.0)}
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        for ln in ("input_layernorm", "post_attention_layernorm"):
            w[p + ln + ".weight"] = 1 + 0.1 * torch.randn(d)
            w[p + ln + ".bias"] = 0.1 * torch.randn(d)
        w[p + "attention.query_key_value.weight"] = rand(3 * d, d)
        w[p + "attention.query_key_value.bias"] = 0.1 * torch.randn(3 * d)
        w[p + "attention.dense.weight"] = rand(d, d)
        w[p + "attention.dense.bias"] = 0.1 * torch.randn(d)
        w[p + "mlp.dense_h_to_4h.weight"] = rand(m, d)
        w[p + "mlp.dense_h_to_4h.bias"] = 0.1 * torch.randn(m)
        w[p + "mlp.dense_4h_to_h.weight"] = rand(d, m)
        w[p + "mlp.dense_4h_to_h.bias"] = 0.1 * torch.randn(d)
        # Buffers old checkpoints carry: not weights.
        w[p + "attention.rotary_emb.inv_freq"] = torch.ones(4)
    w["gpt_neox.final_layer_norm.weight"] = 1 + 0.1 * torch.randn(d)
    w["gpt_neox.final_layer_norm.bias"] = 0.1 * torch.randn(d)
    w["embed_out.weight"] = rand(V, d)
    return w


def neox_forward(c, w, ids):
    B, T = ids.shape
    d, H = c["hidden_size"], c["num_attention_heads"]
    dh = d // H
    rd = int(dh * c["rotary_pct"])
    cos, sin = rope_cos_sin(T, rd, c["rotary_emb_base"], None)
    x = w["gpt_neox.embed_in.weight"][ids]
    for l in range(c["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        h = layer_norm(x, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], c["layer_norm_eps"])
        qkv = h @ w[p + "attention.query_key_value.weight"].T + w[p + "attention.query_key_value.bias"]
        qkv = qkv.view(B, T, H, 3 * dh).permute(0, 2, 1, 3)
        q, k, v = qkv[..., :dh], qkv[..., dh:2 * dh], qkv[..., 2 * dh:]
        q = torch.cat((q[..., :rd] * cos + rotate_half(q[..., :rd]) * sin, q[..., rd:]), dim=-1)
        k = torch.cat((k[..., :rd] * cos + rotate_half(k[..., :rd]) * sin, k[..., rd:]), dim=-1)
        z = attention(q, k, v, 1 / math.sqrt(dh), mask(T))
        attn = z.permute(0, 2, 1, 3).reshape(B, T, d) @ w[p + "attention.dense.weight"].T + w[p + "attention.dense.bias"]

        def mlp(y):
            a = ACT[c["hidden_act"]](y @ w[p + "mlp.dense_h_to_4h.weight"].T + w[p + "mlp.dense_h_to_4h.bias"])
            return a @ w[p + "mlp.dense_4h_to_h.weight"].T + w[p + "mlp.dense_4h_to_h.bias"]

        ln2 = lambda y: layer_norm(y, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], c["layer_norm_eps"])
        if c["use_parallel_residual"]:
            x = x + attn + mlp(ln2(x))
        else:
            x = x + attn
            x = x + mlp(ln2(x))
    x = layer_norm(x, w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"], c["layer_norm_eps"])
    return x @ w["embed_out.weight"].T


# --- Llama, Mistral, Qwen 2, Gemma 2 (modeling_llama and its descendants) ---

def llama_weights(c):
    d, m, V, L = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
    H, K = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
    dh = c.get("head_dim", d // H)
    gemma = c["model_type"] == "gemma2"
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    o_bias = c["model_type"] != "qwen2" and c.get("attention_bias", False)
    norm = (lambda: 0.1 * torch.randn(d)) if gemma else (lambda: 1 + 0.1 * torch.randn(d))
    w = {"model.embed_tokens.weight": rand(V, d, scale=1.0 / (math.sqrt(d) if gemma else 1))}
    for l in range(L):
        p = f"model.layers.{l}."
        norms = ["input_layernorm", "post_attention_layernorm"] + (["pre_feedforward_layernorm", "post_feedforward_layernorm"] if gemma else [])
        for n in norms:
            w[p + n + ".weight"] = norm()
        for proj, rows in (("q_proj", H * dh), ("k_proj", K * dh), ("v_proj", K * dh)):
            w[p + f"self_attn.{proj}.weight"] = rand(rows, d)
            if qkv_bias:
                w[p + f"self_attn.{proj}.bias"] = 0.1 * torch.randn(rows)
        w[p + "self_attn.o_proj.weight"] = rand(d, H * dh)
        if o_bias:
            w[p + "self_attn.o_proj.bias"] = 0.1 * torch.randn(d)
        w[p + "mlp.gate_proj.weight"] = rand(m, d)
        w[p + "mlp.up_proj.weight"] = rand(m, d)
        w[p + "mlp.down_proj.weight"] = rand(d, m)
    w["model.norm.weight"] = norm()
    if not c.get("tie_word_embeddings", gemma):
        w["lm_head.weight"] = rand(V, d)
    return w


def llama_forward(c, w, ids):
    B, T = ids.shape
    d, H = c["hidden_size"], c["num_attention_heads"]
    K = c.get("num_key_value_heads", H)
    dh = c.get("head_dim", d // H)
    gemma = c["model_type"] == "gemma2"
    eps = c["rms_norm_eps"]
    norm = (lambda x, wt: rms_norm(x, 1 + wt, eps)) if gemma else (lambda x, wt: rms_norm(x, wt, eps))
    act = ACT[c["hidden_activation"] if gemma else c["hidden_act"]]
    cos, sin = rope_cos_sin(T, dh, c.get("rope_theta", 10000.0), c.get("rope_scaling"))
    scale = c["query_pre_attn_scalar"] ** -0.5 if gemma else dh ** -0.5
    b = lambda n: w.get(n, 0)
    x = w["model.embed_tokens.weight"][ids]
    if gemma:
        x = x * torch.tensor(d ** 0.5, dtype=x.dtype)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = norm(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T + b(p + "self_attn.q_proj.bias")).view(B, T, H, dh).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T + b(p + "self_attn.k_proj.bias")).view(B, T, K, dh).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T + b(p + "self_attn.v_proj.bias")).view(B, T, K, dh).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if gemma:
            window = c["sliding_window"] if l % 2 == 0 else None
        else:
            window = c.get("sliding_window") if c["model_type"] == "mistral" else None
        z = attention(q, k, v, scale, mask(T, window), c.get("attn_logit_softcapping") if gemma else None)
        a = z.transpose(1, 2).reshape(B, T, H * dh) @ w[p + "self_attn.o_proj.weight"].T + b(p + "self_attn.o_proj.bias")
        if gemma:
            a = norm(a, w[p + "post_attention_layernorm.weight"])
            x = x + a
            h = norm(x, w[p + "pre_feedforward_layernorm.weight"])
        else:
            x = x + a
            h = norm(x, w[p + "post_attention_layernorm.weight"])
        y = (act(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
        if gemma:
            y = norm(y, w[p + "post_feedforward_layernorm.weight"])
        x = x + y
    x = norm(x, w["model.norm.weight"])
    logits = x @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T
    if gemma and c.get("final_logit_softcapping"):
        cap = c["final_logit_softcapping"]
        logits = torch.tanh(logits / cap) * cap
    return logits


BASE = {"num_hidden_layers": 2, "vocab_size": 97, "max_position_embeddings": 64, "bos_token_id": 1, "eos_token_id": 2}
CASES = {
    "pythia": ({**BASE, "model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 256,
                "rotary_pct": 0.25, "rotary_emb_base": 10000, "layer_norm_eps": 1e-5, "use_parallel_residual": True, "hidden_act": "gelu", "tie_word_embeddings": False},
               "float32", 1),
    "neox-sequential-fp16": ({**BASE, "model_type": "gpt_neox", "hidden_size": 48, "num_attention_heads": 3, "intermediate_size": 96, "rotary_pct": 0.5,
                              "rotary_emb_base": 500, "layer_norm_eps": 1e-5, "use_parallel_residual": False, "hidden_act": "gelu_pytorch_tanh", "tie_word_embeddings": False},
                             "float16", 1),
    "llama3-gqa-bf16-sharded": ({**BASE, "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 8, "num_key_value_heads": 2,
                                 "intermediate_size": 160, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": False,
                                 "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}},
                                "bfloat16", 2),
    "qwen2-tied": ({**BASE, "model_type": "qwen2", "hidden_size": 48, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96, "rms_norm_eps": 1e-6,
                    "rope_theta": 1000000.0, "hidden_act": "silu", "tie_word_embeddings": True, "use_sliding_window": False},
                   "float32", 1),
    "mistral-window": ({**BASE, "model_type": "mistral", "hidden_size": 32, "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 64, "rms_norm_eps": 1e-5,
                        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False, "sliding_window": 5},
                       "float32", 1),
    "gemma2": ({**BASE, "model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "num_hidden_layers": 3, "hidden_size": 64, "num_attention_heads": 4,
                "num_key_value_heads": 2, "head_dim": 32, "intermediate_size": 128, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_activation": "gelu_pytorch_tanh",
                "query_pre_attn_scalar": 24, "attn_logit_softcapping": 1.5, "final_logit_softcapping": 3.0, "sliding_window": 6, "tie_word_embeddings": True},
               "bfloat16", 1),
}


def main():
    out = sys.argv[1]
    T = 16  # longer than the Mistral and Gemma 2 windows
    ids = torch.randint(3, BASE["vocab_size"], (2, T))
    expected = {"tokens": ids.tolist(), "cases": {}}
    for name, (config, dtype, shards) in CASES.items():
        weights = neox_weights(config) if config["model_type"] == "gpt_neox" else llama_weights(config)
        save_folder(os.path.join(out, name), config, weights, dtype, shards)
        stored = {n: t.to(DTYPES[dtype][0]).double() for n, t in weights.items()}
        forward = neox_forward if config["model_type"] == "gpt_neox" else llama_forward
        with torch.no_grad():
            logits = forward(config, stored, ids)
        expected["cases"][name] = logits.flatten().tolist()
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
