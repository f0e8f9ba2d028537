#include "ops/spatial.h"

#include <string.h>

#include "base/status.h"


ofx_status ofx_spatial_attrs_read(const ofx_op *op, int dims, const int64_t *kernel,
                                  bool kernel_shape_optional, ofx_spatial_attrs *a) {
  memset(a, 0, sizeof *a);
  a->dims = dims;
  size_t n;
  int64_t values[2 * OFX_MAX_SPATIAL];
  OFX_TRY(ofx_node_attr_ints(op->node, "kernel_shape", values, OFX_MAX_SPATIAL, &n));
  if (n == 0 && !kernel_shape_optional)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'kernel_shape' is required");
  if (n != 0 && n != (size_t)dims)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'kernel_shape' has %zu values, expected %d", n, dims);
  for (int i = 0; i < dims; i++) {
    a->kernel[i] = n ? values[i] : kernel[i];
    if (kernel && n && values[i] != kernel[i])
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'kernel_shape' disagrees with the weights' shape");
    if (a->kernel[i] <= 0)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'kernel_shape' must be positive");
    if (a->kernel[i] > OFX_SPATIAL_ATTR_MAX)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'kernel_shape' value %lld is too large (at most %lld)",
                          (long long)a->kernel[i], (long long)OFX_SPATIAL_ATTR_MAX);
  }
  static const char *const names[2] = {"strides", "dilations"};
  int64_t *targets[2] = {a->strides, a->dilations};
  for (int k = 0; k < 2; k++) {
    OFX_TRY(ofx_node_attr_ints(op->node, names[k], values, OFX_MAX_SPATIAL, &n));
    if (n != 0 && n != (size_t)dims)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute '%s' has %zu values, expected %d", names[k], n, dims);
    for (int i = 0; i < dims; i++) {
      targets[k][i] = n ? values[i] : 1;
      if (targets[k][i] <= 0)
        return ofx_op_error(op, OFX_BAD_MODEL, "attribute '%s' must be positive, got %lld", names[k],
                            (long long)targets[k][i]);
      if (targets[k][i] > OFX_SPATIAL_ATTR_MAX)
        return ofx_op_error(op, OFX_BAD_MODEL, "attribute '%s' value %lld is too large (at most %lld)", names[k],
                            (long long)targets[k][i], (long long)OFX_SPATIAL_ATTR_MAX);
    }
  }
  OFX_TRY(ofx_node_attr_ints(op->node, "pads", values, 2 * OFX_MAX_SPATIAL, &n));
  if (n != 0 && n != 2 * (size_t)dims)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'pads' has %zu values, expected %d", n, 2 * dims);
  for (int i = 0; i < 2 * dims; i++) {
    a->pads[i] = n ? values[i] : 0;
    if (a->pads[i] < 0)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'pads' must not be negative, got %lld", (long long)a->pads[i]);
    if (a->pads[i] > OFX_SPATIAL_ATTR_MAX)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'pads' value %lld is too large (at most %lld)",
                          (long long)a->pads[i], (long long)OFX_SPATIAL_ATTR_MAX);
  }
  char auto_pad[32];
  OFX_TRY(ofx_node_attr_string(op->node, "auto_pad", "NOTSET", auto_pad, sizeof auto_pad));
  if (strcmp(auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0') a->auto_pad = OFX_PAD_NOTSET;
  else if (strcmp(auto_pad, "VALID") == 0) a->auto_pad = OFX_PAD_VALID;
  else if (strcmp(auto_pad, "SAME_UPPER") == 0) a->auto_pad = OFX_PAD_SAME_UPPER;
  else if (strcmp(auto_pad, "SAME_LOWER") == 0) a->auto_pad = OFX_PAD_SAME_LOWER;
  else return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'auto_pad' has unknown value '%s'", auto_pad);
  int64_t ceil_mode;
  OFX_TRY(ofx_node_attr_int(op->node, "ceil_mode", 0, &ceil_mode));
  a->ceil_mode = ceil_mode != 0;
  return OFX_OK;
}

ofx_status ofx_spatial_output_shape(const ofx_op *op, const ofx_spatial_attrs *a, const int64_t *in,
                                    int64_t *out, size_t *pads_begin, size_t *pads_end) {
  for (int i = 0; i < a->dims; i++) {
    if (in[i] < 0 || in[i] > OFX_SPATIAL_DIM_MAX)
      return ofx_op_error(op, OFX_BAD_INPUT, "spatial dim %d of the input (%lld) is out of range (at most %lld)", i,
                          (long long)in[i], (long long)OFX_SPATIAL_DIM_MAX);
    int64_t effective_kernel = (a->kernel[i] - 1) * a->dilations[i] + 1;
    int64_t begin = a->pads[i], end = a->pads[i + a->dims];
    if (a->auto_pad == OFX_PAD_VALID) {
      begin = end = 0;
    } else if (a->auto_pad != OFX_PAD_NOTSET) {
      int64_t target = (in[i] + a->strides[i] - 1) / a->strides[i];
      int64_t total = (target - 1) * a->strides[i] + effective_kernel - in[i];
      if (total < 0) total = 0;
      begin = a->auto_pad == OFX_PAD_SAME_UPPER ? total / 2 : total - total / 2;
      end = total - begin;
    }
    int64_t span = in[i] + begin + end - effective_kernel;
    if (span < 0)
      return ofx_op_error(op, OFX_BAD_INPUT,
                          "spatial dim %d of the input (%lld, padded %lld) is smaller than the kernel window (%lld)",
                          i, (long long)in[i], (long long)(in[i] + begin + end), (long long)effective_kernel);
    int64_t o = (a->ceil_mode ? (span + a->strides[i] - 1) : span) / a->strides[i] + 1;
    /* ceil_mode: the last window must start inside the input or the begin padding */
    if (a->ceil_mode && (o - 1) * a->strides[i] >= in[i] + begin) o--;
    out[i] = o;
    pads_begin[i] = (size_t)begin;
    if (pads_end) pads_end[i] = (size_t)end;
  }
  return OFX_OK;
}
