/* Packed GEMM and convolution weights as ops keep them between runs: float32, or float16 when
 * the extractor stores weights in half precision (OFX_EXTRACTOR_FLOAT16_WEIGHTS, for models too
 * big for the heap otherwise). Half-precision weights are widened into the step's scratch right
 * before the float32 kernels read them: n*k conversions against the GEMM's m*n*k multiply-adds,
 * and only one layer's float32 weights exist at a time (the scratch is shared by all steps). */
#ifndef OFX_OPS_PACKED_WEIGHTS_H
#define OFX_OPS_PACKED_WEIGHTS_H

#include "ops/op.h"

typedef struct ofx_packed_weights {
  void *data;   /* count float32s, or count float16s when half; NULL: none packed */
  size_t count;
  bool half;
} ofx_packed_weights;

/* Keeps `packed` (count float32s from malloc, owned from now on) for op's runs: as it is, or
 * narrowed to float16 (then freed) when op->float16_weights. Adds the bytes kept to
 * op->packed_bytes. OUT_OF_MEMORY naming the node if the float16 copy cannot be allocated. */
ofx_status ofx_packed_weights_keep(ofx_op *op, float *packed, size_t count, ofx_packed_weights *out);

/* Scratch bytes ofx_packed_weights_for_run needs (0 for float32 weights), 16-byte multiple. */
size_t ofx_packed_weights_scratch_bytes(const ofx_packed_weights *w);

/* The float32 weights to hand the kernels: w->data itself, or w widened into scratch (at least
 * ofx_packed_weights_scratch_bytes, 16-byte aligned) over the pool's threads. */
const float *ofx_packed_weights_for_run(const ofx_packed_weights *w, void *scratch, ofx_threadpool *pool);

void ofx_packed_weights_free(ofx_packed_weights *w);

#endif
