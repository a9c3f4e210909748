#!/bin/sh
# transfer init from the command line, end to end: tokenizers trained on the test corpus,
# both sides tokenised, aligned with the tokenizers' checksums recorded, every method run
# against the llama-tiny fixture; a table for another tokenizer, a missing table and a base
# model of another size are refused with no pack left behind.
set -eu
T="$LG_BIN/transfer"
BASE=tests/fixtures/hf/llama-tiny
dir=$(mktemp -d build/transfer_init.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$T" init --help | grep -q -- "--method" || fail "init --help"
gzip -dc tests/data/transfer/en-nl-train.tsv.gz | cut -f1 >"$dir/en.txt"
gzip -dc tests/data/transfer/en-nl-train.tsv.gz | cut -f2 >"$dir/nl.txt"
# the base tokenizer must fit the fixture's 301 embedding rows
spm_train --input="$dir/en.txt" --model_prefix="$dir/base" --vocab_size=300 \
    --character_coverage=1.0 --minloglevel=2 >/dev/null 2>&1 || fail "spm_train base"
spm_train --input="$dir/nl.txt" --model_prefix="$dir/new" --vocab_size=400 \
    --character_coverage=1.0 --minloglevel=2 >/dev/null 2>&1 || fail "spm_train new"
spm_encode --model="$dir/base.model" --output_format=id <"$dir/en.txt" >"$dir/en.ids"
spm_encode --model="$dir/new.model" --output_format=id <"$dir/nl.txt" >"$dir/nl.ids"
"$T" align --src "$dir/en.ids" --tgt "$dir/nl.ids" --src-tokenizer "$dir/base.model" \
    --tgt-tokenizer "$dir/new.model" -o "$dir/table.tsv" --threads 2 || fail "align"
grep -q "^# tgt_tokenizer_sha256 $(sha256sum "$dir/new.model" | cut -d' ' -f1)" "$dir/table.tsv" \
    || fail "table does not record the target tokenizer's sha256"

for m in trans hull random mvn mean; do
    "$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/new.model" \
        --table "$dir/table.tsv" --method $m --lang nld --script Latn -o "$dir/$m.safetensors" \
        2>"$dir/err" || { cat "$dir/err"; fail "init --method $m"; }
    grep -q "init: 400 rows ($m)" "$dir/err" || { cat "$dir/err"; fail "no summary for $m"; }
    "$T" check --pack "$dir/$m.safetensors" --tokenizer "$dir/new.model" --base "$BASE" \
        || fail "check of the $m pack"
done
grep -q "aligned" "$dir/err" && fail "mean method claims aligned rows"
"$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/new.model" \
    --table "$dir/table.tsv" -o "$dir/t.safetensors" 2>"$dir/err" || fail "init default"
grep -q "aligned" "$dir/err" || fail "trans method made no aligned rows"

# dictionary variant: a word list (the first words of the test pairs) instead of sentences
awk -F'\t' '{ split($1, e, " "); split($2, n, " "); print e[1] "\t" n[1] }' \
    tests/data/transfer/en-nl-gold.tsv | grep -v '^#' >"$dir/dict.tsv"
"$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/new.model" \
    --method dict --dict "$dir/dict.tsv" -o "$dir/dict.safetensors" 2>"$dir/err" \
    || { cat "$dir/err"; fail "init --method dict"; }

# --extend: the base tokenizer extended with the Dutch pieces keeps its 300 rows
"$LG_BIN/tokenize" extend "$dir/base.model" "$dir/new.model" -o "$dir/merged.model" >/dev/null 2>&1 \
    || fail "tokenize extend"
"$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/merged.model" \
    --method hull --extend -o "$dir/ext.safetensors" 2>"$dir/err" || { cat "$dir/err"; fail "init --extend"; }
grep -q "(hull): base 300 " "$dir/err" || { cat "$dir/err"; fail "--extend did not keep the 300 base rows"; }
grep -q "hull [1-9]" "$dir/err" || { cat "$dir/err"; fail "--extend initialised no appended row"; }
"$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/new.model" \
    --method hull --extend -o "$dir/bad.safetensors" 2>"$dir/err" && fail "--extend of a non-extension accepted"
grep -q "not an extension" "$dir/err" || { cat "$dir/err"; fail "--extend refusal not explained"; }

# refusals: no output left behind
"$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/base.model" \
    --table "$dir/table.tsv" -o "$dir/bad.safetensors" 2>"$dir/err" && fail "table for another tokenizer accepted"
grep -q "checksum mismatch" "$dir/err" || { cat "$dir/err"; fail "no checksum message"; }
"$T" init --base "$BASE" --base-tokenizer "$dir/base.model" --tokenizer "$dir/new.model" \
    -o "$dir/bad.safetensors" 2>"$dir/err" && fail "trans without a table accepted"
"$T" check --pack "$dir/trans.safetensors" --tokenizer "$dir/base.model" 2>"$dir/err" \
    && fail "pack accepted for another tokenizer"
grep -q "checksum mismatch" "$dir/err" || fail "check: no checksum message"
# a base model with another hidden size (config only: the check reads no weights)
mkdir "$dir/wide"
sed 's/"hidden_size": 64/"hidden_size": 128/' "$BASE/config.json" >"$dir/wide/config.json"
"$T" check --pack "$dir/trans.safetensors" --base "$dir/wide" 2>"$dir/err" && fail "size mismatch accepted"
grep -q "hidden size 128" "$dir/err" || { cat "$dir/err"; fail "size mismatch not named"; }
[ ! -e "$dir/bad.safetensors" ] || fail "output left behind"
ls "$dir" | grep -q '\.tmp\.' && fail "temporary file left behind"
echo "transfer init: ok"
