#!/bin/sh
# transfer align and init refuse input beyond what it can mean (issue 12): a token id the
# tokenizer that made the ids does not have (one id of 2,000,000,000 used to take over 7 GB
# in seconds), and a table whose probabilities are NaN, negative or above 1. Each is refused
# at once with exit status 1, a message naming the file and line, and no output.
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
T="$LG_BIN/transfer"
FIX=tests/fixtures/hf/llama-tiny
TOK=tests/data/gguf/tiny301.model
W=$(mktemp -d build/transfer_bounds.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# An AddressSanitizer build reserves terabytes of address space: no limit on it then.
VMEM=2000000
grep -q __asan_init "$T" 2>/dev/null && VMEM=unlimited
# refuses PATTERN CMD...: exit status 1 within 30 s and 2 GB of address space, PATTERN in
# the message, no $W/out.tsv or $W/out.safetensors
refuses() {
    want=$1; shift
    rc=0
    (ulimit -v $VMEM; timeout 30 "$@") >"$W/stdout" 2>"$W/stderr" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$W/stderr"; fail "exit status $rc, not 1: $*"; }
    grep -qF -- "$want" "$W/stderr" || { cat "$W/stderr"; fail "message lacks '$want': $*"; }
    [ -e "$W/out.tsv" ] || [ -e "$W/out.safetensors" ] && fail "output left behind: $*"
    echo "refused: $(head -n 1 "$W/stderr")"
}

printf '5 6 7\n8 9\n10 11 12\n' >"$W/src.ids"
printf '20 21\n22 23 24\n25 26\n' >"$W/tgt.ids"
"$T" align --src "$W/src.ids" --tgt "$W/tgt.ids" --src-tokenizer "$TOK" --tgt-tokenizer "$TOK" \
    -o "$W/ok.tsv" 2>/dev/null || fail "align of good ids"

# --- ids beyond the tokenizers' vocabularies (301 pieces)
printf '20 21\n22 2000000000 24\n25 26\n' >"$W/huge.ids"
refuses "huge.ids:2: token id 2000000000" \
    "$T" align --src "$W/src.ids" --tgt "$W/huge.ids" --src-tokenizer "$TOK" --tgt-tokenizer "$TOK" -o "$W/out.tsv"
grep -q "301" "$W/stderr" || { cat "$W/stderr"; fail "the message does not give the vocabulary size"; }
printf '20 21\n22 301 24\n25 26\n' >"$W/edge.ids"
refuses "edge.ids:2: token id 301" \
    "$T" align --src "$W/src.ids" --tgt "$W/edge.ids" --src-tokenizer "$TOK" --tgt-tokenizer "$TOK" -o "$W/out.tsv"
refuses "huge.ids:2: token id 2000000000" \
    "$T" align --src "$W/huge.ids" --tgt "$W/tgt.ids" --src-tokenizer "$TOK" -o "$W/out.tsv"
paste "$W/src.ids" "$W/huge.ids" >"$W/huge.tsv"
refuses "huge.tsv:2: token id 2000000000" \
    "$T" align --tsv "$W/huge.tsv" --tgt-tokenizer "$TOK" -o "$W/out.tsv"
# without tokenizers the ids are bounded too (memory follows the largest id)
refuses "huge.ids:2: token id 2000000000" "$T" align --src "$W/src.ids" --tgt "$W/huge.ids" -o "$W/out.tsv"

# --- tables with impossible probabilities or counts
INIT="$T init --base $FIX --base-tokenizer $TOK --tokenizer $TOK -o $W/out.safetensors --table"
grep '^#' "$W/ok.tsv" >"$W/head.tsv"
for bad in 'nan	1' '-0.5	1' '1.5	1' '0.5	nan' '0.5	-2' '0.5	inf'; do
    { cat "$W/head.tsv"; printf '20\t5\t1\t3\n'; printf "21\t6\t$bad\n"; } >"$W/bad.tsv"
    line=$(($(wc -l <"$W/head.tsv") + 2))
    refuses "bad.tsv:$line:" $INIT "$W/bad.tsv"
done
{ cat "$W/head.tsv"; printf '2000000000\t5\t1\t3\n'; } >"$W/bigid.tsv"
refuses "bigid.tsv:$(($(wc -l <"$W/head.tsv") + 1)):" $INIT "$W/bigid.tsv"
{ cat "$W/head.tsv"; printf '99999999999\t5\t1\t3\n'; } >"$W/overflow.tsv"
refuses "overflow.tsv:$(($(wc -l <"$W/head.tsv") + 1)):" $INIT "$W/overflow.tsv"
$INIT "$W/ok.tsv" 2>/dev/null || fail "init with the good table"
echo "transfer_bounds.sh: all passed"
