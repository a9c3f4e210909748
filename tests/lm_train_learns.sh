#!/bin/sh
# Learning from scratch: a micro Llama from `lm init` (random: its held-out loss is about
# ln 512, the vocabulary's entropy) trained for 150 steps on real English (Debian's license
# texts) brings the held-out bits per byte under 0.6 of the starting value. (600 steps reach
# half; see tests/data/lm/README.md.) The evaluation logged by `lm train` at its last step
# equals `lm eval` of the checkpoint it wrote.
set -eu
export OMP_WAIT_POLICY=PASSIVE
LM="$LG_BIN/lm"
D=tests/data/lm
W=$(mktemp -d build/lm_learns.XXXXXX)
trap 'rm -rf "$W"' EXIT
json_field() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\).*/\1/p"; }
eval_bpb() {
    "$LM" eval "$1" --text $D/heldout.txt --tokenizer $D/en.model --window 64 --threads 1 --json > "$W/eval.json"
    json_field bits_per_byte < "$W/eval.json"
}

"$LM" init --preset micro --tokenizer $D/en.model --seed 1 -o "$W/m0"
start=$(eval_bpb "$W/m0")
start_loss=$(json_field loss < "$W/eval.json")
awk -v l="$start_loss" 'BEGIN { exit !(l > log(512) - 0.1 && l < log(512) + 0.1) }' ||
    { echo "a fresh model's held-out loss is $start_loss, expected about ln 512 = 6.238" >&2; exit 1; }

"$LM" train "$W/m0" --text $D/train.txt --tokenizer $D/en.model --eval-file $D/heldout.txt \
    --eval-every 150 --steps 150 --batch 8 --seq-len 64 --lr 3e-3 --embed-lr 1e-2 --warmup 10 \
    --seed 1 --threads 1 -o "$W/run" --log "$W/log"
end=$(eval_bpb "$W/run/last/model")
echo "held-out bits per byte: $start before, $end after 150 steps"
awk -v s="$start" -v e="$end" 'BEGIN { exit !(e < 0.6 * s) }' ||
    { echo "bits per byte fell only from $start to $end" >&2; exit 1; }

logged=$(grep '"step": 150, "eval_loss"' "$W/log" | json_field eval_bits_per_byte)
awk -v a="$logged" -v b="$end" 'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }' ||
    { echo "lm train logged $logged bits per byte, lm eval of its checkpoint says $end" >&2; exit 1; }
first=$(grep '"step": 1, "lr"' "$W/log" | json_field loss)
last=$(grep '"step": 150, "lr"' "$W/log" | json_field loss)
awk -v f="$first" -v l="$last" 'BEGIN { exit !(l < f - 1) }' ||
    { echo "training loss went from $first to $last" >&2; exit 1; }
echo "lm_train_learns: ok"
