#!/bin/sh
# make bench: lingraft against PyTorch (tools/bench/torch_llama.py), tuned and as installed,
# on the same shapes, weights, input, batch, sequence length and thread counts. Every
# measurement is a fresh process; the three implementations run one after the other for each
# row, and the whole set is repeated BENCH_REPEATS times (the machine drifts over minutes),
# so each figure is a median over repeats of per-process medians over steps.
#
# Environment (all optional):
#   BENCH_SHAPES   "tiny small small-llama3 small-qwen3 base"
#   BENCH_MODES    "train lora forward"    BENCH_THREADS  "1 2"
#   BENCH_VARIANT_MODES / BENCH_VARIANT_THREADS   modes and threads of the architecture
#                  variants (small-llama3: Llama-3.1 RoPE scaling; small-qwen3: q/k-norm);
#                  default BENCH_MODES / BENCH_THREADS when set, else "train lora" / "2"
#                  (a few rows, to keep the default run short)
#   BENCH_REPEATS  2
#   BENCH_STEPS / BENCH_WARMUP             timed / untimed steps per process (default per
#                                          shape: tiny 6/1, small 4/1, base 2/1)
#   BENCH_SEED     1234                    BENCH_OUT      build/bench
#   LM             bin/lm                  PYTHON         /usr/bin/python3
# Output: BENCH_OUT/runs.jsonl (every process's line), BENCH_OUT/results.json (medians,
# ratios, sgemm peaks, machine) and the table on stdout. Exit status 1 when the first-step
# losses of lingraft and PyTorch differ by more than 1e-4 or a run fails.
set -eu

LM=${LM:-bin/lm}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=${BENCH_OUT:-build/bench}
SHAPES=${BENCH_SHAPES:-tiny small small-llama3 small-qwen3 base}
MODES=${BENCH_MODES:-train lora forward}
THREADS=${BENCH_THREADS:-1 2}
VARIANT_MODES=${BENCH_VARIANT_MODES:-${BENCH_MODES:-train lora}}
VARIANT_THREADS=${BENCH_VARIANT_THREADS:-${BENCH_THREADS:-2}}
REPEATS=${BENCH_REPEATS:-2}
SEED=${BENCH_SEED:-1234}
HERE=$(dirname "$0")
TUNED_MALLOC=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736:glibc.malloc.top_pad=268435456

mkdir -p "$OUT"
# A private copy: others may rebuild bin/lm while the benchmark runs.
cp "$LM" "$OUT/lm.bench"
git describe --always --dirty >"$OUT/lingraft_commit" 2>/dev/null || :
LM=$OUT/lm.bench
RUNS=$OUT/runs.jsonl
: >"$RUNS"
FAILED=0

say() { printf 'bench: %s\n' "$*" >&2; }

steps_for() {
    case $1 in
    tiny) s=6 ;;
    small*) s=4 ;;
    *) s=2 ;;
    esac
    echo "${BENCH_STEPS:-$s}"
}

# The modes and thread counts of a shape: an architecture variant (a name with a dash) has
# its own, shorter, defaults.
modes_for() {
    case $1 in
    *-*) echo "$VARIANT_MODES" ;;
    *) echo "$MODES" ;;
    esac
}
threads_for() {
    case $1 in
    *-*) echo "$VARIANT_THREADS" ;;
    *) echo "$THREADS" ;;
    esac
}

# run IMPL THREADS COMMAND...: one fresh process with the thread count in every variable
# its libraries read; appends its JSON line to runs.jsonl.
run() {
    impl=$1 thr=$2
    shift 2
    if line=$(env OMP_NUM_THREADS="$thr" OPENBLAS_NUM_THREADS="$thr" MKL_NUM_THREADS="$thr" \
        LG_THREADS="$thr" "$@" | tail -n 1) && [ -n "$line" ]; then
        printf '%s\n' "$line" >>"$RUNS"
        printf '%s\n' "$line" | sed 's/^/  /' >&2
    else
        say "FAILED: $impl: $*"
        FAILED=1
    fi
}

# The shared random weights and input ids, once per shape and seed.
for shape in $SHAPES; do
    w=$OUT/weights-$shape-$SEED.safetensors
    if [ ! -s "$w" ]; then
        say "writing $w"
        "$LM" bench --write-weights "$w" --shape "$shape" --seed "$SEED"
    fi
done

for rep in $(seq 1 "$REPEATS"); do
    say "repeat $rep of $REPEATS"
    for thr in $THREADS; do
        run sgemm "$thr" "$LM" bench --sgemm --threads "$thr"
    done
    for shape in $SHAPES; do
        w=$OUT/weights-$shape-$SEED.safetensors
        steps=$(steps_for "$shape")
        warmup=${BENCH_WARMUP:-1}
        for mode in $(modes_for "$shape"); do
            for thr in $(threads_for "$shape"); do
                say "$shape $mode threads=$thr"
                common="--shape $shape --mode $mode --threads $thr --steps $steps --warmup $warmup --weights $w"
                # lingraft first on odd repeats, last on even ones: no order favours either
                if [ $((rep % 2)) -eq 1 ]; then
                    # shellcheck disable=SC2086
                    run lingraft "$thr" "$LM" bench $common --sgemm-after --sgemm-runs 3
                fi
                # shellcheck disable=SC2086
                run torch-tuned "$thr" env GLIBC_TUNABLES="$TUNED_MALLOC" OMP_WAIT_POLICY=PASSIVE \
                    LG_BENCH_TUNED=1 "$PYTHON" "$HERE/torch_llama.py" $common
                # shellcheck disable=SC2086
                run torch "$thr" "$PYTHON" "$HERE/torch_llama.py" $common
                if [ $((rep % 2)) -eq 0 ]; then
                    # shellcheck disable=SC2086
                    run lingraft "$thr" "$LM" bench $common --sgemm-after --sgemm-runs 3
                fi
            done
        done
    done
done

"$PYTHON" "$HERE/report.py" "$RUNS" "$OUT/results.json" || FAILED=1
exit $FAILED
