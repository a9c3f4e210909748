# Basque (eu) ↔ English, from Debian 12 packages.  Sourced by corpora/build.sh.
#
#   lo_help   LibreOffice help pages, paragraphs paired by id
#   lo_ui     LibreOffice user-interface catalogs (.mo)
#   gettext   .mo catalogs with a Basque translation (GETTEXT_PACKAGES + KDE_PACKAGES)
# No dict.tsv: apertium-eu-en ships only compiled transducers, no .dix source to read.

SOURCES="lo_help:pairs lo_ui:pairs gettext:pairs"

LICENCE_lo_help="MPL-2.0 (LibreOffice help)"
LICENCE_lo_ui="MPL-2.0 (LibreOffice)"
LICENCE_gettext="each package's licence (GPL/LGPL family), see the packages' copyright files"

src_lo_help() {
    en=$(fetch libreoffice-help-en-us)
    tg=$(fetch libreoffice-help-eu)
    "$CORPORA" help -o "$1" "$en/usr/share/libreoffice/help/en-US" "$tg/usr/share/libreoffice/help/eu"
    drop_tree libreoffice-help-en-us libreoffice-help-eu
}

src_lo_ui() {
    tg=$(fetch libreoffice-l10n-eu)
    find "$tg" -path '*/resource/eu/LC_MESSAGES/*.mo' | sort >"$WORK/lo_ui.list"
    "$CORPORA" mo -o "$1" --doc-prefix libreoffice/ --list "$WORK/lo_ui.list"
}

src_gettext() { gettext_pairs "$1" eu $GETTEXT_PACKAGES $KDE_PACKAGES; }
