#!/bin/sh
# tools/bench/import-tmx.sh [MB]: shows that `corpora import` streams a TMX file. Generates an
# OPUS-like TMX of about MB megabytes (default 200) in build/import-bench/ (distinct pairs
# built from numbered Dutch and English sentences), imports it, and prints the time, the
# peak resident memory (GNU time's maximum RSS) and the pairs kept. Not part of `make test`.
set -eu
mb=${1:-200}
: "${LG_BIN:=bin}"
dir=build/import-bench
mkdir -p "$dir"
tmx="$dir/big.en-nl.tmx"
if [ ! -s "$tmx" ] || [ "$(($(wc -c <"$tmx") / 1000000))" -lt "$mb" ]; then
    echo "import-tmx: writing a ${mb} MB TMX to $tmx" >&2
    awk -v mb="$mb" 'BEGIN {
        split("de kat|het huis|een boek|de trein|mijn fiets|de markt|het weer|een brief", nl, "|")
        split("the cat|the house|a book|the train|my bicycle|the market|the weather|a letter", en, "|")
        split("ziet|koopt|vindt|wacht op|leest", vnl, "|")
        split("sees|buys|finds|waits for|reads", ven, "|")
        print "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        print "<tmx version=\"1.4\">"
        print "<header creationtool=\"import-tmx.sh\" srclang=\"en\" adminlang=\"en\" segtype=\"sentence\" o-tmf=\"none\" datatype=\"plaintext\"/>"
        print "<body>"
        limit = mb * 1000000; bytes = 200
        for (i = 1; bytes < limit; i++) {
            a = i % 8 + 1; b = int(i / 8) % 8 + 1; v = int(i / 64) % 5 + 1
            e = sprintf("In year %d, %s %s %s near house number %d.", 1000 + i % 997, en[a], ven[v], en[b], i)
            n = sprintf("In het jaar %d %s %s %s bij huisnummer %d.", 1000 + i % 997, nl[a], vnl[v], nl[b], i)
            s = sprintf("<tu>\n  <tuv xml:lang=\"en\"><seg>%s</seg></tuv>\n  <tuv xml:lang=\"nl\"><seg>%s</seg></tuv>\n</tu>", e, n)
            print s
            bytes += length(s) + 1
        }
        print "</body>"
        print "</tmx>"
    }' >"$tmx.tmp"
    mv "$tmx.tmp" "$tmx"
fi
rm -rf "$dir/out"
/usr/bin/time -f '%e s, max RSS %M KB' -o "$dir/time.txt" \
    "$LG_BIN/corpora" import --lang nl -o "$dir/out" --tmx "$tmx"
size=$(wc -c <"$tmx")
pairs=$(gzip -dc "$dir/out/en-nl.tsv.gz" | wc -l)
echo "import-tmx: $((size / 1000000)) MB TMX, $pairs pairs kept: $(cat "$dir/time.txt")"
