#!/bin/sh
# The whole per-language pipeline (tools/adapt-language) on a very small configuration:
# a micro English base model pretrained from scratch on committed real text, then Dutch:
# tokenizer, alignment, every initialisation, LoRA training, pack, HF and GGUF export,
# report. Checks that every stage left its output and the report has its tables.
set -eu
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
export LG_BIN
W=$(mktemp -d build/pipeline_small.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
head -n 1400 tests/data/tokenize/nl.txt >"$W/mono.txt"
tail -n 100 tests/data/tokenize/nl.txt >"$W/heldout.txt"
EN_TEXT=tests/data/lm/train.txt EN_HELDOUT=tests/data/lm/heldout.txt BASE_VOCAB=800 \
    BASE_PRESET=micro BASE_STEPS=30 BASE_BATCH=4 BASE_SEQ=64 \
    tools/pipeline/base-model.sh "$W/base" 2>"$W/base.log" || { cat "$W/base.log"; fail "base model"; }
BASE=$W/base MONO=$W/mono.txt PARALLEL=tests/data/transfer/en-nl-train.tsv.gz \
    HELDOUT=$W/heldout.txt VOCAB=500 STEPS=4 EVAL_EVERY=2 BATCH=2 SEQ=64 OUT=$W/out \
    tools/adapt-language nl >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "adapt-language"; }
for f in work/tok.model work/table.tsv work/init/trans.safetensors work/init/hull.safetensors \
    work/init/random.safetensors work/init/eval-trans.json work/train-trans.jsonl \
    nld.pack/pack.json nld.pack/adapter/adapter_model.safetensors nld.pack/langsamp.safetensors \
    hf/config.json hf/tokenizer.model nld.gguf report.md; do
    [ -s "$W/out/$f" ] || { cat "$W/run.log"; fail "no $f"; }
done
grep -q "| trans | [0-9]" "$W/out/report.md" || fail "report has no trans-tokenization row"
grep -q "with vectors | [0-9]" "$W/out/report.md" || fail "report has no LangSAMP row"
# the exported model loads and evaluates with its own tokenizer
"$LG_BIN/lm" eval "$W/out/hf" --text "$W/heldout.txt" --tokenizer "$W/out/hf/tokenizer.model" \
    --json >"$W/hf-eval.json" || fail "the HF export does not evaluate"
# a second run finds every output fresh and redoes nothing
BASE=$W/base MONO=$W/mono.txt PARALLEL=tests/data/transfer/en-nl-train.tsv.gz \
    HELDOUT=$W/heldout.txt VOCAB=500 STEPS=4 EVAL_EVERY=2 BATCH=2 SEQ=64 OUT=$W/out \
    tools/adapt-language nl >"$W/rerun.log" 2>&1 || { cat "$W/rerun.log"; fail "rerun"; }
grep -q "training a\|steps, LoRA" "$W/rerun.log" && { cat "$W/rerun.log"; fail "the rerun trained again"; }
# newer training: the package step replaces its own pack and exports (its GGUF file too)
gguf_before=$(sha256sum <"$W/out/nld.gguf")
sleep 1
touch "$W/out/work/train-trans-langsamp/last/trainer_state.json"
BASE=$W/base MONO=$W/mono.txt PARALLEL=tests/data/transfer/en-nl-train.tsv.gz \
    HELDOUT=$W/heldout.txt VOCAB=500 STEPS=4 EVAL_EVERY=2 BATCH=2 SEQ=64 OUT=$W/out \
    tools/adapt-language nl >"$W/repack.log" 2>&1 || { cat "$W/repack.log"; fail "repackaging"; }
[ "$W/out/nld.gguf" -nt "$W/out/work/train-trans-langsamp/last/trainer_state.json" ] ||
    fail "the stale GGUF export was not replaced"
[ "$(sha256sum <"$W/out/nld.gguf")" = "$gguf_before" ] || fail "the same inputs gave another GGUF file"
# a language without a recipe, on a corpus made by `corpora import` (CORPUS=DIR)
"$LG_BIN/corpora" import --lang xx -o "$W/import" --text "$W/mono.txt" \
    --tsv tests/data/transfer/en-nl-train.tsv.gz --heldout-permille 100 2>"$W/import.log" ||
    { cat "$W/import.log"; fail "corpora import"; }
CORPUS=$W/import BASE=$W/base METHODS=trans TRAIN_METHODS=trans VOCAB=500 STEPS=4 EVAL_EVERY=2 \
    BATCH=2 SEQ=64 OUT=$W/out-import tools/adapt-language xx >"$W/import-run.log" 2>&1 ||
    { cat "$W/import-run.log"; fail "adapt-language on an imported corpus"; }
[ -s "$W/out-import/xx.pack/pack.json" ] && grep -q "| trans | [0-9]" "$W/out-import/report.md" ||
    { cat "$W/import-run.log"; fail "adapt-language on an imported corpus: no pack or report"; }
echo "pipeline_small: ok"
