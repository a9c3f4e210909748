#!/bin/sh
# Bad input to lm init, train and eval: an empty data file, a token id beyond the
# vocabulary, a checkpoint of another model, a sequence length over the model's maximum,
# an unknown preset. Each is refused with exit status 1 (2 for a usage error: a bad option
# value), one message naming the file or option and the problem, and no output directory or
# log left behind.
set -eu
export OMP_WAIT_POLICY=PASSIVE
LM="$LG_BIN/lm"
D=tests/data/lm
W=$(mktemp -d build/lm_bad.XXXXXX)
trap 'rm -rf "$W"' EXIT

# refuses CMD...: runs it, expects status $status (default 1), a message with $want, and no
# $W/out or $W/log
refuses() {
    want=$1; shift
    rc=0
    "$@" >"$W/stdout" 2>"$W/stderr" || rc=$?
    if [ $rc -ne "${status:-1}" ]; then
        echo "expected exit status ${status:-1}, got $rc from: $*" >&2; cat "$W/stderr" >&2; exit 1
    fi
    grep -qF -- "$want" "$W/stderr" ||
        { echo "message lacks '$want':" >&2; cat "$W/stderr" >&2; exit 1; }
    if [ -e "$W/out" ] || [ -e "$W/log" ]; then
        echo "output left behind by: $*" >&2; exit 1
    fi
    echo "refused: $(cat "$W/stderr")"
}

"$LM" init --preset micro --tokenizer $D/en.model -o "$W/m0" >/dev/null
train="$LM train $W/m0 --steps 2 --batch 2 --seq-len 16 --threads 1 -q -o $W/out --log $W/log"

: > "$W/empty.ids"
refuses "$W/empty.ids: empty" $train --data "$W/empty.ids"
printf '5 6 7\n8 512 9\n' > "$W/big.ids"
refuses "$W/big.ids:2: token id 512 is outside the vocabulary (512)" $train --data "$W/big.ids"
printf '5 6 seven\n' > "$W/word.ids"
refuses "$W/word.ids:1: 'seven' is not a token id" $train --data "$W/word.ids"
: > "$W/empty.txt"
refuses "$W/empty.txt: empty" $train --text "$W/empty.txt" --tokenizer $D/en.model
refuses "sequence length 513 exceeds the model's maximum 512" \
    "$LM" train "$W/m0" --text $D/heldout.txt --tokenizer $D/en.model --seq-len 513 -o "$W/out"
refuses "$W/none.txt" $train --text "$W/none.txt" --tokenizer $D/en.model

# a checkpoint of another model: tied embeddings here, untied there
"$LM" train "$W/m0" --text $D/heldout.txt --tokenizer $D/en.model --steps 2 --batch 2 \
    --seq-len 16 --threads 1 -q -o "$W/run"
"$LM" init --preset micro --tokenizer $D/en.model --tie-embeddings -o "$W/tied" >/dev/null
refuses "$W/run/last: checkpoint of another model: tie_word_embeddings is 0 there, 1 here" \
    "$LM" train "$W/tied" --text $D/heldout.txt --tokenizer $D/en.model --steps 4 --batch 2 \
    --seq-len 16 --threads 1 -q -o "$W/out" --log "$W/log" --resume "$W/run/last"
# the same model, another run shape
refuses "checkpoint of another run: --seq-len is 16 there, 32 here" \
    "$LM" train "$W/m0" --text $D/heldout.txt --tokenizer $D/en.model --steps 4 --batch 2 \
    --seq-len 32 --threads 1 -q -o "$W/out" --resume "$W/run/last"
refuses "$W/m0: not a training checkpoint" \
    "$LM" train "$W/m0" --text $D/heldout.txt --tokenizer $D/en.model --steps 4 --batch 2 \
    --seq-len 16 --threads 1 -q -o "$W/out" --resume "$W/m0"

status=2 refuses "--preset: 'huge' is not one of micro|tiny|small" \
    "$LM" init --preset huge --vocab-size 100 -o "$W/out"
refuses "needs --tokenizer or --vocab-size" "$LM" init --preset tiny -o "$W/out"
refuses "evaluation window 600 exceeds the model's maximum sequence length 512" \
    "$LM" eval "$W/m0" --text $D/heldout.txt --tokenizer $D/en.model --window 600
refuses "$W/empty.ids: empty" "$LM" eval "$W/m0" --ids "$W/empty.ids"
for cmd in init train eval; do
    "$LM" $cmd --help | grep -q "usage: lm $cmd"
done
echo "lm_train_bad_input: ok"
