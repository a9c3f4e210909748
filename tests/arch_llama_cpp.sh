#!/bin/sh
# Architectures against llama.cpp (node-llama-cpp@3.21.1's prebuilt CPU build, an
# implementation lingraft did not write): for random tiny weights of each architecture
# (`lm init --config`, initializer_range large enough that attention and positions move
# the predictions), lingraft's logits (`lm logits`) on the llama-tiny fixture's input_ids
# must match llama.cpp's on the exported GGUF: the greedy token at every position and
# every log-probability within 1e-4 (tools/llama-check/check.mjs).
# Negative controls (each must FAIL the same check, so the check is shown able to):
#   - Llama-3 RoPE scaling: the same weights without the scaling, exported (no
#     rope_freqs.weight), against lingraft's scaled logits;
#   - linear RoPE scaling: likewise;
#   - Qwen3's q/k-norm: a llama model of the same shapes and seed (the same weights but
#     q_norm/k_norm, which initialise to ones and draw nothing) against the qwen3 GGUF.
# Skipped (77) off linux x86_64, like gguf_llama_cpp.sh.
set -eu
: "${LG_BIN:=bin}"
if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
    echo "SKIP: tools/llama-check pins llama.cpp's prebuilt linux-x64 binaries"
    exit 77
fi
check_dir=$(tools/npm-install.sh llama-check)
spm=tests/data/gguf/tiny301.model
input=tests/fixtures/hf/llama-tiny/reference.safetensors
tmp=$(mktemp -d build/arch_llama_cpp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# model NAME: $tmp/NAME.json -> $tmp/NAME (weights), $tmp/NAME.ref (lingraft's logits),
# $tmp/NAME.gguf
model() {
    "$LG_BIN/lm" init --config "$tmp/$1.json" --tokenizer "$spm" --seed 7 -o "$tmp/$1" >/dev/null
    "$LG_BIN/lm" logits "$tmp/$1" --input "$input" -o "$tmp/$1.ref" >/dev/null
    "$LG_BIN/adapt" export --base "$tmp/$1" --tokenizer "$spm" --gguf "$tmp/$1.gguf" \
        --allow-tokenizer-mismatch >/dev/null 2>&1
}
# agree GGUF_MODEL REF_MODEL: llama.cpp on GGUF_MODEL's GGUF matches REF_MODEL's logits
agree() {
    node "$check_dir/check.mjs" --gguf "$tmp/$1.gguf" --reference "$tmp/$2.ref" \
        --max-logprob-diff 1e-4 >"$tmp/check.log" 2>&1
}
pass() {
    echo "== $1: llama.cpp against lingraft"
    agree "$1" "$1" || { cat "$tmp/check.log"; echo "FAIL: $1 disagrees"; exit 1; }
    tail -1 "$tmp/check.log"
}
# negative control: must disagree
differ() {
    echo "== negative control: $1's GGUF against $2's logits must disagree"
    if agree "$1" "$2"; then
        cat "$tmp/check.log"; echo "FAIL: the check cannot tell $1 from $2"; exit 1
    fi
    tail -1 "$tmp/check.log"
}
# config NAME ROPE_SCALING EXTRA_JSON_FIELDS [MODEL_TYPE]
config() {
    cat >"$tmp/$1.json" <<JSON
{"model_type": "${4:-llama}", "vocab_size": 301, "hidden_size": 64, "intermediate_size": 96,
 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 24,
 "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
 "rope_scaling": $2, "tie_word_embeddings": true, "initializer_range": 0.3$3}
JSON
}

# Llama-3.x: llama3 RoPE scaling (original_max_position_embeddings 32: of the 12
# frequencies of head_dim 24, the first is kept, the second blended, the rest divided
# by 8), tied embeddings, head_dim 24 ≠ hidden 64 / 4 heads.
config llama3 '{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
  "high_freq_factor": 4.0, "original_max_position_embeddings": 32}' ''
config llama3-plain null ''
config linear '{"rope_type": "linear", "factor": 4.0}' ''
# Qwen3: q_norm/k_norm (RMSNorm per head before RoPE), head_dim 24, no q/k/v bias, tied;
# GGUF arch qwen3 (attn_q_norm, attn_k_norm; halves rotated, no q/k row permutation).
config qwen3 null '' qwen3
config qwen3-as-llama null ''
for m in llama3 llama3-plain linear qwen3 qwen3-as-llama; do model $m; done
cmp -s "$tmp/llama3/model.safetensors" "$tmp/llama3-plain/model.safetensors" ||
    { echo "FAIL: the control's weights differ"; exit 1; }
pass llama3
pass llama3-plain
pass linear
pass qwen3
differ llama3-plain llama3
differ llama3-plain linear
differ qwen3 qwen3-as-llama
echo "arch_llama_cpp: every architecture agrees with llama.cpp; the controls disagree"
