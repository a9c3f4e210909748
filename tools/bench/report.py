#!/usr/bin/python3
"""Summarises the JSON lines of tools/bench/run.sh: medians per row and implementation, the
ratios lingraft / PyTorch tuned and lingraft / PyTorch as installed, the fraction of the
sgemm peak lingraft's matrix products reach, peak RSS, and the first-step loss check.

usage: report.py RUNS.jsonl RESULTS.json     (prints a Markdown table; exit 1 on a loss
                                              mismatch or a row with no measurement)
"""
import json
import os
import platform
import subprocess
import sys
import time

LOSS_TOLERANCE = 1e-4
IMPLS = ("lingraft", "torch-tuned", "torch")
# rows in this order: the shapes, each architecture variant after its shape (small-llama3,
# small-qwen3 after small), an unknown name last
ORDER = {"tiny": 0, "small": 1, "small-llama3": 1.1, "small-qwen3": 1.2, "base": 2,
         "train": 0, "lora": 1, "forward": 2}


def median(v):
    v = sorted(v)
    n = len(v)
    if n == 0:
        return None
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def machine(runs_path):
    info = {"python": platform.python_version(), "kernel": platform.release()}
    try:
        with open(os.path.join(os.path.dirname(runs_path), "lingraft_commit")) as f:
            info["lingraft_commit"] = f.read().strip()  # when run.sh copied bin/lm
    except OSError:
        pass
    try:
        if "lingraft_commit" not in info:
            info["lingraft_commit"] = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
            check=False).stdout.strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            key, _, val = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "L2 cache", "L3 cache", "Flags"):
                val = val.strip()
                if key.strip() == "Flags":
                    val = " ".join(f for f in val.split() if f.startswith(("avx", "fma", "amx")))
                info[key.strip().lower().replace(" ", "_")] = val
    except OSError:
        pass
    return info


def main(runs_path, results_path):
    lines = []
    with open(runs_path) as f:
        for raw in f:
            raw = raw.strip()
            if raw:
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError:
                    print(f"report.py: {runs_path}: not JSON: {raw[:80]}", file=sys.stderr)
    sgemm = {}
    groups = {}
    for r in lines:
        if r.get("impl") == "sgemm":
            sgemm.setdefault(r["threads"], []).append(r)
            continue
        key = (r["shape"], r["mode"], r["threads"])
        groups.setdefault(key, {}).setdefault(r["impl"], []).append(r)

    peaks = {t: median([r["gflops"] for r in rs]) for t, rs in sgemm.items()}
    blas_core = next((r.get("blas_core") for rs in sgemm.values() for r in rs), None)
    torch_version = next((r.get("torch") for r in lines if r.get("torch")), None)
    rows, failed = [], False
    for key in sorted(groups, key=lambda k: (ORDER.get(k[0], 9), k[0], ORDER.get(k[1], 9), k[2])):
        shape, mode, thr = key
        g = groups[key]
        row = {"shape": shape, "mode": mode, "threads": thr}
        for impl in IMPLS:
            rs = g.get(impl, [])
            row[impl] = {
                "runs": len(rs),
                "tokens_per_s": median([r["tokens_per_s"] for r in rs]),
                "tokens_per_s_all": [r["tokens_per_s"] for r in rs],
                "peak_rss_mib": median([r["peak_rss_mib"] for r in rs]),
                "load_peak_rss_mib": median([r.get("load_peak_rss_mib", 0) for r in rs]),
                "first_loss": [r["first_loss"] for r in rs],
            }
        lg, tt, ti = (row[i] for i in IMPLS)
        if lg["tokens_per_s"] is None:
            print(f"report.py: no lingraft measurement for {shape} {mode} threads={thr}",
                  file=sys.stderr)
            failed = True
            continue
        ratio = lambda a, b: (a / b) if a and b else None  # noqa: E731
        row["ratio_vs_tuned"] = ratio(lg["tokens_per_s"], tt["tokens_per_s"])
        row["ratio_vs_installed"] = ratio(lg["tokens_per_s"], ti["tokens_per_s"])
        row["rss_ratio_vs_tuned"] = ratio(lg["peak_rss_mib"], tt["peak_rss_mib"])
        lr = g["lingraft"][0]
        row["step_gflop"] = lr["step_gflop"]
        gflops = lr["step_gflop"] * lg["tokens_per_s"] / (lr["batch"] * lr["seq"])
        row["lingraft_gflops"] = gflops
        # the sgemm measured right after each lingraft run when there (--sgemm-after: the
        # machine's drift is shared), else the run's sgemm at this thread count
        row_peaks = [r["sgemm_gflops"] for r in g["lingraft"] if r.get("sgemm_gflops")]
        peak = median(row_peaks) if row_peaks else peaks.get(thr)
        row["sgemm_peak_gflops"] = peak
        row["sgemm_peak_source"] = "after each run" if row_peaks else "run"
        row["fraction_of_peak"] = ratio(gflops, peak)
        # the same useful work at tuned PyTorch's rate: how close it already is to the peak
        # (1 / this is the most any implementation could gain over it with the same sgemm)
        row["torch_tuned_gflops"] = lr["step_gflop"] * tt["tokens_per_s"] / (lr["batch"] * lr["seq"])
        row["torch_tuned_fraction_of_peak"] = ratio(row["torch_tuned_gflops"], peak)
        ref = lg["first_loss"][0]
        worst = max((abs(x - ref) for impl in IMPLS for x in row[impl]["first_loss"]), default=0)
        row["first_loss"] = ref
        row["first_loss_max_diff"] = worst
        row["loss_ok"] = worst <= LOSS_TOLERANCE
        if not row["loss_ok"]:
            failed = True
            print(f"report.py: LOSS MISMATCH {shape} {mode} threads={thr}: first-step losses "
                  f"{[(i, row[i]['first_loss']) for i in IMPLS]} differ by {worst:.3g} "
                  f"> {LOSS_TOLERANCE}", file=sys.stderr)
        rows.append(row)

    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(runs_path), "blas_core": blas_core, "torch": torch_version,
        "sgemm_peak_gflops": {str(t): p for t, p in sorted(peaks.items())},
        "sgemm_all_gflops": {str(t): [r["gflops"] for r in rs] for t, rs in sorted(sgemm.items())},
        "rows": rows,
    }
    with open(results_path + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(results_path + ".tmp", results_path)

    def num(x, fmt):
        return format(x, fmt) if x is not None else "—"

    m = result["machine"]
    print(f"Machine: {m.get('model_name', '?')}, {m.get('cpu(s)', '?')} CPUs ({m.get('flags', '')}), "
          f"OpenBLAS core {blas_core}, torch {torch_version}, {result['date']}")
    print("sgemm 2048³ peak: " + ", ".join(f"{t} thread{'s' if t > 1 else ''} "
                                           f"{p:.1f} GFLOP/s" for t, p in sorted(peaks.items())))
    if any(r["sgemm_peak_source"] != "run" for r in rows):
        print("% sgemm peak: of the sgemm measured in the same process right after each "
              "lingraft run (median)")
    print()
    print("| shape | mode | thr | lingraft tok/s | torch tuned tok/s | torch installed tok/s "
          "| ×tuned | ×installed | % sgemm peak | torch tuned % peak | RSS lingraft MiB "
          "| RSS tuned MiB | RSS ratio | loss Δ |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        lg, tt, ti = (r[i] for i in IMPLS)
        print(f"| {r['shape']} | {r['mode']} | {r['threads']} | {num(lg['tokens_per_s'], '.0f')} "
              f"| {num(tt['tokens_per_s'], '.0f')} | {num(ti['tokens_per_s'], '.0f')} "
              f"| {num(r['ratio_vs_tuned'], '.2f')} | {num(r['ratio_vs_installed'], '.2f')} "
              f"| {num(r['fraction_of_peak'] and 100 * r['fraction_of_peak'], '.0f')} "
              f"| {num(r['torch_tuned_fraction_of_peak'] and 100 * r['torch_tuned_fraction_of_peak'], '.0f')} "
              f"| {num(lg['peak_rss_mib'], '.0f')} | {num(tt['peak_rss_mib'], '.0f')} "
              f"| {num(r['rss_ratio_vs_tuned'], '.2f')} "
              f"| {'%.1e' % r['first_loss_max_diff']}{'' if r['loss_ok'] else ' MISMATCH'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stdout if len(sys.argv) == 2 else sys.stderr)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
