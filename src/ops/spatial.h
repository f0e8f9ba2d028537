/* Attributes shared by Conv and the pooling ops: kernel_shape, strides, dilations, pads,
 * auto_pad and ceil_mode, and the output size rule they imply. */
#ifndef OFX_OPS_SPATIAL_H
#define OFX_OPS_SPATIAL_H

#include "ops/op.h"

#define OFX_MAX_SPATIAL 3

/* Bounds that keep every product and sum below in 64-bit arithmetic: with attributes at most
 * 2^30 and spatial input dims at most 2^32, (k - 1) * d + 1 <= 2^60, (target - 1) * stride
 * <= 2^62 and in + pads <= 2^33. Real models are many orders of magnitude below. */
#define OFX_SPATIAL_ATTR_MAX ((int64_t)1 << 30)
#define OFX_SPATIAL_DIM_MAX ((int64_t)1 << 32)

typedef enum ofx_auto_pad { OFX_PAD_NOTSET, OFX_PAD_VALID, OFX_PAD_SAME_UPPER, OFX_PAD_SAME_LOWER } ofx_auto_pad;

typedef struct ofx_spatial_attrs {
  int dims; /* number of spatial dims */
  int64_t kernel[OFX_MAX_SPATIAL], strides[OFX_MAX_SPATIAL], dilations[OFX_MAX_SPATIAL];
  int64_t pads[2 * OFX_MAX_SPATIAL]; /* begins then ends, as in ONNX */
  ofx_auto_pad auto_pad;
  bool ceil_mode;
} ofx_spatial_attrs;

/* Reads and validates the attributes. `kernel` is the kernel size implied by the weights (Conv)
 * or NULL when kernel_shape is required (pooling); kernel_shape must agree with it. */
ofx_status ofx_spatial_attrs_read(const ofx_op *op, int dims, const int64_t *kernel,
                                  bool kernel_shape_optional, ofx_spatial_attrs *out);

/* Output spatial size for an input spatial size; the begin/end pads actually applied (auto_pad
 * resolved) go to pads_begin/pads_end (pads_end may be NULL). */
ofx_status ofx_spatial_output_shape(const ofx_op *op, const ofx_spatial_attrs *a, const int64_t *in,
                                    int64_t *out, size_t *pads_begin, size_t *pads_end);

#endif
