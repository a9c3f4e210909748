#!/bin/sh
# transfer align from the command line: table and links written, bad input refused with a
# message naming the file, and no output left behind on failure.
set -eu
T="$LG_BIN/transfer"
dir=$(mktemp -d build/transfer_align.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$T" --help | grep -q align || fail "transfer --help does not list align"
"$T" align --help | grep -q -- "--links" || fail "transfer align --help does not list --links"

# A corpus where source id s always translates to target id s + 100, the target side
# reversed in every other line; ids drawn by a Lehmer generator (the same on every awk).
awk -v out="$dir" 'BEGIN { x = 12345; for (k = 0; k < 400; k++) {
    n = 3 + k % 5; s = ""; t = "";
    for (i = 0; i < n; i++) { x = (x * 16807) % 2147483647; id[i] = x % 40; s = s (i ? " " : "") id[i] }
    for (i = 0; i < n; i++) { j = (k % 2) ? n - 1 - i : i; t = t (i ? " " : "") id[j] + 100 }
    print s > (out "/src.ids"); print t > (out "/tgt.ids") } }'

"$T" align --src "$dir/src.ids" --tgt "$dir/tgt.ids" -o "$dir/table.tsv" --links "$dir/links.txt" \
    --threads 2 2>"$dir/err" || { cat "$dir/err"; fail "align failed"; }
[ -s "$dir/table.tsv" ] || fail "no table"
awk -F'\t' '/^#/ { next } NF != 4 || $3 <= 0 || $3 > 1 || $4 <= 0 { bad = 1 } END { exit bad }' "$dir/table.tsv" \
    || fail "malformed table line"
# the most probable source of every target token is its dictionary entry
awk -F'\t' '/^#/ { next } !($1 in seen) { seen[$1] = 1; if ($2 + 100 != $1) bad++ } END { exit bad > 0 }' \
    "$dir/table.tsv" || fail "dictionary not recovered"
[ "$(wc -l <"$dir/links.txt")" -eq 400 ] || fail "links: expected one line per pair"
grep -qE '^[0-9]+-[0-9]+( [0-9]+-[0-9]+)*$' "$dir/links.txt" || fail "links are not Pharaoh i-j"

# the same through one src<TAB>tgt file, gzip'ed
paste "$dir/src.ids" "$dir/tgt.ids" | gzip >"$dir/both.tsv.gz"
"$T" align --tsv "$dir/both.tsv.gz" -o "$dir/table2.tsv" --threads 2 2>/dev/null || fail "--tsv failed"
cmp -s "$dir/table.tsv" "$dir/table2.tsv" || fail "--tsv gives another table than --src/--tgt"

# bad input: a clear message, exit 1, no output
head -n 399 "$dir/tgt.ids" >"$dir/short.ids"
if "$T" align --src "$dir/src.ids" --tgt "$dir/short.ids" -o "$dir/out.tsv" 2>"$dir/err"; then
    fail "different line counts accepted"
fi
grep -q "src.ids has 400 lines but .*short.ids has 399" "$dir/err" || { cat "$dir/err"; fail "line counts not named"; }
sed '5s/.*//' "$dir/tgt.ids" >"$dir/hole.ids"
"$T" align --src "$dir/src.ids" --tgt "$dir/hole.ids" -o "$dir/out.tsv" 2>"$dir/err" && fail "empty line accepted"
grep -q "hole.ids:5: empty line" "$dir/err" || { cat "$dir/err"; fail "empty line not named"; }
sed '7s/$/ 12a/' "$dir/tgt.ids" >"$dir/word.ids"
"$T" align --src "$dir/src.ids" --tgt "$dir/word.ids" -o "$dir/out.tsv" 2>"$dir/err" && fail "non-integer accepted"
grep -q "word.ids:7: '12a' is not a token id" "$dir/err" || { cat "$dir/err"; fail "bad token not named"; }
"$T" align --src "$dir/nope.ids" --tgt "$dir/tgt.ids" -o "$dir/out.tsv" 2>"$dir/err" && fail "missing file accepted"
grep -q "nope.ids" "$dir/err" || fail "missing file not named"
[ ! -e "$dir/out.tsv" ] || fail "output left behind after an error"
ls "$dir" | grep -q tmp && fail "temporary file left behind"
echo "transfer align: ok"
