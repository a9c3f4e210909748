#!/bin/sh
# make demo: the main job on the built-in default. Builds the English corpus, pretrains
# the project's small English base model (cached in models/base-en, reused next time),
# runs the Dutch pipeline end to end and prints where the report is.
set -eu
export OMP_WAIT_POLICY=PASSIVE
t0=$(date +%s)
[ -s corpora/build/en/mono.txt.gz ] || make --no-print-directory corpora LANG=en
[ -s corpora/build/nl/en-nl.tsv.gz ] || make --no-print-directory corpora LANG=nl
t1=$(date +%s)
tools/adapt-language nl
t2=$(date +%s)
echo
echo "demo: corpora $((t1 - t0)) s, base model and Dutch pipeline $((t2 - t1)) s, total $((t2 - t0)) s"
echo "demo: report out/nl/report.md (plot out/nl/bpb.png)"
