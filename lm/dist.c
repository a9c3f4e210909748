/* lg_dist: MPI when built with it and started by a launcher, otherwise one rank of one.
 * The only file of lingraft that includes mpi.h (see lg_dist.h). */
#include "lg_dist.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
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

/* The bounded wait: a watchdog thread, armed around every collective with a deadline
 * g_timeout seconds ahead. Collectives are MPI's blocking ones (Open MPI's tuned algorithms:
 * 2-3x the bandwidth of a non-blocking one polled with MPI_Test here); when one outlives its
 * deadline, the watchdog names it on stderr and ends the process with SIGTERM, whose handler
 * (lg_cleanup_on_signals) removes the temporaries; the launcher then ends the other ranks. */
static pthread_t g_dog;
static int g_dog_running, g_dog_stop;
static pthread_mutex_t g_dog_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_dog_cv;
static double g_deadline;      /* 0: unarmed */
static char g_doing[256];

static void *watchdog(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_dog_mu);
    while (!g_dog_stop) {
        if (g_deadline == 0) {
            pthread_cond_wait(&g_dog_cv, &g_dog_mu);
            continue;
        }
        double d = g_deadline;
        struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
        pthread_cond_timedwait(&g_dog_cv, &g_dog_mu, &ts);
        if (g_deadline != 0 && now() >= g_deadline) {
            fprintf(stderr, "lingraft: rank %d of %d: %s: no answer from the other ranks for "
                            "%.0f s (LG_DIST_TIMEOUT); a rank has died or hangs\n",
                    g_rank, g_size, g_doing, g_timeout);
            fflush(stderr);
            kill(getpid(), SIGTERM);
            pthread_mutex_unlock(&g_dog_mu);
            sleep(5);
            _exit(1); /* SIGTERM was ignored or handled without exiting */
        }
    }
    pthread_mutex_unlock(&g_dog_mu);
    return NULL;
}

static int start_watchdog(lg_error *err)
{
    if (g_timeout <= 0 || g_dog_running)
        return 0;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g_dog_cv, &attr);
    pthread_condattr_destroy(&attr);
    g_dog_stop = 0;
    if (pthread_create(&g_dog, NULL, watchdog, NULL) != 0)
        return lg_fail(err, "cannot start the watchdog of MPI waits");
    g_dog_running = 1;
    return 0;
}

static void stop_watchdog(void)
{
    if (!g_dog_running)
        return;
    pthread_mutex_lock(&g_dog_mu);
    g_dog_stop = 1;
    pthread_cond_signal(&g_dog_cv);
    pthread_mutex_unlock(&g_dog_mu);
    pthread_join(g_dog, NULL);
    pthread_cond_destroy(&g_dog_cv);
    g_dog_running = 0;
}

static void arm(const char *op, const char *what)
{
    if (!g_dog_running)
        return;
    pthread_mutex_lock(&g_dog_mu);
    snprintf(g_doing, sizeof g_doing, "%s of the %s", op, what);
    g_deadline = now() + g_timeout;
    pthread_cond_signal(&g_dog_cv);
    pthread_mutex_unlock(&g_dog_mu);
}

static void disarm(void)
{
    if (!g_dog_running)
        return;
    pthread_mutex_lock(&g_dog_mu);
    g_deadline = 0;
    pthread_mutex_unlock(&g_dog_mu);
}

enum { CHUNK = 1 << 28 }; /* elements a call: counts are int in MPI */

static int sum(void *buf, size_t n, size_t elem, MPI_Datatype type, const char *what,
               lg_error *err)
{
    if (!g_active || g_size == 1)
        return 0;
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = (int)(n - at < CHUNK ? n - at : CHUNK);
        arm("sum", what);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * elem, count, type, MPI_SUM,
                               MPI_COMM_WORLD);
        disarm();
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, "sum", what, err);
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
    return g_size > 1 ? start_watchdog(err) : 0;
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
    arm("maximum", what);
    int rc = MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    disarm();
    return rc != MPI_SUCCESS ? mpi_fail(rc, "maximum", what, err) : 0;
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
        arm("broadcast", what);
        int rc = MPI_Bcast((char *)buf + at, count, MPI_BYTE, root, MPI_COMM_WORLD);
        disarm();
        if (rc != MPI_SUCCESS)
            return mpi_fail(rc, "broadcast", what, err);
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
    arm("barrier", what);
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    disarm();
    return rc != MPI_SUCCESS ? mpi_fail(rc, "barrier", what, err) : 0;
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
    arm("gather", what);
    int rc = MPI_Gather(&mine, 1, MPI_UNSIGNED_LONG_LONG, each, 1, MPI_UNSIGNED_LONG_LONG, 0,
                        MPI_COMM_WORLD);
    disarm();
    if (rc != MPI_SUCCESS) {
        free(each);
        return mpi_fail(rc, "gather", what, err);
    }
    enum { PIECE = 1 << 30 }; /* bytes a message */
    if (g_rank != 0) {
        for (size_t at = 0; at < n; at += PIECE) {
            int count = (int)(n - at < PIECE ? n - at : PIECE);
            arm("send", what);
            rc = MPI_Send((const char *)buf + at, count, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
            disarm();
            if (rc != MPI_SUCCESS)
                return mpi_fail(rc, "send", what, err);
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
            arm("receive", what);
            rc = MPI_Recv(out + w + at, count, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            disarm();
            if (rc != MPI_SUCCESS) {
                free(out);
                free(sz);
                free(each);
                return mpi_fail(rc, "receive", what, err);
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
    stop_watchdog();
    if (g_active)
        MPI_Finalize();
#endif
    g_active = 0;
    g_rank = 0;
    g_size = 1;
}
