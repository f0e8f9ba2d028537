/* Widen-float16 pass (load time, first): onnxfx computes float16 models in float32, so every
 * float16 (and bfloat16) constant (initializers, Constant nodes) is converted to float32 once, into graph
 * memory, keeping where it comes from (toONNX() still writes the model's float16 initializer).
 * Everything computed from them is then float32; Cast to float16 rounds to float16 precision
 * and stores float32 (ops/shape.c), and float16 inputs are widened when they are set
 * (extractor.c). The model's float16 weights cost float32 memory once more, as the ops pack a
 * float32 model's weights from its bytes. */
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
