#!/bin/sh
# lm check / info / merge on the HF fixtures, and the refusals a user meets with bad input:
# each prints one message naming the file and the problem and exits non-zero.
set -u
LM="${LG_BIN:-bin}/lm"
FIX=tests/fixtures/hf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for m in llama-tiny llama-tiny-tied-bf16-sharded qwen2-tiny gpt2-tiny; do
    "$LM" check "$FIX/$m" "$FIX/$m/reference.safetensors" >"$T/out" || { cat "$T/out"; fail "check $m"; }
    grep -q "check passed" "$T/out" || fail "check $m printed no verdict"
done
"$LM" check --adapter "$FIX/llama-tiny-lora" "$FIX/llama-tiny" "$FIX/llama-tiny-lora/reference.safetensors" \
    >"$T/out" || { cat "$T/out"; fail "check with adapter"; }

# a reference for another model fails the check, not silently passes
"$LM" check "$FIX/llama-tiny" "$FIX/llama-tiny-lora/reference.safetensors" >"$T/out" 2>&1 && fail "LoRA reference passed without --adapter"
grep -q "needs --adapter" "$T/out" || { cat "$T/out"; fail "no hint about --adapter"; }

"$LM" info "$FIX/llama-tiny-tied-bf16-sharded" >"$T/info" || fail "info"
grep -q "BF16" "$T/info" || fail "info does not show the BF16 dtype"
grep -q "tied embedding yes" "$T/info" || fail "info does not show tied embeddings"

# merge: the result loads and is a plain model
"$LM" merge --model "$FIX/llama-tiny" --adapter "$FIX/llama-tiny-lora" -o "$T/merged" >/dev/null || fail "merge"
[ -f "$T/merged/model.safetensors" ] && [ -f "$T/merged/config.json" ] || fail "merge wrote no model"
ls "$T" | grep -q tmp && fail "merge left a temporary directory"

# --- bad input ---
expect_error() { # expect_error PATTERN COMMAND...
    pat=$1; shift
    if "$@" >"$T/out" 2>&1; then cat "$T/out"; fail "succeeded: $*"; fi
    grep -q -- "$pat" "$T/out" || { cat "$T/out"; fail "message lacks '$pat': $*"; }
    [ "$(wc -l <"$T/out")" -le 2 ] || { cat "$T/out"; fail "more than one message: $*"; }
}
mkdir "$T/shape"
cp "$FIX/llama-tiny/model.safetensors" "$T/shape/"
sed 's/"intermediate_size": 176/"intermediate_size": 160/' "$FIX/llama-tiny/config.json" >"$T/shape/config.json"
expect_error "gate_proj.weight has shape \[176, 64\], expected \[160, 64\]" \
    "$LM" check "$T/shape" "$FIX/llama-tiny/reference.safetensors"

mkdir "$T/missing"
cp "$FIX/llama-tiny/config.json" "$T/missing/"
expect_error "model.safetensors" "$LM" check "$T/missing" "$FIX/llama-tiny/reference.safetensors"

mkdir "$T/shard"
cp "$FIX/llama-tiny-tied-bf16-sharded/"* "$T/shard/"
rm "$T/shard/model-00003-of-00008.safetensors"
expect_error "model-00003-of-00008.safetensors" "$LM" info "$T/shard"

mkdir "$T/trunc"
cp "$FIX/llama-tiny/config.json" "$T/trunc/"
head -c 30000 "$FIX/llama-tiny/model.safetensors" >"$T/trunc/model.safetensors"
expect_error "trunc/model.safetensors" "$LM" check "$T/trunc" "$FIX/llama-tiny/reference.safetensors"

mkdir "$T/nofield"
cp "$FIX/llama-tiny/model.safetensors" "$T/nofield/"
grep -v '"num_hidden_layers"' "$FIX/llama-tiny/config.json" >"$T/nofield/config.json"
expect_error "num_hidden_layers" "$LM" info "$T/nofield"

# head_dim × heads that does not match the projections: refused naming the tensor and shapes
mkdir "$T/hd"
cp "$FIX/llama-tiny/model.safetensors" "$T/hd/"
sed 's/"head_dim": 16/"head_dim": 32/' "$FIX/llama-tiny/config.json" >"$T/hd/config.json"
expect_error "q_proj.weight has shape \[64, 64\], expected \[128, 64\]" "$LM" check "$T/hd" \
    "$FIX/llama-tiny/reference.safetensors"
# RoPE parameters: yarn refused naming the field and value, llama3 without its factors
sed 's/"rope_type": "default"/"rope_type": "yarn"/' "$FIX/llama-tiny/config.json" >"$T/hd/config.json"
expect_error "rope_parameters.rope_type 'yarn'" "$LM" info "$T/hd"
sed 's/"rope_type": "default"/"rope_type": "llama3", "factor": 8.0/' "$FIX/llama-tiny/config.json" \
    >"$T/hd/config.json"
expect_error "needs rope_parameters.low_freq_factor" "$LM" info "$T/hd"

# what GPT-2 support does not cover is refused naming the field
mkdir "$T/gpt2"
cp "$FIX/gpt2-tiny/model.safetensors" "$T/gpt2/"
sed 's/"gelu_new"/"relu"/' "$FIX/gpt2-tiny/config.json" >"$T/gpt2/config.json"
expect_error "activation_function 'relu'" "$LM" info "$T/gpt2"
sed 's/"scale_attn_by_inverse_layer_idx": false/"scale_attn_by_inverse_layer_idx": true/' \
    "$FIX/gpt2-tiny/config.json" >"$T/gpt2/config.json"
expect_error "scale_attn_by_inverse_layer_idx" "$LM" info "$T/gpt2"
sed 's/"model_type": "gpt2"/"model_type": "gemma"/' "$FIX/gpt2-tiny/config.json" >"$T/gpt2/config.json"
expect_error "unsupported model_type 'gemma'" "$LM" info "$T/gpt2"

expect_error "adapter_model.safetensors" "$LM" merge --model "$FIX/qwen2-tiny" --adapter "$FIX/llama-tiny-lora" -o "$T/bad"
[ -e "$T/bad" ] && fail "a failed merge left output behind"
echo "lm_check.sh: all passed"
