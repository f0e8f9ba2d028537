/* The process-wide thread count, like onnxruntime-web's env.wasm.numThreads: one pool shared
 * by every extractor (jobs on it are serialized), so several extractors never oversubscribe the
 * machine or exhaust the WASM build's pre-spawned workers. */
#include "base/status.h"
#include "runtime/runtime.h"
#include "threadpool/threadpool.h"

static ofx_threadpool *pool;
static size_t threads = 1;

ofx_status ofx_set_num_threads(size_t n) {
  ofx_error_clear();
  if (n == 0) return ofx_error(OFX_INVALID_ARGUMENT, "the thread count must be at least 1");
  if (n == threads) return OFX_OK;
  ofx_threadpool_destroy(pool);
  pool = NULL;
  threads = 1;
  if (n > 1) {
    pool = ofx_threadpool_create(n);
    if (pool == NULL) return ofx_error(OFX_OUT_OF_MEMORY, "out of memory creating %zu threads", n);
    threads = ofx_threadpool_threads_count(pool);
  }
  return OFX_OK;
}

size_t ofx_get_num_threads(void) { return threads; }

ofx_threadpool *ofx_runtime_threadpool(void) { return pool; }
