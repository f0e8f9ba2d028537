/* Widen-float16 pass (load time, first): onnxfx computes float16 models in float32, so every
 * float16 (and bfloat16) constant (initializers, Constant nodes) is read as float32, keeping
 * where it comes from (toONNX() still writes the model's float16 initializer). Small constants
 * (shapes, scales, biases the planner may evaluate) are converted once, into graph memory; big
 * ones (weights) stay float16 where they are and are widened each time an extractor reads them,
 * one node at a time, as external data is: the ops pack them (float32, or float16 again with
 * OFX_EXTRACTOR_FLOAT16_WEIGHTS), so no float32 copy of the weights lives as long as the model.
 * Everything computed from them is float32; Cast to float16 rounds to float16 precision and
 * stores float32 (ops/shape.c), and float16 inputs are widened when they are set (extractor.c). */
#include <stdint.h>
#include <string.h>

#include "base/half.h"
#include "base/status.h"
#include "runtime/plan.h"

ofx_status ofx_pass_widen_float16(ofx_graph *g) {
  for (size_t v = 0; v < g->n_values; v++) {
    const ofx_value *value = &g->values[v];
    if (value->kind != OFX_VALUE_CONSTANT || !ofx_dtype_is_half(value->dtype)) continue;
    if (ofx_value_deferred(value)) { /* widened as it is read, when an extractor needs it */
      ofx_graph_defer_widening(g, (int)v);
      continue;
    }
    if (value->data == NULL) continue;
    if (value->nbytes / 2 * sizeof(float) > OFX_PLAN_EVAL_MAX * 8) { /* bound_for_run's "small" in build-steps.c */
      ofx_graph_defer_in_memory_half(g, (int)v);
      continue;
    }
    bool bf16 = value->dtype == OFX_DTYPE_BFLOAT16;
    size_t n = value->nbytes / 2;
    float *wide = ofx_graph_alloc(g, n * sizeof *wide);
    if (wide == NULL) return ofx_error(OFX_OUT_OF_MEMORY, "out of memory widening float16 constant '%s'", value->name);
    const uint8_t *bytes = value->data; /* raw_data in the model bytes: maybe unaligned */
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, bytes + 2 * i, sizeof h);
      wide[i] = bf16 ? ofx_bf16_to_f32(h) : ofx_f16_to_f32(h);
    }
    ofx_graph_set_constant_data(g, (int)v, OFX_DTYPE_FLOAT32, wide, n * sizeof *wide);
  }
  return OFX_OK;
}
