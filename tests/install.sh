#!/bin/sh
# make install into a temporary DESTDIR, then the installed tree used from outside the source
# tree: `lingraft COMMAND` and lingraft-COMMAND run, the corpus builder finds its recipes
# relative to PREFIX, the man pages list every subcommand's options, a C program builds
# against the installed library with pkg-config and runs, and `make uninstall` removes every
# file install wrote. Under the sanitizer pass the sanitizer build is installed.
set -eu
: "${LG_BIN:=bin}"
src=$(pwd)
san=
[ "$LG_BIN" = build/asan/bin ] && san="SAN=1 OPT=-O1"
tmp=$(mktemp -d /tmp/lingraft-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
prefix=/opt/lingraft
# shellcheck disable=SC2086
make -s --no-print-directory $san install PREFIX=$prefix DESTDIR="$root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "FAIL: make install"; exit 1; }
p="$root$prefix"
cd "$tmp"   # outside the source tree from here on
fail() { echo "FAIL: $*"; exit 1; }

"$p/bin/lingraft" --version | grep -q "(lingraft)" || fail "lingraft --version"
for c in tokenize transfer lm adapt corpora; do
    "$p/bin/lingraft-$c" --version | grep -q "^lingraft-$c (lingraft) " || fail "lingraft-$c --version"
    "$p/bin/lingraft" "$c" --help | grep -q "^usage: lingraft-$c COMMAND" || fail "lingraft $c --help"
    [ -s "$p/share/man/man1/lingraft-$c.1" ] || fail "no man page for lingraft-$c"
done
rc=0; "$p/bin/lingraft" nonsense 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "lingraft nonsense: exit $rc, not 2"

# real work with the installed programs
cp "$src/tests/data/tokenize/nl.txt" corpus.txt
"$p/bin/lingraft" tokenize train -t bpe -v 200 -o nl corpus.txt 2>/dev/null
[ -s nl.model ] || fail "lingraft tokenize train wrote no nl.model"
"$p/bin/lingraft-lm" init --preset micro --tokenizer nl.model -o model >/dev/null
[ -s model/model.safetensors ] || fail "lingraft-lm init wrote no model"
"$p/bin/lingraft" lm info model | grep -q "parameters" || fail "lingraft lm info"

# data found relative to PREFIX: the corpus builder and its recipes
"$p/bin/lingraft" corpora-build --help | grep -q usage || fail "lingraft corpora-build --help"
rc=0; "$p/bin/lingraft" corpora-build xx 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "$p/share/lingraft/corpora/recipes/xx.sh" "$tmp/err" ||
    { cat "$tmp/err"; fail "corpora-build does not look for recipes under PREFIX"; }
[ -s "$p/share/lingraft/corpora/recipes/nl.sh" ] || fail "recipes not installed"

# man pages: the subcommands' own options
LC_ALL=C.UTF-8 man -l "$p/share/man/man1/lingraft-lm.1" >man.txt 2>/dev/null
grep -q "lingraft-lm train" man.txt && grep -q -- "--lora-r" man.txt ||
    fail "lingraft-lm.1 lacks the train options"
LC_ALL=C.UTF-8 man -l "$p/share/man/man1/lingraft.1" | grep -q "corpora-build" ||
    fail "lingraft.1 lacks its commands"

# the library through pkg-config
cat >use.c <<'C'
#include <stdio.h>
#include "lg_model.h"
int main(int argc, char **argv)
{
    lg_error err;
    lg_config cfg;
    if (argc != 2 || lg_config_load_dir(argv[1], &cfg, &err) < 0)
        return 1;
    printf("%s %d layers, vocabulary %d\n", cfg.model_type, cfg.n_layers, cfg.vocab_size);
    return 0;
}
C
pc="env PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --define-variable=prefix=$p"
extra=
[ -n "$san" ] && extra="-fsanitize=address,undefined"
# shellcheck disable=SC2046
cc $extra $($pc --cflags lingraft) use.c -o use $($pc --libs lingraft) || fail "building against lingraft.pc"
./use model | grep -q "^llama 2 layers, vocabulary 200$" || fail "the program built on the library"

cd "$src"
# shellcheck disable=SC2086
make -s --no-print-directory $san uninstall PREFIX=$prefix DESTDIR="$root" >/dev/null 2>&1
left=$(find "$root" ! -type d)
[ -z "$left" ] || { echo "$left"; fail "uninstall left files"; }
echo "install: ok ($p)"
