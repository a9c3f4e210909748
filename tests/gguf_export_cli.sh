#!/bin/sh
# adapt export --gguf and adapt info FILE.gguf on the command line: an F16 export described
# by adapt info, and the failures (missing options, a tokenizer larger than the model's
# vocabulary, a damaged GGUF) that print "adapt ...: ..." naming the file, exit non-zero
# and leave no output.
set -eu
: "${LG_BIN:=bin}"
adapt="$LG_BIN/adapt"
fixtures=tests/fixtures/hf
tmp=$(mktemp -d build/gguf_export_cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$adapt" export --help | grep -q -- "--gguf" || fail "--help lacks --gguf"

"$adapt" export --base "$fixtures/llama-tiny-tied-bf16-sharded" --tokenizer tests/data/gguf/tiny301.model \
    --gguf "$tmp/tied.gguf" --f16 --name tied-test >/dev/null
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
    --tokenizer tests/data/gguf/tiny301.model --gguf "$tmp/refused.gguf"
[ ! -e "$tmp/refused.gguf" ] || fail "a refused export left a file"
ls "$tmp" | grep -q tmp && fail "a temporary file was left behind"
head -c 1000 "$tmp/tied.gguf" >"$tmp/cut.gguf"
expect_failure "^adapt info: .*cut.gguf: .*does not fit" "$adapt" info "$tmp/cut.gguf"
cp tests/data/gguf/tiny301.model "$tmp/not.gguf"
expect_failure "^adapt info: .*bad magic" "$adapt" info "$tmp/not.gguf"
echo "gguf_export_cli: ok"
