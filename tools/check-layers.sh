#!/bin/sh
# Checks that the library's dependencies point one way:
#   lm (core) <- tokenize <- transfer <- adapt,   lm <- corpora,   and the programs on top.
# A library file (MODULE/*.c, *.cc, *.h) may include its own module's headers and the public
# headers (include/) of the modules below it; a public header only those of its own module
# and below; program code (MODULE/cli/) any public header, its own module's private ones and
# the command-line kit's (lm/cli/). Prints each violation and exits 1; 0 when clean.
# Usage: tools/check-layers.sh [ROOT]   (default: the current directory)
set -u
root=${1:-.}
cd "$root" || exit 2

# The owner of every public header; a header missing here is itself an error.
owner() {
    case "$1" in
    lg_error.h|lg_io.h|lg_progress.h|lg_rng.h|lg_safetensors.h|lg_model.h|lg_lora.h|\
    lg_langsamp.h|lg_tokenizer.h|lg_train.h|lg_generate.h|lg_dist.h|lg_arch.h) echo lm ;;
    lg_spm.h|lg_text.h) echo tokenize ;;
    lg_transfer.h) echo transfer ;;
    lg_pack.h|lg_export.h) echo adapt ;;
    *) echo "" ;;
    esac
}
# What each module may use (itself included).
allowed() {
    case "$1" in
    lm) echo "lm" ;;
    tokenize) echo "lm tokenize" ;;
    transfer) echo "lm tokenize transfer" ;;
    adapt) echo "lm tokenize transfer adapt" ;;
    corpora) echo "lm corpora" ;;
    esac
}

bad=0
report() { echo "layers: $*"; bad=1; }

for h in include/*.h; do
    [ -n "$(owner "$(basename "$h")")" ] || report "$h: public header with no owning module (add it to tools/check-layers.sh)"
done

# includes FILE: the quoted #include names of FILE
includes() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }

check_file() { # FILE MODULE KIND(lib|public|cli)
    file=$1 module=$2 kind=$3
    for inc in $(includes "$file"); do
        case "$inc" in
        */*) report "$file includes \"$inc\": a path, not a header of a module"; continue ;;
        esac
        dir=$(dirname "$file")
        if [ "$kind" != public ] && [ -f "$dir/$inc" ]; then continue; fi   # same folder
        if [ "$kind" = cli ] && { [ -f "$module/$inc" ] || [ -f "lm/cli/$inc" ]; }; then continue; fi
        if [ -f "include/$inc" ]; then
            o=$(owner "$inc")
            [ -n "$o" ] || continue   # reported above
            [ "$kind" = cli ] && continue
            case " $(allowed "$module") " in
            *" $o "*) ;;
            *) report "$file ($module) includes $inc of $o, a module above it or beside it" ;;
            esac
            continue
        fi
        for m in lm tokenize transfer adapt corpora lm/cli; do
            if [ -f "$m/$inc" ]; then
                report "$file ($module) includes $inc, private to $m"
                continue 2
            fi
        done
        report "$file includes \"$inc\", which is in no module"
    done
}

for module in lm tokenize transfer adapt corpora; do
    for f in "$module"/*.c "$module"/*.cc "$module"/*.h; do
        [ -f "$f" ] && check_file "$f" "$module" lib
    done
    for f in "$module"/cli/*.c "$module"/cli/*.h; do
        [ -f "$f" ] || continue
        check_file "$f" "$module" cli
    done
done
for h in include/*.h; do
    o=$(owner "$(basename "$h")")
    [ -n "$o" ] && check_file "$h" "$o" public
done
[ "$bad" -eq 0 ] && echo "layers: lm <- tokenize <- transfer <- adapt, lm <- corpora; programs on top: ok"
exit "$bad"
