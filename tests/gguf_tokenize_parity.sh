#!/bin/sh
# An exported GGUF tokenizes every text exactly as lingraft does (issue 16).
# Tokenizers made the way the pipeline makes them — `tokenize train` (BPE, byte fallback, no
# normaliser inside the model) and `tokenize extend` of an English base with it — and one
# without SentencePiece's dummy prefix are exported with `adapt export --gguf`; llama.cpp itself (node-llama-cpp 3.21.1's prebuilt
# CPU build, tools/llama-check) tokenizes each line of
#   - tests/data/parity/crafted.txt: every class of character NFKC rewrites (… ﬁ full-width
#     letters ² ½ ㎏ compatibility ideographs, Arabic presentation forms, ĳ, combining
#     sequences, special spaces), tabs, runs of spaces, leading/trailing spaces, empty lines;
#   - tests/data/parity/{nl,fy,eu}.txt: held-out Dutch, Frisian and Basque (SOURCES.md);
# and `tokenize encode --ids` must give the same ids on every line (0 lines differ).
# Negative control: the same tokenizer trained with NFKC inside the model is refused by
# the export, and written with --allow-tokenizer-mismatch it tokenizes the crafted text
# differently in llama.cpp (the comparison must see it). A unigram model is refused, and so
# is one with user-defined pieces (exported anyway, llama.cpp differs where they occur).
# Skipped (77) off linux x86_64, where the pinned llama.cpp build does not exist.
set -eu
: "${LG_BIN:=bin}"
data=tests/data/parity

if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
    echo "SKIP: tools/llama-check pins llama.cpp's prebuilt linux-x64 binaries"
    exit 77
fi
check_dir=$(tools/npm-install.sh llama-check)

tmp=$(mktemp -d build/gguf_tokenize_parity.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# export MODEL NAME [adapt export options]: a micro model over the tokenizer, as GGUF
export_gguf() {
    model=$1 name=$2
    shift 2
    "$LG_BIN/lm" init --preset micro --tokenizer "$model" -o "$tmp/$name.hf" >/dev/null
    "$LG_BIN/adapt" export --base "$tmp/$name.hf" --tokenizer "$model" --gguf "$tmp/$name.gguf" \
        "$@" >/dev/null 2>"$tmp/$name.export.err"
}

# differing MODEL GGUF TEXT: prints how many lines of TEXT get other ids in llama.cpp
differing() {
    "$LG_BIN/tokenize" encode -m "$1" --ids "$3" >"$tmp/lg.ids"
    node "$check_dir/check.mjs" --gguf "$2" --tokenize "$3" >"$tmp/llama.ids"
    lines=$(wc -l <"$3")
    [ "$(wc -l <"$tmp/lg.ids")" -eq "$lines" ] || fail "tokenize encode: $(wc -l <"$tmp/lg.ids") lines of ids for $lines lines"
    [ "$(wc -l <"$tmp/llama.ids")" -eq "$lines" ] || fail "llama.cpp: $(wc -l <"$tmp/llama.ids") lines of ids for $lines lines"
    paste -d '|' "$tmp/lg.ids" "$tmp/llama.ids" | awk -F'|' '$1 != $2' >"$tmp/diff"
    wc -l <"$tmp/diff"
}

# The tokenizers: Dutch BPE with byte fallback (as tools/pipeline/tokenizer.sh trains
# it) and an English base extended with it (as Chinese-/Tamil-LLaMA extend Llama's).
"$LG_BIN/tokenize" train -t bpe -v 1000 --byte-fallback -o "$tmp/nl" tests/data/tokenize/nl.txt \
    2>"$tmp/train.err"
grep -q "normalises text with 'identity'.*spaces kept" "$tmp/train.err" ||
    { cat "$tmp/train.err"; fail "tokenize train does not state its normaliser"; }
"$LG_BIN/tokenize" train -t bpe -v 600 --byte-fallback -o "$tmp/en" tests/data/lm/train.txt 2>/dev/null
"$LG_BIN/tokenize" extend "$tmp/en.model" "$tmp/nl.model" -o "$tmp/en+nl.model" 2>"$tmp/extend.err"
grep -q "en+nl.model normalises text as .*en.model does: 'identity'" "$tmp/extend.err" ||
    { cat "$tmp/extend.err"; fail "tokenize extend does not state its normaliser"; }

# A model without SentencePiece's dummy prefix (Debian's spm_train; tokenize train always
# sets it): the export writes tokenizer.ggml.add_space_prefix false, without which
# llama.cpp would put "▁" before every line (measured: 38 of 39 crafted lines differ).
spm_train --input=tests/data/tokenize/nl.txt --model_prefix="$tmp/noprefix" --vocab_size=1000 \
    --model_type=bpe --byte_fallback=true --normalization_rule_name=identity \
    --remove_extra_whitespaces=false --add_dummy_prefix=false --minloglevel=2 >/dev/null 2>&1 ||
    fail "spm_train"

total=0
for name in nl en+nl noprefix; do
    export_gguf "$tmp/$name.model" "$name" || { cat "$tmp/$name.export.err"; fail "export of $name.model"; }
    for text in crafted nl fy eu; do
        n=$(differing "$tmp/$name.model" "$tmp/$name.gguf" "$data/$text.txt")
        echo "$name.model, $text.txt: $(wc -l <"$data/$text.txt") lines, $n differ"
        if [ "$n" -ne 0 ]; then
            head -5 "$tmp/diff"
            fail "llama.cpp tokenizes $text.txt differently with $name.model"
        fi
        total=$((total + $(wc -l <"$data/$text.txt")))
    done
done
echo "$total lines: lingraft's ids equal llama.cpp's on every line"

# Negative control: NFKC inside the model. Refused without the override, naming the
# tokenizer, its normaliser and how many characters it rewrites...
"$LG_BIN/tokenize" train -t bpe -v 1000 --byte-fallback --model-normalizer nmt_nfkc \
    -o "$tmp/nfkc" tests/data/tokenize/nl.txt 2>/dev/null
rc=0
export_gguf "$tmp/nfkc.model" nfkc || rc=$?
[ "$rc" -eq 1 ] || fail "export of an NFKC tokenizer: exit $rc, expected 1"
grep -q "nfkc.model: llama.cpp would tokenize text differently.*'nmt_nfkc'.*rewrites or drops [0-9][0-9]* characters.*--allow-tokenizer-mismatch" \
    "$tmp/nfkc.export.err" || { cat "$tmp/nfkc.export.err"; fail "unclear refusal"; }
[ ! -e "$tmp/nfkc.gguf" ] || fail "a refused export left $tmp/nfkc.gguf"
echo "NFKC tokenizer refused: $(cat "$tmp/nfkc.export.err")"
# ...and exported anyway, with a warning, llama.cpp tokenizes the crafted text otherwise.
rm -rf "$tmp/nfkc.hf"
export_gguf "$tmp/nfkc.model" nfkc --allow-tokenizer-mismatch || fail "export with the override"
grep -q "WARNING" "$tmp/nfkc.export.err" || fail "no warning with --allow-tokenizer-mismatch"
n=$(differing "$tmp/nfkc.model" "$tmp/nfkc.gguf" "$data/crafted.txt")
echo "negative control: NFKC inside the model, crafted.txt: $n lines differ"
[ "$n" -gt 0 ] || fail "the comparison did not see an NFKC model's differences"

# A unigram model: llama.cpp's "llama" tokenizer does not run unigram's search.
"$LG_BIN/tokenize" train -t unigram -v 1000 --byte-fallback -o "$tmp/uni" tests/data/tokenize/nl.txt 2>/dev/null
rc=0
export_gguf "$tmp/uni.model" uni || rc=$?
[ "$rc" -eq 1 ] && grep -q "uni.model: .*a unigram model" "$tmp/uni.export.err" ||
    { cat "$tmp/uni.export.err"; fail "a unigram tokenizer was not refused (exit $rc)"; }
echo "unigram tokenizer refused"

# User-defined pieces: refused; exported anyway, llama.cpp cuts the text at them and puts
# "▁" before what follows (the check's reason, seen here).
"$LG_BIN/tokenize" train -t bpe -v 1000 --byte-fallback --user-symbols '<lang>' -o "$tmp/user" \
    tests/data/tokenize/nl.txt 2>/dev/null
rc=0
export_gguf "$tmp/user.model" user || rc=$?
[ "$rc" -eq 1 ] && grep -q "user.model: .*1 user-defined pieces (<lang>)" "$tmp/user.export.err" ||
    { cat "$tmp/user.export.err"; fail "a tokenizer with user-defined pieces was not refused (exit $rc)"; }
rm -rf "$tmp/user.hf"
export_gguf "$tmp/user.model" user --allow-tokenizer-mismatch || fail "export with the override"
printf 'de fietsen<lang>en meer\nzonder het stuk\n' >"$tmp/user.txt"
n=$(differing "$tmp/user.model" "$tmp/user.gguf" "$tmp/user.txt")
echo "user-defined pieces refused; exported anyway, $n of 2 lines differ"
[ "$n" -eq 1 ] || fail "expected the line with <lang> (only) to differ"
echo "gguf_tokenize_parity: passed"
