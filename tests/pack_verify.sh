#!/bin/sh
# Packs are verified on every load (issue 12): the sha256 of each file pack.json lists, the
# base fingerprint (in pack.json and in the table's own metadata, so a bare `transfer init`
# table is checked too), and a --tokenizer given beside a pack against the tokenizer the
# pack was made for. Every tampered or mismatched case is refused with exit status 1 and a
# message naming the file; before, each was accepted with silently wrong results.
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
FIX=tests/fixtures/hf/llama-tiny
TOK=tests/data/gguf/tiny301.model
OTHER_TOK=tests/data/gguf/bpe301.model
W=$(mktemp -d build/pack_verify.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# refuses PATTERN CMD...: exit status 1 with PATTERN in the message
refuses() {
    want=$1; shift
    rc=0
    "$@" >"$W/stdout" 2>"$W/stderr" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$W/stdout" "$W/stderr"; fail "exit status $rc, not 1: $*"; }
    grep -qF -- "$want" "$W/stderr" || { cat "$W/stderr"; fail "message lacks '$want': $*"; }
    echo "refused: $(head -n 1 "$W/stderr")"
}
# flip_byte FILE: inverts the file's last byte (inside the last tensor's data)
flip_byte() {
    size=$(wc -c <"$1")
    last=$(od -An -tu1 -j $((size - 1)) -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((255 - last)))" | dd of="$1" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
}

printf '1 5 9 13 17 21 25 29 33 37 41 45 49 53 57 61\n' >"$W/ok.ids"
head -n 20 tests/data/lm/heldout.txt >"$W/text.txt"
"$LG_BIN/transfer" init --base "$FIX" --base-tokenizer "$TOK" --tokenizer "$TOK" --method hull \
    -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"
"$ADAPT" pack --base "$FIX" --table "$W/table.safetensors" --tokenizer "$TOK" -o "$W/good.pack" \
    >/dev/null || fail "adapt pack"
grep -q '"pack.safetensors"' "$W/good.pack/pack.json" || fail "pack.json lists no checksums"

# the untouched pack and table load
"$LM" eval "$FIX" --pack "$W/good.pack" --ids "$W/ok.ids" >/dev/null || fail "eval with the pack"
"$LM" eval "$FIX" --pack "$W/good.pack" --text "$W/text.txt" >/dev/null || fail "eval with the pack's tokenizer"
"$LM" eval "$FIX" --pack "$W/table.safetensors" --ids "$W/ok.ids" >/dev/null || fail "eval with the bare table"
"$LM" eval "$FIX" --pack "$W/good.pack" --text "$W/text.txt" --tokenizer "$TOK" >/dev/null ||
    fail "eval with the pack's own tokenizer named"

copy_pack() { rm -rf "$W/p"; cp -r "$W/good.pack" "$W/p"; }

# a replaced tokenizer.model
copy_pack
cp "$OTHER_TOK" "$W/p/tokenizer.model"
refuses "tokenizer.model" "$LM" eval "$FIX" --pack "$W/p" --text "$W/text.txt"
refuses "tokenizer.model" "$LM" eval "$FIX" --pack "$W/p" --ids "$W/ok.ids"
# one flipped byte of pack.safetensors
copy_pack
flip_byte "$W/p/pack.safetensors"
refuses "pack.safetensors" "$LM" eval "$FIX" --pack "$W/p" --ids "$W/ok.ids"
refuses "pack.safetensors" "$ADAPT" export --base "$FIX" --pack "$W/p" --gguf "$W/out.gguf" \
    --allow-tokenizer-mismatch # tiny301.model: unigram
[ -e "$W/out.gguf" ] && fail "a refused export left its output"
refuses "pack.safetensors" "$LM" train "$FIX" --pack "$W/p" --data "$W/ok.ids" --steps 1 --batch 1 \
    --seq-len 8 --threads 1 -q -o "$W/run"
[ -e "$W/run" ] && fail "a refused training left its output"
# no pack.json: no longer a way around the base check
copy_pack
rm "$W/p/pack.json"
refuses "pack.json" "$LM" eval "$FIX" --pack "$W/p" --ids "$W/ok.ids"
# a file pack.json does not list
copy_pack
"$ADAPT" langsamp --hidden-size 64 --lang nld -o "$W/ls.safetensors" >/dev/null || fail "adapt langsamp"
cp "$W/ls.safetensors" "$W/p/langsamp.safetensors"
refuses "langsamp.safetensors" "$LM" eval "$FIX" --pack "$W/p" --ids "$W/ok.ids"
# an explicit --tokenizer other than the pack's
refuses "$OTHER_TOK" "$LM" eval "$FIX" --pack "$W/good.pack" --text "$W/text.txt" --tokenizer "$OTHER_TOK"
refuses "$OTHER_TOK" "$LM" eval "$FIX" --pack "$W/table.safetensors" --text "$W/text.txt" --tokenizer "$OTHER_TOK"
refuses "$OTHER_TOK" "$LM" generate --model "$FIX" --pack "$W/good.pack" --tokenizer "$OTHER_TOK" \
    --prompt "the" --max-new 2

# another base: the pack and the bare table both refuse it
mkdir "$W/other"
cp "$FIX/model.safetensors" "$W/other/"
sed 's/"rms_norm_eps": 1e-05/"rms_norm_eps": 1e-06/' "$FIX/config.json" >"$W/other/config.json"
refuses "fingerprint" "$LM" eval "$W/other" --pack "$W/good.pack" --ids "$W/ok.ids"
refuses "fingerprint" "$LM" eval "$W/other" --pack "$W/table.safetensors" --ids "$W/ok.ids"
refuses "fingerprint" "$LG_BIN/transfer" check --pack "$W/table.safetensors" --base "$W/other"
"$LG_BIN/transfer" check --pack "$W/table.safetensors" --base "$FIX" || fail "transfer check on its own base"
echo "pack_verify.sh: all passed"
