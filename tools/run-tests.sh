#!/bin/sh
# Runs each cmocka test binary given and each integration script tests/*.sh, then prints one
# closing line "tests: N passed, N failed, N skipped".
# A test that exits 77 was skipped (it could not run here, e.g. a prebuilt tool for another
# architecture): it is reported as SKIP and counted apart, never as a pass.
# LG_BIN names the folder of the programs under test (bin or build/asan/bin).
set -u
: "${LG_BIN:=bin}"
export LG_BIN
# idle OpenMP threads sleep instead of spinning: tests share the machine with each other's
# leftovers and with whatever else runs on a CI host
export OMP_WAIT_POLICY=PASSIVE
pass=0; fail=0; skip=0; failed=""; skipped=""
for t in "$@" tests/*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    case "$t" in *.sh) run="sh $t" ;; *) run="$t" ;; esac
    log="build/$(echo "$LG_BIN" | tr / -)-$name.log"
    $run >"$log" 2>&1
    rc=$?
    # a cmocka binary that skipped a case (skip()) did not pass it
    [ "$rc" -eq 0 ] && grep -q '^\[  SKIPPED \]' "$log" && rc=77
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1)); echo "PASS $name"
    elif [ "$rc" -eq 77 ]; then
        skip=$((skip + 1)); skipped="$skipped $name"
        echo "SKIP $name: $(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:* *//')"
    else
        fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (log: $log)"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
done
echo "programs under test: $LG_BIN"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$skip" -eq 0 ] || echo "skipped:$skipped"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
