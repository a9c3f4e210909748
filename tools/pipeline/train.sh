#!/bin/sh
# LoRA continual pretraining with trainable embeddings from each initialisation, the same
# steps and data for each, evaluated on held-out text along the way.
# Usage: train.sh WORK_DIR  (env: BASE, MONO, HELDOUT, TRAIN_METHODS, STEPS, EVAL_EVERY,
# BATCH, SEQ, LR, LORA_R, LANG3, SCRIPT, THREADS). Writes WORK_DIR/train-METHOD/ and .jsonl.
set -eu
STEP=train; . "$(dirname "$0")/lib.sh"
w=$1
: "${TRAIN_METHODS:=trans hull random}" "${STEPS:=150}" "${EVAL_EVERY:=25}" "${BATCH:=8}"
: "${SEQ:=128}" "${LR:=1e-3}" "${LORA_R:=8}" "${THREADS:=2}" "${LANG3:=und}" "${SCRIPT:=Latn}"
need "$MONO" "$HELDOUT"
run() { # run NAME PACK [extra options]
    name=$1 pack=$2; shift 2
    log="$w/train-$name.jsonl"
    fresh "$w/train-$name/last/trainer_state.json" "$pack" "$MONO" && return 0
    say "$name: $STEPS steps, LoRA r=$LORA_R on all projections + embeddings"
    rm -rf "$w/train-$name" "$log"
    "$LM" train "$BASE" --pack "$pack" --text "$MONO" --tokenizer "$w/tok.model" \
        --lora-r "$LORA_R" --lora-alpha $((2 * LORA_R)) --lora-targets all --train-embeddings \
        --steps "$STEPS" --batch "$BATCH" --seq-len "$SEQ" --lr "$LR" --warmup $((STEPS / 10 + 1)) \
        --eval-file "$HELDOUT" --eval-every "$EVAL_EVERY" --seed 1 --threads "$THREADS" \
        --log "$log" -o "$w/train-$name" -q "$@"
}
for m in $TRAIN_METHODS; do
    run "$m" "$w/init/$m.safetensors"
done
# LangSAMP ablation: the trans-tokenized run again, with language and script vectors
case " $TRAIN_METHODS " in
    *" trans "*) run trans-langsamp "$w/init/trans.safetensors" --lang "$LANG3" --script "$SCRIPT" ;;
esac
