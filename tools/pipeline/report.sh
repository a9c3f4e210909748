#!/bin/sh
# The report: tokenizer statistics, held-out bits per byte per initialisation before and
# after training, the LangSAMP ablation, and a plot of bits per byte against training tokens.
# Usage: report.sh WORK_DIR OUT_DIR  (env: LANG_NAME, LANG3, BATCH, SEQ, STEPS, BASE)
set -eu
STEP=report; . "$(dirname "$0")/lib.sh"
w=$1 out=$2
: "${BATCH:=8}" "${SEQ:=128}" "${STEPS:=150}" "${LANG_NAME:=$LANG3}"
tokens_per_step=$((BATCH * SEQ))
r="$out/report.md.tmp"
# three decimals, or "-" when there is no figure
fmt() { awk -v x="$1" 'BEGIN { if (x == "" || x == "-") print "-"; else printf "%.3f\n", x }'; }
bpb() { [ -s "$1" ] && fmt "$(json_get "$1" bits_per_byte)" || echo "-"; }
# the last held-out bits per byte a training log recorded
last_eval() { [ -s "$1" ] && fmt "$(grep eval_bits_per_byte "$1" | tail -n 1 |
    sed 's/.*"eval_bits_per_byte": *\([^,}]*\).*/\1/')" || echo "-"; }
{
    echo "# lingraft: $LANG_NAME ($LANG3)"
    echo
    echo "Base model: \`$BASE\`. Held-out text: \`$HELDOUT\` (never trained on)."
    echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') by tools/adapt-language."
    echo
    echo "## Tokenizers on the held-out text"
    echo
    echo '```'
    cat "$w/stats.txt"
    echo '```'
    echo
    echo "## Held-out bits per byte by initialisation"
    echo
    echo "Before training: the base model with the new vocabulary's embeddings and head made by"
    echo "each method, nothing else changed. After: $STEPS steps of LoRA (all projections) +"
    echo "trainable embeddings, $tokens_per_step tokens a step, the same data and seed for each."
    echo "Windows: chunks of $SEQ tokens, each token predicted once. Lower is better."
    echo "The base model with its own English tokenizer on the same text:"
    echo "$(bpb "$w/init/eval-base.json") bits per byte."
    echo
    echo "| method | before training | after $STEPS steps |"
    echo "| --- | --- | --- |"
    for f in "$w"/init/eval-*.json; do
        m=$(basename "$f" .json | sed 's/^eval-//')
        [ "$m" = base ] && continue
        after=$(last_eval "$w/train-$m.jsonl")
        echo "| $m | $(bpb "$f") | $after |"
    done
    echo
    if [ -s "$w/train-trans-langsamp.jsonl" ]; then
        echo "## Language and script vectors (LangSAMP)"
        echo
        echo "The trans-tokenized run trained again with a \`$LANG3\` language vector and a"
        echo "\`${SCRIPT:-Latn}\` script vector added to the last block's output."
        echo
        echo "| run | after $STEPS steps |"
        echo "| --- | --- |"
        echo "| without vectors | $(last_eval "$w/train-trans.jsonl") |"
        echo "| with vectors | $(last_eval "$w/train-trans-langsamp.jsonl") |"
        if [ -s "$w/eval-pack-tagged.json" ]; then
            echo "| the pack, evaluated with its vectors | $(bpb "$w/eval-pack-tagged.json") |"
            echo "| the pack, evaluated without them | $(bpb "$w/eval-pack-untagged.json") |"
        fi
        echo
    fi
    if [ -s "$out/bpb.png" ]; then
        echo "## Held-out bits per byte during training"
        echo
        echo "![bits per byte against training tokens](bpb.png)"
        echo
    fi
    echo "## Outputs"
    echo
    echo "- pack: \`$out/$LANG3.pack\` (\`adapt info\` in pack-info.txt)"
    echo "- Hugging Face model: \`$out/hf\`"
    [ -s "$out/$LANG3.gguf" ] && echo "- GGUF: \`$out/$LANG3.gguf\`"
    [ -s "$w/align.seconds" ] && echo "- alignment took $(cat "$w/align.seconds") s"
    true
} >"$r"
# plot: one curve per run, bits per byte against tokens seen
if command -v gnuplot >/dev/null 2>&1; then
    plot=""
    for log in "$w"/train-*.jsonl; do
        [ -s "$log" ] || continue
        name=$(basename "$log" .jsonl | sed 's/^train-//')
        grep eval_bits_per_byte "$log" |
            sed "s/.*\"step\": *\([0-9]*\).*\"eval_bits_per_byte\": *\([^,}]*\).*/\1 \2/" |
            awk -v t="$tokens_per_step" '{ print $1 * t, $2 }' >"$w/curve-$name.dat"
        plot="$plot${plot:+, }'$w/curve-$name.dat' using 1:2 with linespoints title '$name'"
    done
    if [ -n "$plot" ]; then
        gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output '$out/bpb.png.tmp'
set title 'held-out bits per byte, $LANG_NAME'
set xlabel 'training tokens'
set ylabel 'bits per byte'
set grid
set key top right
plot $plot
GP
        mv "$out/bpb.png.tmp" "$out/bpb.png"
    fi
else
    say "gnuplot not found: no plot"
fi
# the plot section needs the PNG: write the report again if it appeared only now
if [ -s "$out/bpb.png" ] && ! grep -q 'bpb.png' "$r"; then
    exec "$0" "$@"
fi
mv "$r" "$out/report.md"
say "report: $out/report.md"
