#include "threadpool/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/threading.h>
#endif

struct ofx_threadpool {
  pthread_mutex_t mutex;
  pthread_cond_t wake; /* workers: a job opened, or shutdown */
  pthread_cond_t idle; /* caller/destroy: a worker left the job or exited */
  pthread_mutex_t submit; /* one job at a time */
  size_t n_workers;
  /* Workers are detached and share ownership: the last of destroy() and the workers to drop
   * its reference frees the pool, so destroy never waits for a thread that never started. */
  size_t refs;
  size_t running; /* workers started and not yet exited */
  /* Written under mutex; atomic so that workers and the caller can spin on them without it:
   * waking a sleeping thread costs tens of microseconds, and a model runs hundreds of short
   * jobs back to back. */
  atomic_bool shutdown;
  /* the current job; written under mutex before `generation` moves */
  _Atomic uint64_t generation;
  uint64_t wakes; /* ofx_threadpool_wake calls: a sleeping worker goes back to polling */
  bool open;
  atomic_size_t active; /* workers inside the open job */
  ofx_task_2d_tile_fn fn;
  void *ctx;
  size_t range_i, range_j, tile_i, tile_j, tiles_j, tiles;
  /* Alone on its cache line: every tile claim writes it, and the job fields above are read
   * by every tile. */
  char pad_before[64];
  atomic_size_t next;
  char pad_after[64];
};

static void run_tiles(ofx_threadpool *p) {
  for (;;) {
    const size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
    if (t >= p->tiles) return;
    const size_t i = t / p->tiles_j * p->tile_i, j = t % p->tiles_j * p->tile_j;
    const size_t ni = p->range_i - i < p->tile_i ? p->range_i - i : p->tile_i;
    const size_t nj = p->range_j - j < p->tile_j ? p->range_j - j : p->tile_j;
    p->fn(p->ctx, i, j, ni, nj);
  }
}

/* Spins before sleeping: about 50-100 microseconds of polling covers the gap between one job
 * and the next inside a run, so workers rarely sleep mid-run. */
#define OFX_THREADPOOL_SPIN_ITERATIONS 65536

static void release(ofx_threadpool *p) { /* called with p->mutex held; unlocks it */
  const bool last = --p->refs == 0;
  pthread_mutex_unlock(&p->mutex);
  if (!last) return;
  pthread_mutex_destroy(&p->mutex);
  pthread_mutex_destroy(&p->submit);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->idle);
  free(p);
}

static void *worker_main(void *arg) {
  ofx_threadpool *p = arg;
  pthread_mutex_lock(&p->mutex);
  p->running++;
  pthread_cond_broadcast(&p->idle); /* create waits for the workers to start */
  uint64_t seen = p->generation; /* a job opened before we started is left to the others */
  for (;;) {
    if (!p->open) seen = p->generation; /* a closed job is not ours to join: spin for the next */
    if (!p->shutdown && !(p->open && p->generation != seen)) {
      pthread_mutex_unlock(&p->mutex);
      for (size_t k = 0; k < OFX_THREADPOOL_SPIN_ITERATIONS; k++)
        if (atomic_load_explicit(&p->generation, memory_order_relaxed) != seen ||
            atomic_load_explicit(&p->shutdown, memory_order_relaxed))
          break;
      pthread_mutex_lock(&p->mutex);
    }
    const uint64_t wakes = p->wakes;
    while (!p->shutdown && !(p->open && p->generation != seen) && p->wakes == wakes)
      pthread_cond_wait(&p->wake, &p->mutex);
    if (p->shutdown) break;
    if (!(p->open && p->generation != seen)) continue; /* woken ahead of a job: poll again */
    seen = p->generation;
    p->active++;
    pthread_mutex_unlock(&p->mutex);
    run_tiles(p);
    pthread_mutex_lock(&p->mutex);
    if (--p->active == 0) pthread_cond_broadcast(&p->idle);
  }
  p->running--;
  pthread_cond_broadcast(&p->idle);
  release(p);
  return NULL;
}

static size_t default_threads(void) {
#ifdef __EMSCRIPTEN__
  return (size_t)emscripten_num_logical_cores();
#else
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
#endif
}

ofx_threadpool *ofx_threadpool_create(size_t n_threads) {
  if (n_threads == 0) n_threads = default_threads();
  size_t want = n_threads > 1 ? n_threads - 1 : 0;
#ifdef __EMSCRIPTEN__
  if (want > OFX_WASM_PTHREAD_POOL_SIZE) want = OFX_WASM_PTHREAD_POOL_SIZE; /* only pre-spawned workers start without yielding */
#endif
  ofx_threadpool *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  pthread_mutex_init(&p->mutex, NULL);
  pthread_mutex_init(&p->submit, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->idle, NULL);
  atomic_init(&p->next, 0);
  atomic_init(&p->generation, 0);
  atomic_init(&p->active, 0);
  atomic_init(&p->shutdown, false);
  p->refs = 1;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (size_t t = 0; t < want; t++) {
    pthread_mutex_lock(&p->mutex);
    p->refs++;
    pthread_mutex_unlock(&p->mutex);
    pthread_t thread;
    if (pthread_create(&thread, &attr, worker_main, p) != 0) {
      pthread_mutex_lock(&p->mutex);
      p->refs--; /* cannot be the last: we hold one */
      pthread_mutex_unlock(&p->mutex);
      break;
    }
    p->n_workers++;
  }
  pthread_attr_destroy(&attr);
  /* Wait (boundedly) for the workers to start: a thread allocates its thread-local block as it
   * starts, and under CPU load one started late did so inside the caller's next model load (1192
   * bytes that heap accounting could not tell from a leak). Pre-spawned workers start without
   * the caller yielding; one that still does not is simply missing from jobs until it starts. */
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 2;
  pthread_mutex_lock(&p->mutex);
  while (p->running < p->n_workers && pthread_cond_timedwait(&p->idle, &p->mutex, &deadline) == 0) {
  }
  pthread_mutex_unlock(&p->mutex);
  return p;
}

size_t ofx_threadpool_threads_count(const ofx_threadpool *pool) {
  return pool ? pool->n_workers + 1 : 1;
}

void ofx_threadpool_parallelize_2d_tile(ofx_threadpool *pool, ofx_task_2d_tile_fn fn, void *ctx,
                                        size_t range_i, size_t range_j, size_t tile_i,
                                        size_t tile_j) {
  if (range_i == 0 || range_j == 0) return;
  if (tile_i == 0) tile_i = 1;
  if (tile_j == 0) tile_j = 1;
  const size_t tiles_i = (range_i + tile_i - 1) / tile_i, tiles_j = (range_j + tile_j - 1) / tile_j;
  if (pool == NULL || pool->n_workers == 0 || tiles_i * tiles_j == 1) {
    for (size_t i = 0; i < range_i; i += tile_i)
      for (size_t j = 0; j < range_j; j += tile_j)
        fn(ctx, i, j, range_i - i < tile_i ? range_i - i : tile_i,
           range_j - j < tile_j ? range_j - j : tile_j);
    return;
  }
  pthread_mutex_lock(&pool->submit);
  pthread_mutex_lock(&pool->mutex);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->range_i = range_i, pool->range_j = range_j;
  pool->tile_i = tile_i, pool->tile_j = tile_j;
  pool->tiles_j = tiles_j;
  pool->tiles = tiles_i * tiles_j;
  atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
  pool->generation++;
  pool->open = true;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);

  run_tiles(pool);

  /* every tile is claimed; close the job so late wakers skip it, then wait for the workers
   * still finishing a tile they claimed */
  pthread_mutex_lock(&pool->mutex);
  pool->open = false;
  pthread_mutex_unlock(&pool->mutex);
  for (size_t k = 0; k < OFX_THREADPOOL_SPIN_ITERATIONS && atomic_load_explicit(&pool->active, memory_order_acquire) != 0; k++) {
  }
  pthread_mutex_lock(&pool->mutex);
  while (pool->active != 0) pthread_cond_wait(&pool->idle, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
  pthread_mutex_unlock(&pool->submit);
}

void ofx_threadpool_wake(ofx_threadpool *pool) {
  if (pool == NULL || pool->n_workers == 0) return;
  pthread_mutex_lock(&pool->mutex);
  pool->wakes++;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
}

void ofx_threadpool_destroy(ofx_threadpool *pool) {
  if (pool == NULL) return;
  pthread_mutex_lock(&pool->mutex);
  pool->shutdown = true;
  pthread_cond_broadcast(&pool->wake);
  /* wait only for workers that are running; a never-started one frees the pool itself */
  while (pool->running != 0) pthread_cond_wait(&pool->idle, &pool->mutex);
  release(pool);
}
