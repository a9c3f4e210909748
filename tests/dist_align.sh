#!/bin/sh
# transfer align on threads and MPI ranks (issue 14): the table and the links are the same
# file, byte for byte, for 1, 2 and 3 threads, for 2 ranks × 1 thread and 2 ranks × 2
# threads (expected counts are summed in fixed point, so the order of the additions does
# not matter), for both symmetrisations that write counts differently; only rank 0 writes
# and speaks. (The table's 6 digits hide most rounding; test_align's
# same_for_any_thread_count compares the counts bit for bit.) Without mpirun or without
# MPI in the build, the thread part runs and the test reports SKIP for the rest.
set -eu
T="$LG_BIN/transfer"
W=$(mktemp -d build/dist_align.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 6000 pairs (enough for the threaded table build) of 2-24 tokens: source id s translates
# to target id s + 1000 with some reordering, plus noise tokens on both sides, so that the
# expected counts are fractions whose sums would depend on their order in floating point
awk -v out="$W" 'BEGIN { x = 4242; for (k = 0; k < 6000; k++) {
    x = (x * 16807) % 2147483647; n = 2 + x % 23; s = ""; t = ""
    for (i = 0; i < n; i++) { x = (x * 16807) % 2147483647; id[i] = x % 700; s = s (i ? " " : "") id[i] }
    for (i = 0; i < n; i++) {
        x = (x * 16807) % 2147483647; j = (x % 4 == 0 && i + 1 < n) ? i + 1 : i
        x = (x * 16807) % 2147483647; v = (x % 7 == 0) ? 1700 + x % 50 : id[j] + 1000
        t = t (i ? " " : "") v }
    print s > (out "/src.ids"); print t > (out "/tgt.ids") } }'

run() { # NAME RANKS THREADS [options]
    name=$1 ranks=$2 threads=$3; shift 3
    if [ "$ranks" -eq 1 ]; then
        "$T" align --src "$W/src.ids" --tgt "$W/tgt.ids" --threads "$threads" \
            -o "$W/$name.tsv" --links "$W/$name.links" "$@" 2>"$W/err" || { cat "$W/err" >&2; fail "$name"; }
    else
        tools/mpirun-local "$ranks" "$T" align --src "$W/src.ids" --tgt "$W/tgt.ids" \
            --threads "$threads" -o "$W/$name.tsv" --links "$W/$name.links" "$@" >"$W/err" 2>&1 ||
            { rc=$?; [ $rc -eq 77 ] && return 77; cat "$W/err" >&2; fail "$name"; }
    fi
}
same() { # REFERENCE NAME
    cmp "$W/$1.tsv" "$W/$2.tsv" || fail "$2: another table than $1"
    cmp "$W/$1.links" "$W/$2.links" || fail "$2: other links than $1"
}

run t1 1 1
[ "$(grep -vc '^#' "$W/t1.tsv")" -gt 1000 ] || fail "a table of $(grep -vc '^#' "$W/t1.tsv") entries"
run t2 1 2 && same t1 t2
run t3 1 3 && same t1 t3
run g1 1 1 --sym gdfa
run g2 1 2 --sym gdfa && same g1 g2
echo "threads: the same table and links for 1, 2 and 3 threads"

set +e
run r2 2 1
rc=$?
set -e
if [ $rc -eq 77 ]; then
    echo "SKIP: no MPI here (the thread part passed)"; exit 77
fi
same t1 r2
[ ! -e "$W/r2.tsv.tmp" ] || fail "a temporary table was left"
run r2t2 2 2 -v && same t1 r2t2
# the ranks shared the work and only rank 0 spoke (each rank alone would print its own)
[ "$(grep -c '^align fwd iteration 1 ' "$W/err")" -eq 1 ] || { cat "$W/err" >&2; fail "verbose lines"; }
run gr2 2 1 --sym gdfa && same g1 gr2
echo "ranks: 2 ranks x 1 and x 2 threads write the table and links of 1 process"
echo "dist_align: ok"
