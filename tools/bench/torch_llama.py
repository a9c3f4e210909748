#!/usr/bin/python3
"""The Llama-family model of lingraft's benchmark in plain torch.nn, for `make bench`.

RMSNorm, RoPE (rotate_half), GQA attention with a causal mask, SwiGLU MLP, untied LM head,
Hugging Face parameter names; autograd and torch.optim.AdamW; LoRA as trainable A/B beside
frozen weights (PEFT's init, r=8, alpha 16, on q,k,v,o,gate,up,down). Loads the weights and
input ids `lm bench --write-weights` wrote (a small safetensors reader, no extra package) and
prints the same JSON line as `lm bench`.

Architecture variants at the small shape, each as transformers computes it: small-llama3
(modeling_rope_utils' _compute_llama3_parameters: Llama-3.1's rope_scaling, factor 8, low/high
frequency factors 1/4, original_max_position_embeddings 8192, on rope_theta 500000) and
small-qwen3 (modeling_qwen3: RMSNorm over each head of q and k, q_norm/k_norm, before RoPE;
head_dim 128 independent of hidden/heads; rope_theta 1000000).

usage: torch_llama.py --shape SHAPE --mode train|lora|forward --threads N
                      --weights FILE [--steps N] [--warmup N] [--batch 4] [--seq 256]
"""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

SHAPES = {  # vocab, hidden, layers, heads, kv heads, intermediate
    "tiny": (8000, 256, 4, 4, 2, 688),
    "small": (16000, 512, 8, 8, 4, 1376),
    "base": (32000, 768, 12, 12, 4, 2048),
    "small-llama3": (16000, 512, 8, 8, 4, 1376),
    "small-qwen3": (16000, 512, 8, 8, 4, 1376),
}
# What each shape's architecture changes (lm/bench.c has the same table): head_dim (None:
# hidden / heads), rope_theta, rope_scaling (llama3 parameters or None), q/k-norm.
LLAMA3_SCALING = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 8192}
VARIANTS = {
    "small-llama3": {"rope_theta": 500000.0, "rope_scaling": LLAMA3_SCALING},
    "small-qwen3": {"head_dim": 128, "rope_theta": 1000000.0, "qk_norm": True},
}
RMS_EPS = 1e-6
ROPE_THETA = 10000.0
LORA_RANK, LORA_ALPHA = 8, 16.0
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", default="tiny", choices=sorted(SHAPES))
    p.add_argument("--mode", default="train", choices=("train", "lora", "forward"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--weights", required=True, help="safetensors from lm bench --write-weights")
    p.add_argument("--seed", type=int, default=1235, help="LoRA A initialisation")
    return p.parse_args()


# The thread count must be in the environment before torch (and its OpenMP/OpenBLAS) loads:
# torch.set_num_threads alone does not limit OpenBLAS.
ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ST_DTYPES = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64}


def read_safetensors(path, wanted):
    """Reads the tensors named in `wanted` (name -> destination tensor, or None for a new one)
    straight from the file into their storage. Returns name -> tensor."""
    out = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100 << 20:
            raise SystemExit(f"torch_llama.py: {path}: header length {n} is implausible")
        header = json.loads(f.read(n))
        base = 8 + n
        for name, dest in wanted.items():
            info = header.get(name)
            if info is None:
                raise SystemExit(f"torch_llama.py: {path}: no tensor {name}")
            dtype = ST_DTYPES.get(info["dtype"])
            begin, end = info["data_offsets"]
            shape = tuple(info["shape"])
            if dest is None:
                dest = torch.empty(shape, dtype=dtype)
            if tuple(dest.shape) != shape or dest.dtype != dtype:
                raise SystemExit(f"torch_llama.py: {path}: {name} is {info['dtype']} {list(shape)}, "
                                 f"expected {dest.dtype} {list(dest.shape)}")
            f.seek(base + begin)
            view = memoryview(dest.numpy()).cast("B")
            if end - begin != len(view) or f.readinto(view) != len(view):
                raise SystemExit(f"torch_llama.py: {path}: {name} is truncated")
            out[name] = dest
    return out


def rope_inv_freq(hd, theta, scaling):
    """RoPE's inverse frequencies in float32: transformers' _compute_default_rope_parameters,
    then, for rope_type llama3, _compute_llama3_parameters (low frequencies divided by the
    factor, high ones kept, a smooth blend between)."""
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    if scaling is None:
        return inv
    factor = scaling["factor"]
    lo, hi = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / lo, old / hi
    wavelen = 2 * math.pi / inv
    scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, scaled)


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + RMS_EPS))


class Linear(nn.Module):
    """nn.Linear without bias, optionally with a LoRA adapter (PEFT's layout and init)."""

    def __init__(self, in_f, out_f):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_f, in_f))
        self.lora_A = self.lora_B = None

    def add_lora(self, r, alpha, gen):
        in_f, out_f = self.weight.shape[1], self.weight.shape[0]
        bound = 1.0 / math.sqrt(in_f)  # kaiming_uniform_(a=sqrt(5))
        self.lora_A = nn.Parameter(torch.empty(r, in_f).uniform_(-bound, bound, generator=gen))
        self.lora_B = nn.Parameter(torch.zeros(out_f, r))
        self.scale = alpha / r

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora_A is not None:
            y = y + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale
        return y


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, C, nh, nkv, hd, qk_norm):
        super().__init__()
        self.nh, self.nkv, self.hd = nh, nkv, hd
        self.q_proj = Linear(C, nh * self.hd)
        self.k_proj = Linear(C, nkv * self.hd)
        self.v_proj = Linear(C, nkv * self.hd)
        self.o_proj = Linear(nh * self.hd, C)
        if qk_norm:  # Qwen3: RMSNorm over each head's q and k (eps rms_norm_eps)
            self.q_norm = RMSNorm(self.hd)
            self.k_norm = RMSNorm(self.hd)
        self.qk_norm = qk_norm

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd)
        if self.qk_norm:  # before RoPE, on [B, T, heads, head_dim]
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.nh // self.nkv
        if rep > 1:  # repeat_kv
            k = k[:, :, None].expand(B, self.nkv, rep, T, self.hd).reshape(B, self.nh, T, self.hd)
            v = v[:, :, None].expand(B, self.nkv, rep, T, self.hd).reshape(B, self.nh, T, self.hd)
        att = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.hd) + mask
        att = F.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, C, Fd):
        super().__init__()
        self.gate_proj = Linear(C, Fd)
        self.up_proj = Linear(C, Fd)
        self.down_proj = Linear(Fd, C)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, C, nh, nkv, Fd, hd, qk_norm):
        super().__init__()
        self.input_layernorm = RMSNorm(C)
        self.self_attn = Attention(C, nh, nkv, hd, qk_norm)
        self.post_attention_layernorm = RMSNorm(C)
        self.mlp = MLP(C, Fd)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(nn.Module):
    def __init__(self, V, C, L, nh, nkv, Fd, hd, qk_norm):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, C)
        self.layers = nn.ModuleList(Layer(C, nh, nkv, Fd, hd, qk_norm) for _ in range(L))
        self.norm = RMSNorm(C)


class LlamaForCausalLM(nn.Module):
    def __init__(self, V, C, L, nh, nkv, Fd, variant=None):
        super().__init__()
        variant = variant or {}
        self.hd = variant.get("head_dim") or C // nh
        self.theta = variant.get("rope_theta", ROPE_THETA)
        self.scaling = variant.get("rope_scaling")
        self.model = Body(V, C, L, nh, nkv, Fd, self.hd, variant.get("qk_norm", False))
        self.lm_head = Linear(C, V)

    def rope(self, T):
        inv = rope_inv_freq(self.hd, self.theta, self.scaling)
        freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    def forward(self, ids, cos, sin, mask):
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        logits = self.lm_head(self.model.norm(x))
        V = logits.shape[-1]
        # the HF shift: position t predicts token t+1
        return F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss():
    """Resets the kernel's RSS high-water mark (as lm bench does after loading)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def main(a):
    torch.set_num_threads(a.threads)
    V, C, L, nh, nkv, Fd = SHAPES[a.shape]
    B, T = a.batch, a.seq
    with torch.no_grad():
        model = LlamaForCausalLM(V, C, L, nh, nkv, Fd, VARIANTS.get(a.shape))
        wanted = {name: p.data for name, p in model.named_parameters()}
        wanted["bench.input_ids"] = None
        got = read_safetensors(a.weights, wanted)
    ids = got["bench.input_ids"].long()
    if tuple(ids.shape) != (B, T):
        raise SystemExit(f"torch_llama.py: {a.weights}: input ids are {list(ids.shape)}, "
                         f"expected [{B}, {T}]")
    params = sum(p.numel() for p in model.parameters())
    if a.mode == "lora":
        model.requires_grad_(False)
        gen = torch.Generator().manual_seed(a.seed)
        for mod in model.model.modules():
            for t in LORA_TARGETS:
                lin = getattr(mod, t, None)
                if isinstance(lin, Linear):
                    lin.add_lora(LORA_RANK, LORA_ALPHA, gen)
    trainable = [p for p in model.parameters() if p.requires_grad] if a.mode != "forward" else []
    opt = torch.optim.AdamW(trainable, lr=1e-4) if trainable else None
    cos, sin = model.rope(T)
    mask = torch.full((T, T), float("-inf")).triu(1)
    load_peak = peak_rss_mib()
    reset_peak_rss()

    times, first, last = [], None, None
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        if opt is None:
            with torch.no_grad():
                loss = model(ids, cos, sin, mask)
        else:
            opt.zero_grad()
            loss = model(ids, cos, sin, mask)
            loss.backward()
            opt.step()
        lv = float(loss)
        dt = time.perf_counter() - t0
        if s == 0:
            first = lv
        last = lv
        if s >= a.warmup:
            times.append(dt)
    times.sort()
    n = len(times)
    step = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    impl = "torch-tuned" if os.environ.get("LG_BENCH_TUNED") == "1" else "torch"
    print(json.dumps({
        "impl": impl, "torch": torch.__version__, "shape": a.shape,
        "arch": "qwen3" if VARIANTS.get(a.shape, {}).get("qk_norm") else "llama", "mode": a.mode,
        "threads": a.threads, "batch": B, "seq": T, "steps": a.steps, "warmup": a.warmup,
        "optimizer": "adamw" if opt else "none", "params": params,
        "trainable": sum(p.numel() for p in trainable), "step_s_median": round(step, 6),
        "tokens_per_s": round(B * T / step, 2), "first_loss": round(first, 7),
        "last_loss": round(last, 7), "peak_rss_mib": round(max(peak_rss_mib(), 0.0), 1),
        "load_peak_rss_mib": round(load_peak, 1),
    }))


if __name__ == "__main__":
    main(ARGS)
