#!/bin/sh
# Runs each cmocka test binary given and each integration script tests/*.sh,
# then prints one closing line "N passed, N failed".
# LG_BIN names the folder of the programs under test (bin or build/asan/bin).
set -u
: "${LG_BIN:=bin}"
export LG_BIN
# idle OpenMP threads sleep instead of spinning: tests share the machine with each other's
# leftovers and with whatever else runs on a CI host
export OMP_WAIT_POLICY=PASSIVE
pass=0; fail=0; failed=""
for t in "$@" tests/*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    case "$t" in *.sh) run="sh $t" ;; *) run="$t" ;; esac
    log="build/$(echo "$LG_BIN" | tr / -)-$name.log"
    if $run >"$log" 2>&1; then
        pass=$((pass + 1)); echo "PASS $name"
    else
        fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (log: $log)"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
done
echo "programs under test: $LG_BIN"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
