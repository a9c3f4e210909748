/* Symmetrisation of two directional Viterbi alignments (Koehn et al.'s heuristics). */
#include "lg_transfer.h"

#include <string.h>

static int in_union(const int *fwd, const int *rev, int i, int j)
{
    return fwd[j] == i || rev[i] == j;
}

static void add_link(unsigned char *grid, int n_tgt, int i, int j, int *src_links, int *tgt_links)
{
    grid[i * n_tgt + j] = 1;
    src_links[i]++;
    tgt_links[j]++;
}

/* grow-diag: add neighbours (8-connected) of existing links that are in the union and
 * whose src or tgt token is still unaligned, until nothing changes. */
static void grow_diag(int n_src, int n_tgt, const int *fwd, const int *rev, unsigned char *grid,
                      int *src_links, int *tgt_links)
{
    static const int di[8] = {-1, 0, 1, 0, -1, -1, 1, 1};
    static const int dj[8] = {0, -1, 0, 1, -1, 1, -1, 1};
    int added = 1;
    while (added) {
        added = 0;
        for (int i = 0; i < n_src; i++)
            for (int j = 0; j < n_tgt; j++) {
                if (!grid[i * n_tgt + j])
                    continue;
                for (int d = 0; d < 8; d++) {
                    int ni = i + di[d], nj = j + dj[d];
                    if (ni < 0 || nj < 0 || ni >= n_src || nj >= n_tgt || grid[ni * n_tgt + nj])
                        continue;
                    if ((src_links[ni] == 0 || tgt_links[nj] == 0) && in_union(fwd, rev, ni, nj)) {
                        add_link(grid, n_tgt, ni, nj, src_links, tgt_links);
                        added = 1;
                    }
                }
            }
    }
}

void lg_align_symmetrize(lg_align_sym sym, int n_src, int n_tgt, const int *fwd, const int *rev,
                         unsigned char *grid)
{
    memset(grid, 0, (size_t)n_src * (size_t)n_tgt);
    if (sym == LG_SYM_UNION || sym == LG_SYM_POSTERIOR) {
        for (int j = 0; j < n_tgt; j++)
            if (fwd[j] >= 0)
                grid[fwd[j] * n_tgt + j] = 1;
        for (int i = 0; i < n_src; i++)
            if (rev[i] >= 0)
                grid[i * n_tgt + rev[i]] = 1;
        return;
    }
    /* counts of links per token; variable-length arrays are bounded by sentence length */
    int src_links[n_src > 0 ? n_src : 1], tgt_links[n_tgt > 0 ? n_tgt : 1];
    memset(src_links, 0, sizeof src_links);
    memset(tgt_links, 0, sizeof tgt_links);
    for (int j = 0; j < n_tgt; j++)
        if (fwd[j] >= 0 && rev[fwd[j]] == j)
            add_link(grid, n_tgt, fwd[j], j, src_links, tgt_links);
    if (sym == LG_SYM_INTERSECT)
        return;
    grow_diag(n_src, n_tgt, fwd, rev, grid, src_links, tgt_links);
    /* final-and: union links whose src and tgt tokens are both still unaligned,
     * first from the forward alignment, then from the reverse one */
    for (int j = 0; j < n_tgt; j++) {
        int i = fwd[j];
        if (i >= 0 && !src_links[i] && !tgt_links[j])
            add_link(grid, n_tgt, i, j, src_links, tgt_links);
    }
    for (int i = 0; i < n_src; i++) {
        int j = rev[i];
        if (j >= 0 && !src_links[i] && !tgt_links[j])
            add_link(grid, n_tgt, i, j, src_links, tgt_links);
    }
}
