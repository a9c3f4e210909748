#!/bin/sh
# Interrupted lm and adapt commands leave nothing half-made (issue 12, section 2). A shim
# (tests/preload/lg_preload.c, LD_PRELOAD) holds each command inside the fsync of its
# temporary output until the test sends SIGINT or SIGTERM: the command must die of that
# signal and leave no temporary (*.tmp.*) and no output. The same for `lm init --preset
# small` stopped after a plain delay, whatever it was doing. And `lm train --keep` killed
# (SIGKILL) in the middle of deleting an old checkpoint leaves every checkpoint under its
# real name whole; the next run resumes into the directory and clears the leftover.
set -eu
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
FIX=tests/fixtures/hf
TOK=tests/data/gguf/tiny301.model
D=tests/data/lm
W=$(mktemp -d build/interrupt_lm_adapt.XXXXXX)
S=$(mktemp -d build/interrupt_lm_adapt.scratch.XXXXXX)
trap 'rm -rf "$W" "$S"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

SHIM="$S/lg_preload.so"
${CC:-cc} -shared -fPIC -O1 -o "$SHIM" tests/preload/lg_preload.c -ldl || fail "cannot build the shim"
# the sanitizer build wants its runtime first; the shim only wraps fsync and remove
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export ASAN_OPTIONS

# leftovers: temporaries anywhere under W
leftovers() { find "$W" -name '*.tmp.*' -o -name '*.removing.*' -o -name '*.old.*'; }

# stopped SIG OUTPUT STALL COMMAND...: runs COMMAND (SIGINT not ignored, as in a terminal)
# until it stalls in the fsync of a file whose path holds STALL, sends SIG, and checks
# that it died of SIG and left neither OUTPUT nor a temporary
stopped() {
    sig=$1 out=$2 stall=$3
    shift 3
    rm -f "$S/ready"
    LD_PRELOAD="$SHIM" LG_PRELOAD_STALL="$stall" LG_PRELOAD_READY="$S/ready" \
        env --default-signal=INT "$@" >"$S/out" 2>"$S/err" &
    pid=$!
    i=0
    while [ ! -e "$S/ready" ] && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    [ -e "$S/ready" ] || { kill -9 $pid; cat "$S/err"; fail "$*: never reached its output"; }
    [ -n "$(leftovers)" ] || fail "$*: no temporary while writing (the test sees nothing)"
    kill -"$sig" $pid
    rc=0
    wait $pid || rc=$?
    case $sig in INT) want=130 ;; TERM) want=143 ;; esac
    [ "$rc" -eq "$want" ] || { cat "$S/err"; fail "$* (SIG$sig): exit $rc, not $want"; }
    left=$(leftovers)
    [ -z "$left" ] || fail "$* (SIG$sig) left $left"
    [ ! -e "$out" ] || fail "$* (SIG$sig) left $out"
    echo "SIG$sig while writing $(sed "s|.*/||" "$S/ready"): nothing left ($(basename "$1") $2)"
}

cp -r "$FIX/llama-tiny" "$W/base"
for sig in INT TERM; do
    stopped $sig "$W/init" model.safetensors.tmp. \
        "$LM" init --preset small --tokenizer $D/en.model -o "$W/init"
    stopped $sig "$W/merged" model.safetensors.tmp. \
        "$LM" merge --model "$W/base" --adapter "$FIX/llama-tiny-lora" -o "$W/merged"
    stopped $sig "$W/vec.safetensors" vec.safetensors.tmp. \
        "$ADAPT" langsamp --base "$W/base" --lang nld,fry --script Latn -o "$W/vec.safetensors"
done

"$LG_BIN/transfer" init --base "$W/base" --base-tokenizer "$TOK" --tokenizer "$TOK" \
    --method hull -o "$W/table.safetensors" >/dev/null 2>&1 || fail "transfer init"
for sig in INT TERM; do
    stopped $sig "$W/nl.pack" pack.json.tmp. \
        "$ADAPT" pack --base "$W/base" --table "$W/table.safetensors" --tokenizer "$TOK" -o "$W/nl.pack"
done
"$ADAPT" pack --base "$W/base" --table "$W/table.safetensors" --tokenizer "$TOK" -o "$W/nl.pack" \
    >/dev/null || fail "adapt pack"
for sig in INT TERM; do
    stopped $sig "$W/hf" model.safetensors.tmp. \
        "$ADAPT" export --base "$W/base" --pack "$W/nl.pack" --hf "$W/hf"
    # the GGUF file is converted from a temporary Hugging Face directory: stopped while the
    # .gguf is written, that directory must go too
    stopped $sig "$W/nl.gguf" nl.gguf.tmp. \
        "$ADAPT" export --base "$W/base" --pack "$W/nl.pack" --gguf "$W/nl.gguf" \
        --allow-tokenizer-mismatch # tiny301.model: unigram
    # lm train stopped while saving its first checkpoint: no checkpoint, no -o directory
    stopped $sig "$W/run" optimizer.safetensors.tmp. \
        "$LM" train "$W/base" --text $D/heldout.txt --tokenizer "$TOK" --steps 2 --batch 1 \
        --seq-len 16 --threads 1 -q -o "$W/run"
done

# stopped by a signal after a plain delay: complete (exit 0) or absent, never in between
for delay in 0.3 0.8; do
    for sig in INT TERM; do
        rm -rf "$W/init"
        env --default-signal=INT "$LM" init --preset small --tokenizer $D/en.model -o "$W/init" \
            >/dev/null 2>&1 &
        pid=$!
        sleep $delay
        kill -$sig $pid 2>/dev/null || true
        rc=0
        wait $pid || rc=$?
        left=$(leftovers)
        [ -z "$left" ] || fail "lm init stopped after $delay s (SIG$sig) left $left"
        if [ "$rc" -eq 0 ]; then
            [ -f "$W/init/model.safetensors" ] && [ -f "$W/init/config.json" ] ||
                fail "lm init exited 0 without its output"
        else
            [ ! -e "$W/init" ] || fail "lm init stopped after $delay s (SIG$sig, exit $rc) left $W/init"
        fi
    done
done
echo "lm init stopped after a delay: complete or absent, no temporaries"

# --keep: killed while pruning, no checkpoint half-deleted under its real name
train="$LM train $W/base --text $D/heldout.txt --tokenizer $TOK --batch 1 --seq-len 16 --threads 1 -q
       --save-every 1 --keep 1 -o $W/keep"
rc=0
# shellcheck disable=SC2086
LD_PRELOAD="$SHIM" LG_PRELOAD_KILL_ON_REMOVE=/checkpoint-1 $train --steps 3 2>"$S/err" || rc=$?
[ "$rc" -eq 137 ] || { cat "$S/err"; fail "the pruning run was not killed while deleting checkpoint-1 (exit $rc)"; }
for c in "$W"/keep/checkpoint-*; do
    case $c in *.removing.* | *.tmp.*) continue ;; esac
    for f in trainer_state.json optimizer.safetensors model/config.json model/model.safetensors; do
        [ -f "$c/$f" ] || fail "$c is half-deleted: no $f"
    done
done
[ -f "$W/keep/last/trainer_state.json" ] || fail "last points at no checkpoint"
# the run's own directory: resumed into without --force; the leftover is cleared
# shellcheck disable=SC2086
$train --steps 3 --resume "$W/keep/last" 2>"$S/err" || { cat "$S/err"; fail "resume after the kill"; }
left=$(leftovers)
[ -z "$left" ] || fail "the resumed run left $left"
[ "$(cd "$W/keep" && echo checkpoint-*)" = "checkpoint-3" ] ||
    fail "--keep 1 left $(cd "$W/keep" && echo checkpoint-*)"
echo "--keep: killed while deleting checkpoint-1, every checkpoint left whole; resumed and cleared"
echo "interrupt_lm_adapt: ok"
