#include "ops/packed-weights.h"

#include <stdlib.h>

#include "kernels/common.h"
#include "kernels/elementwise-driver.h"
#include "kernels/f16-f32-vcvt/f16-f32-vcvt.h"
#include "kernels/kernel-config.h"

ofx_status ofx_packed_weights_keep(ofx_op *op, float *packed, size_t count, ofx_packed_weights *out) {
  *out = (ofx_packed_weights){packed, count, false};
  if (op->float16_weights) {
    uint16_t *half = malloc((count ? count : 1) * sizeof *half);
    if (half == NULL) {
      free(packed);
      out->data = NULL;
      return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory storing %zu packed weights as float16", count);
    }
    ofx_kernels()->f32_f16_vcvt(count, packed, half);
    free(packed);
    *out = (ofx_packed_weights){half, count, true};
  }
  op->packed_bytes += count * (out->half ? sizeof(uint16_t) : sizeof(float));
  return OFX_OK;
}

size_t ofx_packed_weights_scratch_bytes(const ofx_packed_weights *w) {
  return w->half ? ofx_round_up(w->count * sizeof(float), 16) : 0;
}

typedef struct widen_job {
  const uint16_t *half;
  float *wide;
} widen_job;

static void widen_chunk(void *ctx, size_t start, size_t count) {
  const widen_job *g = ctx;
  ofx_kernels()->f16_f32_vcvt(count, g->half + start, g->wide + start);
}

const float *ofx_packed_weights_for_run(const ofx_packed_weights *w, void *scratch, ofx_threadpool *pool) {
  if (!w->half) return w->data;
  widen_job g = {w->data, scratch};
  ofx_parallelize_elements(pool, w->count, widen_chunk, &g);
  return scratch;
}

void ofx_packed_weights_free(ofx_packed_weights *w) {
  free(w->data);
  *w = (ofx_packed_weights){NULL, 0, false};
}
