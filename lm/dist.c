/* lg_dist: MPI when built with it and started by a launcher, otherwise one rank of one.
 * The only file of lingraft that includes mpi.h (see lg_dist.h). */
#include "lg_dist.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef LG_HAVE_MPI
#include <mpi.h>
#endif

static int g_active;          /* MPI_Init done by lg_dist_init, not finalised */
static int g_rank, g_size = 1;
static double g_timeout = 600; /* seconds a collective may wait; 0: for ever */

int lg_dist_available(void)
{
#ifdef LG_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* The world size a launcher announced in the environment, or 0 when none did: Open MPI's
 * mpirun, PMIx (srun --mpi=pmix, prterun), PMI-1/2 (srun --mpi=pmi2, MPICH's hydra). */
static long launcher_size(void)
{
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return strtol(v, NULL, 10) > 0 ? strtol(v, NULL, 10) : 1;
    }
    return getenv("PMIX_RANK") ? 1 : 0; /* PMIx tells the size only through its API */
}

static int read_timeout(lg_error *err)
{
    const char *v = getenv("LG_DIST_TIMEOUT");
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (errno || *end || !(t >= 0) || !isfinite(t))
        return lg_fail(err, "LG_DIST_TIMEOUT=%s: not a number of seconds >= 0", v);
    g_timeout = t;
    return 0;
}

#ifdef LG_HAVE_MPI
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int mpi_fail(int code, const char *op, const char *what, lg_error *err)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", code);
    return lg_fail(err, "rank %d of %d: %s of the %s failed: %s", g_rank, g_size, op, what, msg);
}

/* Waits for a non-blocking collective, polling (MPI progresses it inside MPI_Test) with
 * short sleeps that grow with the wait, so a rank waiting for a slower one leaves it the
 * core; gives up after g_timeout seconds. */
static int wait_for(MPI_Request *req, const char *op, const char *what, lg_error *err)
{
    const double t0 = now();
    for (unsigned spin = 0;; spin++) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, op, what, err);
        if (done)
            return 0;
        if (spin < 64)
            continue;
        double waited = now() - t0;
        if (g_timeout > 0 && waited > g_timeout)
            return lg_fail(err, "rank %d of %d: %s of the %s: no answer from the other ranks "
                                "for %.0f s (LG_DIST_TIMEOUT); a rank has died or hangs",
                           g_rank, g_size, op, what, waited);
        double pause = waited * 0.01;
        pause = pause < 2e-5 ? 2e-5 : pause > 1e-3 ? 1e-3 : pause;
        struct timespec ts = {0, (long)(pause * 1e9)};
        nanosleep(&ts, NULL);
    }
}

enum { CHUNK = 1 << 28 }; /* elements a call: counts are int in MPI */

static int sum(void *buf, size_t n, size_t elem, MPI_Datatype type, const char *what,
               lg_error *err)
{
    if (!g_active || g_size == 1)
        return 0;
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = (int)(n - at < CHUNK ? n - at : CHUNK);
        MPI_Request req;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + at * elem, count, type, MPI_SUM,
                                MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, "sum", what, err);
        if (wait_for(&req, "sum", what, err) < 0)
            return -1;
    }
    return 0;
}
#endif

int lg_dist_init(lg_error *err)
{
    if (g_active)
        return 0;
    long announced = launcher_size();
    if (announced == 0)
        return 0; /* not started by a launcher: one process */
    if (read_timeout(err) < 0)
        return -1;
#ifdef LG_HAVE_MPI
    int provided = 0, inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return lg_fail(err, "MPI_Init failed (started by a launcher: %ld ranks)", announced);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_active = 1;
    return 0;
#else
    if (announced > 1)
        return lg_fail(err, "started by an MPI launcher as one of %ld ranks, but this build of "
                            "lingraft has no MPI (install libopenmpi-dev and rebuild); each "
                            "rank would run alone", announced);
    return 0;
#endif
}

int lg_dist_rank(void) { return g_rank; }
int lg_dist_size(void) { return g_size; }

int lg_dist_sum_f32(float *buf, size_t n, const char *what, lg_error *err)
{
#ifdef LG_HAVE_MPI
    return sum(buf, n, sizeof *buf, MPI_FLOAT, what, err);
#else
    (void)buf, (void)n, (void)what, (void)err;
    return 0;
#endif
}

int lg_dist_sum_f64(double *buf, size_t n, const char *what, lg_error *err)
{
#ifdef LG_HAVE_MPI
    return sum(buf, n, sizeof *buf, MPI_DOUBLE, what, err);
#else
    (void)buf, (void)n, (void)what, (void)err;
    return 0;
#endif
}

int lg_dist_sum_i64(int64_t *buf, size_t n, const char *what, lg_error *err)
{
#ifdef LG_HAVE_MPI
    return sum(buf, n, sizeof *buf, MPI_INT64_T, what, err);
#else
    (void)buf, (void)n, (void)what, (void)err;
    return 0;
#endif
}

int lg_dist_max_int(int *v, const char *what, lg_error *err)
{
#ifdef LG_HAVE_MPI
    if (!g_active || g_size == 1)
        return 0;
    MPI_Request req;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS)
        return mpi_fail(rc, "maximum", what, err);
    return wait_for(&req, "maximum", what, err);
#else
    (void)v, (void)what, (void)err;
    return 0;
#endif
}

int lg_dist_bcast(void *buf, size_t n, int root, const char *what, lg_error *err)
{
#ifdef LG_HAVE_MPI
    if (!g_active || g_size == 1)
        return 0;
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = (int)(n - at < CHUNK ? n - at : CHUNK);
        MPI_Request req;
        int rc = MPI_Ibcast((char *)buf + at, count, MPI_BYTE, root, MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, "broadcast", what, err);
        if (wait_for(&req, "broadcast", what, err) < 0)
            return -1;
    }
    return 0;
#else
    (void)buf, (void)n, (void)root, (void)what, (void)err;
    return 0;
#endif
}

int lg_dist_barrier(const char *what, lg_error *err)
{
#ifdef LG_HAVE_MPI
    if (!g_active || g_size == 1)
        return 0;
    MPI_Request req;
    int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS)
        return mpi_fail(rc, "barrier", what, err);
    return wait_for(&req, "barrier", what, err);
#else
    (void)what, (void)err;
    return 0;
#endif
}

int lg_dist_gather(const void *buf, size_t n, void **all, size_t **sizes, const char *what,
                   lg_error *err)
{
    *all = NULL;
    *sizes = NULL;
    if (!g_active || g_size == 1) {
        *all = malloc(n ? n : 1);
        *sizes = malloc(sizeof **sizes);
        if (!*all || !*sizes) {
            free(*all);
            free(*sizes);
            *all = NULL;
            *sizes = NULL;
            return lg_fail(err, "out of memory gathering the %s", what);
        }
        if (n)
            memcpy(*all, buf, n);
        (*sizes)[0] = n;
        return 0;
    }
#ifdef LG_HAVE_MPI
    unsigned long long mine = n, *each = NULL;
    if (g_rank == 0 && !(each = malloc((size_t)g_size * sizeof *each)))
        return lg_fail(err, "out of memory gathering the %s", what);
    MPI_Request req;
    int rc = MPI_Igather(&mine, 1, MPI_UNSIGNED_LONG_LONG, each, 1, MPI_UNSIGNED_LONG_LONG, 0,
                         MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS || wait_for(&req, "gather", what, err) < 0) {
        free(each);
        return rc != MPI_SUCCESS ? mpi_fail(rc, "gather", what, err) : -1;
    }
    enum { PIECE = 1 << 30 }; /* bytes a message */
    if (g_rank != 0) {
        for (size_t at = 0; at < n; at += PIECE) {
            int count = (int)(n - at < PIECE ? n - at : PIECE);
            rc = MPI_Isend((const char *)buf + at, count, MPI_BYTE, 0, 7, MPI_COMM_WORLD, &req);
            if (rc != MPI_SUCCESS)
                return mpi_fail(rc, "send", what, err);
            if (wait_for(&req, "send", what, err) < 0)
                return -1;
        }
        return 0;
    }
    size_t total = 0;
    for (int r = 0; r < g_size; r++)
        total += (size_t)each[r];
    char *out = malloc(total ? total : 1);
    size_t *sz = malloc((size_t)g_size * sizeof *sz);
    if (!out || !sz) {
        free(out);
        free(sz);
        free(each);
        return lg_fail(err, "out of memory gathering the %s (%zu bytes)", what, total);
    }
    if (n)
        memcpy(out, buf, n);
    size_t w = n;
    sz[0] = n;
    for (int r = 1; r < g_size; r++) {
        sz[r] = (size_t)each[r];
        for (size_t at = 0; at < sz[r]; at += PIECE) {
            int count = (int)(sz[r] - at < PIECE ? sz[r] - at : PIECE);
            rc = MPI_Irecv(out + w + at, count, MPI_BYTE, r, 7, MPI_COMM_WORLD, &req);
            if (rc != MPI_SUCCESS || wait_for(&req, "receive", what, err) < 0) {
                free(out);
                free(sz);
                free(each);
                return rc != MPI_SUCCESS ? mpi_fail(rc, "receive", what, err) : -1;
            }
        }
        w += sz[r];
    }
    free(each);
    *all = out;
    *sizes = sz;
    return 0;
#else
    return lg_fail(err, "gathering the %s: no MPI", what);
#endif
}

_Noreturn void lg_dist_abort(int status)
{
#ifdef LG_HAVE_MPI
    if (g_active)
        MPI_Abort(MPI_COMM_WORLD, status);
#endif
    fflush(NULL);
    _exit(status);
}

void lg_dist_finalize(void)
{
#ifdef LG_HAVE_MPI
    if (g_active)
        MPI_Finalize();
#endif
    g_active = 0;
    g_rank = 0;
    g_size = 1;
}
