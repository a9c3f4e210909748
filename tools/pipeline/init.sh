#!/bin/sh
# New-language embeddings by every method, and their held-out bits per byte before any
# training. Usage: init.sh WORK_DIR  (env: BASE, BASE_TOKENIZER, HELDOUT, DICT, METHODS,
# LANG3, SCRIPT, THREADS). Writes WORK_DIR/init/METHOD.safetensors and eval-METHOD.json.
set -eu
STEP=init; . "$(dirname "$0")/lib.sh"
w=$1
: "${METHODS:=trans hull random mvn mean}" "${THREADS:=2}" "${SEQ:=128}" "${LANG3:=und}" "${SCRIPT:=Latn}"
need "$BASE/config.json" "$BASE_TOKENIZER" "$w/tok.model" "$HELDOUT"
mkdir -p "$w/init"
methods=$METHODS
[ -n "${DICT:-}" ] && [ -s "${DICT:-}" ] && methods="$methods dict"
for m in $methods; do
    pack="$w/init/$m.safetensors"
    case $m in
        trans) extra="--table $w/table.tsv"; deps="$w/table.tsv" ;;
        dict) extra="--dict $DICT"; deps=$DICT ;;
        *) extra=""; deps="" ;;
    esac
    if ! fresh "$pack" "$w/tok.model" "$BASE/model.safetensors" $deps; then
        say "$m"
        # --force: a stale pack of this step is replaced
        # shellcheck disable=SC2086
        "$TRANSFER" init --force --base "$BASE" --base-tokenizer "$BASE_TOKENIZER" --tokenizer "$w/tok.model" \
            --method "$m" $extra --lang "$LANG3" --script "$SCRIPT" --threads "$THREADS" -o "$pack"
    fi
    if ! fresh "$w/init/eval-$m.json" "$pack" "$HELDOUT"; then
        "$LM" eval "$BASE" --pack "$pack" --text "$HELDOUT" --tokenizer "$w/tok.model" \
            --window "$SEQ" --threads "$THREADS" --json >"$w/init/eval-$m.json"
        say "$m before training: $(json_get "$w/init/eval-$m.json" bits_per_byte) bits per byte"
    fi
done
# the base model on the same text with its own tokenizer, for reference
if ! fresh "$w/init/eval-base.json" "$BASE/model.safetensors" "$HELDOUT"; then
    "$LM" eval "$BASE" --text "$HELDOUT" --tokenizer "$BASE_TOKENIZER" --window "$SEQ" \
        --threads "$THREADS" --json >"$w/init/eval-base.json"
fi
