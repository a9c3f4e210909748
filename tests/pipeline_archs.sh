#!/bin/sh
# tools/adapt-language over a base of each Llama-family architecture of issue 17 (GPT-2 is
# tests/pipeline_gpt2.sh): a tiny random-weight base per config, pretrained 20 steps on the
# English text of tests/data/lm with a 500-piece SentencePiece tokenizer
# (tools/pipeline/base-model.sh with BASE_CONFIG), then the whole Dutch pipeline over it:
# alignment, trans-tokenization, 4 LoRA steps, pack, HF and GGUF export, report.
#   llama3   rope_scaling llama3 (factor 8, low 1, high 4, original 32), tied, head_dim 24
#   qwen3    q_norm/k_norm, head_dim 24, no q/k/v bias
#   mistral  sliding_window 16 with 64-token training sequences (the window matters)
# Checked for each: every output is there and the report has the trans-tokenization row;
# the HF export keeps the architecture (model_type, rope_scaling, sliding_window, the q/k
# norm weights, head_dim); the merged HF export gives the bits per byte of the pack with its
# adapter unmerged, within 1e-6 relative (LR 1e-2 makes the adapter matter); the GGUF names
# the architecture (llama / qwen3) and, for llama3, carries rope_freqs.weight.
# Negative controls (run once by hand on the kept directory): the mistral HF export's config
# without sliding_window gives 4.28945 against 4.28888 bits per byte, the llama3 one without
# rope_scaling 4.26826 against 4.26844: both far outside the 1e-6 the comparison allows.
# KEEP=1 keeps the work directory.
set -eu
export OMP_WAIT_POLICY=PASSIVE
: "${LG_BIN:=bin}"
export LG_BIN
W=$(mktemp -d build/pipeline_archs.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
head -n 1400 tests/data/tokenize/nl.txt >"$W/mono.txt"
tail -n 100 tests/data/tokenize/nl.txt >"$W/heldout.txt"
bpb() { sed -n 's/.*"bits_per_byte": *\([0-9.e+-]*\).*/\1/p' "$1"; }

common='"vocab_size": 500, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 24, "rms_norm_eps": 1e-5,
 "max_position_embeddings": 128, "rope_theta": 10000.0'
cat >"$W/llama3.json" <<JSON
{"model_type": "llama", "architectures": ["LlamaForCausalLM"], $common,
 "tie_word_embeddings": true, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
 "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 32}}
JSON
cat >"$W/qwen3.json" <<JSON
{"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], $common,
 "tie_word_embeddings": true, "attention_bias": false}
JSON
cat >"$W/mistral.json" <<JSON
{"model_type": "mistral", "architectures": ["MistralForCausalLM"], $common,
 "tie_word_embeddings": false, "sliding_window": 16}
JSON

for arch in llama3 qwen3 mistral; do
    d=$W/$arch
    EN_TEXT=tests/data/lm/train.txt EN_HELDOUT=tests/data/lm/heldout.txt BASE_VOCAB=500 \
        BASE_CONFIG=$W/$arch.json BASE_STEPS=20 BASE_BATCH=4 BASE_SEQ=64 \
        tools/pipeline/base-model.sh "$d/base" 2>"$d.base.log" || { cat "$d.base.log"; fail "$arch: base model"; }
    BASE=$d/base MONO=$W/mono.txt PARALLEL=tests/data/transfer/en-nl-train.tsv.gz \
        HELDOUT=$W/heldout.txt VOCAB=500 STEPS=4 EVAL_EVERY=2 BATCH=2 SEQ=64 LR=1e-2 OUT=$d/out \
        METHODS="trans random" TRAIN_METHODS=trans \
        tools/adapt-language nl >"$d.run.log" 2>&1 || { cat "$d.run.log"; fail "$arch: adapt-language"; }
    for f in work/table.tsv work/init/trans.safetensors nld.pack/pack.json \
        nld.pack/adapter/adapter_model.safetensors hf/config.json hf/model.safetensors nld.gguf \
        report.md; do
        [ -s "$d/out/$f" ] || { cat "$d.run.log"; fail "$arch: no $f"; }
    done
    grep -q "| trans | [0-9]" "$d/out/report.md" || fail "$arch: report has no trans-tokenization row"
    python3 - "$d" "$arch" <<'PY' || fail "$arch: the HF export or the GGUF lost the architecture"
import json, struct, sys
d, arch = sys.argv[1:]
c = json.load(open(d + '/out/hf/config.json'))
b = open(d + '/out/hf/model.safetensors', 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
names = set(json.loads(b[8:8 + n])) - {'__metadata__'}
g = open(d + '/out/nld.gguf', 'rb').read(1 << 16)
assert c['vocab_size'] == 500 and c['head_dim'] == 24, c
if arch == 'llama3':
    rs = c.get('rope_scaling') or c.get('rope_parameters')
    assert c['model_type'] == 'llama' and rs and rs.get('rope_type', rs.get('type')) == 'llama3', c
    assert rs['factor'] == 8 and rs['original_max_position_embeddings'] == 32, rs
    assert b'rope_freqs.weight' in g and b'llama' in g
elif arch == 'qwen3':
    assert c['model_type'] == 'qwen3', c
    assert 'model.layers.1.self_attn.q_norm.weight' in names, sorted(names)
    assert 'model.layers.1.self_attn.k_norm.weight' in names
    assert 'model.layers.0.self_attn.q_proj.bias' not in names
    assert b'qwen3' in g and b'attn_q_norm' in g
else:
    assert c['model_type'] == 'mistral' and c['sliding_window'] == 16, c
    assert 'lm_head.weight' in names
print(arch + ': HF export and GGUF keep the architecture')
PY
    "$LG_BIN/lm" eval "$d/base" --pack "$d/out/nld.pack" --text "$W/heldout.txt" --json \
        >"$d.eval-pack.json" || fail "$arch: lm eval of the pack (adapter unmerged)"
    "$LG_BIN/lm" eval "$d/out/hf" --text "$W/heldout.txt" --tokenizer "$d/out/hf/tokenizer.model" \
        --json >"$d.eval-hf.json" || fail "$arch: lm eval of the HF export (merged)"
    p=$(bpb "$d.eval-pack.json") h=$(bpb "$d.eval-hf.json")
    awk -v a="$p" -v b="$h" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-6 * a) }' ||
        fail "$arch: the merged HF export ($h) and the pack with its adapter ($p) differ"
    echo "$arch: adapt-language ran; bits per byte, pack (LoRA unmerged) $p, HF export (merged) $h"
done
echo "pipeline_archs: llama3-scaled, qwen3 and mistral-window bases through adapt-language"
