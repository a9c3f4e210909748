#!/bin/sh
# Several packs over one base (issue 15): `adapt list` lists and checks every pack a base
# carries (exit 1 naming a bad one); `adapt eval` switches packs in and out of one loaded
# base, and the base alone gives its exact numbers back after a pack was in (bit for bit,
# against lm eval on the untouched base); a pack swapped in gives lm eval --pack's numbers;
# the pack's adapter over the base's own vocabulary (applied or merged) changes them.
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
TOK=tests/data/gguf/tiny301.model
OTHER_TOK=tests/data/gguf/bpe301.model
W=$(mktemp -d build/adapt_packs.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# bpb FILE N [DIGITS]: the bits_per_byte of the Nth JSON line, to 17 digits (adapt eval
# prints all; lm eval's cJSON prints 15 when they read back within an ulp: compare at 15)
bpb() { sed -n "$2p" "$1" | sed 's/.*"bits_per_byte": *\([-0-9.eE+]*\).*/\1/' | awk -v d="${3:-17}" '{printf "%." d "g\n", $1}'; }

B="$W/base"
mkdir "$B"
cp tests/fixtures/hf/llama-tiny/config.json tests/fixtures/hf/llama-tiny/model.safetensors "$B/"
cp "$TOK" "$B/tokenizer.model"
head -n 40 tests/data/lm/heldout.txt >"$W/en.txt"
tail -n 40 tests/data/lm/heldout.txt >"$W/xx.txt"
mkdir "$W/packs"
"$LG_BIN/transfer" init --base "$B" --base-tokenizer "$TOK" --tokenizer "$OTHER_TOK" --method hull \
    -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"
"$ADAPT" pack --base "$B" --table "$W/table.safetensors" --tokenizer "$OTHER_TOK" --lang xxa \
    -o "$W/packs/xxa.pack" >/dev/null || fail "adapt pack"
"$LM" train "$B" --pack "$W/table.safetensors" --text tests/data/lm/train.txt --tokenizer "$OTHER_TOK" \
    --lora-r 4 --lora-targets all --train-embeddings --steps 4 --batch 2 --seq-len 16 --lr 1e-2 \
    --threads 1 -q -o "$W/run" || fail "lm train"
"$ADAPT" pack --base "$B" --table "$W/table.safetensors" --tokenizer "$OTHER_TOK" --lang xxb \
    --adapter "$W/run/last/adapter" -o "$W/packs/xxb.pack" >/dev/null || fail "adapt pack --adapter"

# adapt list: both packs, checked
"$ADAPT" list --base "$B" "$W/packs" >"$W/list" 2>"$W/list.err" || { cat "$W/list" "$W/list.err"; fail "adapt list"; }
cat "$W/list"
grep -q "xxa.pack *ok *xxa" "$W/list" || fail "xxa.pack not listed as ok"
grep -q "xxb.pack *ok *xxb .*adapter" "$W/list" || fail "xxb.pack not listed with its adapter"
grep -q "^2 packs" "$W/list" || fail "not 2 packs"
# a damaged pack: exit 1, named, the good one still listed ok
cp -r "$W/packs" "$W/bad"
printf 'x' >>"$W/bad/xxb.pack/adapter/adapter_model.safetensors"
rc=0; "$ADAPT" list --base "$B" "$W/bad" >"$W/list" 2>"$W/list.err" || rc=$?
[ "$rc" -eq 1 ] || fail "a damaged pack: exit $rc, not 1"
grep -q "xxb.pack.*adapter_model.safetensors: sha256" "$W/list.err" || { cat "$W/list.err"; fail "the damaged pack is not named"; }
grep -q "xxa.pack *ok" "$W/list" || fail "the good pack is no longer listed ok"
echo "refused: $(cat "$W/list.err")"
# a pack for another base, a directory without packs
mkdir "$W/empty"
mkdir "$W/other"
cp "$B/config.json" "$B/model.safetensors" "$W/other/"
printf '\001' | dd of="$W/other/model.safetensors" bs=1 seek=$(($(wc -c <"$W/other/model.safetensors") - 1)) conv=notrunc 2>/dev/null
rc=0; "$ADAPT" list --base "$W/other" "$W/packs/xxa.pack" >/dev/null 2>"$W/list.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "fingerprint" "$W/list.err" || fail "another base: exit $rc"
rc=0; "$ADAPT" list --base "$B" "$W/empty" >/dev/null 2>"$W/list.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no packs" "$W/list.err" || fail "an empty directory: exit $rc"

# adapt eval: base, pack, base, layers, merged, base over one loaded model
P="$W/packs/xxb.pack"
"$ADAPT" eval --base "$B" --json --threads 1 --eval "$W/en.txt" --eval "$P=$W/xx.txt" \
    --eval "$W/en.txt" --eval "$P:layers=$W/en.txt" --eval "$P:merged=$W/en.txt" \
    --eval "$W/en.txt" >"$W/eval" || fail "adapt eval"
cat "$W/eval"
"$LM" eval "$B" --text "$W/en.txt" --tokenizer "$B/tokenizer.model" --json --threads 1 >"$W/lm-base" || fail "lm eval"
"$LM" eval "$B" --pack "$P" --text "$W/xx.txt" --json --threads 1 >"$W/lm-pack" || fail "lm eval --pack"
base=$(bpb "$W/eval" 1)
echo "the base: $base bits per byte"
[ "$(bpb "$W/eval" 1 15)" = "$(bpb "$W/lm-base" 1 15)" ] || fail "the base in adapt eval: $base, lm eval $(bpb "$W/lm-base" 1)"
for n in 3 6; do
    [ "$(bpb "$W/eval" $n)" = "$base" ] || fail "evaluation $n (the base, pack swapped out): $(bpb "$W/eval" $n), not $base"
done
[ "$(bpb "$W/eval" 2 15)" = "$(bpb "$W/lm-pack" 1 15)" ] || fail "the pack swapped in: $(bpb "$W/eval" 2), lm eval --pack $(bpb "$W/lm-pack" 1)"
layers=$(bpb "$W/eval" 4) merged=$(bpb "$W/eval" 5)
[ "$layers" != "$base" ] || fail "the pack's adapter over the base vocabulary changed nothing"
awk -v a="$layers" -v b="$merged" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-4 * a) }' ||
    fail "applied $layers and merged $merged differ"
# a bare table has no adapter; a pack of another vocabulary size cannot be swapped
rc=0; "$ADAPT" eval --base "$B" --eval "$W/packs/xxa.pack:layers=$W/en.txt" >/dev/null 2>"$W/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no adapter" "$W/err" || fail "layers of a pack without adapter: exit $rc"
rc=0; "$ADAPT" eval --base "$B" --eval "nonsense=" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a bad --eval: exit $rc, not 2"
echo "PASS adapt_packs"
