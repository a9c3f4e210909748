#!/bin/sh
# Models and references that look plausible but cannot give a right answer (issue 12, the
# audit's findings): NaN / Inf weights, a config.json whose num_hidden_layers is 10^9, bos/eos
# ids outside the vocabulary, a reference with nothing to compare or with 64-bit ids beyond
# the vocabulary, invalid UTF-8 in training or evaluation text. Each is refused with exit
# status 1 and one message naming the file (or tensor, field, line) and the problem.
set -u
export OMP_WAIT_POLICY=PASSIVE
LM="${LG_BIN:-bin}/lm"
FIX=tests/fixtures/hf/llama-tiny
D=tests/data/lm
W=$(mktemp -d build/lm_bad_model.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# refuses PATTERN CMD...: exit status 1 and PATTERN in the message
refuses() {
    want=$1; shift
    rc=0
    timeout 60 "$@" >"$W/stdout" 2>"$W/stderr" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$W/stdout" "$W/stderr"; fail "exit status $rc, not 1: $*"; }
    grep -qF -- "$want" "$W/stderr" || { cat "$W/stderr"; fail "message lacks '$want': $*"; }
    echo "refused: $(head -n 1 "$W/stderr")"
}

# A copy of llama-tiny whose last stored float (model.norm.weight, the last tensor in the
# file) is replaced by the 4 little-endian bytes given.
patched_model() { # DIR BYTES
    mkdir -p "$1"
    cp "$FIX/config.json" "$1/"
    cp "$FIX/model.safetensors" "$1/"
    size=$(wc -c <"$1/model.safetensors")
    printf "$2" | dd of="$1/model.safetensors" bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null
}
printf '1 5 9 13 17 21 25 29 33 37 41 45 49 53 57 61\n2 6 10 14 18 22 26 30 34 38 42 46 50 54 58 62 66\n' \
    >"$W/ok.ids"

# --- non-finite weights: refused when loaded, naming the tensor
patched_model "$W/nan" '\000\000\300\177'   # NaN
patched_model "$W/inf" '\000\000\200\177'   # +Inf
refuses "model.norm.weight" "$LM" eval "$W/nan" --ids "$W/ok.ids"
grep -q "not finite\|NaN\|nan" "$W/stderr" || fail "the message does not say the value is not finite"
refuses "model.norm.weight" "$LM" eval "$W/inf" --ids "$W/ok.ids"
refuses "model.norm.weight" "$LM" generate --model "$W/nan" --ids --prompt "1 5 9" --max-new 4
refuses "model.norm.weight" "$LM" generate --model "$W/inf" --ids --prompt "1 5 9" --max-new 4 \
    --temperature 1 --top-p 0.9
refuses "model.norm.weight" "${LG_BIN:-bin}/adapt" export --base "$W/nan" \
    --tokenizer tests/data/gguf/tiny301.model --gguf "$W/nan.gguf" --allow-tokenizer-mismatch
[ -e "$W/nan.gguf" ] && fail "a refused export wrote its output"
refuses "model.norm.weight" "${LG_BIN:-bin}/adapt" export --base "$W/inf" \
    --tokenizer tests/data/gguf/tiny301.model --hf "$W/nan-hf"
[ -e "$W/nan-hf" ] && fail "a refused export wrote its output"
"$LM" eval "$FIX" --ids "$W/ok.ids" >/dev/null || fail "the unpatched model does not evaluate"

# --- a config whose layer count disagrees with the weights: refused at once, not after
# walking 10^9 layers (or reporting 46 T parameters)
mkdir "$W/layers"
cp "$FIX/model.safetensors" "$W/layers/"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 1000000000/' "$FIX/config.json" >"$W/layers/config.json"
grep -q 1000000000 "$W/layers/config.json" || fail "could not make the 10^9-layer config"
start=$(date +%s)
refuses "num_hidden_layers" "$LM" info "$W/layers"
refuses "num_hidden_layers" "$LM" eval "$W/layers" --ids "$W/ok.ids"
refuses "num_hidden_layers" "$LM" check "$W/layers" "$FIX/reference.safetensors"
[ $(($(date +%s) - start)) -lt 20 ] || fail "refusing the 10^9-layer config took too long"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$FIX/config.json" >"$W/layers/config.json"
refuses "num_hidden_layers" "$LM" info "$W/layers"

# --- special ids outside the vocabulary (301): refused at load, not trained as loss 0
for key in bos_token_id eos_token_id pad_token_id; do
    mkdir "$W/$key"
    cp "$FIX/model.safetensors" "$W/$key/"
    sed "s/\"$key\": [0-9a-z]*/\"$key\": 301/" "$FIX/config.json" >"$W/$key/config.json"
    grep -q "\"$key\": 301" "$W/$key/config.json" || fail "could not set $key"
    refuses "$key 301 is outside the vocabulary (vocab_size 301)" \
        "$LM" train "$W/$key" --data "$W/ok.ids" --steps 2 --batch 1 --seq-len 8 --threads 1 \
        -q -o "$W/out-$key"
    [ -e "$W/out-$key" ] && fail "a refused training left $W/out-$key"
done

# --- references: nothing to compare, no rows, ids beyond the vocabulary
# st_ids FILE B T ID...: a safetensors file holding only input_ids (I64 [B, T])
st_ids() {
    file=$1 b=$2 t=$3; shift 3
    n=$((b * t * 8))
    hdr="{\"input_ids\":{\"dtype\":\"I64\",\"shape\":[$b,$t],\"data_offsets\":[0,$n]}}"
    while [ $((${#hdr} % 8)) -ne 0 ]; do hdr="$hdr "; done
    len=${#hdr}
    {
        printf "$(printf '\\%03o' $((len & 255)) $((len >> 8 & 255)))\\000\\000\\000\\000\\000\\000"
        printf '%s' "$hdr"
        for id in "$@"; do
            i=0
            while [ $i -lt 8 ]; do printf "$(printf '\\%03o' $((id >> (8 * i) & 255)))"; i=$((i + 1)); done
        done
    } >"$file"
}
st_ids "$W/only-ids.safetensors" 1 4 1 5 9 13
refuses "nothing to compare" "$LM" check "$FIX" "$W/only-ids.safetensors"
st_ids "$W/no-rows.safetensors" 0 4
refuses "no-rows.safetensors" "$LM" check "$FIX" "$W/no-rows.safetensors"
st_ids "$W/big-id.safetensors" 1 4 1 1099511627776 9 13   # 2^40: was taken as id 0
refuses "token id 1099511627776" "$LM" check "$FIX" "$W/big-id.safetensors"
refuses "token id 1099511627776" "$LM" logits "$FIX" --input "$W/big-id.safetensors" -o "$W/logits.safetensors"
[ -e "$W/logits.safetensors" ] && fail "a refused lm logits wrote its output"
st_ids "$W/neg-id.safetensors" 1 4 1 -1 9 13
refuses "token id -1" "$LM" logits "$FIX" --input "$W/neg-id.safetensors" -o "$W/logits.safetensors"
st_ids "$W/ok-ids.safetensors" 1 4 1 5 9 13
"$LM" logits "$FIX" --input "$W/ok-ids.safetensors" -o "$W/logits.safetensors" || fail "lm logits on good ids"

# --- invalid UTF-8 in text: an error naming the file and the line (as tokenize's)
"$LM" init --preset micro --tokenizer $D/en.model -o "$W/m0" >/dev/null || fail "lm init"
{ head -n 3 $D/heldout.txt; printf 'caf\351 au lait\n'; } >"$W/latin1.txt"
refuses "latin1.txt:4: invalid UTF-8" "$LM" eval "$W/m0" --text "$W/latin1.txt" --tokenizer $D/en.model
refuses "latin1.txt:4: invalid UTF-8" "$LM" train "$W/m0" --text "$W/latin1.txt" \
    --tokenizer $D/en.model --steps 1 --batch 1 --seq-len 8 --threads 1 -q -o "$W/out-utf8"
[ -e "$W/out-utf8" ] && fail "a refused training left its output directory"
refuses "latin1.txt: line 4: invalid UTF-8" "${LG_BIN:-bin}/tokenize" encode -m $D/en.model "$W/latin1.txt"
refuses "latin1.txt: line 4: invalid UTF-8" "${LG_BIN:-bin}/tokenize" encode --ids -m $D/en.model "$W/latin1.txt"
refuses "invalid UTF-8" "$LM" generate --model "$W/m0" --tokenizer $D/en.model \
    --prompt "$(printf 'caf\351')" --max-new 2
echo "lm_bad_model.sh: all passed"
