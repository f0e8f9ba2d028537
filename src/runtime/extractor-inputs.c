/* Binding an extractor's inputs: checking what the caller gives against what the model declares,
 * float16 inputs widened to float32 (docs/api.md "float16"), and zero-filled inputs for planning
 * without data (explain, shape inference). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "base/status.h"
#include "runtime/extractor-impl.h"

#define oom ofx_plan_oom

ofx_status ofx_extractor_set_input(ofx_extractor *fx, size_t i, ofx_dtype dtype, const int64_t *dims,
                                   size_t rank, const void *data, size_t size) {
  ofx_error_clear();
  if (i >= fx->plan.n_inputs) return ofx_error(OFX_INVALID_ARGUMENT, "input index %zu is out of range", i);
  const ofx_value *declared = &fx->plan.graph->values[ofx_plan_input_value(&fx->plan, i)];
  char got[128], want[128];
  if (rank > OFX_MAX_RANK)
    return ofx_error(OFX_BAD_INPUT, "input '%s' has rank %zu, at most %d is supported", declared->name, rank, OFX_MAX_RANK);
  ofx_tensor t = {dtype, (int)rank, {0}, (void *)data};
  for (size_t d = 0; d < rank; d++) {
    if (dims[d] < 0) return ofx_error(OFX_BAD_INPUT, "input '%s' has a negative dim", declared->name);
    t.dims[d] = dims[d];
  }
  bool shape_ok = declared->rank < 0 || declared->rank == (int)rank;
  for (int d = 0; shape_ok && declared->rank >= 0 && d < declared->rank; d++)
    if (declared->dims[d] >= 0 && declared->dims[d] != dims[d]) shape_ok = false;
  /* float16 and bfloat16 inputs are computed as float32: their bits are widened, float32 data
   * given for such an input is rounded to its precision (docs/api.md "float16") */
  bool half = ofx_dtype_is_half(dtype) || (ofx_dtype_is_half(declared->dtype) && dtype == OFX_DTYPE_FLOAT32);
  bool bf16 = dtype == OFX_DTYPE_BFLOAT16 || (dtype == OFX_DTYPE_FLOAT32 && declared->dtype == OFX_DTYPE_BFLOAT16);
  bool type_ok = declared->dtype == OFX_DTYPE_UNDEFINED || declared->dtype == dtype ||
                 (dtype == OFX_DTYPE_FLOAT32 && ofx_dtype_is_half(declared->dtype));
  if (!shape_ok || !type_ok) {
    /* expected shape with symbolic dims by name */
    size_t k = (size_t)snprintf(want, sizeof want, "%s [", onnx_dtype_name((int32_t)declared->dtype));
    for (int d = 0; d < declared->rank && k < sizeof want; d++) {
      const char *sep = d ? ", " : "";
      if (declared->dims[d] >= 0) k += (size_t)snprintf(want + k, sizeof want - k, "%s%lld", sep, (long long)declared->dims[d]);
      else k += (size_t)snprintf(want + k, sizeof want - k, "%s%s", sep, declared->dim_params[d] ? declared->dim_params[d] : "?");
    }
    if (k < sizeof want) snprintf(want + k, sizeof want - k, "]");
    char shape[96];
    snprintf(got, sizeof got, "%s %s", onnx_dtype_name((int32_t)dtype), ofx_shape_str(t.dims, t.rank, shape, sizeof shape));
    return ofx_error(OFX_BAD_INPUT, "input '%s': expected %s, got %s", declared->name, want, got);
  }
  size_t numel, esize = ofx_dtype_size(dtype);
  if (esize == 0) return ofx_error(OFX_BAD_INPUT, "input '%s': type %s is not supported", declared->name, onnx_dtype_name((int32_t)dtype));
  if (!ofx_shape_numel(t.dims, t.rank, &numel) || numel * esize != size)
    return ofx_error(OFX_BAD_INPUT, "input '%s': %zu bytes of data do not match its shape %s", declared->name, size,
                     ofx_shape_str(t.dims, t.rank, got, sizeof got));
  if (half) {
    float *wide = malloc(numel ? numel * sizeof *wide : 1);
    if (wide == NULL) return oom("widening a float16 input");
    const uint8_t *bytes = data;
    for (size_t e = 0; e < numel; e++) {
      if (dtype != OFX_DTYPE_FLOAT32) {
        uint16_t h;
        memcpy(&h, bytes + 2 * e, sizeof h);
        wide[e] = bf16 ? ofx_bf16_to_f32(h) : ofx_f16_to_f32(h);
      } else {
        float f;
        memcpy(&f, bytes + 4 * e, sizeof f);
        wide[e] = bf16 ? ofx_bf16_round(f) : ofx_f16_round(f);
      }
    }
    free(fx->input_f32[i]);
    fx->input_f32[i] = wide;
    t.dtype = OFX_DTYPE_FLOAT32;
    t.data = wide;
  }
  fx->plan.inputs[i] = t;
  fx->bound[i] = true;
  return OFX_OK;
}

ofx_status ofx_extractor_check_bound(const ofx_extractor *fx) {
  for (size_t i = 0; i < fx->plan.n_inputs; i++)
    if (!fx->bound[i])
      return ofx_error(OFX_BAD_INPUT, "input '%s' was not given", fx->plan.graph->values[ofx_plan_input_value(&fx->plan, i)].name);
  return OFX_OK;
}

/* Binds zero-filled inputs of the given shapes (freed by the caller through *zeros). */
ofx_status ofx_extractor_bind_zeros(ofx_extractor *fx, const ofx_tensor *shapes, void ***zeros) {
  ofx_plan *p = &fx->plan;
  if ((*zeros = calloc(p->n_inputs + 1, sizeof **zeros)) == NULL) return oom("planning");
  for (size_t i = 0; i < p->n_inputs; i++) {
    size_t bytes = ofx_tensor_numel(&shapes[i]) * ofx_dtype_size(shapes[i].dtype);
    if (((*zeros)[i] = calloc(bytes ? bytes : 1, 1)) == NULL) return oom("planning");
    p->inputs[i] = shapes[i];
    p->inputs[i].data = (*zeros)[i];
  }
  return OFX_OK;
}

void ofx_extractor_free_zeros(ofx_extractor *fx, void **zeros) {
  for (size_t i = 0; zeros && i < fx->plan.n_inputs; i++) {
    free(zeros[i]);
    fx->bound[i] = false;
  }
  free(zeros);
}

