/* LangSAMP language and script vectors: tables, codes, storage in table packs. */
#include "lg_langsamp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_codes(const char *list, char *codes, size_t width, int *n, const char *what,
                       lg_error *err)
{
    *n = 0;
    if (!list || !*list)
        return 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t len = strlen(tok);
        if (len < 2 || len >= width)
            return lg_fail(err, "%s code '%s' is not a valid code", what, tok);
        for (size_t i = 0; i < len; i++)
            if (!((tok[i] >= 'a' && tok[i] <= 'z') || (tok[i] >= 'A' && tok[i] <= 'Z') ||
                  tok[i] == '_' || tok[i] == '-'))
                return lg_fail(err, "%s code '%s' has characters other than letters", what, tok);
        for (int i = 0; i < *n; i++)
            if (!strcmp(codes + (size_t)i * width, tok))
                return lg_fail(err, "%s code '%s' appears twice", what, tok);
        if (*n >= LG_LANGSAMP_MAX)
            return lg_fail(err, "more than %d %s codes", LG_LANGSAMP_MAX, what);
        snprintf(codes + (size_t)(*n)++ * width, width, "%s", tok);
    }
    return 0;
}

static void set_entry(lg_param_entry *e, const char *name, float *param, int rows, int C)
{
    snprintf(e->name, sizeof e->name, "%s", name);
    e->param = param;
    e->ndim = 2;
    e->shape[0] = rows;
    e->shape[1] = C;
    e->numel = (size_t)rows * C;
    e->is_matrix = 0; /* like embeddings in LangSAMP's training: no weight decay */
}

lg_langsamp *lg_langsamp_create(int C, const char *langs, const char *scripts, lg_error *err)
{
    lg_langsamp *ls = calloc(1, sizeof *ls);
    if (!ls)
        return lg_fail(err, "out of memory"), NULL;
    ls->C = C;
    if (parse_codes(langs, &ls->langs[0][0], sizeof ls->langs[0], &ls->n_langs, "language", err) < 0 ||
        parse_codes(scripts, &ls->scripts[0][0], sizeof ls->scripts[0], &ls->n_scripts, "script", err) < 0) {
        free(ls);
        return NULL;
    }
    if (!ls->n_langs && !ls->n_scripts) {
        free(ls);
        return lg_fail(err, "LangSAMP needs at least one language or script code"), NULL;
    }
    /* +1 row each so that zero codes still give valid (unused) storage */
    ls->lang = calloc((size_t)(ls->n_langs + 1) * C, sizeof(float));
    ls->script = calloc((size_t)(ls->n_scripts + 1) * C, sizeof(float));
    if (!ls->lang || !ls->script) {
        lg_langsamp_free(ls);
        return lg_fail(err, "out of memory"), NULL;
    }
    set_entry(&ls->entries[0], "lang_embed", ls->lang, ls->n_langs, C);
    set_entry(&ls->entries[1], "script_embed", ls->script, ls->n_scripts, C);
    return ls;
}

void lg_langsamp_free(lg_langsamp *ls)
{
    if (!ls)
        return;
    free(ls->lang);
    free(ls->script);
    free(ls->dlang);
    free(ls->dscript);
    free(ls);
}

int lg_langsamp_alloc_grads(lg_langsamp *ls, lg_error *err)
{
    if (ls->dlang)
        return 0;
    ls->dlang = calloc((size_t)(ls->n_langs + 1) * ls->C, sizeof(float));
    ls->dscript = calloc((size_t)(ls->n_scripts + 1) * ls->C, sizeof(float));
    if (!ls->dlang || !ls->dscript)
        return lg_fail(err, "out of memory");
    ls->entries[0].grad = ls->dlang;
    ls->entries[1].grad = ls->dscript;
    return 0;
}

static int find_code(const char *codes, size_t width, int n, const char *code)
{
    for (int i = 0; code && i < n; i++)
        if (!strcmp(codes + (size_t)i * width, code))
            return i;
    return -1;
}

int lg_langsamp_lang(const lg_langsamp *ls, const char *code)
{
    return find_code(&ls->langs[0][0], sizeof ls->langs[0], ls->n_langs, code);
}

int lg_langsamp_script(const lg_langsamp *ls, const char *code)
{
    return find_code(&ls->scripts[0][0], sizeof ls->scripts[0], ls->n_scripts, code);
}

static void join_codes(char *out, size_t n, const char *codes, size_t width, int count)
{
    out[0] = 0;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", i ? "," : "", codes + (size_t)i * width);
    }
}

int lg_langsamp_add_to_writer(const lg_langsamp *ls, lg_st_writer *w, lg_error *err)
{
    char buf[LG_LANGSAMP_MAX * 17];
    join_codes(buf, sizeof buf, &ls->langs[0][0], sizeof ls->langs[0], ls->n_langs);
    if (lg_st_writer_set_metadata(w, "langsamp.langs", buf, err) < 0)
        return -1;
    join_codes(buf, sizeof buf, &ls->scripts[0][0], sizeof ls->scripts[0], ls->n_scripts);
    if (lg_st_writer_set_metadata(w, "langsamp.scripts", buf, err) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        const lg_param_entry *e = &ls->entries[i];
        if (e->shape[0] > 0 &&
            lg_st_writer_add(w, e->name, LG_DT_F32, 2, e->shape, e->param, err) < 0)
            return -1;
    }
    return 0;
}

lg_langsamp *lg_langsamp_from_file(const lg_safetensors *st, const char *path, int C, lg_error *err)
{
    if (err)
        err->msg[0] = 0;
    const char *langs = lg_st_metadata(st, "langsamp.langs");
    const char *scripts = lg_st_metadata(st, "langsamp.scripts");
    if (!langs && !scripts)
        return NULL;
    lg_langsamp *ls = lg_langsamp_create(C, langs, scripts, err);
    if (!ls) {
        lg_fail_context(err, "%s", path);
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        lg_param_entry *e = &ls->entries[i];
        if (!e->shape[0])
            continue;
        const lg_tensor_info *t = lg_st_find(st, e->name);
        if (!t) {
            lg_fail(err, "%s: metadata lists codes but tensor %s is missing", path, e->name);
            lg_langsamp_free(ls);
            return NULL;
        }
        if (lg_tensor_expect_shape(t, 2, e->shape, err) < 0 || lg_tensor_to_f32(t, e->param, err) < 0) {
            lg_langsamp_free(ls);
            return NULL;
        }
    }
    return ls;
}

int lg_model_tag_codes(lg_model *m, const char *lang, const char *script, const char *where,
                       lg_error *err)
{
    int32_t li = m->langsamp && lang ? lg_langsamp_lang(m->langsamp, lang) : -1;
    int32_t si = m->langsamp && script ? lg_langsamp_script(m->langsamp, script) : -1;
    if ((lang && li < 0) || (script && si < 0))
        return lg_fail(err, "%s: no language/script vector for %s", where,
                       lang && li < 0 ? lang : script);
    return lg_model_set_tags(m, &li, &si, 1, err);
}
