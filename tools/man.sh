#!/bin/sh
# tools/man.sh PROGRAM OUT.1 — the man page of an installed program, made by help2man from
# its own --help and --version; for a program of subcommands (lingraft-lm ...), each
# subcommand's --help becomes a section of its own, so the page lists every option.
set -eu
export LC_ALL=C.UTF-8
prog=$1 out=$2
name=$(basename "$prog")
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
# text shown as is, escaped for roff: backslashes, lines that start with . or ', and every
# non-ASCII character as a groff Unicode escape (help2man's include does not keep UTF-8)
roff() {
    sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" |
        perl -CS -pe 's/([^\x00-\x7f])/sprintf("\\[u%04X]", ord($1))/ge'
}
{
    if [ "$name" != lingraft ]; then
        echo "[COMMANDS]"
        # the command names: the indented words under "commands:" in the program's --help
        "$prog" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' |
        while read -r c; do
            echo ".SS \"$name $c\""
            echo ".nf"
            "$prog" "$c" --help | roff
            echo ".fi"
        done
    fi
    echo "[EXIT STATUS]"
    echo "0 success; 1 failure (one message names the file and the problem); 2 usage (a bad"
    echo "option or argument)."
    echo "[SEE ALSO]"
    echo "lingraft(1), lingraft-tokenize(1), lingraft-transfer(1), lingraft-lm(1),"
    echo "lingraft-adapt(1), lingraft-corpora(1)."
} >"$inc"
help2man --no-info --no-discard-stderr --include="$inc" \
    --name="$("$prog" --help | sed -n '2,$p' | grep -m1 . | sed 's/\.$//')" \
    --version-string="$("$prog" --version | sed 's/.*) //')" "$prog" >"$out"
