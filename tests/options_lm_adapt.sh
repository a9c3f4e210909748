#!/bin/sh
# Every option of lm and adapt checked (issue 12, section 3): a value that is not a whole
# number, not a number, outside its range or not one of the choices is a usage error (exit
# 2) with one message naming the option, and nothing is written; `-o -` is refused where
# the output is not a stream; --output is accepted wherever -o is; each subcommand's --help
# exits 0 and lists its own options; --version everywhere.
set -eu
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
FIX=tests/fixtures/hf
TOK=tests/data/gguf/tiny301.model
D=tests/data/lm
W=$(mktemp -d build/options_lm_adapt.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
M="$FIX/llama-tiny"
n=0

# usage OPTION COMMAND...: exit 2, a message naming OPTION, no output written
usage() {
    opt=$1
    shift
    rc=0
    "$@" >"$W/out" 2>"$W/err" || rc=$?
    [ "$rc" -eq 2 ] || { cat "$W/err"; fail "exit $rc, not 2: $*"; }
    grep -qe "$opt" "$W/err" || { cat "$W/err"; fail "the message does not name $opt: $*"; }
    [ "$(wc -l <"$W/err")" -le 2 ] || { cat "$W/err"; fail "more than one message: $*"; }
    [ ! -e "$W/o" ] || fail "a usage error wrote output: $*"
    n=$((n + 1))
}

train="$LM train $M --text $D/heldout.txt --tokenizer $TOK -o $W/o"
# shellcheck disable=SC2086
{
    usage --steps $train --steps 1e3
    usage --steps $train --steps 0
    usage --seed $train --seed abc
    usage --seed $train --seed -1
    usage --batch $train --batch 2x
    usage --batch $train --batch 0
    usage --lr $train --lr -1
    usage --lr $train --lr 0
    usage --lr $train --lr nan
    usage --embed-lr $train --embed-lr inf
    usage --threads $train --threads 0
    usage --beta1 $train --beta1 1.5
    usage --beta2 $train --beta2 1
    usage --lora-r $train --lora-r 0
    usage --lora-alpha $train --lora-alpha 0
    usage --lora-targets $train --lora-r 4 --lora-targets q,x
    usage --keep $train --keep -1
    usage --seq-len $train --seq-len 1
    usage --accum $train --accum 0
    usage --min-lr-ratio $train --min-lr-ratio 2
    usage --clip $train --clip -0.5
    usage --weight-decay $train --weight-decay -1
    usage --warmup $train --warmup 1.5
    usage --save-every $train --save-every x
    usage --eval-every $train --eval-every -2
    usage --train-rows $train --train-rows -1
    usage "--data or --text" $LM train $M -o $W/o
    usage "--data or --text" $train --data $D/heldout.txt
    usage "--output" $LM train $M --text $D/heldout.txt --tokenizer $TOK
    usage --log $train --log -
    usage --out $LM train $M --text $D/heldout.txt --tokenizer $TOK -o -
    usage --stride $LM eval $M --text $D/heldout.txt --tokenizer $TOK --stride 0
    usage --stride $LM eval $M --text $D/heldout.txt --tokenizer $TOK --window 16 --stride 16
    usage --stride $LM eval $M --text $D/heldout.txt --tokenizer $TOK --stride 5000
    usage --window $LM eval $M --text $D/heldout.txt --tokenizer $TOK --window 1
    usage --threads $LM eval $M --text $D/heldout.txt --tokenizer $TOK --threads -3
    usage "--text or --ids" $LM eval $M
    usage --vocab-size $LM init --preset micro --vocab-size 1e3 -o $W/o
    usage --vocab-size $LM init --preset micro --vocab-size 1 -o $W/o
    usage --seed $LM init --preset micro --vocab-size 100 --seed 18446744073709551616 -o $W/o
    usage --preset $LM init --preset huge --vocab-size 100 -o $W/o
    usage --output $LM init --preset micro --vocab-size 100 -o -
    usage "--config or --preset" $LM init --vocab-size 100 -o $W/o
    usage --dtype $LM merge --model $M --adapter $FIX/llama-tiny-lora --dtype f64 -o $W/o
    usage --output $LM merge --model $M --adapter $FIX/llama-tiny-lora -o -
    usage --adapter $LM merge --model $M -o $W/o
    usage --output $LM logits $M --input $M/reference.safetensors -o -
    usage --threads $LM logits $M --input $M/reference.safetensors -o $W/o --threads 5000
    usage --threads $LM check $M $M/reference.safetensors --threads 1x
    usage "unexpected argument" $LM check $M $M/reference.safetensors extra
    usage REFERENCE $LM check $M
    usage MODEL_DIR $LM info
    usage --max-new $LM generate --model $M --ids --prompt 1 --max-new 0
    usage --temperature $LM generate --model $M --ids --prompt 1 --temperature -1
    usage --top-p $LM generate --model $M --ids --prompt 1 --top-p 0
    usage --top-p $LM generate --model $M --ids --prompt 1 --top-p 1.5
    usage --top-k $LM generate --model $M --ids --prompt 1 --top-k -1
    usage --seed $LM generate --model $M --ids --prompt 1 --seed 12abc
    usage --prompt $LM generate --model $M --ids
    usage --tokenizer $LM generate --model $M --prompt hello
    usage --steps $LM bench --steps 0
    usage --batch $LM bench --batch 1e2
    usage --seq $LM bench --seq 4096
    usage --mode $LM bench --mode infer
    usage --sgemm-runs $LM bench --sgemm --sgemm-runs 0
    usage --write-weights $LM bench --write-weights -
    usage --hidden-size $ADAPT langsamp --hidden-size 2147483647 --lang nld -o $W/o
    usage --hidden-size $ADAPT langsamp --hidden-size 0 --lang nld -o $W/o
    usage --hidden-size $ADAPT langsamp --hidden-size 6.4e1 --lang nld -o $W/o
    usage --hidden-size $ADAPT langsamp --hidden-size 32 --base $M --lang nld -o $W/o
    usage "--hidden-size or --base" $ADAPT langsamp --lang nld -o $W/o
    usage --lang $ADAPT langsamp --hidden-size 64 -o $W/o
    usage --output $ADAPT langsamp --hidden-size 64 --lang nld -o -
    usage --detect-from $ADAPT langsamp --hidden-size 64 --lang nld --script Latn --detect-from $D/heldout.txt -o $W/o
    usage --output $ADAPT pack --base $M --table $W/t --tokenizer $TOK -o -
    usage --table $ADAPT pack --base $M --tokenizer $TOK -o $W/o
    usage --hf $ADAPT export --base $M --tokenizer $TOK --hf -
    usage --gguf $ADAPT export --base $M --tokenizer $TOK --gguf -
    usage "--hf or --gguf" $ADAPT export --base $M --tokenizer $TOK --hf $W/o --gguf $W/o.gguf
    usage --dtype $ADAPT export --base $M --tokenizer $TOK --hf $W/o --dtype q8
    usage --keep-adapter $ADAPT export --base $M --tokenizer $TOK --gguf $W/o --keep-adapter
    usage --f16 $ADAPT export --base $M --tokenizer $TOK --hf $W/o --f16
    usage "unknown option" $ADAPT info $M --bogus
    usage PACK $ADAPT info
}
echo "$n bad options and arguments: exit 2, the option named, nothing written"

# values at the edges of their ranges are accepted
"$LM" init --preset micro --vocab-size 300 --seed 18446744073709551615 --output "$W/m" >/dev/null ||
    fail "lm init --output with the largest seed"
[ -f "$W/m/model.safetensors" ] || fail "--output wrote nothing"
"$LM" generate --model "$M" --ids --prompt "1 2" --max-new 2 --top-p 1 --temperature 0 --threads 1 \
    >/dev/null || fail "lm generate at the edges of its ranges"
echo "1 2" | "$LM" generate --model "$M" --ids --prompt-file - --max-new 1 --threads 1 >/dev/null ||
    fail "lm generate --prompt-file - (standard input is a stream)"
"$ADAPT" langsamp --hidden-size 64 --base "$M" --lang nld --output "$W/v.safetensors" >/dev/null ||
    fail "adapt langsamp with a --hidden-size that matches --base"

# each subcommand's --help: exit 0, its own options
help() {
    shift_words=$1
    shift
    out=$($shift_words --help) || fail "$shift_words --help exited non-zero"
    for opt in "$@"; do
        echo "$out" | grep -q -- "$opt" || fail "$shift_words --help lacks $opt"
    done
}
help "$LM check" --adapter --threads MODEL_DIR
help "$LM info" MODEL_DIR
help "$LM merge" --model --adapter --dtype "-o, --output" --force
help "$LM logits" --pack --input "-o, --output" --threads --force
help "$LM bench" --shape --mode --steps --warmup --batch --seq --weights --seed --no-optim --sgemm-runs --write-weights
help "$LM generate" --model --tokenizer --prompt-file --max-new --temperature --top-k --top-p --seed --no-bos
help "$LM init" --config --preset --vocab-size --tie-embeddings --seed "-o, --output" --force
help "$LM train" --data --text --eval-every --steps --accum --beta2 --lora-r --train-rows --save-every --keep --resume --log "-o, --output" --force
help "$LM eval" --text --ids --window --stride --json
help "$ADAPT langsamp" --hidden-size --base --detect-from "-o, --output" --force
help "$ADAPT pack" --base --table --tokenizer --adapter --langsamp "-o, --output" --force
help "$ADAPT info" PACK --base
help "$ADAPT export" --base --pack --hf --keep-adapter --dtype --gguf --f16 --name --force
# and not another command's
"$LM" eval --help | grep -q -- "--lora-r" && fail "lm eval --help lists lm train's options"
"$LM" info --help | grep -q -- "--force" && fail "lm info --help offers --force without an output"

for prog in "$LM" "$ADAPT"; do
    v=$("$prog" --version) || fail "$prog --version"
    echo "$v" | grep -q "^$(basename "$prog") (lingraft) [0-9]" || fail "$prog --version: $v"
    rc=0
    "$prog" nosuchcommand 2>/dev/null || rc=$?
    [ "$rc" -eq 2 ] || fail "$prog nosuchcommand: exit $rc, not 2"
done
echo "options_lm_adapt: ok"
