#!/bin/sh
# tokenizer.json bases through the whole pipeline (issue 13): the byte-level twin of the tiny
# base model, its tokenizer tests/data/bytelevel/tokenizer.json (Llama-3's byte alphabet and
# first 1000 merges, its pre-tokenizer; tests/data/bytelevel/cut.py), pretrained like
# tests/pipeline_small.sh's base.
#  1. tools/adapt-language nl over it (a SentencePiece Dutch tokenizer): alignment with the
#     byte-level base's ids, trans-tokenization with pieces copied across spellings ("Ġx" is
#     "▁x"), training, pack, HF and GGUF export, report.
#  2. A byte-level target (tests/data/bytelevel/target-1500.json) through every consumer by
#     hand: transfer align/init --method trans, lm eval --pack, adapt pack (the pack holds
#     tokenizer.json), lm eval and lm generate with the pack, adapt export --hf (tokenizer.json
#     + PreTrainedTokenizerFast) and --gguf (tokenizer.ggml.model gpt2, merges, pre
#     "llama-bpe"); llama.cpp (node-llama-cpp, tools/llama-check) tokenizes held-out Dutch and
#     the crafted text of tests/data/parity exactly as `tokenize encode` does, for the target
#     and the base, and `tokenize encode` is Hugging Face's tokenizers@0.23.2 on that text
#     (tools/hf-parity).
#  3. A byte-level tokenizer whose pre-tokenizer llama.cpp does not know (Llama-3's regex with
#     \p{N}{1,2}) is refused by the GGUF export, naming the reason.
# Skipped (77) off linux x86_64, where the pinned llama.cpp build does not exist.
set -eu
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
export LG_BIN
if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
    echo "SKIP: tools/llama-check pins llama.cpp's prebuilt linux-x64 binaries"
    exit 77
fi
check_dir=$(tools/npm-install.sh llama-check)
W=$(mktemp -d build/pipeline_bytelevel.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
BL=tests/data/bytelevel/tokenizer.json
T2=tests/data/bytelevel/target-1500.json
head -n 1400 tests/data/tokenize/nl.txt >"$W/mono.txt"
tail -n 100 tests/data/tokenize/nl.txt >"$W/heldout.txt"

# ---- 1. the byte-level base and adapt-language over it
EN_TEXT=tests/data/lm/train.txt EN_HELDOUT=tests/data/lm/heldout.txt BASE_TOKENIZER_JSON=$BL \
    BASE_PRESET=micro BASE_STEPS=30 BASE_BATCH=4 BASE_SEQ=64 \
    tools/pipeline/base-model.sh "$W/base" 2>"$W/base.log" || { cat "$W/base.log"; fail "base model"; }
cmp "$BL" "$W/base/tokenizer.json" || fail "the base does not hold its tokenizer.json"
[ ! -e "$W/base/tokenizer.model" ] || fail "a byte-level base with a tokenizer.model"
BASE=$W/base MONO=$W/mono.txt PARALLEL=tests/data/transfer/en-nl-train.tsv.gz \
    HELDOUT=$W/heldout.txt VOCAB=500 STEPS=4 EVAL_EVERY=2 BATCH=2 SEQ=64 OUT=$W/out \
    METHODS="trans random" TRAIN_METHODS=trans \
    tools/adapt-language nl >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "adapt-language"; }
for f in work/table.tsv work/init/trans.safetensors work/init/eval-trans.json \
    nld.pack/pack.json hf/config.json hf/tokenizer.model nld.gguf report.md; do
    [ -s "$W/out/$f" ] || { cat "$W/run.log"; fail "no $f"; }
done
grep -q "| trans | [0-9]" "$W/out/report.md" || fail "report has no trans-tokenization row"
grep -q "base/tokenizer.json" "$W/out/work/stats.txt" || fail "the statistics do not name the base's tokenizer.json"
# Dutch pieces copied from the byte-level base's pieces of the same text
copies=$(sed -n 's/^init: .*(trans):.* copy \([0-9]*\).*/\1/p' "$W/run.log")
[ "${copies:-0}" -ge 50 ] || { grep "^init:" "$W/run.log"; fail "trans copied ${copies:-no} pieces across spellings"; }

# ---- 2. a byte-level target through each consumer
gzip -dc tests/data/transfer/en-nl-train.tsv.gz | cut -f1 | "$LG_BIN/tokenize" encode --ids -m "$BL" >"$W/src.ids"
gzip -dc tests/data/transfer/en-nl-train.tsv.gz | cut -f2 | "$LG_BIN/tokenize" encode --ids -m "$T2" >"$W/tgt.ids"
"$LG_BIN/transfer" align --src "$W/src.ids" --tgt "$W/tgt.ids" --src-tokenizer "$BL" \
    --tgt-tokenizer "$T2" -o "$W/table.tsv" 2>"$W/align.log" || { cat "$W/align.log"; fail "transfer align"; }
"$LG_BIN/transfer" init --base "$W/base" --base-tokenizer "$W/base/tokenizer.json" --tokenizer "$T2" \
    --table "$W/table.tsv" --method trans --lang nld -o "$W/t2.safetensors" 2>"$W/init.log" ||
    { cat "$W/init.log"; fail "transfer init"; }
# the pieces both tokenizers have are copied, the byte alphabet included
grep -q "aligned [0-9]" "$W/init.log" && grep -q "copy [0-9]" "$W/init.log" ||
    { cat "$W/init.log"; fail "transfer init: no aligned or copied rows"; }
"$LG_BIN/lm" eval "$W/base" --pack "$W/t2.safetensors" --tokenizer "$T2" --text "$W/heldout.txt" \
    --json >"$W/eval-table.json" || fail "lm eval with the table"
"$LG_BIN/adapt" pack --base "$W/base" --table "$W/t2.safetensors" --tokenizer "$T2" --lang nld \
    -o "$W/t2.pack" >/dev/null 2>"$W/pack.log" || { cat "$W/pack.log"; fail "adapt pack"; }
cmp "$T2" "$W/t2.pack/tokenizer.json" || fail "the pack does not hold the tokenizer.json"
grep -q '"tokenizer_kind":[[:space:]]*"tokenizer.json"' "$W/t2.pack/pack.json" || fail "pack.json: no tokenizer_kind"
"$LG_BIN/lm" eval "$W/base" --pack "$W/t2.pack" --text "$W/heldout.txt" --json >"$W/eval-pack.json" ||
    fail "lm eval with the pack's own tokenizer"
bpb_pack=$(sed -n 's/.*"bits_per_byte": *\([0-9.e+-]*\).*/\1/p' "$W/eval-pack.json")
[ "$bpb_pack" = "$(sed -n 's/.*"bits_per_byte": *\([0-9.e+-]*\).*/\1/p' "$W/eval-table.json")" ] ||
    fail "the pack's tokenizer gives other bits per byte than the table with --tokenizer"
"$LG_BIN/lm" generate -m "$W/base" --pack "$W/t2.pack" --tokenizer "$W/t2.pack/tokenizer.json" \
    --prompt "Het huis" --max-new 8 --temperature 0 >"$W/gen.txt" || fail "lm generate"
# the continuation as text: words after a space (Ġ decoded), not byte-level pieces
grep -q "^ [^ ]" "$W/gen.txt" && ! grep -q "$(printf '\304\240')" "$W/gen.txt" ||
    { cat "$W/gen.txt"; fail "lm generate does not print the continuation as text"; }
"$LG_BIN/adapt" export --base "$W/base" --pack "$W/t2.pack" --hf "$W/t2.hf" >/dev/null ||
    fail "adapt export --hf"
cmp "$T2" "$W/t2.hf/tokenizer.json" || fail "the HF export's tokenizer.json"
[ ! -e "$W/t2.hf/tokenizer.model" ] || fail "the HF export wrote a tokenizer.model"
grep -q '"tokenizer_class":[[:space:]]*"PreTrainedTokenizerFast"' "$W/t2.hf/tokenizer_config.json" ||
    fail "tokenizer_config.json: not PreTrainedTokenizerFast"
"$LG_BIN/lm" eval "$W/t2.hf" --text "$W/heldout.txt" --tokenizer "$W/t2.hf/tokenizer.json" --json \
    >"$W/eval-hf.json" || fail "the HF export does not evaluate"
[ "$(sed -n 's/.*"bits_per_byte": *\([0-9.e+-]*\).*/\1/p' "$W/eval-hf.json")" = "$bpb_pack" ] ||
    fail "the HF export gives other bits per byte than the pack"
"$LG_BIN/adapt" export --base "$W/base" --pack "$W/t2.pack" --gguf "$W/t2.gguf" >/dev/null ||
    fail "adapt export --gguf"
"$LG_BIN/adapt" export --base "$W/base" --tokenizer "$W/base/tokenizer.json" --gguf "$W/base.gguf" \
    >/dev/null || fail "adapt export --gguf of the base"
# llama.cpp's ids = lingraft's, line by line
for pair in "$T2:t2" "$BL:base"; do
    tok=${pair%:*} name=${pair#*:}
    for text in "$W/heldout.txt" tests/data/parity/crafted.txt tests/data/parity/nl.txt; do
        "$LG_BIN/tokenize" encode -m "$tok" --ids "$text" >"$W/lg.ids"
        node "$check_dir/check.mjs" --gguf "$W/$name.gguf" --tokenize "$text" >"$W/llama.ids"
        [ "$(wc -l <"$W/llama.ids")" -eq "$(wc -l <"$text")" ] || fail "llama.cpp: not one line of ids per line"
        n=$(paste -d '|' "$W/lg.ids" "$W/llama.ids" | awk -F'|' '$1 != $2' | wc -l)
        echo "$name.gguf, $(basename "$text"): $(wc -l <"$text") lines, $n differ"
        [ "$n" -eq 0 ] || { paste -d '|' "$W/lg.ids" "$W/llama.ids" | awk -F'|' '$1 != $2' | head -3; fail "llama.cpp tokenizes $text differently"; }
    done
done
# lingraft's ids = tokenizers@0.23.2's on the same text
tools/hf-parity -n 200 -s 3 -t "$T2 $BL" "$W/heldout.txt" tests/data/parity/crafted.txt \
    tests/data/parity/nl.txt || fail "lingraft and tokenizers@0.23.2 differ"

# ---- 3. a pre-tokenizer llama.cpp does not know is refused
sed 's/p{N}{1,3}/p{N}{1,2}/' "$T2" >"$W/odd.json"
if "$LG_BIN/adapt" export --base "$W/base" --pack "$W/t2.safetensors" --tokenizer "$W/odd.json" \
    --gguf "$W/odd.gguf" >/dev/null 2>"$W/odd.err"; then
    fail "a pre-tokenizer llama.cpp does not know was exported"
fi
grep -q "pre-tokenizer llama.cpp does not know" "$W/odd.err" || { cat "$W/odd.err"; fail "the refusal does not say why"; }
[ ! -e "$W/odd.gguf" ] || fail "a refused export left a file"
echo "pipeline_bytelevel: ok"
