#!/bin/sh
# Builds the corpus of one language from Debian packages:  corpora/build.sh LANG
#
# The recipe corpora/recipes/LANG.sh names its sources; each source fetches its
# packages (apt-get download into corpora/cache/debs, unpacked with dpkg-deb into
# corpora/cache/tree) and runs an extractor that writes corpora/build/LANG/work/
# SOURCE.pairs or SOURCE.mono.  `corpora assemble` then cleans, filters, splits off
# the held-out documents and writes mono.txt.gz, en-LANG.tsv.gz, heldout.txt,
# heldout.en-LANG.tsv (and dict.tsv when the recipe has a dictionary); MANIFEST.json
# records packages, versions, sha256, licences, counts and what failed.
#
# Restartable: downloads are cached, and a source whose output is newer than the
# recipe and the corpora program is not extracted again.  A source that fails
# (package missing from the archive, changed layout, empty result) is reported and
# recorded; the others still build.
#
# Environment: LG_BIN (programs, default bin), LG_CORPORA_CACHE (default
# corpora/cache), LG_CORPORA_OUT (default corpora/build), LG_CORPORA_RECIPES
# (default corpora/recipes), LG_CORPORA_FRESH=1 re-extracts every source.
set -u

if [ $# -ne 1 ] || [ "$1" = "--help" ] || [ "$1" = "-h" ]; then
    echo "usage: corpora/build.sh LANG    (recipes: corpora/recipes/*.sh)"
    [ $# -eq 1 ] && exit 0
    exit 1
fi
LANG_CODE=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RECIPE="${LG_CORPORA_RECIPES:-$ROOT/corpora/recipes}/$LANG_CODE.sh"
[ -f "$RECIPE" ] || { echo "corpora: no recipe $RECIPE" >&2; exit 1; }
BIN=${LG_BIN:-bin}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
CORPORA="$BIN/corpora"
[ -x "$CORPORA" ] || { echo "corpora: $CORPORA not built (run make)" >&2; exit 1; }
CACHE=${LG_CORPORA_CACHE:-$ROOT/corpora/cache}
OUT=${LG_CORPORA_OUT:-$ROOT/corpora/build}/$LANG_CODE
WORK="$OUT/work"
LOG="$WORK/build.log"
mkdir -p "$CACHE/debs" "$CACHE/tree" "$WORK" || exit 1
export LC_ALL=C.UTF-8
START=$(date +%s)
: >"$LOG"

say() { echo "corpora[$LANG_CODE]: $*" >&2; }
# progress MESSAGE: one rewritten status line while a source runs (fd 3 is the
# terminal's stderr; the sources' own stderr goes to the log)
exec 3>&2
progress() { [ -t 3 ] && printf '\r\033[Kcorpora[%s]:   %s' "$LANG_CODE" "$*" >&3; return 0; }

# --- packages -------------------------------------------------------------

APT_UPDATED=0
# fetch PKG [PATTERN...]: downloads PKG once, unpacks it (only the paths matching
# the tar patterns, when given) and prints the unpacked tree.  Records
# PKG=VERSION=SHA256 for the manifest.
fetch() {
    pkg=$1; shift
    deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | tail -n 1)
    if [ -z "$deb" ]; then
        if [ "$APT_UPDATED" = 0 ] && ! apt-cache show "$pkg" >/dev/null 2>&1; then
            say "apt lists lack $pkg; running apt-get update"
            if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >>"$LOG" 2>&1; else sudo apt-get update -qq >>"$LOG" 2>&1; fi
            APT_UPDATED=1
        fi
        (cd "$CACHE/debs" && apt-get download "$pkg") >>"$LOG" 2>&1 || {
            echo "package $pkg: apt-get download failed (not in the archive?)" >>"$SOURCE_ERRORS"
            return 1; }
        deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | tail -n 1)
        [ -n "$deb" ] || { echo "package $pkg: download left no .deb" >>"$SOURCE_ERRORS"; return 1; }
    fi
    tree="$CACHE/tree/$pkg"
    stamp="$tree/.unpacked-$(basename "$deb")"
    if [ $# -gt 0 ]; then stamp="$stamp-$(echo "$*" | cksum | cut -d' ' -f1)"; fi
    if [ ! -e "$stamp" ]; then
        rm -rf "$tree" "$tree.tmp"
        mkdir -p "$tree.tmp"
        if [ $# -gt 0 ]; then
            dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tree.tmp" --wildcards "$@" 2>>"$LOG" || true
        else
            dpkg-deb -x "$deb" "$tree.tmp" 2>>"$LOG" || {
                echo "package $pkg: dpkg-deb cannot unpack $deb" >>"$SOURCE_ERRORS"; return 1; }
        fi
        # tar exits non-zero when a pattern matches nothing; an empty tree is checked by the caller
        mv "$tree.tmp" "$tree" && touch "$stamp"
    fi
    version=$(dpkg-deb -f "$deb" Version)
    sha=$(sha256sum "$deb" | cut -d' ' -f1)
    echo "$pkg=$version=$sha" >>"$SOURCE_PKGS"
    echo "$tree"
}

# prefetch PKG...: downloads the packages not yet cached in one apt-get call (one
# call per package costs seconds each). When it fails (a name missing from the
# archive), fetch later retries them one by one and records which failed.
prefetch() {
    missing=""
    for p in "$@"; do
        ls "$CACHE/debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -n "$missing" ] || return 0
    progress "downloading $(echo $missing | wc -w) packages"
    # shellcheck disable=SC2086
    (cd "$CACHE/debs" && apt-get download $missing) >>"$LOG" 2>&1 || true
}

# fetch_all PKG...: fetch several; a missing one is recorded, the rest go on.
# Prints the trees that exist.
fetch_all() {
    for p in "$@"; do fetch "$p" || true; done
}

# tree PKG: where fetch unpacked PKG
tree() { echo "$CACHE/tree/$1"; }

# drop_tree PKG...: unpacked trees that are not needed after extraction
drop_tree() { for p in "$@"; do rm -rf "$CACHE/tree/$p"; done; }

# --- gettext catalogs --------------------------------------------------------

# Packages with many translated gettext catalogs (core tools, GNOME, Xfce, KDE,
# applications). A recipe may replace or extend the list; a package that is
# missing, or has no catalog for the locale, is recorded, not fatal.
GETTEXT_PACKAGES="coreutils tar grep sed gawk findutils diffutils bash apt dpkg debconf
libc-l10n util-linux-locales e2fsprogs gettext wget gnupg-l10n gcc-12-locales binutils-common
make bison cpio parted nano procps psmisc passwd iso-codes xkb-data synaptic aptitude-common
gimp-data inkscape gnome-control-center-data nautilus-data evolution-data-server-common
libgtk-3-common libglib2.0-data gnome-shell-common mutter-common gedit-common evince-common
totem-common rhythmbox-data gnome-software-common libgweather-4-common gnome-calendar
gnome-maps gparted gnome-disk-utility file-roller gnome-terminal-data geany-common
gthumb-data shotwell-common simple-scan brasero-common audacity-data filezilla-common
hexchat-common claws-mail-i18n gnumeric-common abiword-common vlc-l10n transmission-common
pidgin-data gnucash-common scribus-data gramps xfce4-panel thunar-data mousepad ristretto
xfce4-settings pcmanfm lxde-common"
KDE_PACKAGES="dolphin konsole kate okular gwenview ark kcalc systemsettings plasma-workspace
plasma-workspace-data plasma-desktop-data kio kio-extras-data khelpcenter kdeconnect kmail
korganizer akregator konqueror kwin-data kde-cli-tools-data libkf5coreaddons-data
libkf5widgetsaddons-data libkf5xmlgui-data libkf5configwidgets-data libkf5i18n-data
libkf5kiowidgets5 libkf5textwidgets-data libkf5service-data libkf5bookmarks-data
libkf5completion-data libkf5parts-data libkf5kcmutils-data libkf5notifyconfig-data
libkf5wallet-data libkf5solid5-data libkf5auth-data libkf5jobwidgets-data
libkf5itemviews-data libkf5newstuff-data"

# gettext_pairs OUT LOCALE [PACKAGE...]: the LOCALE catalogs of the packages
# (default GETTEXT_PACKAGES), one document per catalog.
gettext_pairs() {
    out=$1; loc=$2; shift 2
    [ $# -gt 0 ] || set -- $GETTEXT_PACKAGES
    list="$WORK/gettext-$loc.list"
    : >"$list"
    prefetch "$@"
    i=0
    for p in "$@"; do
        i=$((i + 1))
        progress "gettext: package $i/$# $p"
        # every locale's catalogs are unpacked, so other languages reuse the tree
        t=$(fetch "$p" "*/LC_MESSAGES/*.mo") || continue
        n=$(find "$t" -name '*.mo' -path "*/$loc/LC_MESSAGES/*" | tee -a "$list" | wc -l)
        [ "$n" -gt 0 ] || echo "package $p: no $loc catalog" >>"$SOURCE_ERRORS"
    done
    sort -o "$list" "$list"
    [ -s "$list" ] || { echo "no package has a $loc catalog" >>"$SOURCE_ERRORS"; return 1; }
    "$CORPORA" mo -o "$out" --list "$list"
}

# --- Mozilla language packs ----------------------------------------------------

# mozilla_unpack DIR ZIP LOCALE: the localisation files of ZIP (omni.ja or a language
# pack .xpi) under DIR, every LOCALE directory renamed LOCALE so that English and
# translated trees line up path for path.
mozilla_unpack() {
    dir=$1; zip=$2; loc=$3
    mkdir -p "$dir"
    # omni.ja has a nonstandard zip layout: unzip warns (exit 1 or 2) yet extracts
    (cd "$dir" && unzip -q -o "$zip" "*$loc/*" >/dev/null 2>&1) || true
    find "$dir" -depth -type d -name "$loc" | while read -r d; do
        mkdir -p "$(dirname "$d")/LOCALE"
        cp -r "$d/." "$(dirname "$d")/LOCALE/" && rm -rf "$d"
    done
    [ -n "$(find "$dir" -type f | head -n 1)" ] || {
        echo "$zip: no $loc localisation files" >>"$SOURCE_ERRORS"; return 1; }
}

# --- man pages ---------------------------------------------------------------

# RENDER_MAN: a page (gzip roff) as plain UTF-8 text, 100 columns, no hyphenation or
# justification, the way `man -E UTF-8 --nh --nj -l PAGE | col -bx` shows it, but
# through groff directly (half the time of man-db's wrapper). Used via xargs:
# sh -c "$RENDER_MAN" SRC DEST.
RENDER_MAN='zcat -f "$0" | preconv -e UTF-8 2>/dev/null | groff -t -mandoc -Tutf8 -rLL=100n -rHY=0 -dAD=l -P-c 2>/dev/null | col -bx >"$1"'

# man_pairs OUT TARGET_MAN_ROOT EN_MAN_ROOT... : renders every translated page
# that has an English page of the same name and section, then pairs paragraphs.
man_pairs() {
    out=$1; target_root=$2; shift 2
    rdir="$WORK/man-render"
    mkdir -p "$rdir"
    list="$WORK/man-list.tsv"
    : >"$list"
    (cd "$target_root" && find . -name '*.gz' -path './man*/*' | sort) | while read -r rel; do
        rel=${rel#./}
        for en_root in "$@"; do
            if [ -f "$en_root/$rel" ]; then
                key=$(echo "$rel" | tr '/' '_')
                printf '%s\t%s\t%s\t%s\t%s\n' "$rel" "$en_root/$rel" "$target_root/$rel" \
                    "$rdir/en_$key.txt" "$rdir/tg_$key.txt" >>"$list"
                break
            fi
        done
    done
    n=$(wc -l <"$list")
    [ "$n" -gt 0 ] || { echo "no translated page has an English counterpart" >>"$SOURCE_ERRORS"; return 1; }
    progress "man: rendering $n page pairs"
    # two pages at a time (one process per page, not per line)
    cut -f2,4 "$list" | tr '\t' '\n' | xargs -n 2 -P 2 sh -c "$RENDER_MAN"
    cut -f3,5 "$list" | tr '\t' '\n' | xargs -n 2 -P 2 sh -c "$RENDER_MAN"
    cut -f1,4,5 "$list" >"$WORK/man-pairs.tsv"
    set -- $MAN_DROP_SECTIONS
    drops=""
    for d in "$@"; do drops="$drops --drop-section $d"; done
    # shellcheck disable=SC2086
    "$CORPORA" man -o "$out" $drops "$WORK/man-pairs.tsv" 2>>"$LOG"
    status=$?
    rm -rf "$rdir"
    return $status
}
MAN_DROP_SECTIONS="COLOPHON"

# --- sources -----------------------------------------------------------------

SOURCES=""      # set by the recipe: "name:kind licence-word ..." see recipes
DICT=""         # recipe function that writes dict.tsv to $1, if any
. "$RECIPE"

TABLE="$WORK/sources.tsv"
: >"$TABLE"
inputs=""
set -- $SOURCES
total=$#
i=0
for spec in "$@"; do
    i=$((i + 1))
    name=${spec%%:*}
    kind=${spec#*:}
    output="$WORK/$name.$kind"
    SOURCE_PKGS="$WORK/$name.pkgs"
    SOURCE_ERRORS="$WORK/$name.errors"
    licence=$(eval "echo \"\${LICENCE_$name:-see the packages' copyright files}\"")
    if [ -z "${LG_CORPORA_FRESH:-}" ] && [ -s "$output" ] && [ "$output" -nt "$RECIPE" ] \
        && [ "$output" -nt "$CORPORA" ] && [ -f "$SOURCE_PKGS" ]; then
        say "[$i/$total] $name: up to date ($(wc -l <"$output") records)"
    else
        say "[$i/$total] $name: extracting"
        : >"$SOURCE_PKGS"
        : >"$SOURCE_ERRORS"
        rm -f "$output"
        t0=$(date +%s)
        ( set -e; "src_$name" "$output" ) >>"$LOG" 2>"$WORK/$name.stderr"
        rc=$?
        cat "$WORK/$name.stderr" >>"$LOG"
        if [ $rc -ne 0 ]; then
            # the extractor's own message names the file and the problem
            grep '^corpora' "$WORK/$name.stderr" | tail -n 3 >>"$SOURCE_ERRORS"
            [ -s "$SOURCE_ERRORS" ] || echo "extractor failed (exit $rc); see $LOG" >>"$SOURCE_ERRORS"
        fi
        rm -f "$WORK/$name.stderr"
        [ $rc -eq 0 ] || rm -f "$output"
        if [ $rc -eq 0 ] && [ ! -s "$output" ]; then
            echo "extractor produced no records (changed package layout?)" >>"$SOURCE_ERRORS"
            rm -f "$output"
        fi
        [ -t 3 ] && printf '\r\033[K' >&3
        if [ -s "$output" ]; then
            say "[$i/$total] $name: $(wc -l <"$output") records in $(( $(date +%s) - t0 ))s"
        fi
    fi
    msg=$(tr '\t' ' ' <"$SOURCE_ERRORS" 2>/dev/null | paste -sd ';' -)
    pkgs=$(sort -u "$SOURCE_PKGS" 2>/dev/null | tr '\n' ' ')
    if [ -s "$output" ]; then
        status=ok
        inputs="$inputs $output"
        [ -n "$msg" ] && say "  $name: $(wc -l <"$SOURCE_ERRORS") warnings, e.g. $(head -n 1 "$SOURCE_ERRORS") (all in MANIFEST.json)"
    else
        status=failed
        say "  $name: FAILED: $msg"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$pkgs" "$licence" "$msg" >>"$TABLE"
done

[ -n "$inputs" ] || { say "no source gave any text; nothing to assemble"; exit 1; }

# --- assembly ---------------------------------------------------------------

STAGE="$WORK/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE"
say "assembling (filters, duplicates, held-out split)"
# shellcheck disable=SC2086
"$CORPORA" assemble --lang "$LANG_CODE" --out "$STAGE" $inputs || exit 1

if [ -n "$DICT" ]; then
    name=dict
    SOURCE_PKGS="$WORK/dict.pkgs"; SOURCE_ERRORS="$WORK/dict.errors"
    : >"$SOURCE_PKGS"; : >"$SOURCE_ERRORS"
    if ( set -e; "$DICT" "$STAGE/dict.tsv" ) >>"$LOG" 2>&1 && [ -s "$STAGE/dict.tsv" ]; then
        status=ok
        say "dictionary: $(wc -l <"$STAGE/dict.tsv") entries"
    else
        status=failed
        rm -f "$STAGE/dict.tsv"
        say "dictionary: FAILED: $(cat "$SOURCE_ERRORS")"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' dict "$status" "$(sort -u "$SOURCE_PKGS" | tr '\n' ' ')" \
        "${LICENCE_dict:-}" "$(tr '\t' ' ' <"$SOURCE_ERRORS" | paste -sd ';' -)" >>"$TABLE"
fi

(cd "$STAGE" && sha256sum $(ls | grep -v -e '^counts.json$' -e '^SHA256SUMS$')) >"$STAGE/SHA256SUMS" || exit 1
"$CORPORA" manifest --lang "$LANG_CODE" --dir "$STAGE" --sources "$TABLE" \
    --seconds "$(( $(date +%s) - START ))" || exit 1
# Move the finished files into place, the manifest last.
for f in "$STAGE"/*; do
    [ "$(basename "$f")" = MANIFEST.json ] || mv "$f" "$OUT/"
done
mv "$STAGE/MANIFEST.json" "$OUT/MANIFEST.json"
# the mark `corpora assemble` left in its output directory (lg_io.h's output rule)
rm -f "$STAGE/.lingraft-output"
rmdir "$STAGE"
say "done in $(( $(date +%s) - START ))s: $OUT"
grep -A 12 '"totals"' "$OUT/MANIFEST.json" | sed -n '2,11p' | tr -d ' ,"' | sed 's/^/    /' >&2
