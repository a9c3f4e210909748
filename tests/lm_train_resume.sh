#!/bin/sh
# Kill and resume: a training run killed with SIGKILL after a checkpoint and resumed from
# it logs the same losses and gradient norms, bit for bit, as a run never stopped, and ends
# with byte-identical weights and optimizer state. Checked for full training and for LoRA
# with trainable new-token rows. Every checkpoint directory left by the killed run is whole,
# and the resumed run removes the killed run's temporary ones; --keep prunes old checkpoints.
set -eu
# idle OpenMP threads sleep rather than spin: the suite shares two cores
export OMP_WAIT_POLICY=PASSIVE
LM="$LG_BIN/lm"
D=tests/data/lm
W=$(mktemp -d build/lm_resume.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$LM" init --preset micro --tokenizer $D/en.model --seed 3 -o "$W/m0" >/dev/null

# the training lines of a log without their timing
losses() { grep '"loss"' "$1" | sed 's/, "tokens_per_s".*//'; }

check_mode() {
    mode=$1; shift
    common="--text $D/train.txt --tokenizer $D/en.model --steps 16 --batch 4 --seq-len 32
            --lr 3e-3 --warmup 4 --seed 11 --threads 2 --save-every 4 --keep 0 -q $*"
    # shellcheck disable=SC2086
    "$LM" train "$W/m0" $common -o "$W/$mode-a" --log "$W/$mode-a.log"
    # shellcheck disable=SC2086
    "$LM" train "$W/m0" $common -o "$W/$mode-b" --log "$W/$mode-b.log" &
    pid=$!
    i=0
    while [ ! -e "$W/$mode-b/checkpoint-8/trainer_state.json" ] && [ $i -lt 2400 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -9 $pid 2>/dev/null && echo "$mode: killed the run after checkpoint 8" ||
        echo "$mode: the run ended before the kill; resuming from its checkpoint 8 all the same"
    wait $pid 2>/dev/null || true
    [ -e "$W/$mode-b/checkpoint-8/trainer_state.json" ] || { echo "no checkpoint 8" >&2; exit 1; }
    for c in "$W/$mode-b"/checkpoint-*; do
        # a checkpoint being written when the kill came is a temporary directory, never
        # one under its real name
        case $c in *.tmp.*) continue ;; esac
        [ -f "$c/trainer_state.json" ] && [ -f "$c/optimizer.safetensors" ] ||
            { echo "$c: half-written checkpoint" >&2; exit 1; }
    done
    # shellcheck disable=SC2086
    "$LM" train "$W/m0" $common -o "$W/$mode-b" --log "$W/$mode-b2.log" \
        --resume "$W/$mode-b/checkpoint-8"
    losses "$W/$mode-a.log" | sed -n "9,\$p" > "$W/a.txt"
    losses "$W/$mode-b2.log" > "$W/b.txt"
    [ "$(wc -l < "$W/b.txt")" -eq 8 ] || { echo "$mode: resumed run logged $(wc -l < "$W/b.txt") steps, expected 8" >&2; exit 1; }
    if ! cmp -s "$W/a.txt" "$W/b.txt"; then
        echo "$mode: the resumed run differs from the uninterrupted one:" >&2
        diff "$W/a.txt" "$W/b.txt" | head -n 10 >&2
        exit 1
    fi
    for f in optimizer.safetensors trainer_state.json; do
        cmp "$W/$mode-a/checkpoint-16/$f" "$W/$mode-b/checkpoint-16/$f"
    done
    echo "$mode: steps 9-16 identical after resume: $(tail -n 1 "$W/b.txt")"
}

check_mode full
cmp "$W/full-a/checkpoint-16/model/model.safetensors" "$W/full-b/checkpoint-16/model/model.safetensors"
check_mode lora --lora-r 4 --lora-alpha 8 --lora-targets q,k,v,o --train-rows 400 --embed-lr 1e-2
cmp "$W/lora-a/checkpoint-16/adapter/adapter_model.safetensors" \
    "$W/lora-b/checkpoint-16/adapter/adapter_model.safetensors"
# the resumed runs cleared what the killed ones left half-written
if ls -d "$W"/*-b/checkpoint-*.tmp.* 2>/dev/null; then
    echo "temporary checkpoints of the killed runs were left behind" >&2; exit 1
fi
# --keep 2 keeps the newest two checkpoints, the final one included
"$LM" train "$W/m0" --text $D/heldout.txt --tokenizer $D/en.model --steps 10 --batch 2 \
    --seq-len 16 --save-every 3 --keep 2 --threads 1 -q -o "$W/keep"
[ "$(cd "$W/keep" && echo checkpoint-*)" = "checkpoint-10 checkpoint-9" ] ||
    { echo "--keep 2 left: $(cd "$W/keep" && echo checkpoint-*)" >&2; exit 1; }
[ "$(readlink "$W/keep/last")" = checkpoint-10 ]
echo "lm_train_resume: ok"
