#!/bin/sh
# adapt on the command line: language/script vectors with ICU script detection, a pack
# assembled and checked against its base and refused over another one, and the refusals
# that leave no output behind.
set -eu
: "${LG_BIN:=bin}"
ADAPT="$LG_BIN/adapt"
FIX=tests/fixtures/hf
TOK=tests/data/gguf/tiny301.model
W=$(mktemp -d build/adapt_cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$ADAPT" langsamp --base "$FIX/llama-tiny" --lang rus --detect-from tests/data/tokenize/ru.txt \
    -o "$W/ru.safetensors" 2>"$W/err" >"$W/out" || { cat "$W/err"; fail "langsamp"; }
grep -q "Cyrl" "$W/err" || { cat "$W/err"; fail "Russian text not detected as Cyrillic"; }
"$ADAPT" langsamp --hidden-size 64 --lang nld,fry --script Latn -o "$W/nl.safetensors" >/dev/null

"$LG_BIN/transfer" init --base "$FIX/llama-tiny" --base-tokenizer "$TOK" --tokenizer "$TOK" \
    --method hull -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"
"$ADAPT" pack --base "$FIX/llama-tiny" --table "$W/table.safetensors" --tokenizer "$TOK" \
    --langsamp "$W/nl.safetensors" --lang nld -o "$W/nl.pack" >/dev/null || fail "pack"
"$ADAPT" info "$W/nl.pack" --base "$FIX/llama-tiny" >"$W/info" || { cat "$W/info"; fail "info"; }
grep -q "fits base" "$W/info" || fail "info does not confirm the base"
grep -q '"language":[[:space:]]*"nld"' "$W/nl.pack/pack.json" || fail "pack.json lacks the language"

# over another checkpoint: refused, exit 1
mkdir "$W/other"
cp "$FIX/llama-tiny/model.safetensors" "$W/other/"
sed 's/"rms_norm_eps": 1e-05/"rms_norm_eps": 1e-06/' "$FIX/llama-tiny/config.json" >"$W/other/config.json"
if "$ADAPT" info "$W/nl.pack" --base "$W/other" >"$W/out" 2>"$W/err"; then fail "info accepted another base"; fi
grep -q "fingerprint" "$W/err" || { cat "$W/err"; fail "no fingerprint message"; }

# a tokenizer the table was not made for: refused, nothing written
if "$ADAPT" pack --base "$FIX/llama-tiny" --table "$W/table.safetensors" --tokenizer tests/data/gguf/tiny257.model \
    -o "$W/bad.pack" 2>"$W/err"; then fail "pack accepted another tokenizer"; fi
grep -q "checksum mismatch" "$W/err" || { cat "$W/err"; fail "no checksum message"; }
[ ! -e "$W/bad.pack" ] || fail "a refused pack left output"
ls "$W" | grep -q "tmp" && fail "a temporary directory was left behind"
# a language code with digits is refused
if "$ADAPT" langsamp --hidden-size 8 --lang "n1d" -o "$W/x.safetensors" 2>"$W/err"; then fail "bad code accepted"; fi
[ ! -e "$W/x.safetensors" ] || fail "a refused langsamp left output"
echo "adapt_cli: ok"
