/* Small JSON files whole (lg_io.h). */
#include "lg_io.h"

#include <stdio.h>
#include <stdlib.h>


cJSON *lg_json_read(const char *path, size_t limit, lg_error *err)
{
    size_t len;
    char *text = lg_read_file(path, limit, &len, err);
    if (!text)
        return NULL;
    cJSON *json = cJSON_ParseWithLength(text, len);
    free(text);
    if (!json)
        lg_fail(err, "%s: not valid JSON", path);
    return json;
}

int lg_json_write(const char *path, const cJSON *json, lg_error *err)
{
    char *text = cJSON_Print(json);
    if (!text)
        return lg_fail(err, "%s: out of memory", path);
    lg_atomic_file af;
    int rc = lg_atomic_open(&af, path, err);
    if (rc == 0) {
        fprintf(af.fp, "%s\n", text);
        rc = lg_atomic_commit(&af, err);
    }
    free(text);
    return rc;
}
