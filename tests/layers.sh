#!/bin/sh
# The library's dependencies point one way (tools/check-layers.sh): the tree passes, and a
# copy of it with a core file that includes a pack header, a program that reaches into another
# module's private header, and an unowned public header each fail (negative controls).
set -eu
tools/check-layers.sh
tmp=$(mktemp -d build/layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp -r include lm tokenize transfer adapt corpora "$tmp/"
must_fail() { # WHAT EXPECTED-TEXT
    if tools/check-layers.sh "$tmp" >"$tmp/out" 2>&1; then
        echo "FAIL: $1 passed the check"; exit 1
    fi
    grep -q "$2" "$tmp/out" || { echo "FAIL: $1: no message naming $2"; cat "$tmp/out"; exit 1; }
    echo "refused as expected: $1"
}
cp lm/model.c "$tmp/model.c.orig"
echo '#include "lg_pack.h"' >>"$tmp/lm/model.c"
must_fail "lm/model.c including adapt's lg_pack.h" "lm/model.c (lm) includes lg_pack.h of adapt"
cp "$tmp/model.c.orig" "$tmp/lm/model.c"
echo '#include "lg_ops.h"' >>"$tmp/adapt/cli/cmd_pack.c"
must_fail "adapt's program including lm's private lg_ops.h" "includes lg_ops.h, private to lm"
cp adapt/cli/cmd_pack.c "$tmp/adapt/cli/cmd_pack.c"
echo '/* x */' >"$tmp/include/lg_new.h"
must_fail "a public header no module owns" "lg_new.h: public header with no owning module"
rm "$tmp/include/lg_new.h"
tools/check-layers.sh "$tmp" >/dev/null
echo "layers: ok"
