#!/bin/sh
# adapt pack and adapt export (Hugging Face and GGUF) make no float32 copy of a bf16 base
# (issue 17): their peak resident memory (/usr/bin/time, mapped file pages included) stays
# below the size of the base's file, and below half the float32 path's (LG_F32_WEIGHTS=1:
# every weight the command reads converted at load, as before: twice its bytes), since they
# hold a tensor at a time and give each one's mapped pages back once read. The outputs are
# the same bytes either way.
# Skipped (77) without /usr/bin/time (tools/deps.sh installs it).
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
BASE_TOK=tests/data/gguf/tiny301.model
TOK=tests/data/gguf/bpe301.model
[ -x /usr/bin/time ] || { echo "SKIP: no /usr/bin/time to measure peak memory with"; exit 77; }
W=$(mktemp -d build/adapt_stored_memory.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# peak NAME F32 CMD...: runs CMD (with LG_F32_WEIGHTS=F32), its peak RSS in KiB into $W/NAME.rss
peak() {
    name=$1 f32=$2; shift 2
    LG_F32_WEIGHTS=$f32 /usr/bin/time -f %M -o "$W/$name.rss" "$@" >"$W/out.txt" 2>&1 ||
        { cat "$W/out.txt"; fail "$*"; }
}

# 8 layers of hidden 512 and 32,000 embeddings, untied: about 116 MB of bf16
"$LM" init --preset small --vocab-size 32000 --dtype bf16 --seed 1 -o "$W/base" >/dev/null ||
    fail "lm init"
size_kib=$(( $(wc -c <"$W/base/model.safetensors") / 1024 ))
"$LG_BIN/transfer" init --base "$W/base" --base-tokenizer "$BASE_TOK" --tokenizer "$TOK" \
    --method hull -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"

# compare NAME: the stored run's peak below the file's size and half the float32 path's,
# the same bytes written
compare() {
    s=$(cat "$W/$1.0.rss") f=$(cat "$W/$1.1.rss")
    echo "$1: peak RSS $s KiB as stored, $f KiB on the float32 path; the base is $size_kib KiB"
    [ "$s" -lt "$size_kib" ] || fail "$1: $s KiB as stored is not below the base's $size_kib KiB"
    [ $((2 * s)) -lt "$f" ] || fail "$1: $s KiB as stored is not below half the float32 path's $f KiB"
    if [ -d "$W/$1.0" ]; then
        for f in "$W/$1.0"/*.json "$W/$1.0"/*.safetensors; do
            cmp -s "$f" "$W/$1.1/$(basename "$f")" || fail "$1: $(basename "$f") differs"
        done
    else
        cmp -s "$W/$1.0" "$W/$1.1" || fail "$1: the outputs differ"
    fi
}

for f32 in 0 1; do
    peak pack.$f32 $f32 "$ADAPT" pack --base "$W/base" --table "$W/table.safetensors" \
        --tokenizer "$TOK" -o "$W/pack.$f32"
    peak hf.$f32 $f32 "$ADAPT" export --base "$W/base" --tokenizer "$BASE_TOK" --dtype bf16 \
        --hf "$W/hf.$f32"
    peak gguf.$f32 $f32 "$ADAPT" export --base "$W/base" --pack "$W/pack.0" --f16 \
        --gguf "$W/gguf.$f32" --allow-tokenizer-mismatch
done
compare pack
compare hf
compare gguf
echo "adapt_stored_memory: ok"
