#!/bin/sh
# An 8B-shaped base's tables (issue 17), not part of `make test`: a base directory whose
# config is Llama-3-8B's (hidden 4096, vocabulary 128256, untied) and whose model.safetensors
# holds only embed_tokens and lm_head, random bf16 (2 GiB; the other layers left out), then
# `transfer init --method trans` onto a new tokenizer with an alignment table: wall time and
# peak RSS (/usr/bin/time) against the size of the tables written, the load average before.
# Usage: tools/bench/tables8b.sh BASE_TOKENIZER NEW_TOKENIZER TABLE.tsv
#        (the table aligned from BASE_TOKENIZER's ids to NEW_TOKENIZER's: `transfer align`;
#        README's figures: the demo's models/base-en/tokenizer.model, out/nl/work/tok.model and
#        table.tsv, and the Llama-3 tokenizer.json of build/npm with a table aligned over
#        corpora/build/nl/en-nl.tsv.gz)
set -eu
[ $# -eq 3 ] || { echo "usage: $0 BASE_TOKENIZER NEW_TOKENIZER TABLE.tsv" >&2; exit 2; }
T=${TRANSFER:-bin/transfer}
DIR=${BF16_DIR:-build/bench/bf16}
BASE=$DIR/llama-3-8b-tables
mkdir -p "$BASE"
if [ ! -f "$BASE/model.safetensors" ]; then
    cat >"$BASE/config.json" <<'JSON'
{"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":128256,
 "hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
 "intermediate_size":14336,"max_position_embeddings":8192,"rms_norm_eps":1e-05,
 "rope_theta":500000.0,"tie_word_embeddings":false,"hidden_act":"silu","bos_token_id":128000,
 "eos_token_id":128001,"torch_dtype":"bfloat16"}
JSON
    # random finite bf16: the high byte of each value 0x3c or 0xbc (|x| about 0.004-0.03)
    python3 - "$BASE/model.safetensors" <<'PY'
import json, os, struct, sys
V, C = 128256, 4096
n = V * C * 2
names = ["lm_head.weight", "model.embed_tokens.weight"]
hdr = {"__metadata__": {"format": "pt"}}
for i, name in enumerate(names):
    hdr[name] = {"dtype": "BF16", "shape": [V, C], "data_offsets": [i * n, (i + 1) * n]}
h = json.dumps(hdr, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
hi = bytes((0x3c | (b & 0x80)) for b in range(256))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for _ in names:
        for r in range(0, V, 1024):
            block = bytearray(os.urandom(min(1024, V - r) * C * 2))
            block[1::2] = bytes(block[1::2]).translate(hi)
            f.write(block)
PY
fi
rm -f "$DIR/tables8b.safetensors"
load=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/time -f "%e %M" -o "$DIR/time" "$T" init --base "$BASE" --base-tokenizer "$1" \
    --tokenizer "$2" --table "$3" --method trans -o "$DIR/tables8b.safetensors" --force
set -- $(cat "$DIR/time")
out=$(stat -c %s "$DIR/tables8b.safetensors")
printf 'transfer init --method trans, 8B tables: wall %.1f s  peak RSS %.0f MiB  tables written %.0f MiB (%.2fx)  load %s\n' \
    "$1" "$(($2 / 1024))" "$(echo "$out / 1048576" | bc -l)" "$(echo "$2 * 1024 / $out" | bc -l)" "$load"
