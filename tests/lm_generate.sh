#!/bin/sh
# lm generate on the HF fixtures: token ids in and out (--ids), greedy = top-k 1, seeds
# repeat, the adapter path equals a merged model, eos stops, text through a SentencePiece
# model, and the refusals (too long for the model, ids outside the vocabulary, bad options).
set -u
LM="${LG_BIN:-bin}/lm"
FIX=tests/fixtures/hf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
gen() { "$LM" generate --threads 1 "$@"; }
count() { wc -w <"$1" | tr -d ' '; }

# greedy: exactly max-new ids (this prompt meets no eos), all inside the vocabulary
gen --model "$FIX/llama-tiny" --ids --prompt "1 17 42" --max-new 12 --temperature 0 >"$T/greedy" ||
    fail "greedy generation"
[ "$(count "$T/greedy")" -eq 12 ] || { cat "$T/greedy"; fail "greedy did not print 12 ids"; }
for id in $(cat "$T/greedy"); do
    [ "$id" -ge 0 ] && [ "$id" -lt 301 ] || fail "id $id outside the vocabulary"
done
gen --model "$FIX/llama-tiny" --ids --prompt "1, 17, 42" --max-new 12 --temperature 1 --top-k 1 >"$T/k1" ||
    fail "top-k 1"
cmp -s "$T/greedy" "$T/k1" || fail "top-k 1 differs from temperature 0"
echo "1 17 42" | gen --model "$FIX/llama-tiny" --ids --prompt-file - --max-new 12 --temperature 0 >"$T/stdin" ||
    fail "prompt from stdin"
cmp -s "$T/greedy" "$T/stdin" || fail "--prompt-file - differs from --prompt"

# sampling: the same seed repeats, another seed differs
for s in 7 7 8; do
    gen --model "$FIX/qwen2-tiny" --ids --prompt "5 6 7" --max-new 30 --temperature 1 --top-p 1 --seed $s >"$T/seed$s.$(ls "$T" | wc -l)" ||
        fail "sampling with seed $s"
done
set -- "$T"/seed7.*
cmp -s "$1" "$2" || fail "seed 7 did not repeat"
cmp -s "$1" "$T"/seed8.* && fail "seeds 7 and 8 gave the same 30 tokens"

# --adapter merges PEFT LoRA first: same tokens as the merged model directory
"$LM" merge --model "$FIX/llama-tiny" --adapter "$FIX/llama-tiny-lora" -o "$T/merged" >/dev/null ||
    fail "merge"
gen --model "$FIX/llama-tiny" --adapter "$FIX/llama-tiny-lora" --ids --prompt "1 17 42" --max-new 10 --temperature 0 >"$T/a" ||
    fail "generate with --adapter"
gen --model "$T/merged" --ids --prompt "1 17 42" --max-new 10 --temperature 0 >"$T/b" || fail "merged"
cmp -s "$T/a" "$T/b" || fail "--adapter differs from the merged model"
cmp -s "$T/a" "$T/greedy" && fail "the adapter changed nothing"

# eos stops generation: make the first greedy token the end-of-sequence token
first=$(cut -d' ' -f1 "$T/greedy")
mkdir "$T/eos"
cp "$FIX/llama-tiny/model.safetensors" "$T/eos/"
sed "s/\"eos_token_id\": 2/\"eos_token_id\": $first/" "$FIX/llama-tiny/config.json" >"$T/eos/config.json"
gen --model "$T/eos" --ids --prompt "1 17 42" --max-new 12 --temperature 0 >"$T/out" || fail "eos model"
[ "$(count "$T/out")" -eq 0 ] || { cat "$T/out"; fail "generation went on past eos"; }

# text: a 200-piece SentencePiece model fits llama-tiny's 301 embeddings
spm_train --input=tests/data/lm/train.txt --model_prefix="$T/sp" --vocab_size=200 \
    --model_type=unigram --bos_id=1 --eos_id=2 --unk_id=0 >/dev/null 2>&1 || fail "spm_train"
gen --model "$FIX/llama-tiny" --tokenizer "$T/sp.model" --prompt "The license" --max-new 20 --seed 1 >"$T/text" ||
    fail "text generation"
[ "$(wc -l <"$T/text")" -ge 1 ] && [ -s "$T/text" ] || fail "no text printed"
[ "$(wc -c <"$T/text")" -gt 3 ] || { cat "$T/text"; fail "text output too short"; }
grep -q "▁" "$T/text" && fail "word-boundary marks left in the text"
# the streamed text is what spm_decode makes of the same ids (same prompt ids, same seed;
# the stream keeps the continuation's leading space, spm_decode drops it)
ids=$(printf 'The license is' | spm_encode --model="$T/sp.model" --output_format=id)
for s in 1 2 3; do
    gen --model "$FIX/llama-tiny" --ids --prompt "1 $ids" --max-new 40 --temperature 1.5 --top-p 1 --seed $s >"$T/ids$s" ||
        fail "ids for seed $s"
    gen --model "$FIX/llama-tiny" --tokenizer "$T/sp.model" --prompt "The license is" --max-new 40 --temperature 1.5 --top-p 1 --seed $s |
        sed 's/^ //' >"$T/text$s" || fail "text for seed $s"
    # (ids 200..300 are model rows the 200-piece tokenizer lacks: printed as nothing)
    tr ' ' '\n' <"$T/ids$s" | awk '$1 < 200' | tr '\n' ' ' |
        spm_decode --model="$T/sp.model" --input_format=id >"$T/dec$s" || fail "spm_decode"
    cmp -s "$T/text$s" "$T/dec$s" || { cat "$T/ids$s" "$T/text$s" "$T/dec$s"; fail "streamed text differs from spm_decode"; }
done

# --- bad input: one message, exit non-zero ---
expect_error() { # expect_error PATTERN COMMAND...
    pat=$1; shift
    if "$@" >"$T/out" 2>&1; then cat "$T/out"; fail "succeeded: $*"; fi
    grep -q -- "$pat" "$T/out" || { cat "$T/out"; fail "message lacks '$pat': $*"; }
}
expect_error "maximum of 128" gen --model "$FIX/llama-tiny" --ids --prompt "1 17 42" --max-new 126
expect_error "maximum of 128" gen --model "$FIX/qwen2-tiny" --tokenizer "$T/sp.model" --prompt-file tests/data/lm/heldout.txt
expect_error "301" gen --model "$FIX/llama-tiny" --ids --prompt "1 301"
expect_error "not a token id" gen --model "$FIX/llama-tiny" --ids --prompt "1 x"
expect_error "empty" gen --model "$FIX/llama-tiny" --ids --prompt " "
expect_error "tokenizer" gen --model "$FIX/llama-tiny" --prompt "hello"
expect_error "temperature" gen --model "$FIX/llama-tiny" --ids --prompt "1" --temperature -1
expect_error "top-p" gen --model "$FIX/llama-tiny" --ids --prompt "1" --top-p 0
expect_error "max-new" gen --model "$FIX/llama-tiny" --ids --prompt "1" --max-new 0
expect_error "pieces" gen --model "$FIX/llama-tiny" --tokenizer tests/data/lm/en.model --prompt "hi"
expect_error "config.json" gen --model "$T/nowhere" --ids --prompt "1"
"$LM" generate --help | grep -q -- "--top-p" || fail "--help lacks --top-p"
echo "lm generate: ok"
