#!/bin/sh
# A short, deterministic libFuzzer run (fixed seed and run count) of the safetensors and
# config.json parsers under ASan+UBSan, seeded with the HF fixtures; `make fuzz` runs long.
# Fails when a harness finds a crash, a sanitizer report, or a refusal not naming the file.
set -eu
make -s --no-print-directory fuzz-build >/dev/null
work=$(mktemp -d build/fuzz-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
for h in safetensors config; do
    mkdir "$work/$h"
    echo "fuzz_smoke: $h"
    build/fuzz/fuzz_$h -seed=1 -runs=20000 -max_len=65536 -dict=tests/fuzz/$h.dict \
        -artifact_prefix="build/fuzz/smoke-$h-" -print_final_stats=1 \
        "$work/$h" tests/fixtures/hf/*/ 2>"$work/$h.log" || {
        tail -n 40 "$work/$h.log"
        echo "fuzz_smoke: $h failed; the input is saved as build/fuzz/smoke-$h-*" >&2
        exit 1
    }
    grep -E "^stat::number_of_executed_units" "$work/$h.log"
done
echo "fuzz_smoke: ok"
