#!/bin/sh
# No lm or adapt command destroys data (issue 12, section 2). Each output path that already
# holds something is refused with a message naming it (exit 1) and left byte for byte as it
# was (sha256 of every file, and the list of names, before and after); --force replaces it;
# a rerun over the command's own earlier output (its marker) is allowed. An output that is
# an input, holds one or lies inside an input directory is refused even with --force. And
# `lm train` leaves no -o directory when it fails before its first checkpoint.
set -eu
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
FIX=tests/fixtures/hf
TOK=tests/data/gguf/tiny301.model
D=tests/data/lm
W=$(mktemp -d build/outputs_lm_adapt.XXXXXX)
S=$(mktemp -d build/outputs_lm_adapt.scratch.XXXXXX) # the test's own files, apart from W
trap 'rm -rf "$W" "$S"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# snap PATH: the names under PATH and the sha256 of every file (PATH itself when a file)
snap() {
    if [ -d "$1" ]; then
        (cd "$1" && find . | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
    else
        sha256sum <"$1"
    fi
}

# user_data DIR: a directory of someone's files that no command was asked to replace
user_data() {
    mkdir -p "$1/sub"
    echo "notes nobody else has" >"$1/notes.txt"
    head -c 65536 /dev/urandom >"$1/data.bin"
    echo "more" >"$1/sub/more.txt"
}

# refused WHAT PATH PATTERN COMMAND...: COMMAND exits 1 with a message naming PATH and
# matching PATTERN, and PATH is exactly as it was
refused() {
    what=$1 path=$2 pattern=$3
    shift 3
    snap "$path" >"$S/before"
    rc=0
    "$@" >"$S/out" 2>"$S/err" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$S/err"; fail "$what: exit $rc, not 1 (a refused output)"; }
    grep -qF "$path" "$S/err" || { cat "$S/err"; fail "$what: the message does not name $path"; }
    grep -q "$pattern" "$S/err" || { cat "$S/err"; fail "$what: the message does not say '$pattern'"; }
    snap "$path" >"$S/after"
    cmp -s "$S/before" "$S/after" || { diff "$S/before" "$S/after" | head; fail "$what: $path changed"; }
    leftovers=$(find "$W" -name '*.tmp.*' -o -name '*.old.*' -o -name '*.removing.*')
    [ -z "$leftovers" ] || fail "$what: left $leftovers"
    echo "refused: $what"
}

# ok WHAT COMMAND...: COMMAND succeeds
ok() {
    what=$1
    shift
    "$@" >"$S/out" 2>"$S/err" || { cat "$S/err"; fail "$what: failed"; }
}

# ---- lm init -o DIR
user_data "$W/mine"
refused "lm init over a directory of other files" "$W/mine" "give --force" \
    "$LM" init --preset micro --vocab-size 300 -o "$W/mine"
ok "lm init --force" "$LM" init --preset micro --vocab-size 300 -o "$W/mine" --force
[ -f "$W/mine/model.safetensors" ] && [ ! -e "$W/mine/notes.txt" ] || fail "--force did not replace the directory"
ok "lm init over its own output" "$LM" init --preset micro --vocab-size 300 --seed 5 -o "$W/mine"
# an empty directory is no one's data
mkdir "$W/empty"
ok "lm init into an empty directory" "$LM" init --preset micro --vocab-size 300 -o "$W/empty"
# a regular file is never replaced by a directory, --force or not
echo "a file" >"$W/file"
refused "lm init over a file" "$W/file" "not a directory" \
    "$LM" init --preset micro --vocab-size 300 -o "$W/file"
refused "lm init --force over a file" "$W/file" "not a directory" \
    "$LM" init --preset micro --vocab-size 300 -o "$W/file" --force

# ---- lm merge -o DIR
cp -r "$FIX/llama-tiny" "$W/base"
user_data "$W/merged"
refused "lm merge over a directory of other files" "$W/merged" "give --force" \
    "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/merged"
ok "lm merge --force" "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/merged" --force
[ ! -e "$W/merged/notes.txt" ] && [ -f "$W/merged/model.safetensors" ] || fail "lm merge --force"
ok "lm merge over its own output" "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/merged"
# another command's output is not this one's
refused "lm merge over lm init's output" "$W/mine" "not written by lm merge" \
    "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/mine"
# the base is never an output
for force in "" --force; do
    refused "lm merge --model b -o b $force" "$W/base" "also an input" \
        "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/base" $force
    refused "lm merge -o inside the base $force" "$W/base" "inside the input directory" \
        "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/base/merged" $force
done
refused "lm merge -o over the directory holding the base" "$W" "holds the input" \
    "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W" --force

# ---- lm logits -o FILE
cp "$FIX/llama-tiny/reference.safetensors" "$W/ref.safetensors"
echo "someone's file" >"$W/logits.safetensors"
refused "lm logits over a file" "$W/logits.safetensors" "give --force" \
    "$LM" logits "$W/base" --input "$W/ref.safetensors" -o "$W/logits.safetensors" --threads 1
ok "lm logits --force" "$LM" logits "$W/base" --input "$W/ref.safetensors" -o "$W/logits.safetensors" --threads 1 --force
refused "lm logits -o its input" "$W/ref.safetensors" "also an input" \
    "$LM" logits "$W/base" --input "$W/ref.safetensors" -o "$W/ref.safetensors" --force

# ---- lm train -o DIR (checkpoints written into it)
cp "$D/heldout.txt" "$W/train.txt"
train="$LM train $W/base --text $W/train.txt --tokenizer $TOK --steps 1 --batch 1 --seq-len 16 --threads 1 -q"
user_data "$W/run"
# shellcheck disable=SC2086
refused "lm train -o a directory of other files" "$W/run" "give --force" $train -o "$W/run"
# shellcheck disable=SC2086
refused "lm train -o a file" "$W/file" "not a directory" $train -o "$W/file" --force
# shellcheck disable=SC2086
refused "lm train --log on its data" "$W/train.txt" "also an input" $train -o "$W/run2" --log "$W/train.txt"
[ ! -e "$W/run2" ] || fail "a refused lm train left its -o directory"
# failing before the first checkpoint leaves no -o directory (also with the log inside it)
for extra in "--seq-len 100000" "--lang 1x" "--lang 1x --log $W/run2/log.jsonl" \
    "--log $W/no/such/dir/log.jsonl"; do
    rc=0
    # shellcheck disable=SC2086
    $train -o "$W/run2" $extra 2>"$S/err" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$S/err"; fail "lm train $extra: exit $rc, not 1"; }
    [ ! -e "$W/run2" ] || fail "lm train $extra failed but left $W/run2"
done
# an -o whose parent is missing is refused before training, not at the first checkpoint
rc=0
# shellcheck disable=SC2086
$train -o "$W/no/such/run" --steps 100000 2>"$S/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot create" "$S/err" || { cat "$S/err"; fail "lm train -o a/missing/dir: exit $rc"; }
# shellcheck disable=SC2086
ok "lm train" $train -o "$W/run2" --log "$W/run2/log.jsonl"
# shellcheck disable=SC2086
ok "lm train into its own output" $train -o "$W/run2" --steps 2 --resume "$W/run2/last"
[ -d "$W/run2/checkpoint-2" ] && [ -s "$W/run2/log.jsonl" ] || fail "lm train into its own output"
# shellcheck disable=SC2086
ok "lm train --force into a directory of other files" $train -o "$W/run" --force
[ -f "$W/run/notes.txt" ] && [ -d "$W/run/checkpoint-1" ] || fail "lm train writes into -o, never replaces it"

# ---- adapt langsamp -o FILE
echo "someone's file" >"$W/vec.safetensors"
refused "adapt langsamp over a file" "$W/vec.safetensors" "give --force" \
    "$ADAPT" langsamp --base "$W/base" --lang nld --script Latn -o "$W/vec.safetensors"
ok "adapt langsamp --force" "$ADAPT" langsamp --base "$W/base" --lang nld --script Latn -o "$W/vec.safetensors" --force
refused "adapt langsamp -o inside the base" "$W/base" "inside the input directory" \
    "$ADAPT" langsamp --base "$W/base" --lang nld -o "$W/base/vec.safetensors" --force

# ---- adapt pack -o DIR
"$LG_BIN/transfer" init --base "$W/base" --base-tokenizer "$TOK" --tokenizer "$TOK" \
    --method hull -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"
pack="$ADAPT pack --base $W/base --table $W/table.safetensors --tokenizer $TOK --lang nld"
user_data "$W/nl.pack"
# shellcheck disable=SC2086
refused "adapt pack over a directory of other files" "$W/nl.pack" "give --force" $pack -o "$W/nl.pack"
# shellcheck disable=SC2086
ok "adapt pack --force" $pack -o "$W/nl.pack" --force
[ -f "$W/nl.pack/pack.json" ] && [ ! -e "$W/nl.pack/notes.txt" ] || fail "adapt pack --force"
# shellcheck disable=SC2086
ok "adapt pack over its own output" $pack -o "$W/nl.pack" --langsamp "$W/vec.safetensors"
[ -f "$W/nl.pack/langsamp.safetensors" ] || fail "the rerun did not replace the pack"
for force in "" --force; do
    # shellcheck disable=SC2086
    refused "adapt pack -o the base $force" "$W/base" "also an input" $pack -o "$W/base" $force
done

# ---- adapt export --hf DIR, --gguf FILE
export="$ADAPT export --base $W/base --pack $W/nl.pack"
user_data "$W/hf"
# shellcheck disable=SC2086
refused "adapt export --hf over a directory of other files" "$W/hf" "give --force" $export --hf "$W/hf"
# shellcheck disable=SC2086
ok "adapt export --hf --force" $export --hf "$W/hf" --force
[ -f "$W/hf/config.json" ] && [ ! -e "$W/hf/notes.txt" ] || fail "adapt export --force"
# shellcheck disable=SC2086
ok "adapt export --hf over its own output" $export --hf "$W/hf"
for force in "" --force; do
    # shellcheck disable=SC2086
    refused "adapt export --base b --hf b $force" "$W/base" "also an input" $export --hf "$W/base" $force
    # shellcheck disable=SC2086
    refused "adapt export --hf the pack $force" "$W/nl.pack" "also an input" $export --hf "$W/nl.pack" $force
    # shellcheck disable=SC2086
    refused "adapt export --gguf inside the base $force" "$W/base" "inside the input directory" \
        $export --gguf "$W/base/model.gguf" $force
done
echo "someone's file" >"$W/nl.gguf"
# shellcheck disable=SC2086
refused "adapt export --gguf over a file" "$W/nl.gguf" "give --force" $export --gguf "$W/nl.gguf"
# shellcheck disable=SC2086
# (the pack's tiny301.model is a unigram model: llama.cpp cannot segment text with it)
ok "adapt export --gguf --force" $export --gguf "$W/nl.gguf" --force --allow-tokenizer-mismatch
"$ADAPT" info "$W/nl.gguf" >/dev/null || fail "--force did not write a GGUF file"

# what every refusal and every run left: no temporaries
leftovers=$(find "$W" -name '*.tmp.*' -o -name '*.old.*' -o -name '*.removing.*')
[ -z "$leftovers" ] || fail "left behind: $leftovers"
echo "outputs_lm_adapt: ok"
