#!/bin/sh
# The language pack from the trans-tokenized run (with its language/script vectors), its
# final evaluation with and without the vectors, and the exports.
# Usage: package.sh WORK_DIR OUT_DIR  (env: BASE, HELDOUT, LANG3, SCRIPT, THREADS, EXPORT_GGUF)
set -eu
STEP=package; . "$(dirname "$0")/lib.sh"
w=$1 out=$2
: "${THREADS:=2}" "${LANG3:=und}" "${SCRIPT:=Latn}" "${EXPORT_GGUF:=1}" "${SEQ:=128}"
run="$w/train-trans-langsamp/last"
need "$w/init/trans.safetensors" "$w/tok.model" "$run/adapter/adapter_config.json"
pack="$out/$LANG3.pack"
# --force below: a stale pack or export is this step's own output, replaced when its
# inputs are newer
if ! fresh "$pack/pack.json" "$run/trainer_state.json"; then
    "$ADAPT" pack --base "$BASE" --table "$w/init/trans.safetensors" --tokenizer "$w/tok.model" \
        --adapter "$run/adapter" --langsamp "$run/langsamp.safetensors" \
        --lang "$LANG3" --script "$SCRIPT" -o "$pack" --force
fi
"$ADAPT" info "$pack" --base "$BASE" >"$out/pack-info.txt"
if ! fresh "$w/eval-pack-tagged.json" "$pack/pack.json"; then
    "$LM" eval "$BASE" --pack "$pack" --text "$HELDOUT" --lang "$LANG3" --script "$SCRIPT" \
        --window "$SEQ" --threads "$THREADS" --json >"$w/eval-pack-tagged.json"
    "$LM" eval "$BASE" --pack "$pack" --text "$HELDOUT" --window "$SEQ" --threads "$THREADS" \
        --json >"$w/eval-pack-untagged.json"
fi
if ! fresh "$out/hf/config.json" "$pack/pack.json"; then
    "$ADAPT" export --base "$BASE" --pack "$pack" --hf "$out/hf" --force
fi
if [ "$EXPORT_GGUF" = 1 ] && ! fresh "$out/$LANG3.gguf" "$pack/pack.json"; then
    "$ADAPT" export --base "$BASE" --pack "$pack" --gguf "$out/$LANG3.gguf" --force
fi
say "pack $pack, Hugging Face export $out/hf${EXPORT_GGUF:+, GGUF $out/$LANG3.gguf}"
