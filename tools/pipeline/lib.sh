# Shared by the pipeline steps (sourced). POSIX sh.
#
# Every step reads its inputs and writes its outputs through files; `fresh OUT IN...`
# says whether OUT exists and is newer than every IN, so that a rerun skips finished work.

: "${LG_BIN:=bin}"
LM="$LG_BIN/lm"
TOKENIZE="$LG_BIN/tokenize"
TRANSFER="$LG_BIN/transfer"
ADAPT="$LG_BIN/adapt"

say() { printf '[%s] %s\n' "${STEP:-pipeline}" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${STEP:-pipeline}" "$*" >&2; exit 1; }

# fresh OUT IN...: true when OUT exists and no IN is newer.
# (POSIX sh has no local variables: helper names start with _ so as not to clobber callers'.)
fresh() {
    _fresh_out=$1; shift
    [ -e "$_fresh_out" ] || return 1
    for _fresh_in in "$@"; do
        [ -e "$_fresh_in" ] || continue
        [ "$_fresh_in" -nt "$_fresh_out" ] && return 1
    done
    return 0
}

need() { for _need_f in "$@"; do [ -e "$_need_f" ] || die "missing input $_need_f"; done; }

# seconds since the epoch, for timings in the report
now() { date +%s; }

# json_get FILE KEY: a number or string value from a one-line JSON object
json_get() { sed -n "s/.*\"$2\": *\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" "$1" | head -n 1; }
