#!/bin/sh
# The project's own small English base model: a SentencePiece tokenizer and a Llama-family
# model pretrained from scratch with `lm init` + `lm train` on the English corpus.
# With BASE_TOKENIZER_JSON=FILE the tokenizer is that tokenizer.json instead (e.g. a
# byte-level BPE: the byte-level twin of the base), copied as OUT_DIR/tokenizer.json.
# With BASE_CONFIG=FILE the model's shape and architecture are that HF config.json's (e.g. a
# GPT-2) instead of the preset's.
# Usage: base-model.sh OUT_DIR  (env: EN_TEXT, EN_HELDOUT, BASE_VOCAB, BASE_PRESET,
#        BASE_STEPS, BASE_BATCH, BASE_SEQ, BASE_LR, THREADS, EVAL_LINES, BASE_TOKENIZER_JSON,
#        BASE_CONFIG)
# Writes OUT_DIR/{config.json, model.safetensors, tokenizer.model or tokenizer.json,
# train.jsonl, eval.json}.
set -eu
STEP=base; . "$(dirname "$0")/lib.sh"
out=$1
: "${EN_TEXT:=corpora/build/en/mono.txt.gz}" "${EN_HELDOUT:=corpora/build/en/heldout.txt}"
: "${BASE_VOCAB:=8000}" "${BASE_PRESET:=tiny}" "${BASE_STEPS:=600}" "${BASE_BATCH:=8}"
: "${BASE_SEQ:=128}" "${BASE_LR:=2e-3}" "${THREADS:=2}"
need "$EN_TEXT" "$EN_HELDOUT"
mkdir -p "$out.work"
if [ -n "${BASE_TOKENIZER_JSON:-}" ]; then
    need "$BASE_TOKENIZER_JSON"
    tok=$BASE_TOKENIZER_JSON tok_name=tokenizer.json
else
    tok=$out.work/en.model tok_name=tokenizer.model
fi
if [ -z "${BASE_TOKENIZER_JSON:-}" ] && ! fresh "$out.work/en.model" "$EN_TEXT"; then
    # BPE with byte fallback, as Llama's tokenizer: llama.cpp encodes text exactly as
    # SentencePiece does for BPE models (not for unigram ones)
    say "English tokenizer: BPE, $BASE_VOCAB pieces, byte fallback"
    "$TOKENIZE" train --force -t bpe -o "$out.work/en" -v "$BASE_VOCAB" --byte-fallback --sample 300000 \
        --threads "$THREADS" "$EN_TEXT"
fi
if ! fresh "$out/model.safetensors" "$tok" "$EN_TEXT"; then
    say "pretraining a '${BASE_CONFIG:-$BASE_PRESET}' model from scratch: $BASE_STEPS steps of $BASE_BATCH x $BASE_SEQ tokens"
    # --force: a rerun replaces this step's own earlier model (perhaps written before the
    # directory carried its writer's marker)
    if [ -n "${BASE_CONFIG:-}" ]; then shape="--config $BASE_CONFIG"; else shape="--preset $BASE_PRESET"; fi
    # shellcheck disable=SC2086
    "$LM" init $shape --tokenizer "$tok" --seed 1 -o "$out.work/init" --force
    rm -rf "$out.work/train" "$out.work/train.jsonl"
    "$LM" train "$out.work/init" --text "$EN_TEXT" --tokenizer "$tok" \
        --steps "$BASE_STEPS" --batch "$BASE_BATCH" --seq-len "$BASE_SEQ" --lr "$BASE_LR" \
        --warmup $((BASE_STEPS / 20 + 1)) --seed 1 --threads "$THREADS" \
        --log "$out.work/train.jsonl" -o "$out.work/train" -q
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    cp "$out.work/train/last/model/config.json" "$out.work/train/last/model/model.safetensors" "$out.tmp/"
    cp "$tok" "$out.tmp/$tok_name"
    cp "$out.work/train.jsonl" "$out.tmp/train.jsonl"
    head -n "${EVAL_LINES:-800}" "$EN_HELDOUT" >"$out.work/heldout.sample.txt"
    "$LM" eval "$out.tmp" --text "$out.work/heldout.sample.txt" --tokenizer "$out.tmp/$tok_name" \
        --window "$BASE_SEQ" --threads "$THREADS" --json >"$out.tmp/eval.json"
    rm -rf "$out"
    mv "$out.tmp" "$out"
    say "base model $out: English held-out $(json_get "$out/eval.json" bits_per_byte) bits per byte"
fi
