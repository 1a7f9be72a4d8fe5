"""Per-op self time from Chrome traces of LibTorch's legacy profiler, ours against the twin's:
    build/bench/bench_speed generate --model 6,6,384,512,4096 --batch 1 --new 64 --profile /tmp/ours.json
    .venv/bin/python bench/python/twin.py generate --model 6,6,384,512,4096 --batch 1 --new 64 --profile /tmp/twin.json
    python3 bench/profile_summary.py /tmp/ours.json /tmp/twin.json [--top 25]
Self time = an op's duration minus that of the ops it called (nesting per thread). Time outside
any op (Python, our C++ between ops) is the gap between the traced time and the wall time."""
import argparse
import collections
import json


def self_times(path):
    """op name -> [self microseconds, calls]; and the total time covered by top-level ops."""
    with open(path) as f:
        trace = json.load(f)
    # The legacy profiler writes a list of events; Kineto's (torch.profiler) an object that holds them.
    events = [e for e in (trace["traceEvents"] if isinstance(trace, dict) else trace) if e.get("ph") == "X"]
    per_op = collections.defaultdict(lambda: [0.0, 0])
    covered = 0.0
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[e.get("tid")].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, event, child time]
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            while stack and stack[-1][0] <= ts:
                close(stack.pop(), per_op)
            if stack:
                stack[-1][2] += dur
            else:
                covered += dur
            stack.append([ts + dur, e, 0.0])
        while stack:
            close(stack.pop(), per_op)
    return per_op, covered


def close(frame, per_op):
    _, e, children = frame
    entry = per_op[e["name"]]
    entry[0] += max(0.0, float(e["dur"]) - children)
    entry[1] += 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ours")
    p.add_argument("twin", nargs="?")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    ours, ours_total = self_times(args.ours)
    twin, twin_total = self_times(args.twin) if args.twin else ({}, 0.0)
    names = sorted(set(ours) | set(twin), key=lambda n: -max(ours.get(n, [0])[0], twin.get(n, [0])[0]))
    print("| op | ours ms | ours calls | twin ms | twin calls |")
    print("|---|---:|---:|---:|---:|")
    for n in names[:args.top]:
        o, t = ours.get(n, [0.0, 0]), twin.get(n, [0.0, 0])
        print("| %s | %.1f | %d | %.1f | %d |" % (n, o[0] / 1e3, o[1], t[0] / 1e3, t[1]))
    print("| all ops (self time sums to the traced time) | %.1f | %d | %.1f | %d |" %
          (ours_total / 1e3, sum(v[1] for v in ours.values()), twin_total / 1e3, sum(v[1] for v in twin.values())))


if __name__ == "__main__":
    main()
