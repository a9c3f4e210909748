#!/bin/sh
# Runs the libFuzzer harnesses that `make fuzz-build` makes in build/fuzz/ (ASan+UBSan),
# one after another, each seeded from the repository (fixtures, test data, tests/fuzz/seeds).
#
#   tests/fuzz/run.sh [-t SECONDS] [NAME...]   each harness for SECONDS (default 60); new
#       inputs collect in build/fuzz/corpus-NAME (kept between runs), a crash is saved as
#       build/fuzz/NAME-crash-* and stops the run; prints a table (also build/fuzz/results.tsv)
#       of executions, edges (cov), features (ft), corpus size and crashes per harness
#   tests/fuzz/run.sh --smoke [NAME...]        a short deterministic run (-seed=1, fixed
#       -runs) of each, in a scratch corpus, after replaying every input committed in
#       tests/fuzz/crashes/NAME/ (inputs that once crashed a parser: they must not again)
#
# NAME is a harness (tests/fuzz/fuzz_NAME.c or .cc); default all. Exit status 1 when a
# harness crashes, leaks, trips a sanitizer or one of its own checks (which include: every
# refusal names the file).
set -eu
cd "$(dirname "$0")/../.."

ALL="safetensors safetensors_index config adapter_config pack_json gguf mo fluent dictd
spm spm_proto trainer_state tmx jsonl hf_tokenizer"

# The seeds of each harness: files, as globs from the repository root.
seeds() {
    case $1 in
    safetensors) echo "tests/fixtures/hf/*/*.safetensors tests/fuzz/seeds/safetensors/*" ;;
    safetensors_index) echo "tests/fixtures/hf/*/model.safetensors.index.json
        tests/fuzz/seeds/safetensors_index/*" ;;
    config) echo "tests/fixtures/hf/*/config.json tests/fuzz/seeds/config/*" ;;
    adapter_config) echo "tests/fixtures/hf/*/adapter_config.json tests/fuzz/seeds/adapter_config/*" ;;
    pack_json) echo "tests/fuzz/seeds/pack_json/*" ;;
    gguf) echo "tests/fuzz/seeds/gguf/*" ;;
    mo) echo "tests/data/corpora/*.mo tests/fuzz/seeds/mo/*" ;;
    fluent) echo "tests/data/corpora/mozilla/*/*/* tests/fuzz/seeds/fluent/*" ;;
    dictd) echo "tests/fuzz/seeds/dictd/*" ;;
    spm | spm_proto) echo "tests/data/gguf/*.model tests/data/lm/*.model" ;;
    trainer_state) echo "tests/fuzz/seeds/trainer_state/*" ;;
    tmx) echo "tests/data/corpora/import/*.tmx* tests/data/corpora/import/bad/*.tmx*
        tests/data/corpora/import/bad/*.xml" ;;
    jsonl) echo "tests/data/corpora/import/*.jsonl* tests/data/corpora/import/bad/*.jsonl" ;;
    hf_tokenizer) echo "tests/data/tokenize/*.json tests/fuzz/seeds/hf_tokenizer/*" ;;
    *) echo "fuzz: no harness $1 (harnesses: $(echo $ALL))" >&2; return 1 ;;
    esac
}

# Executions of the smoke run: about a second or two of each harness.
smoke_runs() {
    case $1 in
    pack_json | adapter_config | spm | safetensors_index | hf_tokenizer) echo 1500 ;;
    *) echo 10000 ;;
    esac
}

# Largest input tried (bytes): the seeds' sizes, without letting the slow harnesses crawl.
max_len() {
    case $1 in
    safetensors | gguf | spm | spm_proto) echo 65536 ;;
    *) echo 16384 ;;
    esac
}

smoke=0
seconds=60
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=1; shift ;;
    -t) seconds=$2; shift 2 ;;
    -*) echo "usage: tests/fuzz/run.sh [--smoke] [-t SECONDS] [NAME...]" >&2; exit 2 ;;
    *) break ;;
    esac
done
names=${*:-$ALL}
# every harness of tests/fuzz/ is in ALL (and so in the smoke run of `make test`)
for f in tests/fuzz/fuzz_*.c tests/fuzz/fuzz_*.cc; do
    h=$(basename "$f" | sed 's/^fuzz_//; s/\.cc*$//')
    case " $(echo $ALL) " in *" $h "*) ;; *) echo "fuzz: $f is not listed in tests/fuzz/run.sh" >&2; exit 1 ;; esac
done
for h in $names; do
    seeds "$h" >/dev/null
    [ -x "build/fuzz/fuzz_$h" ] || { echo "fuzz: build/fuzz/fuzz_$h missing: make fuzz-build" >&2; exit 1; }
done

# One thread (the library's OpenMP loops too): runs repeat, and share the machine politely.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# LeakSanitizer is on (libFuzzer's -detect_leaks); symbolized reports.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}abort_on_error=0:detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}print_stacktrace=1:halt_on_error=1"

work=$(mktemp -d "${TMPDIR:-/tmp}/lingraft-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
results=build/fuzz/results.tsv
[ "$smoke" = 1 ] || printf 'harness\tseconds\texecutions\tcov\tft\tcorpus\tcrashes\n' >"$results"
status=0
for h in $names; do
    # the seeds, copied flat into one directory (libFuzzer reads corpus directories)
    s="$work/seeds-$h"
    mkdir -p "$s"
    n=0
    for f in $(seeds "$h"); do
        [ -f "$f" ] || continue
        cp "$f" "$s/$(echo "$f" | tr / _)"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || { echo "fuzz: $h has no seeds" >&2; exit 1; }
    dict=""
    d=tests/fuzz/$(echo "$h" | sed 's/^spm_proto$/spm/').dict
    [ -f "$d" ] && dict="-dict=$d"
    log="$work/$h.log"
    if [ "$smoke" = 1 ]; then
        if [ -d "tests/fuzz/crashes/$h" ] && [ -n "$(ls "tests/fuzz/crashes/$h")" ]; then
            echo "fuzz: $h: replaying tests/fuzz/crashes/$h/"
            "build/fuzz/fuzz_$h" tests/fuzz/crashes/"$h"/* >"$log" 2>&1 || {
                tail -n 40 "$log"
                echo "fuzz: $h: an input of tests/fuzz/crashes/$h/ fails again" >&2
                exit 1
            }
        fi
        mkdir -p "$work/corpus-$h"
        echo "fuzz: $h: $(smoke_runs "$h") runs from $n seeds"
        # shellcheck disable=SC2086
        "build/fuzz/fuzz_$h" -seed=1 -runs="$(smoke_runs "$h")" -max_len="$(max_len "$h")" $dict \
            -artifact_prefix="build/fuzz/smoke-$h-" -print_final_stats=1 \
            "$work/corpus-$h" "$s" >"$log" 2>&1 || {
            tail -n 40 "$log"
            echo "fuzz: $h failed; the input is saved as build/fuzz/smoke-$h-*" >&2
            exit 1
        }
        grep -E "^stat::number_of_executed_units" "$log" || true
        continue
    fi
    mkdir -p "build/fuzz/corpus-$h"
    echo "fuzz: $h for $seconds s ($n seeds, corpus build/fuzz/corpus-$h)"
    rc=0
    # shellcheck disable=SC2086
    "build/fuzz/fuzz_$h" -max_total_time="$seconds" -max_len="$(max_len "$h")" $dict \
        -artifact_prefix="build/fuzz/$h-" -print_final_stats=1 \
        "build/fuzz/corpus-$h" "$s" >"$log" 2>&1 || rc=$?
    cp "$log" "build/fuzz/$h.log"
    # the last status line: "#N DONE cov: C ft: F corp: K/..." (or the line before a crash)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    crashes=0
    if [ "$rc" -ne 0 ]; then
        crashes=1
        status=1
        tail -n 40 "$log"
        echo "fuzz: $h crashed; the input is saved as build/fuzz/$h-* (log build/fuzz/$h.log)" >&2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$h" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$crashes" >>"$results"
done
if [ "$smoke" = 1 ]; then
    echo "fuzz: smoke ok"
else
    column -t -s "$(printf '\t')" "$results" 2>/dev/null || cat "$results"
fi
exit "$status"
