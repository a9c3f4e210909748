#!/bin/sh
# adapt mixture (issue 15): one LoRA adapter trained over several languages, each through
# its own pack. A mixture of one language is lm train, bit for bit (the same data order,
# initialisation and updates); with two, both languages' adapters carry the same LoRA
# weights and their own embeddings, each language's loss is logged, and the packs
# assembled from them load; with --vectors, the language and script vectors are trained
# and saved. Bad combinations of options are refused with exit 2.
set -u
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
ADAPT="$LG_BIN/adapt"
B=tests/fixtures/hf/llama-tiny
TOK=tests/data/gguf/tiny301.model
TOK2=tests/data/gguf/bpe301.model
W=$(mktemp -d build/adapt_mixture.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TRAIN=tests/data/lm/train.txt
head -n 30 tests/data/lm/heldout.txt >"$W/held.txt"
"$LG_BIN/transfer" init --base "$B" --base-tokenizer "$TOK" --tokenizer "$TOK" --method hull \
    -o "$W/t1.safetensors" >/dev/null 2>&1 || fail "transfer init 1"
"$LG_BIN/transfer" init --base "$B" --base-tokenizer "$TOK" --tokenizer "$TOK2" --method hull \
    -o "$W/t2.safetensors" >/dev/null 2>&1 || fail "transfer init 2"
HP="--lora-r 4 --lora-alpha 8 --lora-targets all --train-embeddings --steps 5 --batch 2 --seq-len 16 --lr 1e-2 --warmup 2 --seed 3 --threads 1 -q"

# one language: lm train's adapter, byte for byte
# shellcheck disable=SC2086
"$LM" train "$B" --pack "$W/t1.safetensors" --text "$TRAIN" --tokenizer "$TOK" $HP -o "$W/single" || fail "lm train"
# shellcheck disable=SC2086
"$ADAPT" mixture --base "$B" --lang aaa --pack "$W/t1.safetensors" --tokenizer "$TOK" --text "$TRAIN" \
    $HP -o "$W/mix1" || fail "adapt mixture, one language"
cmp "$W/single/last/adapter/adapter_model.safetensors" "$W/mix1/aaa/adapter/adapter_model.safetensors" ||
    fail "a mixture of one language is not lm train's adapter"
cmp "$W/single/last/adapter/adapter_config.json" "$W/mix1/aaa/adapter/adapter_config.json" ||
    fail "a mixture of one language has another adapter_config.json"
echo "one language: lm train's adapter, byte for byte"

# two languages, with vectors
# shellcheck disable=SC2086
"$ADAPT" mixture --base "$B" --lang aaa --pack "$W/t1.safetensors" --tokenizer "$TOK" --text "$TRAIN" \
    --eval-file "$W/held.txt" --lang bbb --pack "$W/t2.safetensors" --tokenizer "$TOK2" \
    --text "$TRAIN" --eval-file "$W/held.txt" --vectors --eval-every 5 --log "$W/log" \
    $HP -o "$W/mix2" || fail "adapt mixture, two languages"
[ -s "$W/mix2/langsamp.safetensors" ] || fail "no langsamp.safetensors"
grep -q '"loss_aaa".*"loss_bbb"' "$W/log" || fail "the log lacks each language's loss"
[ "$(grep -c '"lang": "bbb"' "$W/log")" -eq 2 ] || fail "bbb was not evaluated at steps 0 and 5"
# the LoRA tensors of both adapters are one adapter: compare them without the embeddings
python3 - "$W/mix2" <<'PY' || fail "the two adapters do not share their LoRA weights"
import json, struct, sys
def tensors(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in h.items() if k != '__metadata__'}
a = tensors(sys.argv[1] + '/aaa/adapter/adapter_model.safetensors')
b = tensors(sys.argv[1] + '/bbb/adapter/adapter_model.safetensors')
lora = [k for k in a if 'lora_' in k]
assert lora and all(a[k] == b[k] for k in lora), 'lora differs'
emb = [k for k in a if 'embed_tokens' in k or 'lm_head' in k]
assert emb and all(a[k] != b[k] for k in emb), 'embeddings the same'
print(len(lora), 'LoRA tensors shared,', len(emb), 'embedding tensors each its own')
PY
for l in aaa bbb; do
    t=t1; tok=$TOK; [ $l = bbb ] && t=t2 tok=$TOK2
    "$ADAPT" pack --base "$B" --table "$W/$t.safetensors" --tokenizer "$tok" --lang $l \
        --adapter "$W/mix2/$l/adapter" --langsamp "$W/mix2/langsamp.safetensors" -o "$W/$l.pack" >/dev/null ||
        fail "adapt pack $l"
    "$LM" eval "$B" --pack "$W/$l.pack" --text "$W/held.txt" --lang $l --script Latn >/dev/null ||
        fail "eval of $l with its vectors"
done

# transfer init --source: rows from another language's table or trained adapter (issue 15).
# Every piece of bpe301 is identical in the source's own tokenizer: hull copies each row.
"$LG_BIN/transfer" init --base "$B" --source "$W/mix2/bbb/adapter/adapter_model.safetensors" \
    --base-tokenizer "$TOK2" --tokenizer "$TOK2" --method hull -o "$W/from-bbb.safetensors" \
    >/dev/null 2>&1 || fail "transfer init --source an adapter"
"$LG_BIN/transfer" init --base "$B" --source "$W/t2.safetensors" --base-tokenizer "$TOK2" \
    --tokenizer "$TOK2" --method hull -o "$W/from-t2.safetensors" >/dev/null 2>&1 ||
    fail "transfer init --source a table"
python3 - "$W" <<'PY' || fail "--source: the rows are not the source's"
import json, struct, sys
def tensors(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k.replace('base_model.model.', ''): b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in h.items() if k != '__metadata__'}
w = sys.argv[1]
for src, out in (('mix2/bbb/adapter/adapter_model.safetensors', 'from-bbb'), ('t2.safetensors', 'from-t2')):
    a, b = tensors(w + '/' + src), tensors(w + '/' + out + '.safetensors')
    for k in ('model.embed_tokens.weight', 'lm_head.weight'):
        assert a[k] == b[k], (src, k)
print('--source: every row copied from the source')
PY
"$LM" eval "$B" --pack "$W/from-bbb.safetensors" --text "$W/held.txt" --tokenizer "$TOK2" >/dev/null ||
    fail "a table made from a source does not load over the base"
rc=0; "$LG_BIN/transfer" init --base "$B" --source "$W/t2.safetensors" --base-tokenizer "$TOK" \
    --tokenizer "$TOK2" --method hull -o "$W/x.safetensors" >/dev/null 2>"$W/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "base-tokenizer" "$W/err" || { cat "$W/err"; fail "--source with another tokenizer: exit $rc"; }
[ -e "$W/x.safetensors" ] && fail "a refused init left its output"

# refused: counts that do not match, a language twice, an adapter-less rank
rc=0; "$ADAPT" mixture --base "$B" --lang aaa --lang bbb --pack "$W/t1.safetensors" --text "$TRAIN" -o "$W/x" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "two --lang, one --pack: exit $rc"
rc=0; "$ADAPT" mixture --base "$B" --lang aaa --lang aaa --pack "$W/t1.safetensors" --pack "$W/t1.safetensors" \
    --tokenizer "$TOK" --tokenizer "$TOK" --text "$TRAIN" --text "$TRAIN" --steps 1 -q -o "$W/x" >/dev/null 2>"$W/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "given twice" "$W/err" || fail "a language twice: exit $rc"
[ -e "$W/x" ] && fail "a refused mixture left its output"
echo "PASS adapt_mixture"
