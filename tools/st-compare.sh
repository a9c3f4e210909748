#!/bin/sh
# Compares the tensors of two safetensors files lingraft wrote for the same model (the same
# header: names, shapes, float32): prints the relative difference of the whole, |a - b| / |a|
# (Euclidean norms over every float), and the largest difference of one float relative to
# the largest magnitude in the file; fails when the first is above TOL. Used by the
# data-parallel tests (issue 14), where two runs differ only in the order of additions.
# Usage: tools/st-compare.sh A.safetensors B.safetensors TOL
set -eu
a=$1; b=$2; tol=$3
hdr() { od -An -tu8 -N8 "$1" | tr -d ' '; }
na=$(hdr "$a"); nb=$(hdr "$b")
if [ "$na" != "$nb" ] || ! cmp -s -n $((8 + na)) "$a" "$b"; then
    echo "st-compare: $a and $b have different headers (tensors or shapes)" >&2; exit 1
fi
head -c $((8 + na)) "$a" | grep -q 'F32' || { echo "st-compare: $a: not float32" >&2; exit 1; }
if head -c $((8 + na)) "$a" | grep -Eq '"(F16|BF16|F64|I[0-9]+)"'; then
    echo "st-compare: $a: not only float32" >&2; exit 1
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
od -An -v -tf4 -w4 -j $((8 + na)) "$a" >"$tmp"
od -An -v -tf4 -w4 -j $((8 + na)) "$b" | paste "$tmp" - |
awk -v tol="$tol" -v A="$a" -v B="$b" '
    { x = $1 + 0; y = $2 + 0; d = x - y; if (d < 0) d = -d
      s2 += x * x; d2 += d * d; if (d > dmax) dmax = d
      m = x < 0 ? -x : x; if (m > amax) amax = m; n++ }
    END { if (n == 0 || s2 == 0) { print "st-compare: no data" > "/dev/stderr"; exit 1 }
          rel = sqrt(d2 / s2)
          printf "st-compare: %d floats: |a-b|/|a| = %.3g; largest difference %.3g of max |a| %.3g\n", n, rel, dmax, amax
          if (rel > tol) { printf "st-compare: above %s: %s vs %s\n", tol, A, B > "/dev/stderr"; exit 1 } }'
