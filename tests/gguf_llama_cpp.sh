#!/bin/sh
# The GGUF export, loaded by llama.cpp itself (node-llama-cpp's prebuilt CPU binaries):
# each HF fixture is exported with "$LG_BIN/adapt export --gguf" (F32 and F16) and evaluated on the
# fixture's reference input_ids; llama.cpp's greedy next token must equal the reference
# argmax at every position and its log-probabilities must match the reference's
# (tools/llama-check/check.mjs explains why both). Covers untied (llama-tiny), tied BF16
# sharded weights with one KV head, q/k/v biases (qwen2-tiny exported as "llama") and a
# merged LoRA model.
# node-llama-cpp and its prebuilt linux-x64 llama.cpp (~85 MB) are installed, pinned, under
# build/npm/llama-check the first time (tools/npm-install.sh); if they cannot be, the test
# fails. On a machine other than linux x86_64 it is skipped (exit 77, counted as skipped).
set -eu
: "${LG_BIN:=bin}"
fixtures=tests/fixtures/hf

if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
    echo "SKIP: tools/llama-check pins llama.cpp's prebuilt linux-x64 binaries"
    exit 77
fi
check_dir=$(tools/npm-install.sh llama-check)

tmp=$(mktemp -d build/gguf_llama_cpp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# check MODEL REFERENCE_DIR TOKENIZER TOLERANCE [adapt export options]
check() {
    model=$1 reference=$2 tokenizer=$3 tolerance=$4
    shift 4
    out="$tmp/$(echo "$model$*" | tr '/ ' '__').gguf"
    echo "== $model $* (max |dlogp| $tolerance)"
    # tiny301/tiny257 are unigram models, which llama.cpp cannot segment text with (see the
    # end of this test and gguf_tokenize_parity.sh): these checks give token ids directly
    "$LG_BIN/adapt" export --base "$fixtures/$model" --tokenizer "$tokenizer" --gguf "$out" \
        --allow-tokenizer-mismatch "$@" >/dev/null 2>&1
    node "$check_dir/check.mjs" --gguf "$out" --reference "$fixtures/$reference/reference.safetensors" \
        --max-logprob-diff "$tolerance"
}

# F32 tolerances: measured ~9e-7 (a GGUF without the q/k permutation: ~9e-3).
# F16 weights: measured ~3e-4.
check llama-tiny llama-tiny tests/data/gguf/tiny301.model 1e-4
check llama-tiny llama-tiny tests/data/gguf/tiny301.model 1e-3 --f16
check llama-tiny-tied-bf16-sharded llama-tiny-tied-bf16-sharded tests/data/gguf/tiny301.model 1e-4
check llama-tiny-tied-bf16-sharded llama-tiny-tied-bf16-sharded tests/data/gguf/tiny301.model 1e-3 --f16
check qwen2-tiny qwen2-tiny tests/data/gguf/tiny257.model 1e-4
# a LoRA adapter merged into llama-tiny (PEFT's merge_and_unload) against the adapted
# model's logits
check llama-tiny-lora/merged llama-tiny-lora tests/data/gguf/tiny301.model 1e-4

# A language pack (table from `transfer init`, the fixture's LoRA adapter with its trained
# embeddings) exported by adapt: llama.cpp's greedy tokens and log-probabilities must
# equal lingraft's own (lm logits) at every position.
echo "== pack over llama-tiny: llama.cpp against lm"
"$LG_BIN/transfer" init --base "$fixtures/llama-tiny" --base-tokenizer tests/data/gguf/tiny301.model \
    --tokenizer tests/data/gguf/tiny301.model --method hull -o "$tmp/table.safetensors" >/dev/null 2>&1
"$LG_BIN/adapt" pack --base "$fixtures/llama-tiny" --table "$tmp/table.safetensors" \
    --tokenizer tests/data/gguf/tiny301.model --adapter "$fixtures/llama-tiny-lora" -o "$tmp/x.pack" >/dev/null
"$LG_BIN/adapt" export --base "$fixtures/llama-tiny" --pack "$tmp/x.pack" --gguf "$tmp/pack.gguf" \
    --allow-tokenizer-mismatch >/dev/null 2>&1
"$LG_BIN/lm" logits "$fixtures/llama-tiny" --pack "$tmp/x.pack" \
    --input "$fixtures/llama-tiny/reference.safetensors" -o "$tmp/lm-reference.safetensors"
node "$check_dir/check.mjs" --gguf "$tmp/pack.gguf" --reference "$tmp/lm-reference.safetensors" \
    --max-logprob-diff 1e-4

# The exported vocabulary, seen by llama.cpp's own tokenizer: for a SentencePiece BPE
# model it must segment text exactly as SentencePiece does (byte fallback included).
# (Unigram models are refused by the export: llama.cpp's "llama" tokenizer merges pieces by
# score, it does not run unigram's Viterbi search; see README, GGUF export. Texts with every
# character NFKC changes, and Dutch, Frisian and Basque: gguf_tokenize_parity.sh.)
echo "== llama.cpp tokenizer vs spm_encode (bpe301.model)"
text=/usr/share/common-licenses/MPL-2.0
[ -r "$text" ] || text=/usr/share/common-licenses/GPL-3
# bpe301.model keeps spaces as given (remove_extra_whitespaces false), as llama.cpp does:
# the text goes as it is, indentation and runs of spaces included.
cp "$text" "$tmp/text.txt"
printf 'caf\303\251 na\303\257ve \346\235\261\344\272\254 \360\237\230\200 12345.\n' >>"$tmp/text.txt"
"$LG_BIN/adapt" export --base "$fixtures/llama-tiny" --tokenizer tests/data/gguf/bpe301.model \
    --gguf "$tmp/bpe.gguf" >/dev/null
node "$check_dir/check.mjs" --gguf "$tmp/bpe.gguf" --tokenize "$tmp/text.txt" >"$tmp/llama.ids"
spm_encode --model=tests/data/gguf/bpe301.model --output_format=id <"$tmp/text.txt" >"$tmp/spm.ids"
[ "$(wc -l <"$tmp/spm.ids")" -gt 100 ] || { echo "FAIL: too little text"; exit 1; }
cmp "$tmp/llama.ids" "$tmp/spm.ids" || { echo "FAIL: llama.cpp tokenizes differently"; exit 1; }
echo "$(wc -l <"$tmp/spm.ids") lines tokenized identically"
echo "gguf_llama_cpp: all exports agree with the reference in llama.cpp"
