#!/bin/sh
# A GPT-2 base through the whole per-language pipeline (issue 17): a tiny GPT-2 (learned
# positions, tied head; tools/pipeline/base-model.sh with BASE_CONFIG: `lm init --config`,
# then 30 steps of full training on the English text of tests/data/lm) with the byte-level
# tokenizer tests/data/bytelevel/tokenizer.json, then tools/adapt-language nl over it: alignment,
# trans-tokenization (the base's rows read as transformer.wte.weight), LoRA training as
# PEFT makes it for GPT-2 (c_attn, attn.c_proj, c_fc, mlp.c_proj, fan_in_fan_out), pack,
# HF and GGUF export, report. Checked:
#   - the adapter is PEFT's for GPT-2: its config and tensor names and shapes;
#   - the HF export is a GPT-2 (GPT-2's tensor names; the position embeddings the base's,
#     byte for byte; c_attn's LoRA merged) and gives the bits per byte of the pack, whose
#     adapter runs unmerged, within 1e-6 relative (measured: equal; LR 1e-2 makes the
#     adapter matter: with k and v reading q's rows of lora_B they differ by 2e-3);
#   - llama.cpp (arch gpt2, tools/llama-check) agrees with lingraft's logits on the
#     exported GGUF: greedy token at every position, log-probabilities within 1e-2 (as
#     tests/arch_llama_cpp.sh for gpt2), when node-llama-cpp's build exists (linux x86_64);
#   - a GPT2Model checkpoint (names without "transformer.", as the hub's gpt2 stores them)
#     gives the same logits; a checkpoint with neither naming is refused naming both.
# KEEP=1 keeps the work directory.
set -eu
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
export LG_BIN
W=$(mktemp -d build/pipeline_gpt2.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
BL=tests/data/bytelevel/tokenizer.json
head -n 1400 tests/data/tokenize/nl.txt >"$W/mono.txt"
tail -n 100 tests/data/tokenize/nl.txt >"$W/heldout.txt"

# ---- the base: a GPT-2 pretrained a little, the byte-level tokenizer beside it
cat >"$W/gpt2.json" <<JSON
{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50257,
 "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 128, "layer_norm_epsilon": 1e-5,
 "activation_function": "gelu_new", "tie_word_embeddings": true}
JSON
EN_TEXT=tests/data/lm/train.txt EN_HELDOUT=tests/data/lm/heldout.txt BASE_TOKENIZER_JSON=$BL \
    BASE_CONFIG=$W/gpt2.json BASE_STEPS=30 BASE_BATCH=4 BASE_SEQ=64 \
    tools/pipeline/base-model.sh "$W/base" 2>"$W/base.log" || { cat "$W/base.log"; fail "base model"; }
grep -q '"model_type":[[:space:]]*"gpt2"' "$W/base/config.json" || fail "the base is not a GPT-2"

# ---- adapt-language over it
BASE=$W/base MONO=$W/mono.txt PARALLEL=tests/data/transfer/en-nl-train.tsv.gz \
    HELDOUT=$W/heldout.txt VOCAB=500 STEPS=4 EVAL_EVERY=2 BATCH=2 SEQ=64 LR=1e-2 OUT=$W/out \
    METHODS="trans random" TRAIN_METHODS=trans \
    tools/adapt-language nl >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "adapt-language"; }
for f in work/table.tsv work/init/trans.safetensors work/init/eval-trans.json \
    work/train-trans/last/adapter/adapter_config.json nld.pack/pack.json \
    nld.pack/adapter/adapter_model.safetensors hf/config.json hf/model.safetensors \
    hf/tokenizer.model nld.gguf report.md; do
    [ -s "$W/out/$f" ] || { cat "$W/run.log"; fail "no $f"; }
done
grep -q "| trans | [0-9]" "$W/out/report.md" || fail "report has no trans-tokenization row"
copies=$(sed -n 's/^init: .*(trans):.* copy \([0-9]*\).*/\1/p' "$W/run.log")
[ "${copies:-0}" -ge 50 ] || { grep "^init:" "$W/run.log"; fail "trans copied ${copies:-no} pieces"; }

# ---- the adapter, the pack and the HF export
python3 - "$W" <<'PY' || fail "the adapter or the HF export is not GPT-2's"
import json, struct, sys
w = sys.argv[1]
def tensors(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: (v['shape'], b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]])
            for k, v in h.items() if k != '__metadata__'}
cfg = json.load(open(w + '/out/nld.pack/adapter/adapter_config.json'))
assert cfg['fan_in_fan_out'] is True, cfg
assert cfg['target_modules'] == ['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj'], cfg
assert cfg['modules_to_save'] == ['wte'], cfg
a = tensors(w + '/out/nld.pack/adapter/adapter_model.safetensors')
p = 'base_model.model.transformer.h.'
assert a[p + '0.attn.c_attn.lora_A.weight'][0] == [8, 64], a[p + '0.attn.c_attn.lora_A.weight'][0]
assert a[p + '1.attn.c_attn.lora_B.weight'][0] == [192, 8]
assert a[p + '1.mlp.c_fc.lora_B.weight'][0] == [256, 8]
assert a[p + '0.mlp.c_proj.lora_A.weight'][0] == [8, 256]
assert a['base_model.model.transformer.wte.weight'][0] == [500, 64]
assert len(a) == 2 * 4 * 2 + 1, sorted(a)
hf = tensors(w + '/out/hf/model.safetensors')
base = tensors(w + '/base/model.safetensors')
c = json.load(open(w + '/out/hf/config.json'))
assert c['model_type'] == 'gpt2' and c['vocab_size'] == 500, c
assert hf['transformer.wte.weight'][0] == [500, 64]
assert 'model.embed_tokens.weight' not in hf and 'lm_head.weight' not in hf, sorted(hf)
assert hf['transformer.wpe.weight'] == base['transformer.wpe.weight'], 'positions changed'
assert hf['transformer.h.0.attn.c_attn.weight'][0] == [64, 192]
assert hf['transformer.h.0.attn.c_attn.weight'][1] != base['transformer.h.0.attn.c_attn.weight'][1], \
    'c_attn: no LoRA merged'
assert hf['transformer.h.0.ln_1.weight'] == base['transformer.h.0.ln_1.weight']
print('adapter: PEFT GPT-2 (fan_in_fan_out, c_attn [192, r]); HF export: GPT-2 names, '
      'positions kept, LoRA merged')
PY
bpb() { sed -n 's/.*"bits_per_byte": *\([0-9.e+-]*\).*/\1/p' "$1"; }
"$LG_BIN/lm" eval "$W/base" --pack "$W/out/nld.pack" --text "$W/heldout.txt" --json \
    >"$W/eval-pack.json" || fail "lm eval of the pack (adapter unmerged)"
"$LG_BIN/lm" eval "$W/out/hf" --text "$W/heldout.txt" --tokenizer "$W/out/hf/tokenizer.model" \
    --json >"$W/eval-hf.json" || fail "lm eval of the HF export (merged)"
p=$(bpb "$W/eval-pack.json") h=$(bpb "$W/eval-hf.json")
echo "bits per byte: pack (LoRA unmerged) $p, HF export (merged) $h"
awk -v a="$p" -v b="$h" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-6 * a) }' ||
    fail "the merged HF export ($h) and the pack with its adapter ($p) differ"

# ---- a GPT2Model checkpoint: the same tensors without "transformer."
mkdir -p "$W/bare" "$W/odd"
cp "$W/base/config.json" "$W/bare/"
cp "$W/base/config.json" "$W/odd/"
python3 - "$W" <<'PY'
import json, struct, sys
w = sys.argv[1]
def rename(src, dst, f):
    b = open(src, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
    h = {(k if k == '__metadata__' else f(k)): v for k, v in h.items()}
    j = json.dumps(h).encode(); j += b' ' * (-len(j) % 8)
    open(dst, 'wb').write(struct.pack('<Q', len(j)) + j + b[8 + n:])
rename(w + '/base/model.safetensors', w + '/bare/model.safetensors', lambda k: k[len('transformer.'):])
rename(w + '/base/model.safetensors', w + '/odd/model.safetensors', lambda k: 'gpt.' + k[len('transformer.'):])
PY
ids=tests/fixtures/hf/llama-tiny/reference.safetensors
"$LG_BIN/lm" logits "$W/base" --input "$ids" -o "$W/base.logits" >/dev/null || fail "lm logits"
"$LG_BIN/lm" logits "$W/bare" --input "$ids" -o "$W/bare.logits" >/dev/null ||
    fail "a GPT2Model checkpoint (no transformer. prefix) is not read"
cmp "$W/base.logits" "$W/bare.logits" || fail "the GPT2Model checkpoint gives other logits"
rc=0; "$LG_BIN/lm" logits "$W/odd" --input "$ids" -o "$W/odd.logits" >/dev/null 2>"$W/odd.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "transformer.h.N" "$W/odd.err" && grep -q "GPT2Model" "$W/odd.err" ||
    { cat "$W/odd.err"; fail "other names: exit $rc"; }
echo "GPT2Model checkpoint: same logits; other names refused: $(cat "$W/odd.err")"

# ---- llama.cpp on the exported GGUF
if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
    echo "pipeline_gpt2: llama.cpp check left out (no pinned build off linux x86_64)"
    exit 0
fi
check_dir=$(tools/npm-install.sh llama-check)
"$LG_BIN/lm" logits "$W/out/hf" --input "$ids" -o "$W/hf.logits" >/dev/null || fail "lm logits of the export"
node "$check_dir/check.mjs" --gguf "$W/out/nld.gguf" --reference "$W/hf.logits" \
    --max-logprob-diff 1e-2 >"$W/check.log" 2>&1 || { cat "$W/check.log"; fail "llama.cpp disagrees with lingraft on the exported GPT-2"; }
tail -1 "$W/check.log"
echo "pipeline_gpt2: a GPT-2 base through adapt-language; llama.cpp agrees on its GGUF"
