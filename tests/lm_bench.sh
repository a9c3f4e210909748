#!/bin/sh
# lm bench on a small input: one JSON line per mode with a finite loss near ln(vocab), the
# same first-step loss from --seed and from the weights file --write-weights wrote, the
# architecture variants small-llama3 and small-qwen3, bf16 weights (--dtype bf16) kept as
# stored with the bf16 kernel that ran named, the sgemm line, and refusals of a bad shape,
# a file written for another shape and --dtype without --write-weights.
set -u
LM="${LG_BIN:-bin}/lm"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
loss() { sed 's/.*"first_loss":\([0-9.]*\).*/\1/' "$1"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

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

[ "$(field weights "$T/fromfile")" = f32 ] || fail "float32 weights not reported as f32"
[ "$(field bf16_kernel "$T/fromfile")" = none ] || fail "a bf16 kernel reported for float32 weights"
[ "$(field arch "$T/fromfile")" = llama ] || fail "arch not reported"

# the architecture variants at the small shape (batch 1 x 16: quick)
for v in small-llama3 small-qwen3; do
    "$LM" bench --shape $v --mode lora --batch 1 --seq 16 --steps 1 --warmup 0 --threads 1 \
        >"$T/$v" || fail "bench --shape $v"
    l=$(loss "$T/$v")
    awk -v l="$l" 'BEGIN { exit !(l > 9.5 && l < 9.9) }' || fail "$v: first loss $l is not near ln 16000"
done
[ "$(field arch "$T/small-qwen3")" = qwen3 ] || fail "small-qwen3 is not a qwen3 model"
[ "$(field arch "$T/small-llama3")" = llama ] || fail "small-llama3 is not a llama model"

# bf16 weights: kept as stored in forward and lora modes, the kernel named; LG_F32_WEIGHTS=1
# converts them (the float32 path on the same bf16 values); the tiled kernel computes the
# float32 products of those values, so its loss is that path's
"$LM" bench --write-weights "$T/w16.safetensors" --dtype bf16 --shape tiny --batch 1 --seq 16 ||
    fail "write-weights --dtype bf16"
grep -q '"dtype":"BF16"' "$T/w16.safetensors" || fail "--dtype bf16 did not write BF16 tensors"
# shellcheck disable=SC2086
"$LM" bench $small --mode forward --weights "$T/w16.safetensors" >"$T/bf16" || fail "bench bf16"
[ "$(field weights "$T/bf16")" = BF16 ] || { cat "$T/bf16"; fail "bf16 weights not kept as stored"; }
k=$(field bf16_kernel "$T/bf16")
case $k in
onednn | tiled | rows+onednn | rows+tiled) ;;
*) cat "$T/bf16"; fail "bf16_kernel '$k' does not name the kernel that ran" ;;
esac
# shellcheck disable=SC2086
LG_F32_WEIGHTS=1 "$LM" bench $small --mode forward --weights "$T/w16.safetensors" >"$T/bf16f32" ||
    fail "bench bf16 with LG_F32_WEIGHTS=1"
[ "$(field weights "$T/bf16f32")" = f32 ] || fail "LG_F32_WEIGHTS=1 did not convert"
[ "$(field bf16_kernel "$T/bf16f32")" = none ] || fail "LG_F32_WEIGHTS=1 ran a bf16 kernel"
# shellcheck disable=SC2086
LG_BF16_KERNEL=tiled "$LM" bench $small --mode forward --weights "$T/w16.safetensors" >"$T/tiled" ||
    fail "bench bf16 tiled"
[ "$(field bf16_kernel "$T/tiled")" = tiled ] || { cat "$T/tiled"; fail "LG_BF16_KERNEL=tiled not reported"; }
near "$(loss "$T/tiled")" "$(loss "$T/bf16f32")" 1e-5 ||
    fail "tiled bf16 loss $(loss "$T/tiled") is not the float32 path's $(loss "$T/bf16f32")"
# oneDNN rounds the activations to bf16 too: within bf16 products of the float32 path
near "$(loss "$T/bf16")" "$(loss "$T/bf16f32")" 1e-3 ||
    fail "bf16 loss $(loss "$T/bf16") is far from the float32 path's $(loss "$T/bf16f32")"
# shellcheck disable=SC2086
"$LM" bench $small --mode lora --weights "$T/w16.safetensors" >"$T/bf16lora" || fail "bench bf16 lora"
[ "$(field weights "$T/bf16lora")" = BF16 ] || fail "lora: bf16 weights not kept as stored"
# full training trains every weight: float32 parameters
# shellcheck disable=SC2086
"$LM" bench $small --mode train --weights "$T/w16.safetensors" >"$T/bf16train" || fail "bench bf16 train"
[ "$(field weights "$T/bf16train")" = f32 ] || fail "train: bf16 weights not converted"
near "$(loss "$T/bf16train")" "$(loss "$T/bf16f32")" 1e-6 || fail "train on bf16 weights: another loss"

"$LM" bench $small --dtype bf16 >"$T/out" 2>&1
[ $? -eq 2 ] || fail "--dtype without --write-weights not a usage error (exit 2)"
grep -q -- "--dtype" "$T/out" || { cat "$T/out"; fail "no message for --dtype without --write-weights"; }

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
