#!/bin/sh
# Write errors are failures (issue 12): a command whose standard output cannot be written
# (a full disk: /dev/full) exits 1 with a message instead of 0, `lm generate` stops at the
# first failed write instead of generating on, and `lm train --log` on a full disk fails
# instead of leaving an empty log behind a successful exit.
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
FIX=tests/fixtures/hf/llama-tiny
TOK=tests/data/gguf/tiny301.model
W=$(mktemp -d build/write_errors.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -w /dev/full ] || { echo "SKIP: no /dev/full here"; exit 77; }

# full_stdout CMD...: with standard output on /dev/full, exit status 1 and a message
full_stdout() {
    rc=0
    "$@" >/dev/full 2>"$W/stderr" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$W/stderr"; fail "exit status $rc, not 1, with stdout on /dev/full: $*"; }
    grep -qi "standard output\|stdout\|No space left" "$W/stderr" ||
        { cat "$W/stderr"; fail "no message about the failed write: $*"; }
    echo "full disk refused: $*"
}

printf '1 5 9 13 17 21 25 29 33 37 41 45 49 53 57 61\n2 6 10 14 18 22 26 30 34 38 42 46 50 54 58 62\n' \
    >"$W/ok.ids"
"$LG_BIN/transfer" init --base "$FIX" --base-tokenizer "$TOK" --tokenizer "$TOK" --method hull \
    -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"
"$LG_BIN/adapt" pack --base "$FIX" --table "$W/table.safetensors" --tokenizer "$TOK" \
    -o "$W/nl.pack" >/dev/null || fail "adapt pack"

full_stdout "$LM" eval "$FIX" --ids "$W/ok.ids"
full_stdout "$LM" eval "$FIX" --ids "$W/ok.ids" --json
full_stdout "$LM" info "$FIX"
full_stdout "$LM" check "$FIX" "$FIX/reference.safetensors"
full_stdout "$LM" generate --model "$FIX" --ids --prompt "1 5 9" --max-new 4
full_stdout "$LG_BIN/tokenize" stats -m "$TOK" tests/data/tokenize/en.txt
full_stdout "$LG_BIN/adapt" info "$W/nl.pack"
full_stdout "$LG_BIN/adapt" info "$W/nl.pack" --base "$FIX"

# lm generate stops at the first failed write: no summary of a finished run (-v prints one
# after the last token), and the error says which write failed
rc=0
"$LM" generate --model "$FIX" --ids --prompt "1 5 9" --max-new 100 --temperature 1 -v \
    >/dev/full 2>"$W/stderr" || rc=$?
[ "$rc" -eq 1 ] || { cat "$W/stderr"; fail "lm generate on a full disk: exit status $rc"; }
grep -q "new tokens in" "$W/stderr" && { cat "$W/stderr"; fail "lm generate went on after a failed write"; }

# lm train --log on a full disk (the log is appended to: an existing one needs no --force)
train_log() {
    log=$1; shift
    rc=0
    "$LM" train "$FIX" --data "$W/ok.ids" --steps 2 --batch 1 --seq-len 8 --threads 1 -q \
        -o "$W/run" --log "$log" "$@" >"$W/stdout" 2>"$W/stderr" || rc=$?
}
train_log /dev/full
[ "$rc" -eq 1 ] || { cat "$W/stderr"; fail "lm train --log /dev/full: exit status $rc, not 1"; }
grep -q "/dev/full" "$W/stderr" || { cat "$W/stderr"; fail "the message does not name the log"; }
echo "write_errors.sh: all passed"
