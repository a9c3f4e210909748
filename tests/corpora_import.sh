#!/bin/sh
# corpora import: each downloaded format (TMX, Moses, TSV, plain text, JSON Lines; gzip, xz,
# zstd told by magic bytes) into a corpus with the recipes' filters and held-out split, and
# bad input: one message naming the file and line, exit 1, no output directory.
set -u
: "${LG_BIN:=bin}"
C="$LG_BIN/corpora"
D=tests/data/corpora/import
mkdir -p build
W=$(mktemp -d build/corpora-import-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# pairs DIR: the training pairs; mono DIR: the monolingual lines
pairs() { gzip -dc "$1/en-nl.tsv.gz"; }
mono() { gzip -dc "$1/mono.txt.gz"; }
# count DIR SOURCE KEY: a number from MANIFEST.json's counts of a source
count() {
    python3 -c 'import json, sys
m = json.load(open(sys.argv[1] + "/MANIFEST.json"))
s = [s for s in m["sources"] if s["name"] == sys.argv[2]][0]
k = sys.argv[3]
print(s["counts"]["dropped"][k] if k in s["counts"]["dropped"] else s["counts"][k])' "$1" "$2" "$3"
}

# the format tests hold nothing out (--heldout-permille 0) to count every segment; the held-out
# split is tested with all formats together below
"$C" --help | grep -q import || fail "corpora --help does not list import"
"$C" import --help | grep -q -- '--tmx FILE' || fail "import --help"

# --- TMX: en and nl by xml:lang (en-US, nl-NL, TMX 1.1 lang="NL_BE" too), inline codes
# (<ph>) dropped, entities and CDATA read, a third language ignored ---------------------
"$C" import --heldout-permille 0 --lang nl -o "$W/tmx" --tmx "$D/sample.en-nl.tmx" 2>"$W/err" || fail "tmx: $(cat "$W/err")"
[ "$(pairs "$W/tmx" | wc -l)" -eq 16 ] || fail "tmx: $(pairs "$W/tmx" | wc -l) pairs, want 16"
pairs "$W/tmx" | grep -qx "$(printf 'Save & close now\tOpslaan & sluiten nu')" \
    || fail "tmx: the <tu> with en-US/nl-NL and <ph> codes"
pairs "$W/tmx" | grep -qx "$(printf 'We are going to the market tomorrow.\tWe gaan morgen naar de markt.')" \
    || fail "tmx: TMX 1.1 lang=\"EN\"/\"NL_BE\" with CDATA"
pairs "$W/tmx" | grep -q 'Speichern' && fail "tmx: the de tuv was read"
for f in mono.txt.gz en-nl.tsv.gz heldout.txt heldout.en-nl.tsv counts.json SHA256SUMS MANIFEST.json; do
    [ -f "$W/tmx/$f" ] || fail "tmx: $f missing"
done
(cd "$W/tmx" && sha256sum -c --quiet SHA256SUMS) || fail "tmx: SHA256SUMS does not match the files"
want=$(sha256sum "$D/sample.en-nl.tmx" | cut -d' ' -f1)
grep -q "\"sha256\":[[:space:]]*\"$want\"" "$W/tmx/MANIFEST.json" || fail "tmx: the input's sha256 not in MANIFEST.json"
grep -q '"made_by":[[:space:]]*"corpora import"' "$W/tmx/MANIFEST.json" || fail "MANIFEST.json: made_by"
[ "$(count "$W/tmx" sample.en-nl pairs_kept)" -eq 16 ] || fail "tmx: MANIFEST.json counts"

# the same TMX compressed with xz (and so named .xz): the same corpus
"$C" import --heldout-permille 0 --lang nl -o "$W/tmx-xz" --tmx "$D/sample.en-nl.tmx.xz" || fail "tmx.xz"
[ "$(pairs "$W/tmx-xz")" = "$(pairs "$W/tmx")" ] || fail "tmx.xz gives other pairs than the plain file"
grep -q '"compression":[[:space:]]*"xz"' "$W/tmx-xz/MANIFEST.json" || fail "tmx.xz: compression not recorded"

# the same TMX in UTF-16 (with a byte order mark, as Windows tools write it)
"$C" import --heldout-permille 0 --lang nl -o "$W/tmx16" --tmx "$D/utf16.en-nl.tmx" || fail "UTF-16 TMX"
[ "$(pairs "$W/tmx16")" = "$(pairs "$W/tmx")" ] || fail "the UTF-16 TMX gives other pairs"

# a multilingual memory with a <tu> lacking nl: --skip-incomplete skips and counts it
"$C" import --heldout-permille 0 --lang nl -o "$W/skip" --tmx "$D/bad/no-target.tmx" --skip-incomplete \
    || fail "--skip-incomplete"
[ "$(pairs "$W/skip" | wc -l)" -eq 3 ] || fail "--skip-incomplete: want the 3 complete pairs"
grep -q '"units_skipped":[[:space:]]*1' "$W/skip/MANIFEST.json" || fail "--skip-incomplete: not counted"

# --- Moses: PREFIX.en + PREFIX.nl, the target gzip-compressed as PREFIX.nl.gz -----------
"$C" import --heldout-permille 0 --lang nl -o "$W/moses" --moses "$D/sample.en-nl" || fail "moses"
# 14 lines: 12 pairs, a duplicate and an untranslated one ("Settings")
[ "$(pairs "$W/moses" | wc -l)" -eq 12 ] || fail "moses: $(pairs "$W/moses" | wc -l) pairs, want 12"
[ "$(count "$W/moses" sample.en-nl duplicate)" -eq 1 ] || fail "moses: the duplicate was not counted"
[ "$(count "$W/moses" sample.en-nl identical)" -eq 1 ] || fail "moses: the untranslated pair was not dropped"
"$C" import --heldout-permille 0 --lang nl -o "$W/moses-gz" --moses "$D/gz/sample.en-nl" || fail "moses with PREFIX.nl.gz"
[ "$(pairs "$W/moses-gz")" = "$(pairs "$W/moses")" ] || fail "moses: PREFIX.nl.gz gives other pairs"

# --- TSV: english<TAB>target, and other columns --------------------------------------
"$C" import --heldout-permille 0 --lang nl -o "$W/tsv" --tsv "$D/sample.en-nl.tsv" || fail "tsv"
[ "$(pairs "$W/tsv" | wc -l)" -eq 12 ] || fail "tsv: $(pairs "$W/tsv" | wc -l) pairs, want 12"
"$C" import --heldout-permille 0 --lang nl -o "$W/cols" --tsv "$D/columns.en-nl.tsv" --en-column 3 --target-column 2 \
    || fail "tsv --en-column 3 --target-column 2"
pairs "$W/cols" | grep -qx "$(printf 'Where is the railway station?\tWaar is het treinstation?')" \
    || fail "tsv: columns not chosen"

# --- plain text: a document a line (byte order mark and CRLF removed); gzip named .txt ----
"$C" import --heldout-permille 0 --lang nl -o "$W/text" --text "$D/sample.nl.txt" || fail "text"
[ "$(mono "$W/text" | wc -l)" -eq 8 ] || fail "text: $(mono "$W/text" | wc -l) lines, want 8"
mono "$W/text" | head -n 1 | grep -q "^Amsterdam" || fail "text: byte order mark left"
mono "$W/text" | grep -q "$(printf '\r')" && fail "text: carriage returns left"
[ "$(count "$W/text" sample.nl documents)" -eq 8 ] || fail "text: a document a line"
"$C" import --heldout-permille 0 --lang nl -o "$W/text-gz" --text "$D/gzipped.nl.txt" || fail "gzip text named .txt"
[ "$(mono "$W/text-gz")" = "$(mono "$W/text")" ] || fail "text: the gzip file (by magic) differs"
# CC-100: blank lines separate documents, a segment a line
"$C" import --heldout-permille 0 --lang nl -o "$W/cc" --text "$D/cc100.nl.txt" --text-docs blank || fail "text-docs blank"
[ "$(count "$W/cc" cc100.nl documents)" -eq 3 ] || fail "text-docs blank: $(count "$W/cc" cc100.nl documents) documents, want 3"
[ "$(mono "$W/cc" | wc -l)" -eq 8 ] || fail "text-docs blank: want 8 segments"
# hard-wrapped paragraphs joined
"$C" import --heldout-permille 0 --lang nl -o "$W/wrap" --text "$D/wrapped.nl.txt" --text-docs blank --join-lines || fail "join-lines"
mono "$W/wrap" | grep -qx 'Amsterdam is de hoofdstad van Nederland en heeft veel grachten.' \
    || fail "join-lines: the paragraph's lines not joined"
"$C" import --heldout-permille 0 --lang nl -o "$W/x" --text "$D/wrapped.nl.txt" --join-lines 2>"$W/err"
[ $? -eq 2 ] || fail "--join-lines without --text-docs blank is a usage error"

# --- JSON Lines: "text" (\u escapes, a paragraph a segment), --field, zstd ------------
"$C" import --heldout-permille 0 --lang nl -o "$W/jsonl" --jsonl "$D/fineweb.nl.jsonl" || fail "jsonl"
[ "$(count "$W/jsonl" fineweb.nl documents)" -eq 4 ] || fail "jsonl: a document an object"
[ "$(mono "$W/jsonl" | wc -l)" -eq 6 ] || fail "jsonl: $(mono "$W/jsonl" | wc -l) segments, want 6"
mono "$W/jsonl" | grep -q 'schapen. één keer' || fail "jsonl: \\u escapes not decoded"
"$C" import --heldout-permille 0 --lang nl -o "$W/zst" --jsonl "$D/fineweb.nl.jsonl.zst" || fail "jsonl.zst"
[ "$(mono "$W/zst")" = "$(mono "$W/jsonl")" ] || fail "jsonl.zst gives other text"
grep -q '"compression":[[:space:]]*"zstd"' "$W/zst/MANIFEST.json" || fail "zstd not recorded"
"$C" import --heldout-permille 0 --lang nl -o "$W/cx" --jsonl "$D/content-field.nl.jsonl" --field content || fail "--field content"
[ "$(mono "$W/cx")" = "$(mono "$W/jsonl")" ] || fail "--field content gives other text"

# --- English only, for a base model's corpus ------------------------------------------
"$C" import --heldout-permille 0 --lang en -o "$W/en" --text "$D/sample.en-nl.en" || fail "lang en"
[ -f "$W/en/en-en.tsv.gz" ] && fail "lang en wrote pairs"
"$C" import --heldout-permille 0 --lang en -o "$W/x" --tmx "$D/sample.en-nl.tmx" 2>/dev/null
[ $? -eq 2 ] || fail "lang en with parallel input is a usage error"

# --- everything at once: held-out documents never reach training text ------------------
"$C" import --lang nl -o "$W/all" --moses "$D/sample.en-nl" --tmx "$D/sample.en-nl.tmx" \
    --tsv "$D/sample.en-nl.tsv" --text "$D/cc100.nl.txt" --jsonl "$D/fineweb.nl.jsonl" \
    --doc-size 1 --heldout-permille 400 || fail "all formats together"
[ -s "$W/all/heldout.txt" ] || fail "nothing held out at 400 permille"
[ -s "$W/all/heldout.en-nl.tsv" ] || fail "no held-out pairs at 400 permille"
mono "$W/all" >"$W/train.txt"
pairs "$W/all" | cut -f2 >>"$W/train.txt"
if grep -Fxq -f "$W/all/heldout.txt" "$W/train.txt"; then fail "a held-out line is in training text"; fi
cut -f1 "$W/all/heldout.en-nl.tsv" >"$W/held-en.txt"
if pairs "$W/all" | cut -f1 | grep -Fxq -f "$W/held-en.txt"; then fail "a held-out English line is in training pairs"; fi
[ "$(grep -c '"name":' "$W/all/MANIFEST.json")" -ge 5 ] || fail "MANIFEST.json: five sources"
# the held-out split is a fixed function of the documents: the same again
"$C" import --lang nl -o "$W/all2" --moses "$D/sample.en-nl" --tmx "$D/sample.en-nl.tmx" \
    --tsv "$D/sample.en-nl.tsv" --text "$D/cc100.nl.txt" --jsonl "$D/fineweb.nl.jsonl" \
    --doc-size 1 --heldout-permille 400 || fail "all formats again"
cmp -s "$W/all/heldout.txt" "$W/all2/heldout.txt" || fail "the held-out split is not repeatable"

# tools/adapt-language takes the directory as CORPUS, checked before any work: this one
# (imported with --heldout-permille 0) has an empty heldout.txt, refused by name
CORPUS="$W/text" sh tools/adapt-language nl >/dev/null 2>"$W/err"
[ $? -eq 2 ] || fail "adapt-language took a CORPUS with no held-out text"
grep -q "HELDOUT=$W/text/heldout.txt: no such file, or empty" "$W/err" || fail "adapt-language: $(cat "$W/err")"
CORPUS="$W/other" sh tools/adapt-language nl >/dev/null 2>"$W/err"
[ $? -eq 2 ] && grep -q 'not a corpus directory' "$W/err" || fail "adapt-language: a CORPUS that is not one"

# --- the output rule: an existing directory is refused unless --force; its own output is
# replaced --------------------------------------------------------------------------------
mkdir "$W/other" && echo keep >"$W/other/file"
"$C" import --lang nl -o "$W/other" --text "$D/sample.nl.txt" 2>"$W/err" && fail "an existing directory was replaced"
grep -q -- '--force' "$W/err" || fail "the refusal does not mention --force: $(cat "$W/err")"
[ -f "$W/other/file" ] || fail "the refused directory was touched"
"$C" import --lang nl -o "$W/text" --text "$D/cc100.nl.txt" || fail "its own earlier output is replaced"
"$C" import --lang nl -o "$W/other" --text "$D/sample.nl.txt" --force || fail "--force"
[ ! -f "$W/other/file" ] && [ -f "$W/other/MANIFEST.json" ] || fail "--force did not replace the directory"
"$C" import --lang nl -o "$D" --text "$D/sample.nl.txt" --force 2>/dev/null && fail "an output holding an input"
"$C" import --lang nl -o "$D/gz" --moses "$D/gz/sample.en-nl" --force 2>/dev/null && fail "an output holding a Moses input"
[ -f "$D/gz/sample.en-nl.nl.gz" ] || fail "the Moses input was removed"

# --- bad input: one message with the file and the line, exit 1, no output ---------------
# bad NAME WANT ARGS...: import fails with status 1, the message contains WANT, and neither
# the output directory nor a temporary beside it is left
bad() {
    name=$1 want=$2
    shift 2
    "$C" import --lang nl -o "$W/bad" "$@" 2>"$W/err"
    rc=$?
    [ $rc -eq 1 ] || fail "$name: exit $rc, want 1 ($(cat "$W/err"))"
    [ "$(wc -l <"$W/err")" -eq 1 ] || fail "$name: more than one line of message: $(cat "$W/err")"
    grep -qF -- "$want" "$W/err" || fail "$name: message '$(cat "$W/err")' lacks '$want'"
    ls -d "$W"/bad* >/dev/null 2>&1 && fail "$name: output left behind: $(ls -d "$W"/bad*)"
    return 0
}
bad "tu without the target" "no-target.tmx:20: the <tu> of line 17 has no <tuv> for 'nl' (its languages: en, de; --skip-incomplete skips such units)" \
    --tmx "$D/bad/no-target.tmx"
bad "tuv without seg" "no-seg.tmx:5: the <tuv> of line 4 has no <seg>" --tmx "$D/bad/no-seg.tmx"
bad "not well-formed TMX" "broken.tmx:4: not well-formed XML" --tmx "$D/bad/broken.tmx"
bad "not TMX" "not-tmx.xml:2: not a TMX file" --tmx "$D/bad/not-tmx.xml"
bad "truncated xz" "truncated.tmx.xz: xz data is truncated" --tmx "$D/bad/truncated.tmx.xz"
bad "JSON line without the field" 'no-field.jsonl:2: no field "text" (the object has "content", "id")' \
    --jsonl "$D/bad/no-field.jsonl"
bad "invalid JSON" "invalid.jsonl:3: not valid JSON" --jsonl "$D/bad/invalid.jsonl"
bad "field not a string" 'not-string.jsonl:1: field "text" is not a string' --jsonl "$D/bad/not-string.jsonl"
bad "mixed encodings (a Latin-1 line)" "latin1.nl.txt:3: not valid UTF-8" --text "$D/bad/latin1.nl.txt"
bad "Moses files of different lengths" \
    "short.en-nl.nl has 4 lines but $D/bad/short.en-nl.en has more: its line 5" --moses "$D/bad/short.en-nl"
bad "a TSV line without the columns" "columns.tsv:2: 1 column" --tsv "$D/bad/columns.tsv"
bad "bzip2" "sample.nl.txt.bz2: bzip2 data: decompress it first" --text "$D/bad/sample.nl.txt.bz2"
# a good source first and a bad one after it: still nothing written
bad "a bad source after a good one" "no-target.tmx:20" --text "$D/sample.nl.txt" --tmx "$D/bad/no-target.tmx"
iconv -f UTF-8 -t UTF-16 "$D/cc100.nl.txt" >"$W/utf16.txt"
bad "UTF-16 plain text" "utf16.txt:1: UTF-16 text (a byte order mark ff fe); convert" --text "$W/utf16.txt"
printf 'Een regel tekst\nmet een \000 erin\n' >"$W/nul.txt"
bad "a NUL byte" "nul.txt:2: a NUL byte (byte 9 of the line): not a text file" --text "$W/nul.txt"
: >"$W/empty.txt"
bad "an empty file" "empty.txt: no text in the file" --text "$W/empty.txt"
printf '\n\n' >"$W/blank.jsonl"
bad "a JSON Lines file of blank lines" "blank.jsonl: no text in the file" --jsonl "$W/blank.jsonl"
# truncated gzip, made here; a gzip stream of two members is one file
gzip -c "$D/sample.nl.txt" | head -c 100 >"$W/truncated.gz"
bad "truncated gzip" "truncated.gz: gzip data is truncated" --text "$W/truncated.gz"
{ head -n 4 "$D/sample.nl.txt" | gzip -c; tail -n +5 "$D/sample.nl.txt" | gzip -c; } >"$W/members.gz"
"$C" import --lang nl -o "$W/members" --text "$W/members.gz" || fail "gzip of two members"
[ "$(mono "$W/members")" = "$(mono "$W/text-gz")" ] || fail "gzip of two members: other text"
# usage errors: exit 2
"$C" import --lang nl -o "$W/bad" 2>/dev/null; [ $? -eq 2 ] || fail "no input is a usage error"
"$C" import --lang nl -o "$W/bad" --moses "$D/none" 2>"$W/err"; [ $? -eq 2 ] || fail "a missing Moses file is a usage error"
grep -q "none.en" "$W/err" || fail "the missing Moses file is not named"
"$C" import --lang 'n l' -o "$W/bad" --text "$D/sample.nl.txt" 2>/dev/null; [ $? -eq 2 ] || fail "a bad --lang"
"$C" import --lang nl -o "$W/bad" --text "$D/none.txt" 2>/dev/null; [ $? -ne 0 ] || fail "a missing input"
ls -d "$W"/bad* >/dev/null 2>&1 && fail "output left after usage errors"
echo "corpora import: ok"
