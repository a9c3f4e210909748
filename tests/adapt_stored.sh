#!/bin/sh
# adapt pack, adapt export and lm merge read the base's frozen weights as stored (issue 17):
# bf16 or f32 views of the mapped safetensors, converted to the dtype written a piece at a
# time, a LoRA merged one tensor at a time into the output dtype. What they write must be
# what the float32 path writes (LG_F32_WEIGHTS=1: every weight converted at load and the
# adapter merged in place, as before), byte for byte: HF directories in f32/bf16/f16, the
# PEFT adapter kept, the base alone, GGUF in F32 and F16, the pack itself, lm merge in f32
# and bf16; over a bf16 tied
# sharded base, a bf16 untied one and an f32 one.
# Then their peak resident memory (/usr/bin/time, mapped file pages included) on a 116 MB
# bf16 base: below the size of the base's file, and below half the float32 path's (every
# weight the command reads converted at load, as before: twice its bytes), since they hold a
# tensor at a time and give each one's mapped pages back once read (tools/deps.sh installs
# /usr/bin/time).
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
BASE_TOK=tests/data/gguf/tiny301.model
TOK=tests/data/gguf/bpe301.model
W=$(mktemp -d build/adapt_stored.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# same A B: the two directories (or files) hold the same files with the same bytes
same() {
    if [ -f "$1" ]; then
        cmp -s "$1" "$2" || fail "$1 and $2 differ"
        return
    fi
    (cd "$1" && find . -type f | sort) >"$W/list.a"
    (cd "$2" && find . -type f | sort) >"$W/list.b"
    cmp -s "$W/list.a" "$W/list.b" || { diff "$W/list.a" "$W/list.b"; fail "$1 and $2 hold other files"; }
    while read -r f; do
        cmp -s "$1/$f" "$2/$f" || fail "$1/$f and $2/$f differ"
    done <"$W/list.a"
}

# run_both NAME PROGRAM ARGS...: PROGRAM ARGS OUT twice, as stored and on the float32 path,
# with OUT $W/NAME.stored and $W/NAME.f32, then compared
run_both() {
    name=$1; shift
    for mode in stored f32; do
        out="$W/$name.$mode"
        if [ "$mode" = f32 ]; then
            LG_F32_WEIGHTS=1 "$@" "$out" >"$W/out.txt" 2>&1
        else
            "$@" "$out" >"$W/out.txt" 2>&1
        fi || { cat "$W/out.txt"; fail "$* $out ($mode)"; }
    done
    same "$W/$name.stored" "$W/$name.f32"
}

"$LM" init --preset micro --tokenizer "$BASE_TOK" --dtype bf16 --seed 3 -o "$W/untied" >/dev/null ||
    fail "lm init"
for base in tests/fixtures/hf/llama-tiny-tied-bf16-sharded "$W/untied" tests/fixtures/hf/llama-tiny; do
    b=$(basename "$base")
    "$LG_BIN/transfer" init --base "$base" --base-tokenizer "$BASE_TOK" --tokenizer "$TOK" \
        --method hull -o "$W/$b.table.safetensors" >/dev/null 2>&1 || fail "transfer init ($b)"
    "$LM" train "$base" --pack "$W/$b.table.safetensors" --text tests/data/lm/train.txt \
        --tokenizer "$TOK" --lora-r 4 --lora-targets all --train-embeddings --steps 2 --batch 2 \
        --seq-len 16 --lr 1e-2 --threads 1 -q -o "$W/$b.run" || fail "lm train ($b)"
    run_both "$b.pack" "$ADAPT" pack --base "$base" --table "$W/$b.table.safetensors" --tokenizer "$TOK" \
        --adapter "$W/$b.run/last/adapter" -o
    P="$W/$b.pack.stored"
    run_both "$b.hf32" "$ADAPT" export --base "$base" --pack "$P" --hf
    run_both "$b.hfbf16" "$ADAPT" export --base "$base" --pack "$P" --dtype bf16 --hf
    run_both "$b.hf16" "$ADAPT" export --base "$base" --pack "$P" --dtype f16 --hf
    run_both "$b.keep" "$ADAPT" export --base "$base" --pack "$P" --keep-adapter --dtype bf16 --hf
    run_both "$b.alone" "$ADAPT" export --base "$base" --tokenizer "$BASE_TOK" --hf
    run_both "$b.alone16" "$ADAPT" export --base "$base" --tokenizer "$BASE_TOK" --dtype bf16 --hf
    run_both "$b.gguf" "$ADAPT" export --base "$base" --pack "$P" --gguf
    run_both "$b.f16.gguf" "$ADAPT" export --base "$base" --pack "$P" --f16 --gguf
    # the adapter was merged: the layers differ from an export of the pack's table alone
    run_both "$b.table" "$ADAPT" export --base "$base" --pack "$W/$b.table.safetensors" --tokenizer "$TOK" --hf
    if cmp -s "$W/$b.hf32.stored/model.safetensors" "$W/$b.table.stored/model.safetensors"; then
        fail "$b: the merged export equals the unmerged one"
    fi
    [ -f "$W/$b.keep.stored/adapter/adapter_model.safetensors" ] || fail "$b: no adapter kept"
    # lm merge: the base's own vocabulary (the adapter's saved embeddings replace it)
    run_both "$b.merged" "$LM" merge --model "$base" --adapter "$W/$b.run/last/adapter" -o
    run_both "$b.merged16" "$LM" merge --model "$base" --adapter "$W/$b.run/last/adapter" \
        --dtype bf16 -o
    echo "$b: pack, 10 exports and 2 merges as stored = the float32 path, byte for byte"
done

# ---- peak memory
[ -x /usr/bin/time ] || fail "no /usr/bin/time to measure peak memory with (tools/deps.sh installs it)"
# peak NAME F32 CMD...: runs CMD (with LG_F32_WEIGHTS=F32), its peak RSS in KiB into $W/NAME.rss.
# Under AddressSanitizer freed blocks wait in its quarantine (256 MiB) and would count: the
# program's own memory is measured with the quarantine off (the checks above ran with it).
peak() {
    name=$1 f32=$2; shift 2
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
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
echo "adapt_stored: ok"
