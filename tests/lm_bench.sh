#!/bin/sh
# lm bench on a small input: one JSON line per mode with a finite loss near ln(vocab), the
# same first-step loss from --seed and from the weights file --write-weights wrote, the
# sgemm line, and refusals of a bad shape and a file written for another shape.
set -u
LM="${LG_BIN:-bin}/lm"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
loss() { sed 's/.*"first_loss":\([0-9.]*\).*/\1/' "$1"; }

small="--shape tiny --batch 1 --seq 16 --steps 1 --warmup 1 --threads 1"
for mode in train lora forward; do
    # shellcheck disable=SC2086
    "$LM" bench $small --mode $mode >"$T/$mode" || fail "bench --mode $mode"
    grep -q '"tokens_per_s":' "$T/$mode" || fail "$mode: no tokens_per_s"
    grep -q "\"mode\":\"$mode\"" "$T/$mode" || fail "$mode: mode not reported"
    l=$(loss "$T/$mode")
    awk -v l="$l" 'BEGIN { exit !(l > 8.8 && l < 9.2) }' || fail "$mode: first loss $l is not near ln 8000"
done
[ "$(loss "$T/train")" = "$(loss "$T/forward")" ] || fail "train and forward start from different losses"

# shellcheck disable=SC2086
"$LM" bench --write-weights "$T/w.safetensors" --shape tiny --batch 1 --seq 16 || fail "write-weights"
# shellcheck disable=SC2086
"$LM" bench $small --mode forward --weights "$T/w.safetensors" >"$T/fromfile" || fail "bench --weights"
[ "$(loss "$T/fromfile")" = "$(loss "$T/forward")" ] || fail "the weights file gives another loss"

"$LM" bench --sgemm --threads 1 --sgemm-runs 1 >"$T/sgemm" || fail "sgemm"
grep -q '"gflops":' "$T/sgemm" || fail "sgemm: no gflops"

"$LM" bench --shape huge >"$T/out" 2>&1
[ $? -eq 2 ] || fail "unknown shape not a usage error (exit 2)"
grep -q "lm bench: --shape: 'huge' is not one of tiny|small|base" "$T/out" ||
    { cat "$T/out"; fail "no message for a bad shape"; }
"$LM" bench --shape small --batch 1 --seq 16 --weights "$T/w.safetensors" >"$T/out" 2>&1 &&
    fail "weights of another shape accepted"
grep -q "w.safetensors" "$T/out" || { cat "$T/out"; fail "the message does not name the file"; }
"$LM" bench --help | grep -q -- "--mode" || fail "--help"
echo "lm bench: ok"
