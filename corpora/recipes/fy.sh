# West Frisian (fy) ↔ English, from Debian 12 packages.  Sourced by corpora/build.sh.
#
#   firefox      Firefox ESR: English strings from omni.ja, Frisian from the fy-NL
#                language pack (Fluent .ftl and .properties, paired by message id)
#   thunderbird  Thunderbird, the same way
#   gettext      .mo catalogs with a fy translation (GETTEXT_PACKAGES + KDE_PACKAGES);
#                catalogs that are mostly Dutch are dropped
# Truly low-resource: UI strings only, no Frisian prose ships in Debian.

SOURCES="firefox:pairs thunderbird:pairs gettext:pairs"

LICENCE_firefox="MPL-2.0 (Mozilla Firefox and its localisations)"
LICENCE_thunderbird="MPL-2.0 (Mozilla Thunderbird and its localisations)"
LICENCE_gettext="each package's licence (GPL/LGPL family), see the packages' copyright files"

src_firefox() {
    en=$(fetch firefox-esr "*/omni.ja")
    tg=$(fetch firefox-esr-l10n-fy-nl)
    d="$WORK/firefox"
    rm -rf "$d"
    mozilla_unpack "$d/en/browser" "$en/usr/lib/firefox-esr/browser/omni.ja" en-US
    mozilla_unpack "$d/en/toolkit" "$en/usr/lib/firefox-esr/omni.ja" en-US
    mozilla_unpack "$d/pack" "$(ls "$tg"/usr/lib/firefox-esr/browser/extensions/langpack-fy-NL@*.xpi)" fy-NL
    mkdir -p "$d/fy/toolkit"
    mv "$d/pack/browser" "$d/fy/browser"
    mv "$d/pack/localization" "$d/pack/chrome" "$d/fy/toolkit/"
    "$CORPORA" mozilla -o "$1" "$d/en" "$d/fy"
    rm -rf "$d"
    drop_tree firefox-esr
}

src_thunderbird() {
    en=$(fetch thunderbird "*/omni.ja")
    tg=$(fetch thunderbird-l10n-fy-nl)
    d="$WORK/thunderbird"
    rm -rf "$d"
    mozilla_unpack "$d/en" "$en/usr/share/thunderbird/omni.ja" en-US
    mozilla_unpack "$d/fy" "$(ls "$tg"/usr/lib/thunderbird/extensions/langpack-fy-NL@*.xpi)" fy-NL
    "$CORPORA" mozilla -o "$1" "$d/en" "$d/fy"
    rm -rf "$d"
    drop_tree thunderbird
}

# Some "fy" catalogs are mostly Dutch (vlc's is). Per catalog, count frequent words
# that only Dutch uses against their Frisian counterparts; drop the catalog when
# Dutch wins. One awk pass reads the records twice (counts, then filter).
drop_dutch_catalogs() {
    awk -F'\t' -v report="$SOURCE_ERRORS" '
        function score(s, words,   t) {
            t = " " tolower(s) " "; gsub(/[.,:;!?()"]/, " ", t)
            return gsub(words, "&", t)
        }
        NR == FNR {
            nl[$1] += score($3, " (het|een|niet|van|voor|worden|wordt|deze|kan|zijn|naar|bestand|geen|uw) ")
            fy[$1] += score($3, " (it|fan|net|foar|wurde|wurdt|dizze|kin|binne|nei|triem|gjin|jo|dyn) ")
            next
        }
        FNR == 1 {
            for (d in nl) if (nl[d] > fy[d]) print "catalog " d ": mostly Dutch (" nl[d] " Dutch, " fy[d] " Frisian marker words), dropped" >>report
        }
        !(nl[$1] > fy[$1]) { print }
    ' "$1" "$1" >"$1.frisian"
    mv "$1.frisian" "$1"
}

src_gettext() {
    gettext_pairs "$1" fy $GETTEXT_PACKAGES $KDE_PACKAGES
    drop_dutch_catalogs "$1"
}
