#!/bin/sh
# corpora: extractors on real package files (tests/data/corpora), the assembly's
# filters and held-out split (no held-out text may reach training text), bad input,
# and a recipe with broken sources that still builds and records the failures.
set -u
: "${LG_BIN:=bin}"
C="$LG_BIN/corpora"
D=tests/data/corpora
W=$(mktemp -d build/corpora-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$C" --help | grep -q assemble || fail "--help does not list the commands"

# --- extractors -------------------------------------------------------------
"$C" mo -o "$W/gettext.pairs" "$D/sed.nl.mo" "$D/libreoffice-acc.nl.mo" || fail "mo"
# 146 + 23 messages (msgunfmt) + the one plural form written as its own pair
[ "$(wc -l <"$W/gettext.pairs")" -eq 170 ] || fail "mo: $(wc -l <"$W/gettext.pairs") records, want 170"
grep -q "$(printf 'libreoffice-acc.nl.mo\tCheck\tActiveren')" "$W/gettext.pairs" || fail "mo: context message"
"$C" help -o "$W/help.pairs" "$D/help/en-US" "$D/help/nl" || fail "help"
[ "$(wc -l <"$W/help.pairs")" -eq 8 ] || fail "help: want 8 paragraphs"
for l in en nl; do
    MANWIDTH=100 man -E UTF-8 --nh --nj -l "$D/man/$l/yes.1.gz" 2>/dev/null | col -bx >"$W/yes.$l.txt"
done
printf 'man1/yes.1\t%s\t%s\n' "$W/yes.en.txt" "$W/yes.nl.txt" >"$W/man.list"
"$C" man -o "$W/man.pairs" --drop-section VERTALING --drop-section COLOPHON "$W/man.list" || fail "man"
grep -q "$(printf 'yes - output a string repeatedly until killed\tyes - herhaal een tekst tot beëindiging')" \
    "$W/man.pairs" || fail "man: NAME paragraph not paired"

"$C" mozilla -o "$W/mozilla.pairs" "$D/mozilla/en" "$D/mozilla/fy" || fail "mozilla"
# Fluent attributes pair by id.attr even when the translation orders them differently
grep -q "$(printf 'global/profileDowngrade.ftl\tCreate New Profile\tNij profyl oanmeitsje')" \
    "$W/mozilla.pairs" || fail "mozilla: Fluent attribute not paired"
grep -q "$(printf 'commonDialogs.properties\tSign in\tOanmelde')" "$W/mozilla.pairs" \
    || fail "mozilla: .properties message not paired"
mkdir -p "$W/moz"
"$C" assemble --lang fy --out "$W/moz" --heldout-permille 0 "$W/mozilla.pairs" || fail "assemble fy"
zcat "$W/moz/en-fy.tsv.gz" >"$W/moz.tsv"
grep -q 'PLATFORM\|min-width\|brand-' "$W/moz.tsv" && fail "Fluent selectors, CSS or terms left in pairs"
grep -q "$(printf '^Save\tBewarje$')" "$W/moz.tsv" || fail "accelerator not removed from '&Save'"

# FreeDict (dictd): three articles copied from dict-freedict-eng-nld, gzip-compressed,
# with an index of base64 offsets/lengths as dictd writes them
printf 'able /eibl/\n1. in staat om\n2. bereid\n' >"$W/a1"
printf 'always /\311\224\313\220lweiz/\naltijd, immer, steeds\n' | sed 's/ij/\xc4\xb3/' >"$W/a2"
printf 'about /\311\231baut/\n1. over\n2. aangaande\n' >"$W/a3"
cat "$W/a1" "$W/a2" "$W/a3" | gzip >"$W/d.dict.dz"
b64() { awk -v n="$1" 'BEGIN { d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    s = ""; do { s = substr(d, n % 64 + 1, 1) s; n = int(n / 64) } while (n > 0); print s }'; }
l1=$(wc -c <"$W/a1"); l2=$(wc -c <"$W/a2"); l3=$(wc -c <"$W/a3")
printf '00databaseshort\tA\tA\nable\t%s\t%s\nalways\t%s\t%s\nabout\t%s\t%s\n' \
    "$(b64 0)" "$(b64 "$l1")" "$(b64 "$l1")" "$(b64 "$l2")" "$(b64 $((l1 + l2)))" "$(b64 "$l3")" >"$W/d.index"
"$C" dictd -o "$W/dict.tsv" "$W/d.index" "$W/d.dict.dz" 2>/dev/null || fail "dictd"
for want in 'able	in staat om' 'able	bereid' 'always	altijd' 'always	steeds' 'about	aangaande'; do
    grep -qx "$want" "$W/dict.tsv" || fail "dictd: '$want' missing"
done
[ "$(wc -l <"$W/dict.tsv")" -eq 7 ] || fail "dictd: $(wc -l <"$W/dict.tsv") entries, want 7"
"$C" dictd -o "$W/rev.tsv" --reverse "$W/d.index" "$W/d.dict.dz" 2>/dev/null || fail "dictd --reverse"
grep -qx 'bereid	able' "$W/rev.tsv" || fail "dictd --reverse: columns not swapped"
printf 'able\tAAAA\tZZZZ\n' >"$W/bad.index"
"$C" dictd -o "$W/bad.tsv" "$W/bad.index" "$W/d.dict.dz" 2>"$W/err" && fail "dictd accepted an article outside the data"
grep -q 'bad.index:1' "$W/err" || fail "dictd error does not name the index line"

# HTML as monolingual running text: head and scripts left out, inline tags dropped
"$C" text -o "$W/page.mono" "$D/help/nl/text/shared/guide/workfolder.html" || fail "text on HTML"
grep -q "$(printf '\t *Uw werkmap wijzigen *$')" "$W/page.mono" || fail "html: heading not a paragraph"
grep -q 'Extra - Opties - LibreOffice - Paden' "$W/page.mono" || fail "html: paragraph text missing"
grep -q '<\|function\|text/javascript' "$W/page.mono" && fail "html: tags or script left in text"

# --- bad input: clear message naming the file, no output left ---------------
if "$C" mo -o "$W/bad.pairs" "$D/man/en/yes.1.gz" 2>"$W/err"; then fail "mo accepted a man page"; fi
grep -q "yes.1.gz" "$W/err" || fail "error message does not name the file: $(cat "$W/err")"
[ ! -e "$W/bad.pairs" ] || fail "half-written output left behind"
ls "$W" | grep -q 'bad.pairs.tmp' && fail "temporary file left behind"

# --- assembly: many documents, text repeated across documents ----------------
# Real records spread over 40 documents; every record appears in two documents,
# so a held-out document always shares its text with a training document.
awk -F'\t' 'BEGIN { OFS = "\t" } { d = int(NR / 5); print "doc" d, $2, $3; print "doc" ((d + 7) % 40), $2, $3 }' \
    "$W/gettext.pairs" >"$W/spread.pairs"
cut -f1,3 "$W/help.pairs" >"$W/extra.mono"
mkdir -p "$W/out"
"$C" assemble --lang nl --out "$W/out" --heldout-permille 300 \
    "$W/spread.pairs" "$W/help.pairs" "$W/man.pairs" "$W/extra.mono" || fail "assemble"
for f in mono.txt.gz en-nl.tsv.gz heldout.txt heldout.en-nl.tsv counts.json; do
    [ -s "$W/out/$f" ] || fail "assemble: $f missing or empty"
done
zcat "$W/out/en-nl.tsv.gz" >"$W/train.tsv"
zcat "$W/out/mono.txt.gz" >"$W/mono.txt"
awk -F'\t' 'NF != 2 { bad = 1 } END { exit bad }' "$W/train.tsv" || fail "a training line without exactly two fields"
[ -z "$(sort "$W/train.tsv" | uniq -d)" ] || fail "duplicate training pairs"
[ -z "$(sort "$W/mono.txt" | uniq -d)" ] || fail "duplicate mono lines"
grep -q '%s\|%d\|~' "$W/train.tsv" && fail "placeholders or accelerators left in training pairs"
# held-out text never in training text, on either side
sort -u "$W/out/heldout.txt" >"$W/h.sorted"
cut -f1 "$W/out/heldout.en-nl.tsv" | sort -u >"$W/h.en.sorted"
sort -u "$W/mono.txt" >"$W/m.sorted"
cut -f2 "$W/train.tsv" | sort -u >"$W/t.sorted"
cut -f1 "$W/train.tsv" | sort -u >"$W/t.en.sorted"
[ -z "$(comm -12 "$W/h.sorted" "$W/m.sorted")" ] || fail "held-out text in mono.txt.gz"
[ -z "$(comm -12 "$W/h.sorted" "$W/t.sorted")" ] || fail "held-out text in the training pairs"
[ -z "$(comm -12 "$W/h.en.sorted" "$W/t.en.sorted")" ] || fail "held-out English in the training pairs"
grep -q '"equals_heldout":	[1-9]' "$W/out/counts.json" || fail "the overlap guard never fired"
# mono holds the target side of the training pairs plus the mono-only source
[ -z "$(comm -23 "$W/t.sorted" "$W/m.sorted")" ] || fail "training targets missing from mono"
grep -qx 'Uw werkmap wijzigen' "$W/mono.txt" "$W/out/heldout.txt" || fail "mono-only source missing"
# the split is fixed: a second run gives the same held-out text
mkdir -p "$W/out2"
"$C" assemble --lang nl --out "$W/out2" --heldout-permille 300 \
    "$W/spread.pairs" "$W/help.pairs" "$W/man.pairs" "$W/extra.mono" 2>/dev/null || fail "assemble again"
cmp -s "$W/out/heldout.txt" "$W/out2/heldout.txt" || fail "held-out split not reproducible"
"$C" assemble --lang nl --out "$W/out" "$W/gettext.txt" 2>"$W/err" && fail "accepted an input not named .pairs/.mono"
grep -q gettext.txt "$W/err" || fail "bad input name not reported"

# --- a recipe with failing sources still builds, and the manifest says why ---
mkdir -p "$W/recipes"
cat >"$W/recipes/xx.sh" <<'RECIPE'
SOURCES="good:pairs broken:pairs empty:mono"
LICENCE_good="GPL-3+ (sed)"
src_good() { "$CORPORA" mo -o "$1" "$ROOT/tests/data/corpora/sed.nl.mo"; }
src_broken() { "$CORPORA" mo -o "$1" "$ROOT/tests/data/corpora/no-such-catalog.mo"; }
src_empty() { : >"$1"; }
RECIPE
LG_CORPORA_RECIPES="$W/recipes" LG_CORPORA_OUT="$W/build" LG_CORPORA_CACHE="$W/cache" \
    sh corpora/build.sh xx 2>"$W/build.err" || fail "build with a broken source failed: $(cat "$W/build.err")"
M="$W/build/xx/MANIFEST.json"
[ -s "$M" ] || fail "no MANIFEST.json"
grep -q 'broken: FAILED' "$W/build.err" || fail "failure of a source not reported"
tr -d ' \t\n' <"$M" >"$W/m.flat"
grep -q '"missing":\["broken","empty"\]' "$W/m.flat" || fail "manifest does not list the failed sources"
grep -q 'no-such-catalog.mo' "$M" || fail "manifest does not say why a source failed"
grep -q '"name":"good","status":"ok"' "$W/m.flat" || fail "good source not ok"
grep -q '"pairs_kept":[1-9]' "$W/m.flat" || fail "no counts in the manifest"
for f in mono.txt.gz en-xx.tsv.gz heldout.txt; do
    grep -q "\"name\":\"$f\",\"sha256\":\"$(sha256sum "$W/build/xx/$f" | cut -c1-64)\"" "$W/m.flat" \
        || fail "manifest sha256 of $f wrong or missing"
done
echo "corpora pipeline: ok"
