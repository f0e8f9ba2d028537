/* The thread pool: every tile of every job runs exactly once with the right extent, jobs run
 * back to back and from several submitting threads, a NULL pool runs inline, and create /
 * destroy with idle or never-used workers is clean. Under ASan natively (TSan optional). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "kernel-test.h"
#include "threadpool/threadpool.h"

typedef struct job {
  size_t range_i, range_j, tile_i, tile_j;
  atomic_int *hits; /* per element */
  atomic_int bad_extent;
  atomic_int calls;
} job;

static void task(void *ctx, size_t i, size_t j, size_t ni, size_t nj) {
  job *g = ctx;
  atomic_fetch_add(&g->calls, 1);
  const size_t want_ni = g->range_i - i < g->tile_i ? g->range_i - i : g->tile_i;
  const size_t want_nj = g->range_j - j < g->tile_j ? g->range_j - j : g->tile_j;
  if (i % g->tile_i || j % g->tile_j || ni != want_ni || nj != want_nj) atomic_store(&g->bad_extent, 1);
  for (size_t a = i; a < i + ni; a++)
    for (size_t b = j; b < j + nj; b++) atomic_fetch_add(&g->hits[a * g->range_j + b], 1);
}

static int run_job(ofx_threadpool *pool, size_t ri, size_t rj, size_t ti, size_t tj) {
  job g = {ri, rj, ti ? ti : 1, tj ? tj : 1, calloc(ri * rj + 1, sizeof(atomic_int)), 0, 0};
  ofx_threadpool_parallelize_2d_tile(pool, task, &g, ri, rj, ti, tj);
  int ok = !atomic_load(&g.bad_extent);
  for (size_t e = 0; e < ri * rj; e++) ok = ok && atomic_load(&g.hits[e]) == 1;
  const size_t tiles = ri && rj ? ((ri + g.tile_i - 1) / g.tile_i) * ((rj + g.tile_j - 1) / g.tile_j) : 0;
  ok = ok && (size_t)atomic_load(&g.calls) == tiles;
  free(g.hits);
  return ok;
}

/* which threads ran tiles: with slow tiles, a pool of n should use more than the caller */
static pthread_t seen[64];
static atomic_int n_seen;
static pthread_mutex_t seen_mutex = PTHREAD_MUTEX_INITIALIZER;
static void record_thread(void *ctx, size_t i, size_t j, size_t ni, size_t nj) {
  volatile double x = 0;
  for (int k = 0; k < 200000; k++) x += k; /* keep the tile busy so others get a chance */
  (void)x;
  pthread_mutex_lock(&seen_mutex);
  int found = 0;
  for (int k = 0; k < atomic_load(&n_seen); k++) found |= pthread_equal(seen[k], pthread_self());
  if (!found && atomic_load(&n_seen) < 64) seen[atomic_fetch_add(&n_seen, 1)] = pthread_self();
  pthread_mutex_unlock(&seen_mutex);
}

#if !defined(__EMSCRIPTEN__)
typedef struct submitter {
  ofx_threadpool *pool;
  int ok;
} submitter;
static void *submit_many(void *arg) {
  submitter *s = arg;
  s->ok = 1;
  for (int r = 0; r < 50; r++) s->ok &= run_job(s->pool, 1 + r % 17, 1 + r % 5, 1 + r % 3, 2);
  return NULL;
}
#endif

int main(void) {
  kt_seed(7);
  CHECK(ofx_threadpool_threads_count(NULL) == 1);
  CHECK(run_job(NULL, 13, 7, 4, 3));
  CHECK(run_job(NULL, 0, 7, 4, 3));
  ofx_threadpool_destroy(NULL);

  ofx_threadpool *one = ofx_threadpool_create(1);
  CHECK(one != NULL && ofx_threadpool_threads_count(one) == 1);
  CHECK(run_job(one, 9, 9, 2, 2));
  ofx_threadpool_destroy(one);

  ofx_threadpool_destroy(ofx_threadpool_create(4)); /* workers that may never have started */

  ofx_threadpool *pool = ofx_threadpool_create(4);
  CHECK(pool != NULL);
  CHECK(ofx_threadpool_threads_count(pool) == 4); /* 3 workers; WASM's pre-spawned pool holds 4 */
  int ok = 1;
  for (int r = 0; r < 300; r++) { /* many short jobs back to back: generation handling */
    const size_t ri = kt_range(0, 40), rj = kt_range(1, 40);
    ok = ok && run_job(pool, ri, rj, kt_range(0, 9), kt_range(0, 9));
  }
  CHECK(ok);
  CHECK(run_job(pool, 1, 1, 1, 1));
  CHECK(run_job(pool, 3136, 64, 4, 16));

  atomic_store(&n_seen, 0);
  for (int tries = 0; tries < 20 && atomic_load(&n_seen) < 2; tries++)
    ofx_threadpool_parallelize_2d_tile(pool, record_thread, NULL, 64, 1, 1, 1);
  CHECK(atomic_load(&n_seen) >= 2); /* workers really take tiles */

#if !defined(__EMSCRIPTEN__)
  submitter subs[2] = {{pool, 0}, {pool, 0}};
  pthread_t th[2];
  int started = 0;
  /* natively also from two extra submitting threads at once (WASM: its 4 pre-spawned workers
   * are taken by the pools above) */
  for (int t = 0; t < 2; t++) started += pthread_create(&th[t], NULL, submit_many, &subs[t]) == 0;
  CHECK(started == 2);
  for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
  CHECK(subs[0].ok && subs[1].ok);
#endif
  ofx_threadpool_destroy(pool);
  return ofx_test_finish("test-kernels-threadpool");
}
