#!/bin/sh
# adapt export --gguf and adapt info FILE.gguf on the command line: an F16 export described
# by adapt info, and the failures (missing options, a tokenizer larger than the model's
# vocabulary, a tokenizer llama.cpp would segment text differently with, a damaged GGUF)
# that print "adapt ...: ..." naming the file, exit non-zero and leave no output.
set -eu
: "${LG_BIN:=bin}"
adapt="$LG_BIN/adapt"
fixtures=tests/fixtures/hf
tmp=$(mktemp -d build/gguf_export_cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$adapt" export --help | grep -q -- "--gguf" || fail "--help lacks --gguf"

# tiny301.model is a unigram model, which llama.cpp cannot segment text with (refused
# below): what this checks is the rest of the file
"$adapt" export --base "$fixtures/llama-tiny-tied-bf16-sharded" --tokenizer tests/data/gguf/tiny301.model \
    --gguf "$tmp/tied.gguf" --f16 --name tied-test --allow-tokenizer-mismatch >/dev/null 2>"$tmp/warn.txt"
grep -q "^adapt export: WARNING: --allow-tokenizer-mismatch: tests/data/gguf/tiny301.model: llama.cpp will tokenize text differently from lingraft: a unigram model" \
    "$tmp/warn.txt" || { cat "$tmp/warn.txt"; fail "no warning for a unigram tokenizer exported anyway"; }
"$adapt" info "$tmp/tied.gguf" >"$tmp/info.txt"
grep -q 'general.name  *STRING  *"tied-test"' "$tmp/info.txt" || fail "no general.name"
grep -q 'general.file_type  *UINT32  *1$' "$tmp/info.txt" || fail "file_type is not 1 (F16)"
grep -q 'llama.rope.freq_base  *FLOAT32  *500000$' "$tmp/info.txt" || fail "rope base"
grep -q 'tensor blk.1.ffn_down.weight  *F16  *{176, 64}' "$tmp/info.txt" || fail "ffn_down"
grep -q 'tensor output_norm.weight  *F32' "$tmp/info.txt" || fail "norms must stay F32"
if grep -q 'tensor output.weight' "$tmp/info.txt"; then fail "tied model has output.weight"; fi

# expect_failure PATTERN COMMAND...: a non-zero exit and a message matching PATTERN
expect_failure() {
    pattern=$1
    shift
    if "$@" >/dev/null 2>"$tmp/err.txt"; then fail "succeeded: $*"; fi
    grep -q "$pattern" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "message for: $*"; }
}
expect_failure "^adapt export: give one of --hf or --gguf" "$adapt" export --base "$fixtures/llama-tiny"
rc=0; "$adapt" export --base "$fixtures/llama-tiny" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "a usage error exited $rc, not 2"
expect_failure "^adapt export: .*tiny301.model: 301 pieces" "$adapt" export --base "$fixtures/qwen2-tiny" \
    --tokenizer tests/data/gguf/tiny301.model --gguf "$tmp/refused.gguf" --allow-tokenizer-mismatch
# A tokenizer llama.cpp would segment text differently with is refused (exit 1) before any
# work, naming the file and the reason: a unigram model; a normaliser inside the model,
# with the number of characters it rewrites; user-defined pieces.
expect_failure "^adapt export: tests/data/gguf/tiny301.model: llama.cpp would tokenize text differently from lingraft: a unigram model.*--allow-tokenizer-mismatch" \
    "$adapt" export --base "$fixtures/llama-tiny" --tokenizer tests/data/gguf/tiny301.model --gguf "$tmp/refused.gguf"
rc=0; "$adapt" export --base "$fixtures/llama-tiny" --tokenizer tests/data/gguf/tiny301.model \
    --gguf "$tmp/refused.gguf" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "a refused tokenizer exited $rc, not 1"
"$LG_BIN/tokenize" train -t bpe -v 301 -c 0.98 --byte-fallback --model-normalizer nmt_nfkc \
    -o "$tmp/nfkc" /usr/share/common-licenses/GPL-3 2>/dev/null
expect_failure "^adapt export: $tmp/nfkc.model: llama.cpp would tokenize text differently from lingraft: its normaliser 'nmt_nfkc' (NFKC inside the model; leading, trailing and repeated spaces removed) rewrites or drops [0-9]* characters before encoding (… ﬁ ² ½ Ａ ...)" \
    "$adapt" export --base "$fixtures/llama-tiny" --tokenizer "$tmp/nfkc.model" --gguf "$tmp/refused.gguf"
"$LG_BIN/tokenize" train -t bpe -v 301 -c 0.98 --byte-fallback --user-symbols '<nl>' \
    -o "$tmp/user" /usr/share/common-licenses/GPL-3 2>/dev/null
expect_failure "^adapt export: $tmp/user.model: llama.cpp would tokenize text differently from lingraft: 1 user-defined pieces (<nl>)" \
    "$adapt" export --base "$fixtures/llama-tiny" --tokenizer "$tmp/user.model" --gguf "$tmp/refused.gguf"
# the same trained without them (tokenize train's default: no normaliser, spaces kept)
"$LG_BIN/tokenize" train -t bpe -v 301 -c 0.98 --byte-fallback -o "$tmp/plain" \
    /usr/share/common-licenses/GPL-3 2>/dev/null
"$adapt" export --base "$fixtures/llama-tiny" --tokenizer "$tmp/plain.model" --gguf "$tmp/plain.gguf" \
    >/dev/null 2>"$tmp/err.txt" || { cat "$tmp/err.txt"; fail "a BPE tokenizer without normaliser was refused"; }
[ ! -s "$tmp/err.txt" ] || { cat "$tmp/err.txt"; fail "a warning for a tokenizer llama.cpp reproduces"; }
"$adapt" info "$tmp/plain.gguf" | grep -q 'tokenizer.ggml.add_space_prefix  *BOOL  *true' ||
    fail "no tokenizer.ggml.add_space_prefix"
[ ! -e "$tmp/refused.gguf" ] || fail "a refused export left a file"
ls "$tmp" | grep -q tmp && fail "a temporary file was left behind"
head -c 1000 "$tmp/tied.gguf" >"$tmp/cut.gguf"
expect_failure "^adapt info: .*cut.gguf: .*does not fit" "$adapt" info "$tmp/cut.gguf"
cp tests/data/gguf/tiny301.model "$tmp/not.gguf"
expect_failure "^adapt info: .*bad magic" "$adapt" info "$tmp/not.gguf"
echo "gguf_export_cli: ok"
