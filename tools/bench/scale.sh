#!/bin/sh
# make bench-scale (issue 14): how lingraft's data parallelism and threads scale on this
# machine, each figure against a reference measured in the same run.
#   training: tokens/s of `lm train` on the small shape (hidden 512, 8 layers), the same
#             global batch for 1 rank × 1 thread (the reference), 1 rank × 2 threads and
#             2 ranks × 1 thread, full and LoRA (r 8 on q,v); the median over the steps
#             after the first two; peak RSS of a rank
#   alignment: `transfer align` (the full default run) on ALIGN_SRC/ALIGN_TGT (default:
#             build/nl/{src,tgt}.ids, the nl demo's ids; skipped when absent), 1 × 1 (the
#             reference), 1 rank × 2 threads, 2 ranks × 1 thread; the tables must be
#             byte-identical
#   allreduce: seconds of summing the gradient sizes across 2 local ranks (lm bench
#             --allreduce), for README's scaling model
# Environment: SCALE_STEPS (10), SCALE_SEQ (64), SCALE_BATCH (global batch, 8),
#              SCALE_ALIGN (1; 0 skips the alignment), BENCH_OUT (build/bench-scale).
# Output: the table on stdout and BENCH_OUT/results.txt.
set -eu
OUT=${BENCH_OUT:-build/bench-scale}
STEPS=${SCALE_STEPS:-10}
SEQ=${SCALE_SEQ:-64}
GB=${SCALE_BATCH:-8}
ALIGN=${SCALE_ALIGN:-1}
ALIGN_SRC=${ALIGN_SRC:-build/nl/src.ids}
ALIGN_TGT=${ALIGN_TGT:-build/nl/tgt.ids}
D=tests/data/lm
mkdir -p "$OUT"
# private copies: others may rebuild bin/ while this runs
cp bin/lm "$OUT/lm"; cp bin/transfer "$OUT/transfer"
LM=$OUT/lm; TR=$OUT/transfer
tools/mpirun-local --check "$LM" >/dev/null || { echo "bench-scale: needs mpirun and an MPI build" >&2; exit 1; }
export OMP_WAIT_POLICY=PASSIVE LG_NO_PROGRESS=1
RES=$OUT/results.txt
: >"$RES"
say() { echo "$*" | tee -a "$RES"; }
now() { date +%s.%N; }
# the median of numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$LM" init --preset small --tokenizer $D/en.model --seed 1 -o "$OUT/model" --force >/dev/null
say "lingraft bench-scale, $(git describe --always --dirty 2>/dev/null || echo '?'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say ""
say "training tokens/s, small shape (hidden 512, 8 layers), global batch $GB x $SEQ tokens, steps 3-$STEPS"
say "$(printf '%-6s %-18s %10s %8s %12s' mode 'ranks x threads' tokens/s ratio 'peak RSS MiB')"
for mode in lora full; do
    case $mode in lora) extra="--lora-r 8 --lora-alpha 16" ;; full) extra="" ;; esac
    ref=""
    for cfg in "1 1" "1 2" "2 1"; do
        set -- $cfg
        ranks=$1 threads=$2 b=$((GB / $1))
        rm -rf "$OUT/run" "$OUT/log"
        args="$OUT/model --text $D/train.txt --tokenizer $D/en.model --steps $STEPS --batch $b
              --seq-len $SEQ --threads $threads --seed 3 -q -o $OUT/run --log $OUT/log $extra"
        if [ "$ranks" -eq 1 ]; then
            # shellcheck disable=SC2086
            /usr/bin/time -f %M -o "$OUT/rss" "$LM" train $args
        else
            # shellcheck disable=SC2086
            /usr/bin/time -f %M -o "$OUT/rss" tools/mpirun-local "$ranks" "$LM" train $args >/dev/null
        fi
        tps=$(grep '"tokens_per_s"' "$OUT/log" | sed -n "3,\$p" |
              sed 's/.*"tokens_per_s": \([0-9.]*\).*/\1/' | median)
        [ -n "$ref" ] || ref=$tps
        say "$(printf '%-6s %-18s %10.0f %8.2f %12.0f' $mode "$ranks x $threads" "$tps" \
            "$(awk -v a="$tps" -v b="$ref" 'BEGIN { print a / b }')" \
            "$(awk '{ print $1 / 1024 }' "$OUT/rss")")"
    done
done

say ""
say "allreduce (lm bench --allreduce, 2 local ranks, median of 9): LoRA r8 q,v of small and of"
say "Llama-3.2-1B, full small, 256 MiB"
for f in 114688 851968 23732736 67108864; do
    line=$(tools/mpirun-local 2 "$LM" bench --allreduce $f --steps 9 | grep allreduce)
    s=$(echo "$line" | sed 's/.*"seconds_median":\([0-9.e-]*\).*/\1/')
    bw=$(echo "$line" | sed 's/.*"algbw_gbytes_per_s":\([0-9.e-]*\).*/\1/')
    say "$(printf '%12d floats %10.2f MiB  %10.6f s  %7.2f GB/s' $f "$(awk -v f=$f 'BEGIN { print f * 4 / 1048576 }')" "$s" "$bw")"
done

if [ "$ALIGN" = 1 ] && [ -s "$ALIGN_SRC" ] && [ -s "$ALIGN_TGT" ]; then
    say ""
    say "transfer align, $(wc -l <"$ALIGN_SRC") pairs ($ALIGN_SRC), default run (Model 1 then 2, both directions)"
    say "$(printf '%-18s %10s %8s %12s' 'ranks x threads' seconds speedup 'peak RSS MiB')"
    ref=""
    for cfg in "1 1" "1 2" "2 1"; do
        set -- $cfg
        t0=$(now)
        if [ "$1" -eq 1 ]; then
            /usr/bin/time -f %M -o "$OUT/rss" "$TR" align --src "$ALIGN_SRC" --tgt "$ALIGN_TGT" \
                --threads "$2" -o "$OUT/table-$1x$2.tsv" --force 2>/dev/null
        else
            /usr/bin/time -f %M -o "$OUT/rss" tools/mpirun-local "$1" "$TR" align --src "$ALIGN_SRC" \
                --tgt "$ALIGN_TGT" --threads "$2" -o "$OUT/table-$1x$2.tsv" --force >/dev/null 2>&1
        fi
        sec=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
        [ -n "$ref" ] || ref=$sec
        say "$(printf '%-18s %10.1f %8.2f %12.0f' "$1 x $2" "$sec" \
            "$(awk -v a="$sec" -v b="$ref" 'BEGIN { print b / a }')" "$(awk '{ print $1 / 1024 }' "$OUT/rss")")"
    done
    cmp -s "$OUT/table-1x1.tsv" "$OUT/table-1x2.tsv" && cmp -s "$OUT/table-1x1.tsv" "$OUT/table-2x1.tsv" &&
        say "tables: byte-identical" || { say "tables: DIFFER"; exit 1; }
fi
say ""
say "load after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every row)"
