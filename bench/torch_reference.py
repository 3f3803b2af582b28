#!/usr/bin/python3
"""PyTorch eager twin of the shipped prior and decoder networks, for measurement only.

It re-implements `DecoderUNet`, `PriorTransformer` and the DDIM loop of `DdimSampler` with plain
torch.nn.functional calls, loads the very `weights.safetensors` and `config.json` the Java code serves, and
answers the measurement commands `./dalle2 bench --torch` sends it on stdin (one JSON object per line each
way). The bench interleaves its Java measurements with these, row by row, prints Java/PyTorch ratios, and
compares the two networks' outputs on the same fixed inputs, so a ratio always compares the same computation.

Not part of the product: it needs Debian's python3-torch (1.13) and nothing else (safetensors is parsed here).
"""
import argparse
import copy
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_safetensors(path):
    """The tensors of a safetensors file as a dict of float32 torch tensors."""
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}, only F32 is read here")
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"]).copy()
        tensors[name] = torch.from_numpy(array)
    return tensors


def by_path(tensors):
    """DJL names children with a two-digit order prefix ("04down0_res0_01res_01norm1_gamma"); this strips the
    prefixes and joins the parts with dots ("down0_res0.res.norm1_gamma")."""
    out = {}
    for name, tensor in tensors.items():
        parts = [p for p in re.split(r"_?\d{2}(?=[a-z])", name) if p]
        key = ".".join(parts) if re.match(r"\d{2}", name) else name
        out[key] = tensor
    return out


def silu(x):
    return x * torch.sigmoid(x)


def timestep_features(t):
    half = 64
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half))
    angles = t.float().reshape(-1, 1) * freqs.reshape(1, half)
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def groups_for(channels):
    for groups in range(min(32, channels // 4), 1, -1):
        if channels % groups == 0:
            return groups
    return 1


class Decoder:
    def __init__(self, folder):
        self.cfg = json.load(open(os.path.join(folder, "config.json")))
        self.w = by_path(load_safetensors(os.path.join(folder, "weights.safetensors")))

    def linear(self, prefix, x):
        return F.linear(x, self.w[prefix + "_weight"], self.w[prefix + "_bias"])

    def conv(self, prefix, x, stride=1, padding=1):
        return F.conv2d(x, self.w[prefix + "_weight"], self.w[prefix + "_bias"], stride=stride, padding=padding)

    def norm(self, prefix, x):
        gamma = self.w[prefix + "_gamma"]
        return F.group_norm(x, groups_for(gamma.shape[0]), gamma, self.w[prefix + "_beta"], 1e-5)

    def res_block(self, prefix, x, emb):
        h = self.conv(prefix + ".conv1", silu(self.norm(prefix + ".norm1", x)))
        e = self.linear(prefix + ".emb_proj", silu(emb))
        out = h.shape[1]
        if self.cfg.get("condition_injection", "add") == "scale_shift":
            scale, shift = e.reshape(x.shape[0], 2 * out, 1, 1).split(out, dim=1)
            h = silu(self.norm(prefix + ".norm2", h) * (scale + 1) + shift)
        else:
            h = silu(self.norm(prefix + ".norm2", h + e.reshape(x.shape[0], out, 1, 1)))
        h = self.conv(prefix + ".conv2", h)
        skip = self.conv(prefix + ".skip", x, padding=0) if prefix + ".skip_weight" in self.w else x
        return skip + h

    def attention(self, prefix, x):
        b, c, s, _ = x.shape
        heads = self.cfg["attention_heads"]
        hd = c // heads
        h = self.norm(prefix + ".norm", x).reshape(b, c, s * s).transpose(1, 2)
        qkv = self.linear(prefix + ".qkv", h).reshape(b, s * s, 3, heads, hd).permute(2, 0, 3, 1, 4)
        weights = torch.softmax(qkv[0] @ qkv[1].transpose(-1, -2) * (1.0 / math.sqrt(hd)), dim=-1)
        attended = (weights @ qkv[2]).transpose(1, 2).reshape(b, s * s, c)
        return x + self.linear(prefix + ".proj", attended).transpose(1, 2).reshape(x.shape)

    def stage(self, prefix, h, emb, level):
        h = self.res_block(prefix + ".res", h, emb)
        if self.has_attention(level):
            h = self.attention(prefix + ".attention", h)
        return h

    def has_attention(self, level):
        return (self.cfg["image_size"] >> level) in self.cfg["attention_resolutions"]

    def __call__(self, x, t, cond, keep):
        cfg = self.cfg
        keep = keep.reshape(-1, 1)
        c = cond * keep + (1 - keep) * self.w["null_condition"]
        c = c * cfg.get("condition_scale", 1.0)
        emb = self.linear("time_embed.out", silu(self.linear("time_embed.in", timestep_features(t))))
        emb = emb + self.linear("condition_proj", c)
        levels = len(cfg["channel_multipliers"])
        blocks = cfg["blocks_per_level"]
        h = self.conv("input_conv", x)
        skips = [h]
        for level in range(levels):
            for i in range(blocks):
                h = self.stage(f"down{level}_res{i}", h, emb, level)
                skips.append(h)
            if level < levels - 1:
                h = self.conv(f"down{level}_downsample.conv", h, stride=2)
                skips.append(h)
        h = self.res_block("middle_res0.res", h, emb)
        h = self.attention("middle_res0.attention", h)
        h = self.res_block("middle_res1.res", h, emb)
        for level in reversed(range(levels)):
            for i in range(blocks + 1):
                h = torch.cat([h, skips.pop()], dim=1)
                h = self.stage(f"up{level}_res{i}", h, emb, level)
            if level > 0:
                h = self.conv(f"up{level}_upsample.conv", F.interpolate(h, scale_factor=2, mode="nearest"))
        h = silu(self.norm("output_norm", h))
        return self.conv("output_conv", h)


class Prior:
    def __init__(self, folder):
        self.cfg = json.load(open(os.path.join(folder, "config.json")))
        self.w = by_path(load_safetensors(os.path.join(folder, "weights.safetensors")))
        mask = torch.zeros(4, 4)
        mask[torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)] = -1e5
        self.mask = mask.reshape(1, 1, 4, 4)

    def linear(self, prefix, x):
        return F.linear(x, self.w[prefix + "_weight"], self.w[prefix + "_bias"])

    def layer_norm(self, prefix, x):
        return F.layer_norm(x, (x.shape[-1],), self.w[prefix + "_gamma"], self.w[prefix + "_beta"], 1e-5)

    def block(self, prefix, x):
        b, t, width = x.shape
        heads = self.cfg["heads"]
        hd = width // heads
        normed = self.layer_norm(prefix + ".ln_attention", x)
        qkv = self.linear(prefix + ".qkv", normed).reshape(b, t, 3, heads, hd).permute(2, 0, 3, 1, 4)
        scores = qkv[0] @ qkv[1].transpose(-1, -2) / math.sqrt(hd) + self.mask
        attended = (torch.softmax(scores, dim=-1) @ qkv[2]).transpose(1, 2).reshape(b, t, width)
        x = x + self.linear(prefix + ".attention_out", attended)
        hidden = F.gelu(self.linear(prefix + ".mlp_in", self.layer_norm(prefix + ".ln_mlp", x)))
        return x + self.linear(prefix + ".mlp_out", hidden)

    def __call__(self, noisy, t, text, keep):
        keep = keep.reshape(-1, 1)
        cond = text * keep + (1 - keep) * self.w["null_text"]
        tokens = torch.stack([
            self.linear("text_projection", cond),
            self.linear("time_embedding.out", silu(self.linear("time_embedding.in", timestep_features(t)))),
            self.linear("image_projection", noisy),
            torch.zeros(noisy.shape[0], self.cfg["width"]) + self.w["query"],
        ], dim=1) + self.w["positions"]
        for i in range(self.cfg["depth"]):
            tokens = self.block(f"block{i}", tokens)
        tokens = self.layer_norm("final_norm", tokens)
        return self.linear("out_projection", tokens[:, 3, :])


def cosine_alpha_bar(timesteps):
    """Squared-cosine schedule of improved DDPM with β clipped at 0.999, as NoiseScheduler builds it."""
    def f(t):
        return math.cos((t / timesteps + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - f(i + 1) / f(i), 0.999) for i in range(timesteps)]
    alpha_bar, products = 1.0, []
    for beta in betas:
        alpha_bar *= 1 - beta
        products.append(alpha_bar)
    return products


def ddim(model, cond, sample_shape, steps, guidance, prediction, clip, generator):
    """Deterministic DDIM (η = 0) with classifier-free guidance, trailing spacing, as DdimSampler."""
    total = model.cfg["timesteps"]
    alpha_bar = cosine_alpha_bar(total)
    ts = [int(round(total - i * total / steps)) - 1 for i in range(steps)]
    batch = cond.shape[0]
    x = torch.randn((batch,) + sample_shape, generator=generator)
    keep = torch.cat([torch.ones(batch), torch.zeros(batch)])
    conds = torch.cat([cond, cond])
    for i, t in enumerate(ts):
        out = model(torch.cat([x, x]), torch.full((2 * batch,), t, dtype=torch.long), conds, keep)
        out = out[batch:] + guidance * (out[:batch] - out[batch:])
        a, a_prev = alpha_bar[t], (alpha_bar[ts[i + 1]] if i + 1 < len(ts) else 1.0)
        if prediction == "epsilon":
            x0 = (x - math.sqrt(1 - a) * out) / math.sqrt(a)
        elif prediction == "v":
            x0 = math.sqrt(a) * x - math.sqrt(1 - a) * out
        elif prediction == "sample":
            x0 = out
        else:
            raise ValueError("unknown prediction " + prediction)
        if clip:
            x0 = x0.clamp(-1, 1)
        eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
        x = x0 if i + 1 == len(ts) else math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
    return x


def fixed_inputs(batch, sample_shape, condition_dim):
    """Deterministic inputs both languages build the same way: sin of the flat index at two frequencies."""
    n = batch * int(np.prod(sample_shape))
    x = torch.sin(torch.arange(n, dtype=torch.float32) * 0.37).reshape((batch,) + tuple(sample_shape))
    c = torch.cos(torch.arange(batch * condition_dim, dtype=torch.float32) * 0.11).reshape(batch, condition_dim)
    t = torch.full((batch,), 500, dtype=torch.long)
    return x, t, c, torch.ones(batch)


def median_ms(fn, repeats, warmup=2):
    times = []
    for i in range(repeats + warmup):
        start = time.perf_counter()
        fn()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def training_step_ms(decoder, batch, repeats):
    """One decoder training step as the Java trainer runs it: noising, forward, MSE, backward, clipping, AdamW,
    EMA."""
    decoder = copy.copy(decoder)          # train a copy: the forward figures keep the shipped weights
    decoder.w = {name: tensor.clone() for name, tensor in decoder.w.items()}
    params = [p.requires_grad_() for p in decoder.w.values()]
    optimizer = torch.optim.AdamW(params, lr=3e-4, weight_decay=0.01)
    ema = [p.detach().clone() for p in params]
    alpha_bar = torch.tensor(cosine_alpha_bar(decoder.cfg["timesteps"]))
    size = decoder.cfg["image_size"]
    images = torch.rand(batch, 3, size, size) * 2 - 1
    cond = F.normalize(torch.randn(batch, decoder.cfg["condition_dim"]), dim=1)

    def step():
        t = torch.randint(0, decoder.cfg["timesteps"], (batch,))
        noise = torch.randn_like(images)
        a = alpha_bar[t].reshape(-1, 1, 1, 1)
        noisy = a.sqrt() * images + (1 - a).sqrt() * noise
        keep = (torch.rand(batch) >= 0.1).float()
        loss = F.mse_loss(decoder(noisy, t, cond, keep), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        with torch.no_grad():
            torch._foreach_mul_(ema, 0.999)
            torch._foreach_add_(ema, [p.detach() for p in params], alpha=0.001)

    with torch.enable_grad():
        return median_ms(step, repeats, warmup=2)


class Reference:
    """The networks and the measurements, driven by one command per stdin line (see `serve`)."""

    def __init__(self, models):
        self.decoder = Decoder(os.path.join(models, "decoder"))
        self.prior = Prior(os.path.join(models, "prior"))
        size = self.decoder.cfg["image_size"]
        self.image_shape = (self.decoder.cfg["image_channels"], size, size)
        self.dim = self.prior.cfg["embedding_dim"]

    def network(self, name):
        if name == "prior":
            return self.prior, (self.dim,), self.dim
        return self.decoder, self.image_shape, self.decoder.cfg["condition_dim"]

    def forward(self, model, batch, repeats):
        network, shape, cond_dim = self.network(model)
        x, t, c, keep = fixed_inputs(batch, shape, cond_dim)
        with torch.inference_mode():
            out = network(x, t, c, keep)
            ms = median_ms(lambda: network(x, t, c, keep), repeats)
        return {"ms": ms, "output": [float(v) for v in out[0].flatten()]}

    def sample(self, model, batch, steps, guidance):
        network, shape, cond_dim = self.network(model)
        generator = torch.Generator().manual_seed(0)
        cond = F.normalize(torch.randn(batch, cond_dim, generator=generator), dim=1)
        if model == "prior":
            cond = cond * network.cfg["embedding_scale"]
        with torch.inference_mode():
            start = time.perf_counter()
            ddim(network, cond, shape, steps, guidance, network.cfg["prediction"], model == "decoder", generator)
            return {"s": time.perf_counter() - start}

    def train(self, batch, repeats):
        return {"ms": training_step_ms(self.decoder, batch, repeats)}


def serve(reference):
    """One JSON command per line on stdin, one JSON answer per line on stdout, until stdin closes:
    {"op": "forward", "model": "decoder", "batch": 16, "repeats": 7}, {"op": "sample", "model": "prior",
    "batch": 4, "steps": 64, "guidance": 3.0}, {"op": "train", "batch": 32, "repeats": 3}."""
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        op = command.pop("op")
        try:
            answer = getattr(reference, op)(**command)
        except Exception as e:  # the bench reports the reason and goes on
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="trained_models")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    serve(Reference(args.models))


if __name__ == "__main__":
    sys.exit(main())
