#!/bin/sh
# tokenize end to end: train, encode/decode equal to Debian's spm_encode/spm_decode,
# stats against an independent token count, extend keeping base ids, bad input.
set -eu
: "${LG_BIN:=bin}"
TOK="$LG_BIN/tokenize"
DATA=tests/data/tokenize
mkdir -p build
W=$(mktemp -d build/tokenize-sh.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for cmd in train encode decode stats extend; do
    "$TOK" $cmd --help | grep -q "usage: tokenize $cmd" || fail "$cmd --help"
done

# -- train: a Dutch unigram model, an English BPE model with byte fallback -------------
"$TOK" train -o "$W/nl" --vocab-size 1000 --split-digits --user-symbols '<nl>,<en>' "$DATA/nl.txt"
"$TOK" train -o "$W/en" --model-type bpe --vocab-size 600 --byte-fallback "$DATA/en.txt"
gzip -c "$DATA/nl.txt" > "$W/nl.txt.gz"
"$TOK" train -o "$W/sampled" --vocab-size 500 --sample 400 --seed 7 --nfc "$W/nl.txt.gz"
for m in nl en sampled; do
    [ -s "$W/$m.model" ] && [ -s "$W/$m.vocab" ] || fail "train $m wrote no model"
done
[ "$(wc -l < "$W/nl.vocab")" -eq 1000 ] || fail "nl.vocab should list 1000 pieces"
grep -q "^<nl>	" "$W/nl.vocab" || fail "user symbol <nl> missing"

# -- encode / decode: identical to spm_encode / spm_decode ------------------------------
for m in nl en sampled; do
    for text in nl ru en; do
        spm_encode --model "$W/$m.model" --output_format=id < "$DATA/$text.txt" > "$W/spm.id"
        "$TOK" encode -m "$W/$m.model" --ids "$DATA/$text.txt" > "$W/tok.id"
        cmp -s "$W/spm.id" "$W/tok.id" || fail "encode --ids $m/$text differs from spm_encode"
        spm_encode --model "$W/$m.model" --output_format=piece < "$DATA/$text.txt" > "$W/spm.piece"
        "$TOK" encode -m "$W/$m.model" < "$DATA/$text.txt" > "$W/tok.piece"
        cmp -s "$W/spm.piece" "$W/tok.piece" || fail "encode --pieces $m/$text differs"
        spm_decode --model "$W/$m.model" --input_format=id < "$W/spm.id" > "$W/spm.text"
        "$TOK" decode -m "$W/$m.model" --ids < "$W/spm.id" > "$W/tok.text"
        cmp -s "$W/spm.text" "$W/tok.text" || fail "decode --ids $m/$text differs"
        spm_decode --model "$W/$m.model" < "$W/spm.piece" > "$W/spm.text"
        "$TOK" decode -m "$W/$m.model" < "$W/spm.piece" > "$W/tok.text"
        cmp -s "$W/spm.text" "$W/tok.text" || fail "decode --pieces $m/$text differs"
    done
done
# byte fallback: the English model has no unknown token (id 0) even on Cyrillic
"$TOK" encode -m "$W/en.model" --ids < "$DATA/ru.txt" > "$W/ru.id"
if tr ' ' '\n' < "$W/ru.id" | grep -qx 0; then fail "unknown token despite byte fallback"; fi
"$TOK" decode -m "$W/en.model" --ids < "$W/ru.id" | grep -q "стандартный" ||
    fail "byte-fallback decode lost Cyrillic"
# gzip input reads the same as plain
"$TOK" encode -m "$W/nl.model" --ids "$DATA/nl.txt" > "$W/plain.id"
"$TOK" encode -m "$W/nl.model" --ids "$W/nl.txt.gz" | cmp -s - "$W/plain.id" ||
    fail "gzip input encodes differently"

# -- stats: token counts equal the encoder's, the Dutch model is cheaper on Dutch -------
"$TOK" stats -m "$W/nl.model" -m "$W/en.model" --json "$DATA/nl.txt" > "$W/stats.json"
json_num() { # FIELD OCCURRENCE
    grep "\"$1\":" "$W/stats.json" | sed -n "${2}p" | sed 's/.*: *//; s/,$//'
}
for k in 1 2; do
    m=$([ $k -eq 1 ] && echo nl || echo en)
    want=$("$TOK" encode -m "$W/$m.model" --ids "$DATA/nl.txt" | wc -w)
    [ "$(json_num tokens $k)" -eq "$want" ] || fail "stats tokens for $m: $(json_num tokens $k) != $want"
done
[ "$(json_num lines 1)" -eq "$(wc -l < "$DATA/nl.txt")" ] || fail "stats line count"
[ "$(json_num bytes 1)" -eq "$(($(wc -c < "$DATA/nl.txt") - $(wc -l < "$DATA/nl.txt")))" ] ||
    fail "stats byte count"
[ "$(json_num tokens 1)" -lt "$(json_num tokens 2)" ] || fail "Dutch model should need fewer tokens"
grep -q '"Latn":' "$W/stats.json" || fail "script histogram lacks Latn"
"$TOK" stats -m "$W/nl.model" "$DATA/ru.txt" > "$W/stats.txt"
grep -q "^scripts.*Cyrl" "$W/stats.txt" || fail "table lacks Cyrl"
# every line of ru.txt is counted under one main script, and most are Cyrillic
grep "^lines by main script" "$W/stats.txt" | tr ' ' '\n' |
    awk -v n="$(wc -l < "$DATA/ru.txt")" 'p == "Cyrl" { cyrl = $1 } /^[0-9]+$/ { sum += $1 }
        { p = $1 } END { exit !(sum == n && cyrl > n / 2) }' || fail "lines by main script"

# -- normalisation: the model applies none (identity, spaces kept) and says so; its pieces
# are learned from NFKC text. decode(encode(x)) is x, "…" and runs of spaces included
# (an NFKC model gives "..." and one space: the negative control).
"$TOK" train --force -o "$W/en" --model-type bpe --vocab-size 600 --byte-fallback "$DATA/en.txt" \
    2> "$W/train.err"
grep -q "^tokenize train: $W/en.model normalises text with 'identity' (no character rewritten; spaces kept as given); its pieces were learned from NFKC text" \
    "$W/train.err" || { cat "$W/train.err" >&2; fail "train does not state its normaliser"; }
# ... and whether llama.cpp (a GGUF export) reproduces it: yes for BPE with byte fallback,
# not for a unigram model (named as the reason)
grep -q "^tokenize train: $W/en.model: llama.cpp tokenizes text exactly as it does" "$W/train.err" ||
    { cat "$W/train.err" >&2; fail "train does not say llama.cpp reproduces a BPE model"; }
"$TOK" train -o "$W/nl-plain" --vocab-size 1000 "$DATA/nl.txt" 2> "$W/train.err"
grep -q "^tokenize train: $W/nl-plain.model: adapt export --gguf will refuse it, as llama.cpp would tokenize text differently: a unigram model" \
    "$W/train.err" || { cat "$W/train.err" >&2; fail "train does not warn about a unigram model"; }
"$TOK" train -o "$W/en-nfkc" --model-type bpe --vocab-size 600 --byte-fallback \
    --model-normalizer nmt_nfkc "$DATA/en.txt" 2> "$W/train.err"
grep -q "normalises text with 'nmt_nfkc' (NFKC inside the model; leading, trailing and repeated spaces removed)" \
    "$W/train.err" || { cat "$W/train.err" >&2; fail "train does not state an NFKC normaliser"; }
printf 'Wait\342\200\246  the \357\254\201le  \n' > "$W/nfkc.txt"
"$TOK" encode -m "$W/en.model" --ids "$W/nfkc.txt" | "$TOK" decode -m "$W/en.model" --ids |
    cmp -s - "$W/nfkc.txt" || fail "an identity model changed the text"
printf 'Wait... the file\n' > "$W/nfkc.expected"
"$TOK" encode -m "$W/en-nfkc.model" --ids "$W/nfkc.txt" | "$TOK" decode -m "$W/en-nfkc.model" --ids |
    cmp -s - "$W/nfkc.expected" || fail "an nmt_nfkc model did not normalise"

# -- extend: base ids unchanged, Debian's spm_encode reads the merged model -------------
"$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/merged.model" --measure "$DATA/en.txt" \
    > "$W/measure.txt" 2> "$W/extend.err"
# the merged model is the base's but for its pieces: it normalises as the base does, and
# says so (and that the target's pieces were learned under another rule when they were)
grep -q "^tokenize extend: $W/merged.model normalises text as $W/en.model does: 'identity' (no character rewritten; spaces kept as given)" \
    "$W/extend.err" || { cat "$W/extend.err" >&2; fail "extend does not state its normaliser"; }
"$TOK" extend "$W/en-nfkc.model" "$W/nl.model" -o "$W/merged-nfkc.model" 2> "$W/extend.err"
grep -q "normalises text as $W/en-nfkc.model does: 'nmt_nfkc'" "$W/extend.err" &&
    grep -q "note: $W/nl.model normalises with 'identity'" "$W/extend.err" ||
    { cat "$W/extend.err" >&2; fail "extend does not state the base's NFKC normaliser"; }
grep -q "lines (.*%) encode differently" "$W/measure.txt" || fail "extend --measure report"
n_base=$(wc -l < "$W/en.vocab")
n_new=$(($(wc -l < "$W/merged.new-ids.tsv") - 1))
[ "$n_new" -gt 100 ] || fail "extend added only $n_new pieces"
[ "$(wc -l < "$W/merged.vocab")" -eq $((n_base + n_new)) ] || fail "merged vocab size"
head -n "$n_base" "$W/merged.vocab" | cmp -s - "$W/en.vocab" || fail "a base id changed"
first_new=$(sed -n 2p "$W/merged.new-ids.tsv" | cut -f1)
[ "$first_new" -eq "$n_base" ] || fail "first new id $first_new, expected $n_base"
spm_encode --model "$W/merged.model" --output_format=id < "$DATA/nl.txt" > "$W/spm.id"
"$TOK" encode -m "$W/merged.model" --ids < "$DATA/nl.txt" | cmp -s - "$W/spm.id" ||
    fail "merged model: tokenize and spm_encode differ"
awk -v n="$n_base" '{ for (i = 1; i <= NF; i++) if ($i >= n) found = 1 } END { exit !found }' \
    "$W/spm.id" || fail "merged model never uses a new piece on Dutch text"

# -- bad input: clear errors, no output ----------------------------------------------
expect_fail() { # PATTERN COMMAND...
    pattern=$1; shift
    if "$@" > "$W/out" 2> "$W/err"; then fail "should fail: $*"; fi
    grep -q "$pattern" "$W/err" || { cat "$W/err" >&2; fail "message lacks '$pattern': $*"; }
}
expect_fail "no-such.model" "$TOK" encode -m "$W/no-such.model" "$DATA/nl.txt"
head -c 3000 "$W/nl.model" > "$W/cut.model"
expect_fail "cut.model" "$TOK" encode -m "$W/cut.model" "$DATA/nl.txt"
expect_fail "larger than this corpus supports" "$TOK" train -o "$W/big" -v 60000 "$DATA/ru.txt"
printf 'een goede regel\nslecht \377 hier\n' > "$W/bad.txt"
expect_fail "bad.txt: line 2: invalid UTF-8" "$TOK" train -o "$W/bad" -v 50 "$W/bad.txt"
: > "$W/empty.txt"
expect_fail "empty" "$TOK" train -o "$W/empty" -v 50 "$W/empty.txt"
expect_fail "bad.txt: line 2: invalid UTF-8" "$TOK" stats -m "$W/nl.model" "$W/bad.txt"
expect_fail "not an id" "$TOK" decode -m "$W/nl.model" --ids "$W/bad.txt"
expect_fail "cut.model" "$TOK" extend "$W/cut.model" "$W/nl.model" -o "$W/m2.model"
for f in big bad empty m2; do
    [ ! -e "$W/$f.model" ] && [ ! -e "$W/$f.vocab" ] || fail "partial output $f left behind"
done
[ ! -e "$W/m2.new-ids.tsv" ] || fail "partial map left behind"
ls "$W" | grep -q '\.tmp\.' && fail "temporary file left behind"
echo "tokenize.sh: all checks passed"
