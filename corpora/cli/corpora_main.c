/* corpora — extracts EN<->target pairs and monolingual text from Debian package files and
 * assembles them into a language's corpus (see corpora/build.sh, which drives it): one
 * subcommand per corpora/cli/cmd_*.c. */
#include "corpora_cmds.h"
#include "lg_cli.h"

static const lg_cli_command commands[] = {
    {"mo", cor_cmd_mo, "gettext catalogs: English msgid, translated msgstr"},
    {"help", cor_cmd_help, "LibreOffice help pages, paragraphs paired by their ids"},
    {"mozilla", cor_cmd_mozilla, "Firefox/Thunderbird Fluent and .properties, paired by id"},
    {"man", cor_cmd_man, "rendered man pages paired paragraph by paragraph"},
    {"text", cor_cmd_text, "plain text, reStructuredText or HTML, a paragraph a record"},
    {"dictd", cor_cmd_dictd, "FreeDict dictionary to english<TAB>target lines"},
    {"assemble", cor_cmd_assemble, "clean, filter, deduplicate and split the records"},
    {"manifest", cor_cmd_manifest, "write DIR/MANIFEST.json from the recipe's source table"},
    {"import", cor_cmd_import, "downloaded corpora (TMX, Moses, TSV, text, JSON Lines) to a corpus"},
};

int main(int argc, char **argv)
{
    return lg_cli_main("corpora",
                       "Builds a language's corpus from Debian package files, or from downloaded\n"
                       "corpora (import).\n"
                       "Extractors write records, one a line: SOURCE.pairs\n"
                       "(doc<TAB>english<TAB>target) or SOURCE.mono (doc<TAB>text), whole or not "
                       "at all;\nassemble cleans, filters and splits them.",
                       commands, (int)(sizeof commands / sizeof *commands), argc, argv);
}
