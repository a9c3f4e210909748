# Dutch (nl) ↔ English, from Debian 12 packages.  Sourced by corpora/build.sh.
#
#   lo_help   LibreOffice help pages: paragraphs share ids across languages (exact pairs)
#   lo_ui     LibreOffice user-interface catalogs (.mo)
#   gettext   .mo catalogs of ~70 packages (GETTEXT_PACKAGES in corpora/build.sh)
#   man       translated man pages (manpages-nl, manpages-nl-dev) aligned with English ones
#   docs_nl   Dutch manuals (GIMP help, Debian FAQ, aptitude, Debian Edu) as monolingual
#             text; their untranslated English paragraphs are dropped
#   dict      FreeDict English→Dutch and Dutch→English (dict.tsv)
# The help pages and catalogs are short UI/documentation text, not general prose.

SOURCES="lo_help:pairs lo_ui:pairs gettext:pairs man:pairs docs_nl:mono"
DICT=dict_nl
TARGET_LOCALE=nl

LICENCE_lo_help="MPL-2.0 (LibreOffice help)"
LICENCE_lo_ui="MPL-2.0 (LibreOffice)"
LICENCE_gettext="each package's licence (GPL/LGPL/MIT family), see the packages' copyright files"
LICENCE_man="GPL-3+ (manpages-l10n) / the English pages' licences"
LICENCE_dict="GPL-2+ (FreeDict)"
LICENCE_docs_nl="GFDL (GIMP help), GPL (Debian FAQ, aptitude, Debian Edu documentation)"

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
    prefetch manpages-nl manpages-nl-dev manpages manpages-dev coreutils grep diffutils ed findutils \
        file tar nvi wdiff grub-common util-linux iputils-ping
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
    # dict-a/dict-b: this step's own scratch files, replaced when an earlier run left them
    "$CORPORA" dictd --force -o "$WORK/dict-a.tsv" "$a/usr/share/dictd/freedict-eng-nld.index" \
        "$a/usr/share/dictd/freedict-eng-nld.dict.dz"
    "$CORPORA" dictd --force -o "$WORK/dict-b.tsv" --reverse "$b/usr/share/dictd/freedict-nld-eng.index" \
        "$b/usr/share/dictd/freedict-nld-eng.dict.dz"
    sort -u "$WORK/dict-a.tsv" "$WORK/dict-b.tsv" >"$1"
    rm -f "$WORK/dict-a.tsv" "$WORK/dict-b.tsv"
}

# Keeps the records whose text has more frequent Dutch words than English ones: the
# Dutch manuals leave untranslated paragraphs in English.
keep_dutch() {
    awk -F'\t' '
        function score(s, words,   t) {
            t = " " tolower(s) " "; gsub(/[.,:;!?()"]/, " ", t)
            return gsub(words, "&", t)
        }
        score($2, " (de|het|een|en|van|je|u|met|voor|dit|dat|niet|wordt|worden|zijn|kunt|op|naar|deze) ") > \
        score($2, " (the|and|of|to|you|with|for|this|that|not|is|are|be|can|on|from|it|an|by) ")
    ' "$1" >"$1.dutch"
    mv "$1.dutch" "$1"
}

src_docs_nl() {
    list="$WORK/docs_nl.list"
    : >"$list"
    prefetch gimp-help-nl debian-faq-nl aptitude-doc-nl debian-edu-doc-nl
    for p in gimp-help-nl debian-faq-nl aptitude-doc-nl debian-edu-doc-nl; do
        t=$(fetch "$p" "*.html") || continue
        find "$t" -name '*.html' | sort >>"$list"
    done
    [ -s "$list" ] || { echo "no Dutch manual could be fetched" >>"$SOURCE_ERRORS"; return 1; }
    "$CORPORA" text -o "$1" --strip "$CACHE/tree/" --list "$list"
    keep_dutch "$1"
}
