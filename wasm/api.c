/* The flat ABI that web/ calls. The public API (src/onnxfx.h) is exported as is: in wasm32
 * every argument is an i32. This file only adds what JS cannot read portably: the fields of an
 * output view, without depending on C struct layout.
 *
 * Ownership: ofx_model_load / ofx_extractor_create write an owned handle through their out
 * pointer; the caller releases it with ofx_model_free / ofx_extractor_free. The model bytes
 * passed to ofx_model_load must stay in the heap until ofx_model_free. Strings returned
 * (ofx_last_error, ofx_model_describe_json) are owned by the library. On a non-zero status,
 * ofx_last_error() says what went wrong. */
#include <emscripten.h>
#include <malloc.h>
#include <stdint.h>

#include "base/status.h"
#include "kernels/kernel-config.h"
#include "onnxfx.h"

static ofx_tensor_view output_view(const ofx_extractor *fx, size_t i) {
  ofx_tensor_view view = {0};
  if (ofx_extractor_output(fx, i, &view) != OFX_OK) view.rank = 0;
  return view;
}

EMSCRIPTEN_KEEPALIVE int ofx_wasm_output_dtype(const ofx_extractor *fx, size_t i) {
  return (int)output_view(fx, i).dtype;
}

EMSCRIPTEN_KEEPALIVE int ofx_wasm_output_rank(const ofx_extractor *fx, size_t i) {
  return (int)output_view(fx, i).rank;
}

/* Dims fit in a double exactly (they are bounded by the 4 GiB heap). */
EMSCRIPTEN_KEEPALIVE double ofx_wasm_output_dim(const ofx_extractor *fx, size_t i, size_t axis) {
  ofx_tensor_view view = output_view(fx, i);
  return axis < view.rank ? (double)view.dims[axis] : -1.0;
}

EMSCRIPTEN_KEEPALIVE const void *ofx_wasm_output_data(const ofx_extractor *fx, size_t i) {
  return output_view(fx, i).data;
}

EMSCRIPTEN_KEEPALIVE size_t ofx_wasm_output_size(const ofx_extractor *fx, size_t i) {
  return output_view(fx, i).size;
}

/* Bytes of the heap in use (dlmalloc's in-use total), for the leak tests: a load / create / run /
 * dispose cycle must leave it where it was. */
EMSCRIPTEN_KEEPALIVE double ofx_wasm_heap_used(void) {
  struct mallinfo info = mallinfo();
  return (double)(size_t)info.uordblks;
}

/* Which build this is and the micro-kernels it runs (ofx_kernels_describe: {"arch":
 * "wasmrelaxedsimd" | "wasmsimd", "f32_gemm": ..., ...}), read once by web/src/loader.js for
 * model.backend and explain(). Static; owned by the library. */
EMSCRIPTEN_KEEPALIVE const char *ofx_wasm_kernels_json(void) {
  static char json[1024];
  if (json[0] == 0) ofx_kernels_describe(json, sizeof json);
  return json;
}

/* External data read on demand (ofx_model_load_deferred): the JS side (web/src/core.js) keeps
 * each model's sources — open files in Node, buffers elsewhere — under `reader_id` and copies
 * the asked bytes straight into the heap at dest. Returns 0 on success. */
EM_JS(int, ofx_js_read_external, (int reader_id, int file, double offset, double length, void *dest), {
  return Module.onnxfxReadExternal(reader_id, file, offset, length, dest >>> 0);
});

static ofx_status read_external(void *ctx, size_t file, uint64_t offset, size_t length, void *dest) {
  if (ofx_js_read_external((int)(intptr_t)ctx, (int)file, (double)offset, (double)length, dest) == 0) return OFX_OK;
  return ofx_error(OFX_BAD_MODEL, "the file could not be read (was it changed or removed since the model loaded?)");
}

/* ofx_extractor_create's progress (ofx_set_create_progress) to Module.onnxfxProgress(done, total),
 * which web/src/core.js sets around the create call it concerns. */
EM_JS(void, ofx_js_create_progress, (double done, double total), {
  if (Module.onnxfxProgress) Module.onnxfxProgress(done, total);
});

static void create_progress(void *ctx, uint64_t done, uint64_t total) { ofx_js_create_progress((double)done, (double)total); }

EMSCRIPTEN_KEEPALIVE void ofx_wasm_set_create_progress(int on) { ofx_set_create_progress(on ? create_progress : NULL, NULL); }

EMSCRIPTEN_KEEPALIVE ofx_status ofx_wasm_model_load_deferred(const uint8_t *bytes, size_t size, const char *const *locations,
                                                           const size_t *sizes, size_t count, int reader_id, ofx_model **out) {
  return ofx_model_load_deferred(bytes, size, locations, sizes, count, read_external, (void *)(intptr_t)reader_id, out);
}
