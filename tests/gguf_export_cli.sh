#!/bin/sh
# gguf_export on the command line: --help, an F16 export described by --info, and the
# failures (missing options, a tokenizer larger than the model's vocabulary, a damaged
# GGUF) that must print "gguf_export: ..." naming the file, exit 1 and leave no output.
set -eu
: "${LG_BIN:=bin}"
prog="$LG_BIN/gguf_export"
fixtures=../shared/fixtures/hf
tmp=$(mktemp -d build/gguf_export_cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$prog" --help | grep -q -- "--tokenizer" || fail "--help lacks --tokenizer"

"$prog" --model "$fixtures/llama-tiny-tied-bf16-sharded" --tokenizer tests/data/gguf/tiny301.model \
    -o "$tmp/tied.gguf" --f16 --name tied-test
"$prog" --info "$tmp/tied.gguf" >"$tmp/info.txt"
grep -q 'general.name  *STRING  *"tied-test"' "$tmp/info.txt" || fail "no general.name"
grep -q 'general.file_type  *UINT32  *1$' "$tmp/info.txt" || fail "file_type is not 1 (F16)"
grep -q 'llama.rope.freq_base  *FLOAT32  *500000$' "$tmp/info.txt" || fail "rope base"
grep -q 'tensor blk.1.ffn_down.weight  *F16  *{176, 64}' "$tmp/info.txt" || fail "ffn_down"
grep -q 'tensor output_norm.weight  *F32' "$tmp/info.txt" || fail "norms must stay F32"
if grep -q 'tensor output.weight' "$tmp/info.txt"; then fail "tied model has output.weight"; fi

# expect_failure PATTERN COMMAND...: exit 1, message "gguf_export: ..." matching PATTERN
expect_failure() {
    pattern=$1
    shift
    if "$@" 2>"$tmp/err.txt"; then fail "succeeded: $*"; fi
    grep -q "^gguf_export: .*$pattern" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "message for: $*"; }
}
expect_failure "required" "$prog" --model "$fixtures/llama-tiny"
expect_failure "301 pieces" "$prog" --model "$fixtures/qwen2-tiny" \
    --tokenizer tests/data/gguf/tiny301.model -o "$tmp/refused.gguf"
[ ! -e "$tmp/refused.gguf" ] || fail "a refused export left a file"
ls "$tmp" | grep -q tmp && fail "a temporary file was left behind"
head -c 1000 "$tmp/tied.gguf" >"$tmp/cut.gguf"
expect_failure "cut.gguf: .*does not fit" "$prog" --info "$tmp/cut.gguf"
expect_failure "bad magic" "$prog" --info tests/data/gguf/tiny301.model
echo "gguf_export_cli: ok"
