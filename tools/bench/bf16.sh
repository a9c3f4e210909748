#!/bin/sh
# Weights kept as stored (issue 17), not part of `make test`: on a Llama-3.2-1B-shaped model
# with random weights stored as bf16 (hidden 2048, 16 layers, 32 heads, 8 KV heads,
# intermediate 8192, vocabulary 128256, tied; written once by `lm init --dtype bf16`), each of
# `lm eval` (1 x 1024 tokens), `lm generate` (32 new tokens after a 128-token prompt) and one
# LoRA step (r 16 on every projection, batch 1 x 512) runs twice in the same run: bf16 as
# stored, then the float32 path (LG_F32_WEIGHTS=1). Wall time and peak RSS from
# /usr/bin/time, the load average before each. Then the bf16 kernels per shape
# (build/wmat_bench). Results: build/bench/bf16/results.txt.
# Usage: tools/bench/bf16.sh [--skip-kernels]   (LM=bin/lm, BF16_DIR=build/bench/bf16)
set -eu
LM=${LM:-bin/lm}
DIR=${BF16_DIR:-build/bench/bf16}
THREADS=${BENCH_THREADS:-2}
mkdir -p "$DIR"
OUT=$DIR/results.txt
: >"$OUT"
say() { echo "$*" | tee -a "$OUT"; }
MODEL=$DIR/llama-3.2-1b-shape
if [ ! -f "$MODEL/model.safetensors" ]; then
    cat >"$DIR/config.json" <<'JSON'
{"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":128256,
 "hidden_size":2048,"num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,
 "head_dim":64,"intermediate_size":8192,"max_position_embeddings":131072,"rms_norm_eps":1e-05,
 "rope_theta":500000.0,"tie_word_embeddings":true,"hidden_act":"silu","bos_token_id":128000,
 "eos_token_id":128001,"torch_dtype":"bfloat16"}
JSON
    "$LM" init --config "$DIR/config.json" --dtype bf16 --seed 1 -o "$MODEL" --force
fi
# ids: 1022 + bos/eos = one window of 1024; a 128-token prompt; 2 documents of 600 for training
awk 'BEGIN { srand(2); for (d = 0; d < 4; d++) { n = d == 0 ? 1022 : d == 1 ? 128 : 600;
     s = ""; for (i = 0; i < n; i++) s = s (i ? " " : "") int(rand() * 128000); print s } }' \
    >"$DIR/all.ids"
sed -n 1p "$DIR/all.ids" >"$DIR/eval.ids"
sed -n 2p "$DIR/all.ids" >"$DIR/prompt.ids"
sed -n '3,4p' "$DIR/all.ids" >"$DIR/train.ids"
file_bytes=$(stat -c %s "$MODEL/model.safetensors")
say "model $MODEL: $file_bytes bytes of bf16 weights; threads $THREADS"
"$LM" info "$MODEL" | grep 'bf16 products' | tee -a "$OUT"

# run LABEL MODE CMD...: MODE bf16 (as stored) or f32 (LG_F32_WEIGHTS=1)
run() {
    label=$1 mode=$2
    shift 2
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ "$mode" = f32 ]; then f32=1; else f32=0; fi
    LG_F32_WEIGHTS=$f32 /usr/bin/time -f "%e %M" -o "$DIR/time" "$@" >"$DIR/stdout" 2>"$DIR/stderr" ||
        { say "$label $mode: failed"; cat "$DIR/stderr" >&2; return 0; }
    set -- $(cat "$DIR/time")
    extra=$(grep -o 'new tokens in [0-9.]* s ([0-9.]* tok/s)' "$DIR/stderr" || true)
    say "$(printf '%-9s %-5s wall %7.1f s  peak RSS %6.0f MiB (%.2fx the file)  load %s  %s' \
        "$label" "$mode" "$1" "$(($2 / 1024))" "$(echo "$2 * 1024 / $file_bytes" | bc -l)" \
        "$load" "$extra")"
}
for mode in bf16 f32; do
    run eval "$mode" "$LM" eval "$MODEL" --ids "$DIR/eval.ids" --window 1024 --threads "$THREADS"
    run generate "$mode" "$LM" generate -m "$MODEL" --ids --prompt-file "$DIR/prompt.ids" \
        --no-bos --max-new 32 --temperature 0 --verbose --threads "$THREADS"
    rm -rf "$DIR/lora-$mode"
    run lora-step "$mode" "$LM" train "$MODEL" --data "$DIR/train.ids" --lora-r 16 \
        --lora-targets all --batch 1 --seq-len 512 --steps 1 --threads "$THREADS" \
        -o "$DIR/lora-$mode"
done
if [ "${1:-}" != --skip-kernels ] && [ -x build/wmat_bench ]; then
    say "bf16 kernels per shape (N = 512 rows), load $(cut -d' ' -f1-3 /proc/loadavg):"
    build/wmat_bench 512 3 | tee -a "$OUT"
fi
