"""Ours against the twins, side by side in one run (bench/README.md). Each figure is one process
per side; the sides alternate (ours first in even repetitions, the twin first in odd ones), so both
see the same machine, and the table gives medians over repetitions and the ratio ours / twin.
    .venv/bin/python bench/run.py --build build [--reps 3] [--json FILE] [--quick] [--only NAME,...]
                                  [--precision auto|bf16|fp32]
    .venv/bin/python bench/run.py --build build --threads [--reps 3]
Run from anywhere; processes run in the repository root. Standard library only: the twins (torch,
tiktoken) run in their own processes on the project's virtual environment."""
import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The project's virtual environment: the torch wheel our binary links, and tiktoken (bench/setup.sh).
PYTHON = os.path.join(ROOT, ".venv/bin/python")

# Model shapes as "L,H,C,BLOCK,V", passed verbatim to both sides.
QUICKSTART = "4,4,192,128,2048"   # configs/quickstart-pretrain.json (vocab: its tokenizer's 2048)
TEN_M = "6,6,384,256,4096"        # ~10M non-embedding parameters, 12.2M with wte
TEN_M_GEN = "6,6,384,512,4096"    # the same with room for a 16-token prompt + 256 new tokens
FORTY_M = "8,8,640,256,8192"      # ~39M non-embedding parameters, 45M with wte: how cost grows with size


def cpu_bf16_units():
    """As model/precision.cpp's cpu_bf16_units (cpuinfo's flags, which oneDNN's choice follows)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    except OSError:
        return ""
    return "AMX" if "amx_bf16" in flags else "AVX512-BF16" if "avx512_bf16" in flags else ""


def resolve_precision(setting):
    """The stages' rule for precision auto on the CPU: bf16 autocast where the CPU has bf16 units."""
    if setting == "auto":
        return "bf16" if cpu_bf16_units() else "fp32"
    return setting


def corpus_files():
    files = sorted(glob.glob(os.path.join(ROOT, "data/corpus/*.txt")))
    files += sorted(glob.glob(os.path.join(ROOT, "data/corpus/austen/*.txt")))
    return [os.path.relpath(f, ROOT) for f in files]


def figures(build, quick, precision):
    """name -> (what, unit, our command, twin command or None). `precision` (bf16 or fp32) is the same
    on both sides: ours --precision, the twin's torch.autocast; the _compile figures set ours against
    torch.compile of the same twin, the strongest Python anchor."""
    speed = [os.path.join(build, "bench/bench_speed")]
    twin = [PYTHON, "bench/python/twin.py"]
    ours_p = ["--precision", precision]
    twin_p = ["--autocast", "bf16" if precision == "bf16" else "none"]
    steps = ["--steps", "2" if quick else "4"]
    steps_10m = ["--steps", "1" if quick else "3"]
    new = ["--new", "64" if quick else "256"]
    passes = ["--passes", "1" if quick else "3"]
    train_q = ["train", "--model", QUICKSTART, "--batch", "16", "--seq", "128"] + steps
    train_m = ["train", "--model", TEN_M, "--batch", "8", "--seq", "256"] + steps_10m
    train_l = ["train", "--model", FORTY_M, "--batch", "8", "--seq", "256"] + steps_10m
    gen = ["generate", "--model", TEN_M_GEN, "--prompt", "16"] + new
    files = corpus_files()
    label = "" if precision == "fp32" else ", bf16 autocast"
    figs = {
        "sgemm": ("sgemm 2048x2048 (best of 5)", "GFLOP/s", speed + ["sgemm"], twin + ["sgemm"]),
        "bf16_matmul": ("bf16 matmul 2048x2048 (best of 5)", "GFLOP/s", speed + ["sgemm", "--dtype", "bf16"],
                        twin + ["sgemm", "--dtype", "bf16"]),
        "train_quickstart": ("train step, quickstart 4L/192/ctx128/V2048, B=16" + label, "tok/s",
                             speed + train_q + ours_p, twin + train_q + twin_p),
        "train_quickstart_compile": ("train step, quickstart, vs torch.compile" + label, "tok/s",
                                     speed + train_q + ours_p, twin + train_q + twin_p + ["--compile"]),
        "train_10m": ("train step, 10M 6L/384/ctx256/V4096, B=8" + label, "tok/s",
                      speed + train_m + ours_p, twin + train_m + twin_p),
        "train_10m_compile": ("train step, 10M, vs torch.compile" + label, "tok/s",
                              speed + train_m + ours_p, twin + train_m + twin_p + ["--compile"]),
        "train_40m": ("train step, 45M 8L/640/ctx256/V8192, B=8" + label, "tok/s",
                      speed + train_l + ours_p, twin + train_l + twin_p),
        "gen_b1_cache": ("generate B=1, KV cache, %s new, 10M (block 512)%s" % (new[1], label), "tok/s",
                         speed + gen + ["--batch", "1"] + ours_p, twin + gen + ["--batch", "1"] + twin_p),
        "gen_b16_cache": ("generate B=16, KV cache, %s new, 10M (block 512)%s" % (new[1], label), "tok/s",
                          speed + gen + ["--batch", "16"] + ours_p, twin + gen + ["--batch", "16"] + twin_p),
        "gen_b1_nocache": ("generate B=1, no cache, %s new, 10M (block 512)%s" % (new[1], label), "tok/s",
                           speed + gen + ["--batch", "1", "--no-cache"] + ours_p,
                           twin + gen + ["--batch", "1", "--no-cache"] + twin_p),
        "tokenize": ("GPT-2 encode, data/corpus (%d files)" % len(files), "MB/s",
                     [os.path.join(build, "bench/bench_tokenizer"), "--tokenizer", "data/tokenizer/gpt2"] + passes + files,
                     [PYTHON, "bench/python/tokenizer_bench.py", "--tokenizer", "data/tokenizer/gpt2"] + passes + files),
        "ppo": ("PPO iteration, quickstart config" + label, "s",
                [os.path.join(build, "bench/bench_ppo"), "--iterations", "1" if quick else "2"] + ours_p, None),
    }
    if precision == "bf16":
        # Ours in fp32 in the same run: what bf16 buys on this CPU (the twin in fp32 beside it).
        figs["train_10m_fp32"] = ("train step, 10M, fp32 (both sides)", "tok/s",
                                  speed + train_m + ["--precision", "fp32"], twin + train_m)
        figs["ppo_fp32"] = ("PPO iteration, quickstart config, fp32", "s",
                            [os.path.join(build, "bench/bench_ppo"), "--iterations", "1" if quick else "2",
                             "--precision", "fp32"], None)
    return figs


def busy_jiffies():
    """CPU time (all cores) spent busy since boot, from /proc/stat, in seconds."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# Thread counts from the environment would override what both sides set (configure_threads).
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def clean_env(extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(extra_env or {})
    return env


def run_one(cmd, extra_env=None):
    """Runs one figure process; returns (its JSON, cores used by everything else meanwhile)."""
    env = clean_env(extra_env)
    before_busy, before_children = busy_jiffies(), os.times()
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - t0
    after = os.times()
    own = (after.children_user - before_children.children_user) + (after.children_system - before_children.children_system)
    other = max(0.0, (busy_jiffies() - before_busy - own) / elapsed)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(cmd), proc.returncode, proc.stderr[-2000:]))
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError("%s printed no JSON:\n%s" % (" ".join(cmd), proc.stdout[-2000:]))
    return json.loads(lines[-1]), other


def headline(name, result):
    """The figure's main number."""
    if name in ("sgemm", "bf16_matmul"):
        return result["gflops"]
    if name == "tokenize":
        return result["mb_per_s"]
    if name.startswith("ppo"):
        return result["iteration_s"]
    return result["tokens_per_s"]


def check_same_setup(name, ours, twin):
    """Both sides built the same model and ran LibTorch's pool on the same number of threads."""
    if "model" in ours and ours["model"] != twin["model"]:
        raise RuntimeError("%s: the sides built different models:\n ours %s\n twin %s" % (name, ours["model"], twin["model"]))
    if "threads" in ours and ours["threads"] != twin.get("threads"):
        raise RuntimeError("%s: the sides ran on different thread counts: ours %s, twin %s" %
                           (name, ours["threads"], twin.get("threads")))
    if "precision" in ours and "autocast" in twin:
        ours_autocast = ours["precision"]["autocast"]
        if (ours_autocast == "bf16") != (twin["autocast"] == "bf16"):
            raise RuntimeError("%s: the sides ran in different precisions: ours autocast %s, twin %s" %
                               (name, ours_autocast, twin["autocast"]))


def check_same_ids(ours, twin):
    """Per file: same token count and id hash on both sides. Returns a list of mismatch lines."""
    bad = []
    for a, b in zip(ours["files"], twin["files"]):
        if (a["path"], a["tokens"], a["hash"]) != (b["path"], b["tokens"], b["hash"]):
            bad.append("%s: ours %d tokens hash %08x, tiktoken %d tokens hash %08x" %
                       (a["path"], a["tokens"], a["hash"], b["tokens"], b["hash"]))
    if len(ours["files"]) != len(twin["files"]):
        bad.append("different file counts")
    return bad


def med(values):
    return statistics.median(values) if values else float("nan")


# The thread-setup table (--threads): bench_thread_speed, which times each thread count of LibTorch's
# one OpenMP pool, under two runtimes alternated per repetition. GNU OpenMP's idle workers spin a
# while before they sleep; on a shared machine that spinning takes cores from other work, so the
# second runtime has them sleep at once.
THREAD_ENVS = [
    ("default", {}),
    ("passive waits (OMP_WAIT_POLICY=PASSIVE)", {"OMP_WAIT_POLICY": "PASSIVE"}),
]


def threads_table(build, reps, precision):
    """Median tokens/s per (runtime, threads) over `reps` alternated runs, in `precision` (bf16 or fp32)."""
    runs = {}
    for rep in range(reps):
        for name, extra in THREAD_ENVS:
            before = busy_jiffies(), os.times()
            t0 = time.monotonic()
            out = subprocess.run([os.path.join(build, "bench/bench_thread_speed"), "--rounds", "1", "--json",
                                  "--precision", precision], cwd=ROOT,
                                 env=clean_env(extra), capture_output=True, text=True, check=True).stdout
            elapsed, after = time.monotonic() - t0, os.times()
            own = after.children_user - before[1].children_user + after.children_system - before[1].children_system
            other = max(0.0, (busy_jiffies() - before[0] - own) / elapsed)
            print("rep %d/%d %s (other load %.2f cores)" % (rep + 1, reps, name, other), file=sys.stderr, flush=True)
            for line in out.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    key = (name, r["threads"], r["actual"])
                    runs.setdefault(key, {"train": [], "gen1": [], "gen16": [], "other": []})
                    runs[key]["train"].append(r["train_tokens_per_s"])
                    runs[key]["gen1"].append(r["gen_b1_tokens_per_s"])
                    runs[key]["gen16"].append(r["gen_b16_tokens_per_s"])
                    runs[key]["other"].append(other)
    print("\nquickstart shape (4L/192/ctx128/V2048), %s; medians of %d repetitions; %s, %d cores, %s"
          % ("bf16 autocast" if precision == "bf16" else "fp32", reps, cpu_model(), os.cpu_count(),
             datetime.datetime.now().isoformat(timespec="minutes")))
    print("| runtime | LibTorch threads | train tok/s | generate B=1 tok/s | generate B=16 tok/s | other load |")
    print("|---|---|---:|---:|---:|---:|")
    for (name, threads, actual), v in runs.items():
        label = "%d" % threads + ("" if threads == actual else " (reads back %d)" % actual)
        print("| %s | %s | %s | %s | %s | %.2f |" % (name, label, "{:,.0f}".format(med(v["train"])),
                                                     "{:,.0f}".format(med(v["gen1"])), "{:,.0f}".format(med(v["gen16"])),
                                                     med(v["other"])))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory (bench/run.sh: $BUILD_DIR)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--json", help="also write the figures as JSON to this file")
    p.add_argument("--quick", action="store_true", help="one repetition, short runs (a smoke test, not numbers)")
    p.add_argument("--only", help="comma-separated figure names (default: all)")
    p.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                   help="both sides' precision: auto is the stages' rule (bf16 autocast on a CPU with bf16 units)")
    p.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE",
                   help="set this in our processes only, to try a runtime change without rebuilding "
                        "(e.g. GLIBC_TUNABLES=glibc.malloc.trim_threshold=...); repeatable")
    p.add_argument("--twin-env", action="append", default=[], metavar="KEY=VALUE",
                   help="set this in the twin's processes only (e.g. the allocator settings ours makes at "
                        "start-up, to see how much of a ratio they explain); repeatable")
    p.add_argument("--threads", action="store_true",
                   help="instead: the thread-setup table (bench_thread_speed per thread count, default and passive waits)")
    args = p.parse_args()
    reps = 1 if args.quick else args.reps
    precision = resolve_precision(args.precision)
    if args.threads:
        return threads_table(os.path.abspath(args.build), reps, precision)
    figs = figures(os.path.abspath(args.build), args.quick, precision)
    names = args.only.split(",") if args.only else list(figs)
    for n in names:
        if n not in figs:
            sys.exit("unknown figure %s (have: %s)" % (n, ", ".join(figs)))

    ours_env = dict(kv.split("=", 1) for kv in args.ours_env)
    twin_env = dict(kv.split("=", 1) for kv in args.twin_env)
    results = {n: {"ours": [], "twin": [], "other_load": []} for n in names}
    id_mismatches = []
    started = time.monotonic()
    for rep in range(reps):
        for n in names:
            what, unit, ours_cmd, twin_cmd = figs[n]
            order = [("ours", ours_cmd), ("twin", twin_cmd)]
            if rep % 2 == 1:
                order.reverse()
            got = {}
            for side, cmd in order:
                if cmd is None:
                    continue
                got[side], other = run_one(cmd, ours_env if side == "ours" else twin_env)
                results[n][side].append(got[side])
                results[n]["other_load"].append(other)
                print("rep %d/%d %-17s %-4s %10.2f %s   (other load %.2f cores)" %
                      (rep + 1, reps, n, side, headline(n, got[side]), unit, other), file=sys.stderr, flush=True)
            if "twin" in got:
                check_same_setup(n, got["ours"], got["twin"])
            if n == "tokenize":
                id_mismatches += check_same_ids(got["ours"], got["twin"])

    report = summarise(results, figs, names, reps, id_mismatches, time.monotonic() - started)
    report["precision"] = {"setting": args.precision, "used": precision, "cpu_bf16_units": cpu_bf16_units()}
    report["ours_env"] = ours_env
    report["twin_env"] = twin_env
    print_table(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    if id_mismatches:
        sys.exit(1)


def summarise(results, figs, names, reps, id_mismatches, seconds):
    rows = []

    def cache_speedup_row():
        if "gen_b1_cache" in names and "gen_b1_nocache" in names and not any(r["figure"] == "cache_speedup_b1" for r in rows):
            c, nc = results["gen_b1_cache"], results["gen_b1_nocache"]
            row("cache_speedup_b1", "KV cache speedup at B=1 (cache / no cache)", "x",
                [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(c["ours"], nc["ours"])],
                [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(c["twin"], nc["twin"])], ">= 5x (ours)")

    def row(key, what, unit, ours, twin, target=None, higher_is_better=True):
        r = {"figure": key, "what": what, "unit": unit, "ours": [round(v, 4) for v in ours],
             "twin": [round(v, 4) for v in twin], "ours_median": med(ours),
             "twin_median": med(twin) if twin else None}
        # The ratio is the median of the per-repetition ratios: each pair ran back to back, so it
        # cancels load that drifts over the run better than a ratio of medians (also given).
        pairs = [a / b for a, b in zip(ours, twin) if b]
        r["ratio"] = med(pairs) if pairs else None
        r["ratio_min"], r["ratio_max"] = (min(pairs), max(pairs)) if pairs else (None, None)
        r["ratio_of_medians"] = r["ours_median"] / r["twin_median"] if twin and r["twin_median"] else None
        if target is not None:
            r["target"] = target
        rows.append(r)

    targets = {"gen_b1_cache": ">= 2x twin", "gen_b16_cache": ">= 1.5x twin", "tokenize": ">= 1x tiktoken",
               "train_quickstart": ">= 1.3x twin", "train_10m": ">= 1.3x twin", "train_40m": ">= 1.3x twin",
               "train_quickstart_compile": ">= 1x twin", "train_10m_compile": ">= 1x twin"}
    for n in names:
        what, unit, _, _ = figs[n]
        ours, twin = results[n]["ours"], results[n]["twin"]
        if n.startswith("ppo"):
            continue
        if n == "tokenize":
            cache_speedup_row()
        row(n, what, unit, [headline(n, x) for x in ours], [headline(n, x) for x in twin], targets.get(n))
        if n.startswith("train"):
            row(n + "_model_gflops", "  model FLOP/s (6N + 12LCT per token)", "GFLOP/s",
                [x["model_gflops"] for x in ours], [x["model_gflops"] for x in twin])
            bf16 = ours[0].get("precision", {}).get("autocast") == "bf16"
            peak = "bf16_matmul_gflops" if bf16 else "sgemm_gflops"
            row(n + "_peak_fraction", "  fraction of the %s matmul peak (same process)" % ("bf16" if bf16 else "fp32"), "%",
                [100 * x["model_gflops"] / x[peak] for x in ours], [100 * x["model_gflops"] / x[peak] for x in twin],
                (">= 35% (10M)" if bf16 else ">= 50% (10M)") if n == "train_10m" else None)
            for phase in ("forward_s", "backward_s", "clip_s", "adamw_s"):
                row(n + "_" + phase, "  " + phase[:-2] + " per step", "s",
                    [x[phase] for x in ours], [x[phase] for x in twin])
            faults = lambda x: sum(x["page_faults_per_step"].values())  # noqa: E731
            row(n + "_page_faults", "  page faults per step (fresh 4 KiB pages)", "faults",
                [faults(x) for x in ours], [faults(x) for x in twin])
    cache_speedup_row()
    if "train_10m" in names and "train_10m_fp32" in names:
        ours_bf16, ours_fp32 = results["train_10m"]["ours"], results["train_10m_fp32"]["ours"]
        row("train_10m_bf16_speedup", "train step 10M: ours bf16 / ours fp32 (twin: its bf16 / fp32)", "x",
            [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(ours_bf16, ours_fp32)],
            [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(results["train_10m"]["twin"], results["train_10m_fp32"]["twin"])],
            ">= 2x (AMX)")
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release()},
        "reps": reps,
        # LibTorch threads of each side (equal: check_same_setup), from the first figure that has them
        "threads": next((x["threads"] for n in names for x in results[n]["ours"] if "threads" in x), None),
        "seconds": round(seconds, 1),
        "other_load_cores_median": {n: round(med(results[n]["other_load"]), 2) for n in names},
        "rows": rows,
    }
    if "tokenize" in names:
        t = results["tokenize"]
        report["tokenizer"] = {"ids_match": not id_mismatches, "mismatches": id_mismatches,
                               "tokens": t["ours"][0]["tokens"], "bytes": t["ours"][0]["bytes"],
                               "ours_mb_per_s_warm_cache": med([x["mb_per_s_warm_cache"] for x in t["ours"]]),
                               "twin_impl": t["twin"][0].get("impl")}
    for n in ("ppo", "ppo_fp32"):
        if n not in names:
            continue
        runs = results[n]["ours"]
        parts = ("reward_model", "reference", "policy_value")
        report[n] = {k: med([x[k] for x in runs]) for k in ("iteration_s", "rollout_s", "score_s", "train_s", "peak_rss_bytes")}
        report[n]["score_parts_s"] = {k: med([x["score_parts_s"][k] for x in runs]) for k in parts}
        for k in ("rollout_size", "minibatch_size", "ppo_epochs", "max_new_tokens", "sequence_length", "params",
                  "value_trunk", "response_length", "precision"):
            report[n][k] = runs[0][k]
    if "ppo" in names and "ppo_fp32" in names:
        pairs = [b["iteration_s"] / a["iteration_s"] for a, b in zip(results["ppo"]["ours"], results["ppo_fp32"]["ours"])]
        report["ppo"]["speedup_over_fp32"] = {"median": med(pairs), "min": min(pairs), "max": max(pairs), "target": ">= 2x"}
    return report


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("s",):
        return "%.3f" % v
    if unit in ("x", "%", "GFLOP/s", "MB/s") or v < 100:
        return "%.1f" % v
    return "{:,.0f}".format(v)


def print_table(report):
    print("\n%s, %d cores, %s; medians of %d repetitions; ours/twin: median of the per-repetition ratios\n"
          "(min-max: their range); other load: median cores used by other processes during a figure"
          % (report["machine"]["cpu"], report["machine"]["cores"], report["date"], report["reps"]))
    pr = report.get("precision")
    if pr:
        print("precision %s: %s on both sides (CPU bf16 units: %s)" %
              (pr["setting"], "bf16 autocast" if pr["used"] == "bf16" else "fp32", pr["cpu_bf16_units"] or "none"))
    if report.get("threads") is not None:
        print("LibTorch threads on each side: %d (one OpenMP pool)" % report["threads"])
    if report.get("ours_env"):
        print("ours ran with " + " ".join("%s=%s" % kv for kv in report["ours_env"].items()))
    if report.get("twin_env"):
        print("the twin ran with " + " ".join("%s=%s" % kv for kv in report["twin_env"].items()))
    print("| %-55s | %-7s | %10s | %10s | %9s | %-11s | %-14s |" %
          ("figure", "unit", "ours", "twin", "ours/twin", "min-max", "target"))
    print("|%s|%s|%s|%s|%s|%s|%s|" % ("-" * 57, "-" * 9, "-" * 12, "-" * 12, "-" * 11, "-" * 13, "-" * 16))
    for r in report["rows"]:
        ratio = "%.2fx" % r["ratio"] if r["ratio"] is not None else "-"
        spread = "%.2f-%.2f" % (r["ratio_min"], r["ratio_max"]) if r["ratio"] is not None else "-"
        print("| %-55s | %-7s | %10s | %10s | %9s | %-11s | %-14s |" % (
            r["what"], r["unit"], fmt(r["ours_median"], r["unit"]), fmt(r["twin_median"], r["unit"]), ratio,
            spread, r.get("target", "")))
    print("other load (cores):", ", ".join("%s %.2f" % kv for kv in report["other_load_cores_median"].items()))
    if "tokenizer" in report:
        t = report["tokenizer"]
        print("tokenizer: %s tokens from %s bytes; ours with a warm word cache %.1f MB/s; twin %s" %
              ("{:,}".format(t["tokens"]), "{:,}".format(t["bytes"]), t["ours_mb_per_s_warm_cache"], t["twin_impl"]))
        if t["ids_match"]:
            print("tokenizer ids: identical (per-file token count and FNV-1a hash)")
        else:
            print("\n!!! TOKENIZER MISMATCH: ours and tiktoken produce different ids !!!")
            for line in t["mismatches"]:
                print("!!! " + line)
    for n in ("ppo", "ppo_fp32"):
        if n not in report:
            continue
        p = report[n]
        s = p["score_parts_s"]
        print("\nPPO iteration (ours, %s; rollout %d, minibatch %d, %d epochs, %d new tokens, sequences of %d, %.2fM-param "
              "policy, %s value trunk; peak resident memory %.0f MiB):" %
              ("bf16 autocast" if p["precision"]["autocast"] == "bf16" else "fp32", p["rollout_size"], p["minibatch_size"],
               p["ppo_epochs"], p["max_new_tokens"], p["sequence_length"], p["params"] / 1e6,
               "own" if p["value_trunk"] else "shared", p["peak_rss_bytes"] / 2**20))
        total = p["iteration_s"]
        print("| phase | s | share |\n|---|---:|---:|")
        for label, v in (("rollout (sampling)", p["rollout_s"]), ("score: reward model", s["reward_model"]),
                         ("score: reference log-probs", s["reference"]),
                         ("score: policy log-probs + values", s["policy_value"]),
                         ("score phase as timed by the trainer", p["score_s"]), ("training (PPO epochs)", p["train_s"]),
                         ("whole iteration", total)):
            print("| %s | %.3f | %.0f%% |" % (label, v, 100 * v / total))
        if "speedup_over_fp32" in p:
            su = p["speedup_over_fp32"]
            print("bf16 iteration vs fp32: %.2fx faster (%.2f-%.2f; target %s)" % (su["median"], su["min"], su["max"], su["target"]))


if __name__ == "__main__":
    main()
