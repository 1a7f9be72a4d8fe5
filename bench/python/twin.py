"""The Python twin of bench_speed (bench/speed.cpp): the same figures, arguments and JSON output,
written as a careful PyTorch user would (nanoGPT's train step and sampling loop).
    .venv/bin/python bench/python/twin.py sgemm    [--n 2048] [--repeats 5] [--dtype fp32|bf16]
    .venv/bin/python bench/python/twin.py train    --model L,H,C,BLOCK,V --batch B --seq T [--steps N]
                                                   [--device cpu|cuda] [--autocast bf16] [--compile]
    .venv/bin/python bench/python/twin.py generate --model L,H,C,BLOCK,V --batch B --prompt P --new N
                                                   [--no-cache] [--device cpu|cuda] [--autocast bf16] [--dtype bf16]
train and generate take --profile FILE: a Chrome trace of the timed part (bench/profile_summary.py).
Runs on the project's virtual environment (.venv, scripts/setup.sh and bench/setup.sh): the torch
2.11.0 wheel whose LibTorch our binary links, so both sides call the same kernels. Threads as ours
(dist/runtime.cpp configure_threads): torch.set_num_threads(all cores), LibTorch's one OpenMP pool,
which runs the matmuls (MKL, oneDNN) and every other op.
--autocast bf16: torch.autocast(device, bfloat16) around forward + loss in train and around the whole
of generate, as ours under precision bf16; --compile: torch.compile (inductor) of the model.
On CUDA (bench/gpu/device_check.sh) the train step is nanoGPT's: torch.autocast bf16 around
forward + loss (--autocast bf16), optionally torch.compile (--compile), fused AdamW, no loss.item()
per step, the steps timed together with one torch.cuda.synchronize() before each clock read (as
bench_speed's CUDA step)."""
import argparse
import contextlib
import json
import os
import resource
import sys
import time

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt import GPT, GPTConfig  # noqa: E402


def configure_threads():
    """As rlhf::configure_threads(0) in one process: LibTorch's pool on all cores. Set explicitly:
    torch's own default counts physical cores, ours every logical one (hardware_concurrency)."""
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    return torch.get_num_threads()


@contextlib.contextmanager
def maybe_profile(path):
    """The legacy autograd profiler, as our side's RecordProfile: a Chrome trace of every op. In
    2.x torch.autograd.profiler.profile is Kineto whatever use_kineto says; the legacy one, kept
    for now, makes both traces come from the same code."""
    if not path:
        yield None
        return
    with torch.autograd.profiler_legacy.profile() as prof:
        yield prof
    prof.export_chrome_trace(path)


def model_json(model):
    c = model.config
    return dict(n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd, block_size=c.block_size,
                vocab_size=c.vocab_size, params=model.num_parameters())


def make_adamw(model, lr, weight_decay, foreach, device="cpu"):
    """Two groups as train/optimizer.cpp: decay on matmul weights, not on biases, LayerNorms, embeddings.
    On CUDA the fused kernel (nanoGPT's configure_optimizers); on the CPU torch's default."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        is_embedding = "wte." in name or "wpe." in name
        (decay if p.dim() >= 2 and not is_embedding else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if device == "cuda":
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8, foreach=foreach)


def fused_adamw(opt):
    return bool(opt.defaults.get("fused"))


def autocast_context(args):
    """torch.autocast bf16 around forward + loss, as our BF16Autocast (on the CPU or CUDA)."""
    if args.autocast == "bf16":
        return torch.autocast(args.device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def matmul_gflops(n, repeats, dtype):
    """Best of `repeats` (n x n) @ (n x n) matmuls in `dtype`: the peak a train step is measured against."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    c = torch.mm(a, b)  # warm-up
    best = 1e30
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def train(args):
    if args.device == "cuda":
        return train_cuda(args)
    peak = matmul_gflops(2048, 5, torch.float32)
    peak_bf16 = matmul_gflops(2048, 5, torch.bfloat16)
    torch.manual_seed(0)
    model = GPT(GPTConfig.parse(args.model))
    model.train()
    step_model = torch.compile(model) if args.compile else model
    lr = 6e-4
    opt = make_adamw(model, lr, 0.1, args.foreach)
    B, T = args.batch, args.seq
    ids = torch.randint(0, model.config.vocab_size, (B, T + 1))  # (B, T + 1)
    x, y = ids[:, :T].contiguous(), ids[:, 1:].contiguous()       # (B, T) each
    step_s, fwd_s, bwd_s, clip_s, opt_s, faults = [], [], [], [], [], []
    minflt = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt  # noqa: E731
    profile = contextlib.ExitStack()
    warmup = args.warmup if args.warmup >= 0 else (3 if args.compile else 1)  # compile: the first calls trace
    t_warm = time.perf_counter()
    for s in range(-warmup, args.steps):
        if s == 0:
            warmup_s = time.perf_counter() - t_warm
            profile.enter_context(maybe_profile(args.profile))
        f0 = minflt()
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        with autocast_context(args):
            _, loss = step_model(x, y)
        t1, f1 = time.perf_counter(), minflt()
        loss.backward()
        t2, f2 = time.perf_counter(), minflt()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        loss.item()
        t2b = time.perf_counter()
        opt.step()
        t3, f3 = time.perf_counter(), minflt()
        if s >= 0:
            step_s.append(t3 - t0), fwd_s.append(t1 - t0), bwd_s.append(t2 - t1)
            clip_s.append(t2b - t2), opt_s.append(t3 - t2b)
            faults.append((f1 - f0, f2 - f1, f3 - f2))
    profile.close()
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    fpt = flops_per_token(model, T)
    tokens_per_s = B * T / med(step_s)
    return dict(tokens_per_s=tokens_per_s, model_gflops=fpt * tokens_per_s / 1e9, sgemm_gflops=peak,
                bf16_matmul_gflops=peak_bf16, flops_per_token=fpt, step_s=med(step_s), forward_s=med(fwd_s),
                backward_s=med(bwd_s), clip_s=med(clip_s), adamw_s=med(opt_s), foreach=args.foreach,
                autocast=args.autocast, compile=args.compile, warmup_s=warmup_s, model=model_json(model),
                page_faults_per_step=dict(forward=med([f[0] for f in faults]), backward=med([f[1] for f in faults]),
                                          clip_adamw=med([f[2] for f in faults])))


def flops_per_token(model, T):
    c = model.config
    return 6.0 * model.num_parameters() + 12.0 * c.n_layer * c.n_embd * T  # nanoGPT estimate_mfu


def train_cuda(args):
    """nanoGPT's GPU step; the steps are queued back to back and timed together."""
    torch.manual_seed(0)
    model = GPT(GPTConfig.parse(args.model)).to("cuda")
    model.train()
    lr = 6e-4
    opt = make_adamw(model, lr, 0.1, args.foreach, device="cuda")
    step_model = model
    if args.compile:
        step_model = torch.compile(model)
    B, T = args.batch, args.seq
    ids = torch.randint(0, model.config.vocab_size, (B, T + 1), device="cuda")  # (B, T + 1)
    x, y = ids[:, :T].contiguous(), ids[:, 1:].contiguous()                     # (B, T) each

    def step():
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        with autocast_context(args):
            _, loss = step_model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the norm stays on the device
        opt.step()
        return loss.detach()

    warmup = args.warmup if args.warmup >= 0 else (5 if args.compile else 3)  # compile: first calls trace
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    warmup_s = time.perf_counter() - t0
    torch.cuda.reset_peak_memory_stats()
    with maybe_profile(args.profile):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step()
        torch.cuda.synchronize()
        step_s = (time.perf_counter() - t0) / max(1, args.steps)
    fpt = flops_per_token(model, T)
    tokens_per_s = B * T / step_s
    return dict(tokens_per_s=tokens_per_s, model_gflops=fpt * tokens_per_s / 1e9, flops_per_token=fpt,
                step_s=step_s, loss=loss.item(), peak_gpu_bytes=torch.cuda.max_memory_allocated(),
                device="cuda", autocast=args.autocast, compile=args.compile, fused_adamw=fused_adamw(opt),
                warmup_s=warmup_s, model=model_json(model))


@torch.inference_mode()
def generate_tokens(model, idx, new_tokens, top_k=50, use_cache=True):
    """nanoGPT's sampling loop (top-k, temperature 1) over a preallocated KV cache: the prompt in
    one forward, then one token per step. Without the cache every step recomputes the sequence."""
    B, P = idx.size()
    out = torch.empty(B, new_tokens, dtype=torch.long, device=idx.device)
    cache = model.make_cache(B, P + new_tokens) if use_cache else None
    seq = idx
    logits, _ = model(idx, cache=cache)                         # (B, 1, V)
    for i in range(new_tokens):
        logits = logits[:, -1, :]                               # (B, V)
        v, _ = torch.topk(logits, top_k)                        # (B, k)
        logits = logits.masked_fill(logits < v[:, [-1]], float("-inf"))
        idx_next = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)  # (B, 1)
        out[:, i] = idx_next[:, 0]
        if i + 1 == new_tokens:
            break
        if use_cache:
            logits, _ = model(idx_next, cache=cache, pos=P + i)
        else:
            seq = torch.cat((seq, idx_next), dim=1)             # (B, P + i + 1)
            logits, _ = model(seq)
    return out


def generate(args):
    torch.manual_seed(0)
    model = GPT(GPTConfig.parse(args.model))
    model.eval()
    idx = torch.randint(0, model.config.vocab_size, (args.batch, args.prompt))  # (B, P)
    if args.device == "cuda" or args.dtype == "bf16":
        model.to(device=args.device, dtype=torch.bfloat16 if args.dtype == "bf16" else torch.float32)
        idx = idx.to(args.device)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    with autocast_context(args):
        generate_tokens(model, idx, 8, use_cache=args.cache)  # warm-up
        sync()
        with maybe_profile(args.profile):
            t0 = time.perf_counter()
            out = generate_tokens(model, idx, args.new, use_cache=args.cache)
            sync()
            s = time.perf_counter() - t0
    assert out.size(1) == args.new
    result = dict(tokens_per_s=args.batch * args.new / s, seconds=s, autocast=args.autocast, model=model_json(model))
    if args.device == "cuda" or args.dtype == "bf16":
        result.update(device=args.device, dtype=args.dtype)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["sgemm", "train", "generate"])
    p.add_argument("--model", default="4,4,192,128,2048")
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--new", type=int, default=256)
    p.add_argument("--no-cache", dest="cache", action="store_false")
    p.add_argument("--profile", help="write a Chrome trace of the timed part here")
    # On the CPU torch's AdamW defaults to its per-tensor loop (foreach is its default on CUDA
    # only) and nanoGPT keeps that; --foreach: the multi-tensor loop, as ours (ForeachAdamW).
    p.add_argument("--foreach", action="store_true")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="train and generate")
    p.add_argument("--autocast", choices=["none", "bf16"], default="none", help="train, generate: torch.autocast bf16 (CPU or CUDA)")
    p.add_argument("--compile", action="store_true", help="train: torch.compile the model (inductor)")
    p.add_argument("--warmup", type=int, default=-1, help="train: untimed steps first (-1: CPU 1, 3 compiled; CUDA 3, 5 compiled)")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="generate: the weights' dtype; sgemm: the matrices'")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit(f"twin.py: --device cuda: CUDA is not available (torch {torch.__version__}); use --device cpu")
    threads = configure_threads()
    if args.mode == "sgemm":
        dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
        out = dict(gflops=matmul_gflops(args.n, args.repeats, dtype), n=args.n, dtype=args.dtype)
    elif args.mode == "train":
        out = train(args)
    else:
        out = generate(args)
    out["side"] = "twin"
    out["threads"] = threads
    out["torch_version"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
