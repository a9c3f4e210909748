#!/bin/sh
# The command lines of tokenize, transfer and corpora (lm/cli/lg_cli.h): every number checked
# (a malformed or out-of-range value is a usage error, exit 2, naming the option, no output
# left), the output rule (an existing output refused with its data intact unless --force, an
# input never an output, `-o -` only where the output is a stream), --help per subcommand,
# --version, unknown options and commands, exit statuses 0/1/2, and `transfer align` refusing
# ids outside its tokenizers before anything is sized by them.
set -eu
: "${LG_BIN:=bin}"
case $LG_BIN in /*) ;; *) LG_BIN=$(pwd)/$LG_BIN ;; esac
TOK="$LG_BIN/tokenize"
TR="$LG_BIN/transfer"
C="$LG_BIN/corpora"
ROOT=$(pwd)
D=$ROOT/tests/data
BASE=$ROOT/tests/fixtures/hf/llama-tiny
M301=$D/gguf/tiny301.model
mkdir -p build
W=$(mktemp -d "$ROOT/build/cli-ttc.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# run EXPECTED_STATUS COMMAND...: the status must be EXPECTED_STATUS; stdout in $W/out,
# stderr in $W/err
run() {
    want=$1; shift
    set +e
    "$@" >"$W/out" 2>"$W/err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || { cat "$W/err" >&2; fail "exit $got, expected $want: $*"; }
}
# usage PATTERN COMMAND...: exit 2 and a message that names PATTERN (the option)
usage() {
    pat=$1; shift
    run 2 "$@"
    grep -q -- "$pat" "$W/err" || { cat "$W/err" >&2; fail "message lacks '$pat': $*"; }
}
# refused PATTERN COMMAND...: exit 1 and a message with PATTERN
refused() {
    pat=$1; shift
    run 1 "$@"
    grep -q -- "$pat" "$W/err" || { cat "$W/err" >&2; fail "message lacks '$pat': $*"; }
}
absent() { for f in "$@"; do [ ! -e "$f" ] || fail "$f left behind"; done; }
sum() { sha256sum "$1" | cut -d' ' -f1; }
# intact FILE SUM: FILE still holds the data it had
intact() { [ "$(sum "$1")" = "$2" ] || fail "$1 was changed"; }

# ---- every program: --version, --help, unknown command --------------------------------------
for p in "$TOK" "$TR" "$C"; do
    name=$(basename "$p")
    run 0 "$p" --version
    grep -q "^$name (lingraft) [0-9]" "$W/out" || fail "$name --version: $(cat "$W/out")"
    run 0 "$p" --help
    run 2 "$p" frobnicate
    grep -q "unknown command 'frobnicate'" "$W/err" || fail "$name: unknown command not named"
    run 2 "$p"
done

# every subcommand's --help: exit 0, its own usage line and options, not another command's
helps() { # PROGRAM SUBCOMMAND OPTION... (! OPTION: must not be listed)
    p=$1 s=$2; shift 2
    run 0 "$p" "$s" --help
    grep -q "^usage: $(basename "$p") $s " "$W/out" || fail "$s --help: no usage line"
    for o in "$@"; do
        case $o in
            !*) grep -q -- "${o#!}" "$W/out" && fail "$(basename "$p") $s --help lists ${o#!}" ;;
            *) grep -q -- "$o" "$W/out" || fail "$(basename "$p") $s --help lacks $o" ;;
        esac
    done
    run 0 "$p" "$s" --version
}
helps "$TOK" train --vocab-size --character-coverage --sample --threads --force '!--ids'
helps "$TOK" encode --model --ids --pieces --output '!--vocab-size'
helps "$TOK" decode --model --ids --output '!--sample'
helps "$TOK" stats --model --json '!--output'
helps "$TOK" extend --map --score --measure --force '!--ids'
helps "$TR" align --src --tgt --tsv --links --model1-iters --p-null --cache-mb '!--method'
helps "$TR" init --base-tokenizer --method --mvn-scale --dtype '!--p-null'
helps "$TR" check --pack --tokenizer '!--force' '!--method'
helps "$C" mo --doc-prefix --list '!--strip'
helps "$C" text --strip --list '!--doc-prefix'
helps "$C" help EN_ROOT TARGET_ROOT '!--list'
helps "$C" mozilla EN_ROOT TARGET_ROOT
helps "$C" man --drop-section LIST
helps "$C" dictd --reverse INDEX
helps "$C" assemble --lang --heldout-permille --min-letters
helps "$C" manifest --sources --seconds --force

# unknown options and missing values
usage "unknown option --frob" "$TOK" train --frob -o "$W/x" "$D/tokenize/nl.txt"
usage "unknown option --frob" "$TR" align --frob
usage "unknown option --frob" "$C" mo --frob
usage "unknown option -Z" "$C" dictd -Z
usage "needs a value" "$TOK" encode -m
usage "missing --output" "$TOK" train "$D/tokenize/nl.txt"
usage "missing CORPUS" "$TOK" train -o "$W/x"
usage "missing --pack" "$TR" check

# ---- inputs made once ----------------------------------------------------------------------
head -n 400 "$D/tokenize/nl.txt" >"$W/nl.txt"
run 0 "$TOK" train -o "$W/nl" -v 120 --threads 1 "$W/nl.txt"
[ -s "$W/nl.model" ] && [ -s "$W/nl.vocab" ] || fail "train wrote no model"
# --output is -o's long name everywhere, and NAME.model names the same pair as NAME
run 0 "$TOK" train --output "$W/nl2.model" -v 120 --threads 1 "$W/nl.txt"
[ -s "$W/nl2.model" ] && [ -s "$W/nl2.vocab" ] && [ ! -e "$W/nl2.model.model" ] ||
    fail "-o NAME.model did not write NAME.model and NAME.vocab"
cmp -s "$W/nl.model" "$W/nl2.model" || fail "the same training gave another model"

# ---- tokenize train: numbers ---------------------------------------------------------------
train_bad() { # PATTERN OPTIONS...
    pat=$1; shift
    usage "$pat" "$TOK" train -o "$W/bad" "$@" "$W/nl.txt"
    absent "$W/bad.model" "$W/bad.vocab"
}
for v in 1e3 2x abc "" 1 -5 0x10 2147483648 99999999999; do train_bad "--vocab-size" -v "$v"; done
train_bad "--vocab-size: '1e3' is not a whole number" --vocab-size 1e3
for v in 0 1.5 nan inf -0.1 abc 0.5x; do train_bad "--character-coverage" -c "$v"; done
for v in 0 4097 -1 1.5 two; do train_bad "--threads" --threads "$v"; done
for v in -1 1e6 x; do train_bad "--sample" --sample "$v"; done
for v in 0 -3 1.0; do train_bad "--max-sentence-length" --max-sentence-length "$v"; done
for v in abc -1 2147483648 1e3; do train_bad "--seed" --seed "$v"; done
train_bad "--model-type" -t wordpiece
usage "--output: '-'" "$TOK" train -o - "$W/nl.txt"
absent "$W/-.model" ./-.model "$W/-"

# ---- tokenize train: the output rule --------------------------------------------------------
printf 'precious\n' >"$W/keep.model"
s=$(sum "$W/keep.model")
refused "keep.model: exists; give --force" "$TOK" train -o "$W/keep" -v 120 "$W/nl.txt"
intact "$W/keep.model" "$s"
absent "$W/keep.vocab"
printf 'precious vocab\n' >"$W/other.vocab"
sv=$(sum "$W/other.vocab")
refused "other.vocab: exists" "$TOK" train -o "$W/other" -v 120 "$W/nl.txt"
intact "$W/other.vocab" "$sv"
absent "$W/other.model"
run 0 "$TOK" train --force -o "$W/keep" -v 120 --threads 1 "$W/nl.txt"
cmp -s "$W/keep.model" "$W/nl.model" || fail "--force did not replace keep.model"
# an input is never an output: NAME.model is one of the corpora
cp "$W/nl.txt" "$W/corpus.model"
s=$(sum "$W/corpus.model")
refused "also an input" "$TOK" train --force -o "$W/corpus" -v 120 "$W/nl.txt" "$W/corpus.model"
intact "$W/corpus.model" "$s"
absent "$W/corpus.vocab"
# a message names the user's path, never a temporary one
refused "$W/no-such-dir/m.model" "$TOK" train -o "$W/no-such-dir/m" -v 120 "$W/nl.txt"
grep -q '\.tmp' "$W/err" && fail "message names a temporary file: $(cat "$W/err")"
# a failure is 1, not 2
refused "no-such.txt" "$TOK" train -o "$W/f" -v 120 "$W/no-such.txt"
absent "$W/f.model" "$W/f.vocab"

# ---- tokenize encode / decode: streams -------------------------------------------------------
run 0 "$TOK" encode -m "$W/nl.model" --ids "$W/nl.txt"
cp "$W/out" "$W/ids.stdout"
run 0 "$TOK" encode -m "$W/nl.model" --ids -o - "$W/nl.txt"
cmp -s "$W/out" "$W/ids.stdout" || fail "encode -o - differs from standard output"
run 0 "$TOK" encode -m "$W/nl.model" --ids --output "$W/ids.txt" "$W/nl.txt"
cmp -s "$W/ids.txt" "$W/ids.stdout" || fail "encode -o FILE differs from standard output"
[ ! -s "$W/out" ] || fail "encode -o FILE also wrote to standard output"
run 0 "$TOK" decode -m "$W/nl.model" --ids -o - "$W/ids.txt"
cp "$W/out" "$W/text.stdout"
run 0 "$TOK" decode -m "$W/nl.model" --ids -o "$W/text.txt" <"$W/ids.txt"
cmp -s "$W/text.txt" "$W/text.stdout" || fail "decode -o FILE differs from -o -"
s=$(sum "$W/ids.txt")
refused "ids.txt: exists" "$TOK" encode -m "$W/nl.model" --ids -o "$W/ids.txt" "$W/nl.txt"
intact "$W/ids.txt" "$s"
refused "also an input" "$TOK" decode -m "$W/nl.model" --ids --force -o "$W/ids.txt" "$W/ids.txt"
intact "$W/ids.txt" "$s"
refused "also an input" "$TOK" encode -m "$W/nl.model" --force -o "$W/nl.model" "$W/nl.txt"
run 0 "$TOK" encode -m "$W/nl.model" --ids --force -o "$W/ids.txt" "$W/nl.txt"
usage "give one of --ids or --pieces" "$TOK" encode -m "$W/nl.model" --ids --pieces "$W/nl.txt"
usage "unexpected argument" "$TOK" encode -m "$W/nl.model" "$W/nl.txt" "$W/nl.txt"
# a bad id is a failure of the input (1), and a file output is left absent
printf '5 99999\n' >"$W/badids.txt"
refused "'99999' is not an id" "$TOK" decode -m "$W/nl.model" --ids -o "$W/dec.txt" "$W/badids.txt"
absent "$W/dec.txt"

# ---- tokenize stats ---------------------------------------------------------------------------
run 0 "$TOK" stats -m "$W/nl.model" --model "$W/nl2.model" "$W/nl.txt"
usage "missing --model" "$TOK" stats "$W/nl.txt"
set --
for i in $(seq 65); do set -- "$@" -m "$W/nl.model"; done
usage "--model: at most 64" "$TOK" stats "$@" "$W/nl.txt"

# ---- tokenize extend -----------------------------------------------------------------------
head -n 300 "$D/tokenize/en.txt" >"$W/en.txt"
run 0 "$TOK" train -o "$W/en" -t bpe -v 400 --byte-fallback --threads 1 "$W/en.txt"
usage "--score" "$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/m.model" --score high
usage "--output: '-'" "$TOK" extend "$W/en.model" "$W/nl.model" -o -
usage "missing TARGET.model" "$TOK" extend "$W/en.model" -o "$W/m.model"
usage "--map" "$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/m.model" --map "$W/m.vocab"
absent "$W/m.model" "$W/m.vocab" "$W/m.new-ids.tsv" "$W/-.model"
s=$(sum "$W/en.model")
refused "also an input" "$TOK" extend "$W/en.model" "$W/nl.model" --force -o "$W/en.model"
intact "$W/en.model" "$s"
absent "$W/en.new-ids.tsv"
printf 'old map\n' >"$W/m.new-ids.tsv"
s=$(sum "$W/m.new-ids.tsv")
refused "m.new-ids.tsv: exists" "$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/m.model"
intact "$W/m.new-ids.tsv" "$s"
absent "$W/m.model" "$W/m.vocab"
run 0 "$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/m.model" --map "$W/ids.tsv"
[ -s "$W/m.model" ] && [ -s "$W/m.vocab" ] && [ -s "$W/ids.tsv" ] || fail "extend wrote nothing"
s=$(sum "$W/m.model")
refused "m.model: exists" "$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/m.model" --map "$W/ids2.tsv"
intact "$W/m.model" "$s"
refused "ids.tsv: exists" "$TOK" extend "$W/en.model" "$W/nl.model" -o "$W/n.model" --map "$W/ids.tsv"
run 0 "$TOK" extend --force "$W/en.model" "$W/nl.model" -o "$W/m.model"
[ "$(sed -n 2p "$W/m.new-ids.tsv")" != "old map" ] || fail "--force did not replace the map"

# ---- transfer align -------------------------------------------------------------------------
awk -v out="$W" 'BEGIN { x = 12345; for (k = 0; k < 120; k++) {
    n = 3 + k % 5; s = ""; t = "";
    for (i = 0; i < n; i++) { x = (x * 16807) % 2147483647; id[i] = x % 40; s = s (i ? " " : "") id[i] }
    for (i = 0; i < n; i++) t = t (i ? " " : "") id[i] + 100
    print s > (out "/src.ids"); print t > (out "/tgt.ids") } }'
align() { "$TR" align --src "$W/src.ids" --tgt "$W/tgt.ids" --threads 1 "$@"; }
align_bad() { # PATTERN OPTIONS...
    pat=$1; shift
    usage "$pat" align -o "$W/t.tsv" --links "$W/l.txt" "$@"
    absent "$W/t.tsv" "$W/l.txt"
}
for v in 1e3 -1 1001 x 2.5; do align_bad "--model1-iters" --model1-iters "$v"; done
align_bad "--model2-iters" --model2-iters 5x
align_bad "both 0" --model1-iters 0 --model2-iters 0
for v in 0 1 nan -0.5 1.5 abc; do align_bad "--p-null" --p-null "$v"; done
for v in 0 -1 inf; do align_bad "--tension" --tension "$v"; done
for v in 1 -0.1 nan; do align_bad "--beam" --beam "$v"; done
for v in 1.5 -1; do align_bad "--link-threshold" --link-threshold "$v"; done
for v in -1 nan inf; do align_bad "--min-count" --min-count "$v"; done
for v in 0 4097 2x; do align_bad "--threads" --threads "$v"; done
for v in -1 1048577 1e3; do align_bad "--cache-mb" --cache-mb "$v"; done
align_bad "--direction" --direction sideways
align_bad "--sym" --sym mean
align_bad "--links: .* is also the table" -o "$W/t.tsv" --links "$W/t.tsv"
usage "either --src and --tgt, or --tsv" "$TR" align --src "$W/src.ids" -o "$W/t.tsv"
usage "either --src and --tgt, or --tsv" "$TR" align --src "$W/src.ids" --tgt "$W/tgt.ids" \
    --tsv "$W/src.ids" -o "$W/t.tsv"
usage "at most one of --src and --tgt" "$TR" align --src - --tgt - -o "$W/t.tsv"
usage "--out: '-'" align -o -
usage "--links: '-'" align -o "$W/t.tsv" --links -
absent "$W/t.tsv" "$W/-"
run 0 align --out "$W/t.tsv" --links "$W/l.txt"
[ -s "$W/t.tsv" ] && [ -s "$W/l.txt" ] || fail "align wrote nothing"
s=$(sum "$W/t.tsv")
sl=$(sum "$W/l.txt")
refused "t.tsv: exists" align -o "$W/t.tsv"
intact "$W/t.tsv" "$s"
refused "l.txt: exists" align -o "$W/t2.tsv" --links "$W/l.txt"
intact "$W/l.txt" "$sl"
absent "$W/t2.tsv"
refused "also an input" align --force -o "$W/src.ids"
refused "also an input" align --force -o "$W/t2.tsv" --links "$W/tgt.ids"
absent "$W/t2.tsv"
run 0 align --force --output "$W/t.tsv" --model1-iters 3 --model2-iters 0
[ "$(sum "$W/t.tsv")" != "$s" ] || fail "--force did not replace the table"
# the source ids come from stdin when --src is -
run 0 "$TR" align --src - --tgt "$W/tgt.ids" --threads 1 -o "$W/t3.tsv" <"$W/src.ids"
# ids bounded by the tokenizers: one id of 2,000,000,000 is refused before anything is sized
# by it (no gigabytes allocated), and the tokenizer is an input the table cannot replace
sed '3s/$/ 2000000000/' "$W/src.ids" >"$W/huge.ids"
refused "huge.ids:3: token id 2000000000 is outside the vocabulary of" "$TR" align --src "$W/huge.ids" --tgt "$W/tgt.ids" \
    --src-tokenizer "$M301" --tgt-tokenizer "$M301" -o "$W/h.tsv"
grep -q "huge.ids" "$W/err" || fail "the ids file is not named"
absent "$W/h.tsv"
refused "also an input" align --force --src-tokenizer "$M301" -o "$M301"
sed '2s/$/ 301/' "$W/tgt.ids" >"$W/t301.ids"
refused "t301.ids:2: token id 301 is outside the vocabulary of" "$TR" align --src "$W/src.ids" \
    --tgt "$W/t301.ids" --tgt-tokenizer "$M301" -o "$W/h.tsv"
run 0 "$TR" align --src "$W/src.ids" --tgt "$W/tgt.ids" --src-tokenizer "$M301" \
    --tgt-tokenizer "$M301" --threads 1 -o "$W/h.tsv"

# ---- transfer init / check ----------------------------------------------------------------
init() { "$TR" init --base "$BASE" --base-tokenizer "$M301" --tokenizer "$M301" --method hull \
    --threads 1 "$@"; }
init_bad() { # PATTERN OPTIONS...
    pat=$1; shift
    usage "$pat" init -o "$W/p.safetensors" "$@"
    absent "$W/p.safetensors"
}
for v in abc -1 1e3 18446744073709551616; do init_bad "--seed" --seed "$v"; done
for v in 0 -2 1.5 x; do init_bad "--max-terms" --max-terms "$v"; done
for v in 0 -1 nan; do init_bad "--mvn-scale" --mvn-scale "$v"; done
for v in -1 nan; do init_bad "--min-count" --min-count "$v"; done
for v in 0 9999; do init_bad "--threads" --threads "$v"; done
init_bad "--dtype" --dtype f8
init_bad "--method" --method magic
usage "--method trans needs --table" "$TR" init --base "$BASE" --base-tokenizer "$M301" \
    --tokenizer "$M301" -o "$W/p.safetensors"
usage "--method dict needs --dict" init -o "$W/p.safetensors" --method dict
usage "--out: '-'" init -o -
usage "missing --base-tokenizer" "$TR" init --base "$BASE" --tokenizer "$M301" -o "$W/p.safetensors"
absent "$W/p.safetensors" "$W/-"
run 0 init --output "$W/p.safetensors" --seed 18000000000000000000
s=$(sum "$W/p.safetensors")
refused "p.safetensors: exists" init -o "$W/p.safetensors"
intact "$W/p.safetensors" "$s"
run 0 init --force --out "$W/p.safetensors" --method mean
[ "$(sum "$W/p.safetensors")" != "$s" ] || fail "--force did not replace the pack"
cp "$M301" "$W/tok.model"
s=$(sum "$W/tok.model")
refused "also an input" "$TR" init --base "$BASE" --base-tokenizer "$M301" --tokenizer "$W/tok.model" \
    --method hull --force -o "$W/tok.model"
intact "$W/tok.model" "$s"
cp -r "$BASE" "$W/base"
refused "inside the input directory" "$TR" init --base "$W/base" --base-tokenizer "$M301" \
    --tokenizer "$M301" --method hull -o "$W/base/pack.safetensors"
absent "$W/base/pack.safetensors"
run 0 "$TR" check --pack "$W/p.safetensors" --tokenizer "$M301" --base "$BASE"
refused "checksum mismatch" "$TR" check --pack "$W/p.safetensors" --tokenizer "$W/nl.model"

# ---- corpora --------------------------------------------------------------------------------
MO=$D/corpora/sed.nl.mo
run 0 "$C" mo -o "$W/g.pairs" "$MO"
run 0 "$C" mo -o - "$MO"
cmp -s "$W/out" "$W/g.pairs" || fail "mo -o - differs from the file"
run 0 "$C" mo --output "$W/g2.pairs" "$MO"
cmp -s "$W/g2.pairs" "$W/g.pairs" || fail "mo --output differs from -o"
s=$(sum "$W/g.pairs")
refused "g.pairs: exists" "$C" mo -o "$W/g.pairs" "$D/corpora/libreoffice-acc.nl.mo"
intact "$W/g.pairs" "$s"
cp "$MO" "$W/c.mo"
s=$(sum "$W/c.mo")
refused "also an input" "$C" mo --force -o "$W/c.mo" "$W/c.mo"
intact "$W/c.mo" "$s"
echo "$W/c.mo" >"$W/mo.list"
refused "also an input" "$C" mo --force -o "$W/c.mo" --list "$W/mo.list"
intact "$W/c.mo" "$s"
usage "no input" "$C" mo -o "$W/none.pairs"
absent "$W/none.pairs"
run 0 "$C" mo --force -o "$W/g.pairs" --list "$W/mo.list" "$D/corpora/libreoffice-acc.nl.mo"
[ "$(sum "$W/g.pairs")" != "$(sum "$W/g2.pairs")" ] || fail "mo --force did not replace"

HTML=$D/corpora/help/nl/text/shared/guide/workfolder.html
run 0 "$C" text -o - "$HTML"
cp "$W/out" "$W/page.stdout"
run 0 "$C" text -o "$W/page.mono" "$HTML"
cmp -s "$W/page.mono" "$W/page.stdout" || fail "text -o - differs from the file"
run 0 "$C" help -o - "$D/corpora/help/en-US" "$D/corpora/help/nl"
[ "$(wc -l <"$W/out")" -eq 8 ] || fail "help -o -: $(wc -l <"$W/out") records"
refused "inside the input directory" "$C" help -o "$D/corpora/help/nl/x.pairs" \
    "$D/corpora/help/en-US" "$D/corpora/help/nl"
absent "$D/corpora/help/nl/x.pairs"
run 0 "$C" mozilla -o "$W/moz.pairs" "$D/corpora/mozilla/en" "$D/corpora/mozilla/fy"
usage "missing TARGET_ROOT" "$C" mozilla -o "$W/m2.pairs" "$D/corpora/mozilla/en"

for l in en nl; do zcat "$D/corpora/man/$l/yes.1.gz" | head -c 2000 >"$W/yes.$l.txt"; done
printf 'man1/yes.1\t%s\t%s\n' "$W/yes.en.txt" "$W/yes.nl.txt" >"$W/man.list"
set --
for i in $(seq 32); do set -- "$@" --drop-section "S$i"; done
usage "--drop-section: at most 31" "$C" man -o "$W/man.pairs" "$@" "$W/man.list"
s=$(sum "$W/yes.nl.txt")
refused "also an input" "$C" man --force -o "$W/yes.nl.txt" "$W/man.list"
intact "$W/yes.nl.txt" "$s"
absent "$W/man.pairs"
run 0 "$C" man -o - "$W/man.list"

printf 'able /eibl/\n1. in staat om\n2. bereid\n' | gzip >"$W/d.dict.dz"
printf 'able\tA\tAk\n' >"$W/d.index"
run 0 "$C" dictd -o - "$W/d.index" "$W/d.dict.dz"
grep -qx 'able	bereid' "$W/out" || fail "dictd -o - wrote no pairs"
run 0 "$C" dictd -o "$W/d.tsv" "$W/d.index" "$W/d.dict.dz"
s=$(sum "$W/d.tsv")
refused "d.tsv: exists" "$C" dictd -o "$W/d.tsv" --reverse "$W/d.index" "$W/d.dict.dz"
intact "$W/d.tsv" "$s"
refused "also an input" "$C" dictd --force -o "$W/d.index" "$W/d.index" "$W/d.dict.dz"
run 0 "$C" dictd --force -o "$W/d.tsv" --reverse "$W/d.index" "$W/d.dict.dz"
grep -qx 'bereid	able' "$W/d.tsv" || fail "dictd --force did not replace"

asm() { "$C" assemble --lang nl "$@" "$W/g.pairs"; }
for v in 1001 -1 5x 1e2; do usage "--heldout-permille" asm -o "$W/a" --heldout-permille "$v"; done
for v in -1 1001 x; do usage "--min-letters" asm -o "$W/a" --min-letters "$v"; done
usage "--lang: '../x' is not a language code" "$C" assemble --lang ../x -o "$W/a" "$W/g.pairs"
usage "--out: '-'" asm -o -
absent "$W/a"
run 0 asm -o "$W/a" --heldout-permille 100
[ -s "$W/a/mono.txt.gz" ] && [ -s "$W/a/counts.json" ] || fail "assemble wrote nothing"
run 0 asm --out "$W/a" --heldout-permille 100   # its own earlier output: replaced
mkdir "$W/mine"
echo data >"$W/mine/notes.txt"
s=$(sum "$W/mine/notes.txt")
refused "was not written by corpora assemble" asm -o "$W/mine"
intact "$W/mine/notes.txt" "$s"
absent "$W/mine/mono.txt.gz"
run 0 asm -o "$W/mine" --force
intact "$W/mine/notes.txt" "$s"   # written into, not replaced whole
refused "also an input" "$C" assemble --lang nl --force -o "$W/g.pairs" "$W/g.pairs"

printf 'gettext\tok\tsed=4.9=abc\tGPL-3+\t\n' >"$W/sources.tsv"
(cd "$W/a" && sha256sum mono.txt.gz >SHA256SUMS)
for v in abc -1 nan 1e400; do
    usage "--seconds" "$C" manifest --lang nl --dir "$W/a" --sources "$W/sources.tsv" --seconds "$v"
done
absent "$W/a/MANIFEST.json"
run 0 "$C" manifest --lang nl --dir "$W/a" --sources "$W/sources.tsv" --seconds 3
s=$(sum "$W/a/MANIFEST.json")
refused "MANIFEST.json: exists" "$C" manifest --lang nl --dir "$W/a" --sources "$W/sources.tsv"
intact "$W/a/MANIFEST.json" "$s"
run 0 "$C" manifest --force --lang nl --dir "$W/a" --sources "$W/sources.tsv"
grep -q '"build_seconds"' "$W/a/MANIFEST.json" && fail "manifest --force did not replace"

# standard output that cannot be written is a failure, named once
if [ -w /dev/full ]; then
    for cmd in "$TOK encode -m $W/nl.model $W/nl.txt" "$TOK stats -m $W/nl.model $W/nl.txt" \
        "$C mo -o - $MO" "$C dictd -o - $W/d.index $W/d.dict.dz"; do
        set +e; $cmd >/dev/full 2>"$W/err"; rc=$?; set -e
        [ "$rc" -eq 1 ] || fail "exit $rc, not 1, on a full standard output: $cmd"
        [ "$(grep -c 'standard output' "$W/err")" -eq 1 ] || { cat "$W/err"; fail "not one message: $cmd"; }
    done
fi

ls -A "$W" | grep -q '\.tmp' && fail "a temporary file was left: $(ls -A "$W" | grep '\.tmp')"
[ ! -e ./- ] && [ ! -e "$W/-" ] || fail "a file named - was written"
echo "cli tokenize/transfer/corpora: ok"
