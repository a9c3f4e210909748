/* lg_dist — the few MPI operations lingraft's data parallelism needs, in one place.
 *
 * Built with MPI (Open MPI's libmpi, when pkg-config finds ompi-c) and started by a launcher
 * (mpirun, mpiexec, Slurm's srun), a process is one rank of a job: lg_dist_init calls
 * MPI_Init and rank/size come from MPI_COMM_WORLD. Started any other way, or built without
 * MPI, it is rank 0 of 1 and every call below is a no-op that succeeds, so library code
 * never needs #ifdef. A build without MPI started by a launcher as one of several ranks is
 * refused by lg_dist_init (each would otherwise train alone and write the same outputs).
 *
 * Collectives are MPI's blocking ones and return errors (MPI_ERRORS_RETURN) rather than
 * aborting inside MPI. A watchdog thread bounds each wait at LG_DIST_TIMEOUT seconds
 * (environment; default 600, 0: no limit): a rank left waiting for one that died or hangs
 * names the operation on stderr and ends with SIGTERM (temporaries removed), even where the
 * launcher does not stop it. */
#ifndef LG_DIST_H
#define LG_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"

/* 1 when this build has MPI. */
int lg_dist_available(void);
/* MPI_Init when a launcher started this process (its environment says so), else nothing.
 * Idempotent. */
int lg_dist_init(lg_error *err);
int lg_dist_rank(void);         /* 0 when not distributed */
int lg_dist_size(void);         /* 1 when not distributed */
/* Sums n values elementwise across ranks, in place, on every rank (any n: large buffers
 * go in pieces). what names the data in an error ("gradients"). */
int lg_dist_sum_f32(float *buf, size_t n, const char *what, lg_error *err);
int lg_dist_sum_f64(double *buf, size_t n, const char *what, lg_error *err);
int lg_dist_sum_i64(int64_t *buf, size_t n, const char *what, lg_error *err);
/* The maximum of one value across ranks (e.g. an error status: any rank's failure). */
int lg_dist_max_int(int *v, const char *what, lg_error *err);
/* Copies n bytes from rank root to every rank. */
int lg_dist_bcast(void *buf, size_t n, int root, const char *what, lg_error *err);
int lg_dist_barrier(const char *what, lg_error *err);
/* Rank 0 receives every rank's n bytes, in rank order, into one buffer it allocates (*all,
 * free() it) and each rank's size into *sizes (lg_dist_size() entries, free() it); the other
 * ranks only send (*all and *sizes NULL). Not distributed: a copy of buf. */
int lg_dist_gather(const void *buf, size_t n, void **all, size_t **sizes, const char *what,
                   lg_error *err);
/* Ends the whole job now with this status (MPI_Abort); exits when not distributed. */
_Noreturn void lg_dist_abort(int status);
/* MPI_Finalize when initialised; then every call above is a no-op again. */
void lg_dist_finalize(void);

#endif
