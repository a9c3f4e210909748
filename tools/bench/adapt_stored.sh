#!/bin/sh
# Peak RSS and wall time of adapt pack and adapt export (HF f32, HF bf16, GGUF F16) over a base
# read as stored, and with the programs of OLD_BIN (e.g. an earlier build) when given; the
# outputs of both are compared byte for byte. A pack of TOKENIZER's pieces (hull rows) with a
# LoRA adapter (r 16, all projections, one lm train step) is made first.
# Usage: tools/bench/adapt_stored.sh BASE_DIR BASE_TOKENIZER TOKENIZER [OLD_BIN]
#   e.g. tools/bench/adapt_stored.sh build/bench/bf16/llama-3.2-1b-shape \
#            tests/data/lm/en.model out/nl/tok.model old/bin
# Writes build/bench/adapt_stored/results.txt (label, load average before, seconds, KiB);
# each export writes the whole model (a 1B base: 5 GB in f32), removed at the end.
set -u
[ $# -ge 3 ] || { sed -n '2,10p' "$0"; exit 2; }
B=$1 EN=$2 NL=$3 OLD=${4:-}
D=build/bench/adapt_stored
mkdir -p "$D"
log=$D/results.txt
t() { # label cmd...
    label=$1; shift
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%e %M" -o "$D/time" "$@" >"$D/out.txt" 2>&1 || { echo "FAILED $label"; cat "$D/out.txt"; exit 1; }
    echo "$label load=$load $(cat "$D/time")" | tee -a "$log"
}
[ -f "$D/table.safetensors" ] || t "transfer init" bin/transfer init --base "$B" --base-tokenizer "$EN" \
    --tokenizer "$NL" --method hull -o "$D/table.safetensors"
[ -d "$D/run/last/adapter" ] || t "lm train 1 step" bin/lm train "$B" --pack "$D/table.safetensors" \
    --text tests/data/lm/train.txt --tokenizer "$NL" --lora-r 16 --lora-targets all --steps 1 \
    --batch 1 --seq-len 16 -q -o "$D/run"
for which in ${OLD:+old} new; do
    bin=bin; [ "$which" = old ] && bin=$OLD
    rm -rf "$D/$which".*
    t "$which adapt pack" "$bin/adapt" pack --base "$B" --table "$D/table.safetensors" --tokenizer "$NL" \
        --adapter "$D/run/last/adapter" -o "$D/$which.pack"
    t "$which export hf f32" "$bin/adapt" export --base "$B" --pack "$D/$which.pack" --hf "$D/$which.hf"
    t "$which export hf bf16" "$bin/adapt" export --base "$B" --pack "$D/$which.pack" --dtype bf16 \
        --hf "$D/$which.hfbf16"
    t "$which export gguf f16" "$bin/adapt" export --base "$B" --pack "$D/$which.pack" --f16 \
        --gguf "$D/$which.gguf" --allow-tokenizer-mismatch --name bench
done
if [ -n "$OLD" ]; then
    for x in pack/pack.safetensors pack/pack.json hf/model.safetensors hf/config.json \
             hfbf16/model.safetensors gguf; do
        cmp -s "$D/old.$x" "$D/new.$x" && echo "same: $x" | tee -a "$log" || echo "DIFFER: $x" | tee -a "$log"
    done
fi
rm -rf "$D"/old.* "$D"/new.*
