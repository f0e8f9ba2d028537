/* A small persistent pthread pool for the kernels' data parallelism.
 *
 * The calling thread always takes part and work is handed out tile by tile from an atomic
 * counter, so a job completes even if no worker ever wakes up; the caller only waits for
 * workers that actually joined the job. That keeps the browser/Node main thread safe under
 * Emscripten, where a new pthread may not start until the main thread yields: WASM builds
 * cap the workers at OFX_WASM_PTHREAD_POOL_SIZE (the -sPTHREAD_POOL_SIZE pre-spawned
 * workers), and destroy never joins a thread that has not started. */
#ifndef OFX_RUNTIME_THREADPOOL_H
#define OFX_RUNTIME_THREADPOOL_H

#include <stddef.h>

#ifndef OFX_WASM_PTHREAD_POOL_SIZE
#define OFX_WASM_PTHREAD_POOL_SIZE 4
#endif

typedef struct ofx_threadpool ofx_threadpool;

/* fn computes the tile at (i, j) of tile_i x tile_j elements (smaller at the range ends). */
typedef void (*ofx_task_2d_tile_fn)(void *ctx, size_t i, size_t j, size_t tile_i, size_t tile_j);

/* n_threads counts the caller: n_threads - 1 workers are started (0: one per logical core).
 * Returns NULL when out of memory. If threads cannot be created (e.g. WASM built without
 * pthreads) the pool simply has fewer workers, possibly none. */
ofx_threadpool *ofx_threadpool_create(size_t n_threads);

/* Threads a job runs on, caller included; 1 for a NULL pool. */
size_t ofx_threadpool_threads_count(const ofx_threadpool *pool);

/* Calls fn for every tile of [0, range_i) x [0, range_j) exactly once and returns when all
 * have finished. NULL pool: inline on the caller. Jobs from several threads on one pool are
 * serialized; fn must not call back into the same pool. */
void ofx_threadpool_parallelize_2d_tile(ofx_threadpool *pool, ofx_task_2d_tile_fn fn, void *ctx,
                                        size_t range_i, size_t range_j, size_t tile_i,
                                        size_t tile_j);

/* Wakes sleeping workers so they poll for the next job: call ahead of a burst of jobs (a
 * model run) to hide the wake-up latency, tens of microseconds or more, behind other work.
 * Returns at once; NULL is fine. */
void ofx_threadpool_wake(ofx_threadpool *pool);

/* Stops the workers and frees the pool (NULL is fine). */
void ofx_threadpool_destroy(ofx_threadpool *pool);

#endif
