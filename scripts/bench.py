#!/usr/bin/env python3
"""heed vs PyTorch training throughput, side by side on the same machine state.

For each model, runs `heed bench train` and the PyTorch peer (../shared/bench/peer_torch.py, at
its best: tcmalloc) alternately for several rounds, waiting for a quiet machine before each
measurement, and reports medians over rounds and the heed/PyTorch ratio measured within rounds.
Prints a readable table and writes one JSON line per model (to --out and stdout).

Standard library only. Called by scripts/bench.sh, which builds heed and installs the peer first.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_MODEL = {"small": "small", "base": "base", "gru": "gru-fast", "sentiment": "sentiment"}
DEFAULT_STEPS = {"small": (10, 3), "base": (4, 2), "gru": (6, 2), "sentiment": (10, 3)}


def busy_seconds():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def wait_quiet(max_bg, timeout):
    """Waits until other processes use < max_bg cores over one second; returns the last reading."""
    t0 = time.time()
    while True:
        b0, s0, w0 = busy_seconds(), children_cpu(), time.time()
        time.sleep(1.0)
        bg = ((busy_seconds() - b0) - (children_cpu() - s0)) / (time.time() - w0)
        if bg < max_bg or time.time() - t0 > timeout:
            return max(bg, 0.0)


def run_json(cmd):
    """Runs a command printing one JSON line (the last line of stdout); returns (dict, bg_cores)."""
    b0, s0, w0 = busy_seconds(), children_cpu(), time.time()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bg = ((busy_seconds() - b0) - (children_cpu() - s0)) / max(time.time() - w0, 1e-3)
    if out.returncode != 0:
        sys.exit(f"bench: command failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]), max(bg, 0.0)


def rate(d):
    return d.get("tgt_tokens_per_s") or d.get("examples_per_s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="all", help="small|base|gru|sentiment|all (comma list ok)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="timed steps per run (default per model)")
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--alloc", default="tcmalloc", help="peer allocator (default: its best, tcmalloc)")
    ap.add_argument("--wait-quiet", type=float, default=0.2)
    ap.add_argument("--heed", default=os.path.join(ROOT, "build", "heed"))
    ap.add_argument("--peer", default=os.path.join(ROOT, "..", "shared", "bench", "peer_torch.py"))
    ap.add_argument("--peak-gflops", type=float, default=0.0,
                    help="machine fp32 peak for the fraction (default: the peer's 116.5/core)")
    ap.add_argument("--out", default="", help="append the JSON lines here too")
    ap.add_argument("--no-peer", action="store_true", help="measure heed only")
    a = ap.parse_args()

    models = list(PEER_MODEL) if a.model == "all" else a.model.split(",")
    peak = a.peak_gflops or 116.5 * a.threads
    results = []
    for m in models:
        steps, warmup = DEFAULT_STEPS[m]
        steps, warmup = a.steps or steps, a.warmup or warmup
        heed_cmd = [a.heed, "bench", "train", "--model", m, "--threads", str(a.threads),
                    "--steps", str(steps), "--warmup", str(warmup), "--precision", a.precision]
        peer_cmd = ["/usr/bin/python3", a.peer, "--model", PEER_MODEL[m], "--threads", str(a.threads),
                    "--steps", str(steps), "--warmup", str(warmup), "--alloc", a.alloc]
        if a.precision == "bf16":
            peer_cmd += ["--amp", "bf16"]
        rounds = []
        for r in range(a.rounds):
            order = ["heed", "torch"] if r % 2 == 0 else ["torch", "heed"]  # alternate who goes first
            got = {}
            for who in order:
                if who == "torch" and a.no_peer:
                    continue
                bg0 = wait_quiet(a.wait_quiet, 300)
                d, bg = run_json(heed_cmd if who == "heed" else peer_cmd)
                got[who] = (d, max(bg, bg0))
                print(f"  {m} round {r + 1} {who}: {d['step_s_median']:.3f} s/step, "
                      f"{rate(d):.1f}/s, bg {got[who][1]:.2f} cores", file=sys.stderr, flush=True)
            rounds.append(got)
        h = [g["heed"][0] for g in rounds]
        res = {"model": m, "threads": a.threads, "precision": a.precision, "rounds": a.rounds,
               "heed_step_s": statistics.median(d["step_s_median"] for d in h),
               "heed_per_s": statistics.median(rate(d) for d in h),
               "heed_rss_mb": max(d["peak_rss_mb"] for d in h),
               "heed_gflops": statistics.median(d["achieved_gflops"] for d in h),
               "heed_peak_fraction": statistics.median(d["achieved_gflops"] for d in h) / peak,
               "heed_heap_allocs_per_step": statistics.median(d["heap_allocs_per_step"] for d in h),
               "heed_pool_fresh_per_step": statistics.median(d["pool_fresh_allocs_per_step"] for d in h),
               "heed_minor_faults_per_step": statistics.median(d["minor_faults_per_step"] for d in h),
               "gflop_per_step": h[0]["gflop_per_step"],
               "unit": "examples" if "examples_per_s" in h[0] else "target tokens",
               "bg_cores_max": max(g[w][1] for g in rounds for w in g)}
        if not a.no_peer:
            t = [g["torch"][0] for g in rounds]
            res.update({"torch_step_s": statistics.median(d["step_s_median"] for d in t),
                        "torch_per_s": statistics.median(rate(d) for d in t),
                        "torch_rss_mb": max(d["peak_rss_mb"] for d in t),
                        "torch_gflop_per_step": t[0]["gflop_per_step"],
                        "ratio": statistics.median(rate(g["heed"][0]) / rate(g["torch"][0]) for g in rounds),
                        "ratio_per_round": [round(rate(g["heed"][0]) / rate(g["torch"][0]), 3) for g in rounds]})
        results.append(res)
        line = json.dumps(res)
        print(line, flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(line + "\n")

    print(f"\n{'model':<10} {'heed s/step':>11} {'torch s/step':>12} {'heed /s':>9} {'torch /s':>9} "
          f"{'ratio':>6} {'heed RSS':>9} {'torch RSS':>9} {'heed GF/s':>9} {'of peak':>7}")
    for r in results:
        print(f"{r['model']:<10} {r['heed_step_s']:>11.3f} {r.get('torch_step_s', float('nan')):>12.3f} "
              f"{r['heed_per_s']:>9.1f} {r.get('torch_per_s', float('nan')):>9.1f} "
              f"{r.get('ratio', float('nan')):>6.2f} {r['heed_rss_mb']:>8.0f}M "
              f"{r.get('torch_rss_mb', float('nan')):>8.0f}M {r['heed_gflops']:>9.1f} "
              f"{100 * r['heed_peak_fraction']:>6.1f}%")
    print(f"(per-second figures are {results[0]['unit'] if results else ''}; sentiment: examples; "
          f"ratio = median over rounds of heed/PyTorch measured within the round; "
          f"peak = {peak:.1f} GFLOP/s fp32)")


if __name__ == "__main__":
    main()
