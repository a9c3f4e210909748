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
# Open MPI's single-copy transfers between local ranks (CMA, process_vm_readv) when this
# machine allows them (the tests turn them off: containers often forbid them); else copies
# through shared memory
if [ -z "${OMPI_MCA_btl_vader_single_copy_mechanism:-}" ] &&
    OMPI_MCA_btl_vader_single_copy_mechanism=cma tools/mpirun-local 2 "$LM" bench \
        --allreduce 4000000 --steps 1 >/dev/null 2>&1; then
    export OMPI_MCA_btl_vader_single_copy_mechanism=cma
fi
RES=$OUT/results.txt
: >"$RES"
say() { echo "$*" | tee -a "$RES"; }
now() { date +%s.%N; }
# the median of numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$LM" init --preset small --tokenizer $D/en.model --seed 1 -o "$OUT/model" --force >/dev/null
say "lingraft bench-scale, $(git describe --always --dirty 2>/dev/null || echo '?'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), local MPI copies: ${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"
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
        [ "$cfg" != "1 2" ] || eval "tps_$mode=$tps"
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

# The scaling model (README): P machines like this one, each 1 rank x 2 threads with this
# run's batch (weak scaling), gradients summed by a ring allreduce after the backward pass
# (not overlapped): t_ar = 2 (P-1)/P S/bw + 2 (P-1) lat, efficiency = t_c / (t_c + t_ar).
# t_c: this run's 1 x 2 step time; Llama-3.2-1B's from the FLOPs (6 N a token for full
# training, 4 N for LoRA, where the frozen weights get no gradient) at the rate the small
# shape's full training reached. Links (assumed, typical published figures, not measured
# here): 10 Gb/s Ethernet over TCP 1.1 GB/s and 20 us; 100 Gb/s InfiniBand 11 GB/s and 2 us.
say ""
say "scaling model: efficiency at 8 and 64 machines (t_c = compute a step, t_ar = allreduce)"
say "$(printf '%-22s %12s %9s %9s | %8s %8s | %8s %8s' shape/mode 'grad MiB' 't_c s' '' '10G P=8' 'P=64' '100G P=8' 'P=64')"
tok=$((GB * SEQ))
awk -v tok="$tok" -v tl="$tps_lora" -v tf="$tps_full" 'BEGIN {
    nsmall = 23732736; n1b = 1235814400
    # small: measured; 1B: full at the FLOP rate of small full, LoRA at 4/6 of full
    rate = 6 * nsmall * tf              # FLOP/s reached by small full training
    c["small LoRA r8 q,v"] = tok / tl;  s["small LoRA r8 q,v"] = 114688 * 4
    c["small full"] = tok / tf;         s["small full"] = nsmall * 4
    c["1B LoRA r8 q,v"] = 4 * n1b * tok / rate;  s["1B LoRA r8 q,v"] = 851968 * 4
    c["1B full"] = 6 * n1b * tok / rate;         s["1B full"] = n1b * 4
    split("small LoRA r8 q,v|small full|1B LoRA r8 q,v|1B full", order, "|")
    for (i = 1; i <= 4; i++) {
        k = order[i]; line = sprintf("%-22s %12.2f %9.3f %9s |", k, s[k] / 1048576, c[k], "")
        for (l = 1; l <= 2; l++) {
            bw = l == 1 ? 1.1e9 : 11e9; lat = l == 1 ? 20e-6 : 2e-6
            for (pi = 1; pi <= 2; pi++) {
                P = pi == 1 ? 8 : 64
                ar = 2 * (P - 1) / P * s[k] / bw + 2 * (P - 1) * lat
                line = line sprintf(" %8.3f", c[k] / (c[k] + ar))
            }
            line = line (l == 1 ? " |" : "")
        }
        print line
    } }' | tee -a "$RES"

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
