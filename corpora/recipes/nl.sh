# Dutch (nl) ↔ English, from Debian 12 packages.  Sourced by corpora/build.sh.
#
#   lo_help   LibreOffice help pages: paragraphs share ids across languages (exact pairs)
#   lo_ui     LibreOffice user-interface catalogs (.mo)
#   gettext   .mo catalogs of ~70 packages (GETTEXT_PACKAGES in corpora/build.sh)
#   man       translated man pages (manpages-nl, manpages-nl-dev) aligned with English ones
#   dict      FreeDict English→Dutch and Dutch→English (dict.tsv)
# The help pages and catalogs are short UI/documentation text, not general prose.

SOURCES="lo_help:pairs lo_ui:pairs gettext:pairs man:pairs"
DICT=dict_nl
TARGET_LOCALE=nl

LICENCE_lo_help="MPL-2.0 (LibreOffice help)"
LICENCE_lo_ui="MPL-2.0 (LibreOffice)"
LICENCE_gettext="each package's licence (GPL/LGPL/MIT family), see the packages' copyright files"
LICENCE_man="GPL-3+ (manpages-l10n) / the English pages' licences"
LICENCE_dict="GPL-2+ (FreeDict)"

src_lo_help() {
    en=$(fetch libreoffice-help-en-us)
    tg=$(fetch libreoffice-help-nl)
    "$CORPORA" help -o "$1" "$en/usr/share/libreoffice/help/en-US" "$tg/usr/share/libreoffice/help/nl"
    drop_tree libreoffice-help-en-us libreoffice-help-nl
}

src_lo_ui() {
    tg=$(fetch libreoffice-l10n-nl)
    find "$tg" -path '*/resource/nl/LC_MESSAGES/*.mo' | sort >"$WORK/lo_ui.list"
    "$CORPORA" mo -o "$1" --doc-prefix libreoffice/ --list "$WORK/lo_ui.list"
}

src_gettext() { gettext_pairs "$1" nl; }

src_man() {
    fetch_all manpages-nl manpages-nl-dev >/dev/null
    for p in manpages manpages-dev coreutils grep diffutils ed findutils file tar nvi wdiff \
             grub-common util-linux iputils-ping; do
        fetch "$p" "*/share/man/man*" >/dev/null || true
    done
    # both translated packages install into usr/share/man/nl
    nlroot="$WORK/man-nl"
    rm -rf "$nlroot"; mkdir -p "$nlroot"
    cp -r "$(tree manpages-nl)/usr/share/man/nl/." "$(tree manpages-nl-dev)/usr/share/man/nl/." "$nlroot/"
    MAN_DROP_SECTIONS="COLOPHON VERTALING"
    man_pairs "$1" "$nlroot" "$(tree manpages)/usr/share/man" "$(tree manpages-dev)/usr/share/man" \
        "$(tree coreutils)/usr/share/man" "$(tree grep)/usr/share/man" "$(tree diffutils)/usr/share/man" \
        "$(tree ed)/usr/share/man" "$(tree findutils)/usr/share/man" "$(tree file)/usr/share/man" \
        "$(tree tar)/usr/share/man" "$(tree nvi)/usr/share/man" "$(tree wdiff)/usr/share/man" \
        "$(tree grub-common)/usr/share/man" "$(tree util-linux)/usr/share/man" \
        "$(tree iputils-ping)/usr/share/man"
    rm -rf "$nlroot"
}

dict_nl() {
    a=$(fetch dict-freedict-eng-nld)
    b=$(fetch dict-freedict-nld-eng)
    "$CORPORA" dictd -o "$WORK/dict-a.tsv" "$a/usr/share/dictd/freedict-eng-nld.index" \
        "$a/usr/share/dictd/freedict-eng-nld.dict.dz"
    "$CORPORA" dictd -o "$WORK/dict-b.tsv" --reverse "$b/usr/share/dictd/freedict-nld-eng.index" \
        "$b/usr/share/dictd/freedict-nld-eng.dict.dz"
    sort -u "$WORK/dict-a.tsv" "$WORK/dict-b.tsv" >"$1"
    rm -f "$WORK/dict-a.tsv" "$WORK/dict-b.tsv"
}
