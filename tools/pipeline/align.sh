#!/bin/sh
# Token alignment over the parallel corpus: the English side with the base tokenizer, the
# target side with the new one, then `transfer align` (Model 1 → diagonal Model 2, both
# directions, symmetrised).
# Usage: align.sh WORK_DIR  (env: PARALLEL, BASE_TOKENIZER, THREADS)
set -eu
STEP=align; . "$(dirname "$0")/lib.sh"
w=$1
: "${THREADS:=2}"
need "$PARALLEL" "$BASE_TOKENIZER" "$w/tok.model"
if ! fresh "$w/table.tsv" "$PARALLEL" "$w/tok.model" "$BASE_TOKENIZER"; then
    say "encoding $(gzip -dcf "$PARALLEL" | wc -l) sentence pairs"
    gzip -dcf "$PARALLEL" | cut -f1 | "$TOKENIZE" encode --ids -m "$BASE_TOKENIZER" >"$w/src.ids"
    gzip -dcf "$PARALLEL" | cut -f2 | "$TOKENIZE" encode --ids -m "$w/tok.model" >"$w/tgt.ids"
    say "aligning"
    t0=$(now)
    # --force: table.tsv.tmp is this step's own, left when a run stopped before the mv
    "$TRANSFER" align --src "$w/src.ids" --tgt "$w/tgt.ids" --threads "$THREADS" --force \
        --src-tokenizer "$BASE_TOKENIZER" --tgt-tokenizer "$w/tok.model" -o "$w/table.tsv.tmp"
    mv "$w/table.tsv.tmp" "$w/table.tsv"
    echo $(( $(now) - t0 )) >"$w/align.seconds"
fi
