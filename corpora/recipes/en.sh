# English (en) monolingual text, from Debian 12 packages.  Sourced by corpora/build.sh.
#
#   linux_doc   the Linux kernel's reStructuredText documentation (linux-doc-6.1)
#   python_doc  the Python 3.11 documentation sources (python3.11-doc, _sources/*.rst.txt)
# Technical prose: enough for a small base model or as the English side of
# evaluations, not a general-domain corpus.

SOURCES="linux_doc:mono python_doc:mono"

LICENCE_linux_doc="GPL-2 (Linux kernel documentation)"
LICENCE_python_doc="PSF-2.0 (Python documentation)"

src_linux_doc() {
    t=$(fetch linux-doc-6.1 "*/Documentation/*.rst*" "*/Documentation/*.txt*")
    find "$t" -type f ! -path '*/translations/*' \( -name '*.rst' -o -name '*.rst.gz' -o -name '*.txt' -o -name '*.txt.gz' \) \
        | sort >"$WORK/linux_doc.list"
    "$CORPORA" text -o "$1" --strip "$t/" --list "$WORK/linux_doc.list"
    drop_tree linux-doc-6.1
}

src_python_doc() {
    t=$(fetch python3.11-doc "*/_sources/*")
    find "$t" -type f -path '*/_sources/*' | sort >"$WORK/python_doc.list"
    "$CORPORA" text -o "$1" --strip "$t/" --list "$WORK/python_doc.list"
    drop_tree python3.11-doc
}
