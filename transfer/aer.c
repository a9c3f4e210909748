/* Alignment error rate against hand-annotated sure and possible links. */
#include "lg_transfer.h"

static int64_t intersect_count(const int64_t *x, int64_t nx, const int64_t *y, int64_t ny)
{
    int64_t i = 0, j = 0, n = 0;
    while (i < nx && j < ny) {
        if (x[i] < y[j])
            i++;
        else if (y[j] < x[i])
            j++;
        else {
            n++;
            i++;
            j++;
        }
    }
    return n;
}

void lg_aer_add(lg_aer_counts *c, const int64_t *a, int64_t na, const int64_t *sure, int64_t ns,
                const int64_t *possible, int64_t np)
{
    c->a += na;
    c->s += ns;
    c->a_and_s += intersect_count(a, na, sure, ns);
    c->a_and_p += intersect_count(a, na, possible, np);
}

double lg_aer(const lg_aer_counts *c)
{
    if (c->a + c->s == 0)
        return 0;
    return 1.0 - (double)(c->a_and_s + c->a_and_p) / (double)(c->a + c->s);
}
