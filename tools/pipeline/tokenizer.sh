#!/bin/sh
# Target-language tokenizer and its statistics against the base tokenizer.
# Usage: tokenizer.sh WORK_DIR  (env: MONO, HELDOUT, BASE_TOKENIZER, VOCAB, THREADS)
set -eu
STEP=tokenizer; . "$(dirname "$0")/lib.sh"
w=$1
: "${VOCAB:=8000}" "${THREADS:=2}"
need "$MONO" "$HELDOUT" "$BASE_TOKENIZER"
mkdir -p "$w"
# this script is an input too: a tok.model written under an older rule (before issue 16 the
# model carried NFKC, which adapt export --gguf now refuses) is trained again
if ! fresh "$w/tok.model" "$MONO" "$0"; then
    # BPE with byte fallback, as the base's (see base-model.sh), no normaliser inside the
    # model (tokenize train's default); --force: a rerun replaces this step's own
    # tok.model/tok.vocab when the corpus or this step changed
    say "training a $VOCAB-piece BPE tokenizer on $MONO"
    "$TOKENIZE" train --force -t bpe -o "$w/tok" -v "$VOCAB" --byte-fallback --threads "$THREADS" "$MONO"
fi
if ! fresh "$w/stats.json" "$w/tok.model" "$HELDOUT" "$BASE_TOKENIZER"; then
    "$TOKENIZE" stats -m "$BASE_TOKENIZER" -m "$w/tok.model" --json "$HELDOUT" >"$w/stats.json.tmp"
    "$TOKENIZE" stats -m "$BASE_TOKENIZER" -m "$w/tok.model" "$HELDOUT" >"$w/stats.txt"
    mv "$w/stats.json.tmp" "$w/stats.json"
    cat "$w/stats.txt" >&2
fi
