/* The readers of `corpora import` (lg_import.h): one streamed pass over each downloaded
 * file, a callback per segment, an error naming the file and the line for input that is not
 * what its format says. */
#include <cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_import.h"
#include "lg_zstream.h"

const char *lg_import_format_name(lg_import_format f)
{
    switch (f) {
    case LG_IMPORT_MOSES: return "moses";
    case LG_IMPORT_TMX: return "tmx";
    case LG_IMPORT_TSV: return "tsv";
    case LG_IMPORT_TEXT: return "text";
    case LG_IMPORT_JSONL: return "jsonl";
    }
    return "?";
}

int lg_import_is_parallel(lg_import_format f)
{
    return f == LG_IMPORT_MOSES || f == LG_IMPORT_TMX || f == LG_IMPORT_TSV;
}

int lg_import_lang_matches(const char *tag, const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || strncasecmp(tag, code, n) != 0)
        return 0;
    return tag[n] == '\0' || tag[n] == '-' || tag[n] == '_';
}

int lg_import_moses_file(const char *prefix, const char *code, char *out, size_t cap)
{
    static const char *const suffixes[] = {"", ".gz", ".xz", ".zst"};
    struct stat st;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        snprintf(out, cap, "%s.%s%s", prefix, code, suffixes[i]);
        if (stat(out, &st) == 0)
            return 0;
    }
    snprintf(out, cap, "%s.%s", prefix, code);
    return -1;
}

/* Offset of the first byte that is not well-formed UTF-8 (NUL counts as bad), or -1. */
static long utf8_bad_offset(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        unsigned min;
        if (c == 0)
            return (long)i;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return (long)i;
        }
        if (i + len > n)
            return (long)i;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return (long)i;
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return (long)i;
        i += len;
    }
    return -1;
}

/* The UTF-8 rule every line-based reader applies; strips a byte order mark on line 1. */
static int check_line(const char *path, int64_t lineno, char **line, size_t *len, lg_error *err)
{
    if (lineno == 1 && *len >= 3 && !memcmp(*line, "\xef\xbb\xbf", 3)) {
        *line += 3;
        *len -= 3;
    }
    if (lineno == 1 && *len >= 2 && ((unsigned char)(*line)[0] + (unsigned char)(*line)[1]) ==
                                         0xff + 0xfe && (unsigned char)(*line)[0] >= 0xfe)
        return lg_fail(err, "%s:1: UTF-16 text (a byte order mark %s); convert the file to UTF-8 "
                            "first (iconv -f UTF-16)", path,
                       (unsigned char)(*line)[0] == 0xff ? "ff fe" : "fe ff");
    long bad = utf8_bad_offset(*line, *len);
    if (bad >= 0 && (*line)[bad] == '\0')
        return lg_fail(err, "%s:%lld: a NUL byte (byte %ld of the line): not a text file", path,
                       (long long)lineno, bad + 1);
    if (bad >= 0)
        return lg_fail(err, "%s:%lld: not valid UTF-8 (byte %ld of the line is 0x%02x); convert "
                            "the file to UTF-8 first (iconv)", path, (long long)lineno, bad + 1,
                       (unsigned char)(*line)[bad]);
    return 0;
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static void file_stats(lg_import_file_stats *st, const lg_zstream *z)
{
    if (!st)
        return;
    snprintf(st->format, sizeof st->format, "%s", lg_zstream_format(z));
    lg_zstream_sha256(z, st->sha256);
    st->bytes = lg_zstream_raw_bytes(z);
}

/* A line-based file: opened with its line reader. */
typedef struct {
    lg_zstream *z;
    lg_zlines l;
} line_file;

static int line_open(line_file *f, const char *path, lg_error *err)
{
    memset(f, 0, sizeof *f);
    if (!(f->z = lg_zstream_open(path, err)))
        return -1;
    lg_zlines_init(&f->l, f->z);
    return 0;
}

/* 1 and a checked line, 0 at the end, -1 on error. */
static int line_next(line_file *f, char **line, size_t *len, lg_error *err)
{
    int rc = lg_zlines_next(&f->l, line, len, err);
    if (rc > 0 && check_line(lg_zstream_path(f->z), f->l.lineno, line, len, err) < 0)
        return -1;
    return rc;
}

static void line_close(line_file *f, lg_import_file_stats *st, int ok)
{
    if (ok)
        file_stats(st, f->z);
    lg_zlines_free(&f->l);
    lg_zstream_close(f->z);
}

static void doc_name(char *doc, size_t cap, char prefix, long n)
{
    snprintf(doc, cap, "%c%ld", prefix, n);
}

/* ---- TSV ------------------------------------------------------------------- */

int lg_import_tsv(const char *path, const lg_import_options *opt, lg_import_emit emit,
                  void *ctx, lg_import_file_stats *st, lg_error *err)
{
    line_file f;
    if (line_open(&f, path, err) < 0)
        return -1;
    int need = opt->tsv_en_col > opt->tsv_target_col ? opt->tsv_en_col : opt->tsv_target_col;
    char *line, doc[32], *fields[64];
    size_t len;
    int rc;
    long pairs = 0;
    while ((rc = line_next(&f, &line, &len, err)) > 0) {
        if (st)
            st->units++;
        if (is_blank(line)) {
            if (st)
                st->skipped++;
            continue;
        }
        int n = 0;
        fields[n++] = line;
        for (char *p = line; *p && n < 64; p++)
            if (*p == '\t') {
                *p = '\0';
                fields[n++] = p + 1;
            }
        if (n < need) {
            rc = lg_fail(err, "%s:%lld: %d column%s, the English and target columns are %d and %d "
                              "(tab-separated)", path, (long long)f.l.lineno, n, n == 1 ? "" : "s",
                         opt->tsv_en_col, opt->tsv_target_col);
            break;
        }
        doc_name(doc, sizeof doc, 'b', pairs++ / opt->doc_size);
        if (emit(ctx, doc, fields[opt->tsv_en_col - 1], fields[opt->tsv_target_col - 1], err) < 0) {
            rc = -1;
            break;
        }
        if (st)
            st->segments++;
    }
    line_close(&f, st, rc == 0);
    return rc < 0 ? -1 : 0;
}

/* ---- Moses: two line-aligned files ------------------------------------------- */

int lg_import_moses(const char *en_path, const char *target_path, const lg_import_options *opt,
                    lg_import_emit emit, void *ctx, lg_import_file_stats *st,
                    lg_import_file_stats *st2, lg_error *err)
{
    line_file e, t;
    if (line_open(&e, en_path, err) < 0)
        return -1;
    if (line_open(&t, target_path, err) < 0) {
        line_close(&e, NULL, 0);
        return -1;
    }
    char doc[32], *en_line, *t_line;
    size_t en_len, t_len;
    int rc;
    for (;;) {
        int re = line_next(&e, &en_line, &en_len, err);
        if (re < 0) {
            rc = -1;
            break;
        }
        int rt = line_next(&t, &t_line, &t_len, err);
        if (rt < 0) {
            rc = -1;
            break;
        }
        if (re == 0 && rt == 0) {
            rc = 0;
            break;
        }
        if (re != rt) {
            const char *longer = re ? en_path : target_path;
            const char *shorter = re ? target_path : en_path;
            int64_t n = re ? e.l.lineno : t.l.lineno;
            rc = lg_fail(err, "%s has %lld lines but %s has more: its line %lld has no "
                              "counterpart (the files must be line-aligned)", shorter,
                         (long long)(n - 1), longer, (long long)n);
            break;
        }
        if (st)
            st->units++;
        if (st2)
            st2->units++;
        doc_name(doc, sizeof doc, 'b', (long)((e.l.lineno - 1) / opt->doc_size));
        if (emit(ctx, doc, en_line, t_line, err) < 0) {
            rc = -1;
            break;
        }
        if (st)
            st->segments++;
    }
    line_close(&e, st, rc == 0);
    line_close(&t, st2, rc == 0);
    return rc;
}

/* ---- plain text --------------------------------------------------------------- */

int lg_import_text(const char *path, const lg_import_options *opt, lg_import_emit emit,
                   void *ctx, lg_import_file_stats *st, lg_error *err)
{
    line_file f;
    if (line_open(&f, path, err) < 0)
        return -1;
    char *line, doc[32] = "";
    size_t len;
    int rc;
    char *joined = NULL;
    size_t jlen = 0, jcap = 0;
    int in_doc = 0;
    while ((rc = line_next(&f, &line, &len, err)) > 0) {
        if (st)
            st->units++;
        int blank = is_blank(line);
        if (!opt->text_blank_docs) {
            if (blank)
                continue;
            doc_name(doc, sizeof doc, 'l', (long)f.l.lineno);
        } else if (blank) {
            in_doc = 0;
            if (jlen) {
                if (emit(ctx, doc, NULL, joined, err) < 0) {
                    rc = -1;
                    break;
                }
                if (st)
                    st->segments++;
                jlen = 0;
            }
            continue;
        } else if (!in_doc) {
            in_doc = 1;
            doc_name(doc, sizeof doc, 'd', (long)f.l.lineno);
        }
        if (opt->text_blank_docs && opt->text_join_lines) {
            if (jlen + len + 2 > jcap) {
                size_t cap = (jlen + len + 2) * 2;
                char *grown = realloc(joined, cap);
                if (!grown) {
                    rc = lg_fail(err, "%s:%lld: out of memory", path, (long long)f.l.lineno);
                    break;
                }
                joined = grown;
                jcap = cap;
            }
            if (jlen)
                joined[jlen++] = ' ';
            memcpy(joined + jlen, line, len + 1);
            jlen += len;
            if (jlen > LG_ZLINE_MAX) {
                rc = lg_fail(err, "%s:%lld: a paragraph longer than %zu MiB", path,
                             (long long)f.l.lineno, LG_ZLINE_MAX >> 20);
                break;
            }
            continue;
        }
        if (emit(ctx, doc, NULL, line, err) < 0) {
            rc = -1;
            break;
        }
        if (st)
            st->segments++;
    }
    if (rc == 0 && jlen) {
        if (emit(ctx, doc, NULL, joined, err) < 0)
            rc = -1;
        else if (st)
            st->segments++;
    }
    free(joined);
    line_close(&f, st, rc == 0);
    return rc < 0 ? -1 : 0;
}

/* ---- JSON Lines ------------------------------------------------------------------ */

/* The first few keys of an object, for a message. */
static void key_list(const cJSON *obj, char *out, size_t cap)
{
    size_t n = 0;
    int k = 0;
    out[0] = '\0';
    for (const cJSON *c = obj->child; c && n + 1 < cap; c = c->next, k++) {
        if (k == 8) {
            snprintf(out + n, cap - n, ", ...");
            break;
        }
        int w = snprintf(out + n, cap - n, "%s\"%.40s\"", k ? ", " : "", c->string ? c->string : "");
        if (w < 0)
            break;
        n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
    }
    if (!k)
        snprintf(out, cap, "none");
}

int lg_import_jsonl(const char *path, const lg_import_options *opt, lg_import_emit emit,
                    void *ctx, lg_import_file_stats *st, lg_error *err)
{
    line_file f;
    if (line_open(&f, path, err) < 0)
        return -1;
    const char *field = opt->json_field ? opt->json_field : "text";
    char *line, doc[32];
    size_t len;
    int rc;
    while ((rc = line_next(&f, &line, &len, err)) > 0) {
        long long ln = (long long)f.l.lineno;
        if (st)
            st->units++;
        if (is_blank(line)) {
            if (st)
                st->skipped++;
            continue;
        }
        const char *end = NULL;
        cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
        if (!obj) {
            long at = end && end >= line && end <= line + len ? (long)(end - line) : -1;
            const char *ep = cJSON_GetErrorPtr();
            if (at < 0 && ep && ep >= line && ep <= line + len)
                at = (long)(ep - line);
            rc = at >= 0 ? lg_fail(err, "%s:%lld: not valid JSON (at byte %ld of the line)", path,
                                   ln, at + 1)
                         : lg_fail(err, "%s:%lld: not valid JSON", path, ln);
            break;
        }
        /* nothing but white space may follow the object */
        const char *rest = end ? end : line + len;
        while (rest < line + len && isspace((unsigned char)*rest))
            rest++;
        if (rest < line + len) {
            cJSON_Delete(obj);
            rc = lg_fail(err, "%s:%lld: not valid JSON: text after the value (byte %ld of the "
                              "line); JSON Lines hold one value a line", path, ln,
                         (long)(rest - line) + 1);
            break;
        }
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            rc = lg_fail(err, "%s:%lld: not a JSON object (JSON Lines need one object a line)",
                         path, ln);
            break;
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
        if (!cJSON_IsString(v) || !v->valuestring) {
            char keys[256];
            key_list(obj, keys, sizeof keys);
            rc = v ? lg_fail(err, "%s:%lld: field \"%s\" is not a string", path, ln, field)
                   : lg_fail(err, "%s:%lld: no field \"%s\" (the object has %s); choose the "
                                  "text field with --field", path, ln, field, keys);
            cJSON_Delete(obj);
            break;
        }
        char *text = v->valuestring;
        long bad = utf8_bad_offset(text, strlen(text));
        if (bad >= 0) {
            cJSON_Delete(obj);
            rc = lg_fail(err, "%s:%lld: field \"%s\" is not valid UTF-8", path, ln, field);
            break;
        }
        doc_name(doc, sizeof doc, 'l', (long)ln);
        /* a document's paragraphs: one segment a line of its text */
        for (char *p = text; *p && rc >= 0;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            if (!is_blank(p)) {
                if (emit(ctx, doc, NULL, p, err) < 0)
                    rc = -1;
                else if (st)
                    st->segments++;
            }
            p = nl ? nl + 1 : p + strlen(p);
        }
        cJSON_Delete(obj);
        if (rc < 0)
            break;
    }
    line_close(&f, st, rc == 0);
    return rc < 0 ? -1 : 0;
}

/* ---- TMX (expat, streamed) ------------------------------------------------------- */

#define TMX_SEG_MAX ((size_t)16 << 20)

typedef struct {
    char *s;
    size_t len, cap;
    int have;
} tmx_text;

typedef struct {
    XML_Parser p;
    const char *path;
    const lg_import_options *opt;
    lg_import_emit emit;
    void *ctx;
    lg_error *err;
    lg_import_file_stats *st;
    int failed;           /* err holds the reason the parser was stopped */
    int depth;
    int in_tu, in_tuv, in_seg;
    long tu_line, tuv_line;
    int side;             /* of the current tuv: 0 English, 1 target, 2 another language */
    int tuv_segs;         /* <seg> seen in the current tuv */
    int skip_depth;       /* inside an inline code element (<bpt>, <ph>...) started here */
    tmx_text text[2];
    char langs[128];      /* the languages of the current tu, for a message */
    long tus, pairs;
} tmx_state;

static int tmx_fail(tmx_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tmx_fail(tmx_state *s, const char *fmt, ...)
{
    if (s->failed)
        return -1;
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lg_fail(s->err, "%s:%lu: %s", s->path, (unsigned long)XML_GetCurrentLineNumber(s->p), msg);
    s->failed = 1;
    XML_StopParser(s->p, XML_FALSE);
    return -1;
}

static const char *tmx_attr(const XML_Char **atts, const char *name)
{
    for (int i = 0; atts[i]; i += 2)
        if (!strcmp(atts[i], name))
            return atts[i + 1];
    return NULL;
}

static int is_inline_code(const char *name)
{
    return !strcmp(name, "bpt") || !strcmp(name, "ept") || !strcmp(name, "ph") ||
           !strcmp(name, "it") || !strcmp(name, "ut");
}

static void XMLCALL tmx_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    tmx_state *s = user;
    if (s->failed)
        return;
    s->depth++;
    if (s->depth == 1) {
        if (strcmp(name, "tmx"))
            tmx_fail(s, "not a TMX file: the root element is <%.40s>, not <tmx>", name);
        return;
    }
    if (s->in_seg) {
        if (!s->skip_depth && is_inline_code(name))
            s->skip_depth = s->depth;
        return;
    }
    if (!strcmp(name, "tu")) {
        if (s->in_tu) {
            tmx_fail(s, "a <tu> inside the <tu> of line %ld", s->tu_line);
            return;
        }
        s->in_tu = 1;
        s->tu_line = (long)XML_GetCurrentLineNumber(s->p);
        s->text[0].have = s->text[1].have = 0;
        s->langs[0] = '\0';
        s->tus++;
    } else if (!strcmp(name, "tuv")) {
        if (!s->in_tu || s->in_tuv) {
            tmx_fail(s, "a <tuv> outside a <tu>");
            return;
        }
        const char *lang = tmx_attr(atts, "xml:lang");
        if (!lang)
            lang = tmx_attr(atts, "lang"); /* TMX 1.1 */
        if (!lang || !*lang) {
            tmx_fail(s, "a <tuv> without xml:lang");
            return;
        }
        s->in_tuv = 1;
        s->tuv_segs = 0;
        s->tuv_line = (long)XML_GetCurrentLineNumber(s->p);
        s->side = lg_import_lang_matches(lang, s->opt->lang) ? 1
                  : lg_import_lang_matches(lang, "en")      ? 0
                                                            : 2;
        size_t n = strlen(s->langs);
        if (n + 20 < sizeof s->langs)
            snprintf(s->langs + n, sizeof s->langs - n, "%s%.16s", n ? ", " : "", lang);
        if (s->side < 2 && s->text[s->side].have) {
            tmx_fail(s, "a second <tuv> for '%s' in the <tu> of line %ld",
                     s->side ? s->opt->lang : "en", s->tu_line);
            return;
        }
    } else if (!strcmp(name, "seg")) {
        if (!s->in_tuv) {
            tmx_fail(s, "a <seg> outside a <tuv>");
            return;
        }
        if (++s->tuv_segs > 1) {
            tmx_fail(s, "a second <seg> in the <tuv> of line %ld", s->tuv_line);
            return;
        }
        s->in_seg = 1;
        s->skip_depth = 0;
        if (s->side < 2)
            s->text[s->side].len = 0;
    }
}

static void XMLCALL tmx_chars(void *user, const XML_Char *data, int len)
{
    tmx_state *s = user;
    if (s->failed || !s->in_seg || s->skip_depth || s->side > 1 || len <= 0)
        return;
    tmx_text *t = &s->text[s->side];
    if (t->len + (size_t)len + 1 > t->cap) {
        if (t->len + (size_t)len > TMX_SEG_MAX) {
            tmx_fail(s, "a <seg> longer than %zu MiB", TMX_SEG_MAX >> 20);
            return;
        }
        size_t cap = (t->len + (size_t)len + 1) * 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            tmx_fail(s, "out of memory");
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, data, (size_t)len);
    t->len += (size_t)len;
    t->s[t->len] = '\0';
}

static void XMLCALL tmx_end(void *user, const XML_Char *name)
{
    tmx_state *s = user;
    if (s->failed)
        return;
    if (s->in_seg) {
        if (s->skip_depth == s->depth)
            s->skip_depth = 0;
        if (!strcmp(name, "seg") && !s->skip_depth) {
            s->in_seg = 0;
            if (s->side < 2) {
                tmx_text *t = &s->text[s->side];
                if (!t->s && !(t->s = calloc(1, 1))) {
                    tmx_fail(s, "out of memory");
                    return;
                }
                t->s[t->len] = '\0';
                t->have = 1;
            }
        }
    } else if (!strcmp(name, "tuv") && s->in_tuv) {
        s->in_tuv = 0;
        if (!s->tuv_segs)
            tmx_fail(s, "the <tuv> of line %ld has no <seg>", s->tuv_line);
    } else if (!strcmp(name, "tu") && s->in_tu) {
        s->in_tu = 0;
        if (s->st)
            s->st->units++;
        if ((!s->text[0].have || !s->text[1].have) && s->opt->tmx_skip_incomplete) {
            if (s->st)
                s->st->skipped++;
            s->depth--;
            return;
        }
        if (!s->text[0].have || !s->text[1].have) {
            const char *missing = !s->text[1].have ? s->opt->lang : "en";
            tmx_fail(s, "the <tu> of line %ld has no <tuv> for '%s' (its languages: %s; "
                        "--skip-incomplete skips such units)",
                     s->tu_line, missing, s->langs[0] ? s->langs : "none");
            s->depth--;
            return;
        }
        char doc[32];
        doc_name(doc, sizeof doc, 'b', s->pairs++ / s->opt->doc_size);
        if (s->emit(s->ctx, doc, s->text[0].s, s->text[1].s, s->err) < 0) {
            s->failed = 1;
            XML_StopParser(s->p, XML_FALSE);
        } else if (s->st) {
            s->st->segments++;
        }
    }
    s->depth--;
}

int lg_import_tmx(const char *path, const lg_import_options *opt, lg_import_emit emit,
                  void *ctx, lg_import_file_stats *st, lg_error *err)
{
    if (lg_import_lang_matches(opt->lang, "en") || lg_import_lang_matches("en", opt->lang))
        return lg_fail(err, "%s: a TMX imports English and another language, not '%s'", path,
                       opt->lang);
    lg_zstream *z = lg_zstream_open(path, err);
    if (!z)
        return -1;
    tmx_state s = {.path = path, .opt = opt, .emit = emit, .ctx = ctx, .err = err, .st = st};
    s.p = XML_ParserCreate(NULL);
    char *buf = malloc(1 << 16);
    int rc = 0;
    if (!s.p || !buf) {
        rc = lg_fail(err, "%s: out of memory", path);
        goto done;
    }
    XML_SetUserData(s.p, &s);
    XML_SetElementHandler(s.p, tmx_start, tmx_end);
    XML_SetCharacterDataHandler(s.p, tmx_chars);
    for (;;) {
        long n = lg_zstream_read(z, buf, 1 << 16, err);
        if (n < 0) {
            rc = -1;
            break;
        }
        if (XML_Parse(s.p, buf, (int)n, n == 0) != XML_STATUS_OK) {
            if (!s.failed)
                lg_fail(err, "%s:%lu: not well-formed XML: %s", path,
                        (unsigned long)XML_GetCurrentLineNumber(s.p),
                        XML_ErrorString(XML_GetErrorCode(s.p)));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
    }
    if (rc == 0 && s.pairs == 0)
        rc = lg_fail(err, "%s: no <tu> with 'en' and '%s'", path, opt->lang);
    if (rc == 0)
        file_stats(st, z);
done:
    if (s.p)
        XML_ParserFree(s.p);
    free(buf);
    free(s.text[0].s);
    free(s.text[1].s);
    lg_zstream_close(z);
    return rc;
}
