/* Target (d): one small run. Loads the model, extracts its last node (eval view), and feeds
 * every input the extractor needs a small fixed tensor: the declared dims with unknown ones set
 * to 2, skipped above 64 Ki elements. Runs twice (the second run reuses the plan) and reads
 * every output byte, so ASan checks the outputs lie in live memory. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "runtime/runtime.h"

#define MAX_INPUT_ELEMENTS (64 * 1024)
#define MAX_INPUTS 8

static volatile uint8_t sink;

static void *make_input(const ofx_value *v, ofx_dtype *dtype, int64_t *dims, size_t *rank, size_t *bytes) {
  *dtype = v->dtype == OFX_DTYPE_UNDEFINED ? OFX_DTYPE_FLOAT32 : v->dtype;
  size_t esize = ofx_dtype_size(*dtype);
  if (esize == 0) return NULL;
  *rank = v->rank < 0 ? 4 : (size_t)v->rank;
  size_t numel = 1;
  for (size_t d = 0; d < *rank; d++) {
    dims[d] = v->rank < 0 || v->dims[d] < 0 ? 2 : v->dims[d];
    if (dims[d] > MAX_INPUT_ELEMENTS) return NULL;
    numel *= (size_t)dims[d];
    if (numel > MAX_INPUT_ELEMENTS) return NULL;
  }
  *bytes = numel * esize;
  uint8_t *data = calloc(*bytes ? *bytes : 1, 1);
  if (data == NULL) return NULL;
  for (size_t i = 0; i < numel; i++) {
    if (*dtype == OFX_DTYPE_FLOAT32) {
      float x = (float)((int)(i % 7) - 3) * 0.25f;
      memcpy(data + i * 4, &x, 4);
    } else {
      int64_t x = (int64_t)(i % 5);
      memcpy(data + i * esize, &x, esize < 8 ? esize : 8); /* little-endian: the low bytes */
    }
  }
  return data;
}

static void run_once(ofx_extractor *fx, void **data, const ofx_dtype *dtypes, int64_t (*dims)[OFX_MAX_RANK],
                     const size_t *ranks, const size_t *bytes, size_t n_inputs) {
  for (size_t i = 0; i < n_inputs; i++) {
    ofx_status s = ofx_extractor_set_input(fx, i, dtypes[i], dims[i], ranks[i], data[i], bytes[i]);
    ofx_fuzz_check_error(s);
    if (s != OFX_OK) return;
  }
  ofx_status s = ofx_extractor_run(fx);
  ofx_fuzz_check_error(s);
  if (s != OFX_OK) return;
  for (size_t o = 0; o < ofx_extractor_output_count(fx); o++) {
    ofx_tensor_view view;
    if (ofx_extractor_output(fx, o, &view) != OFX_OK) __builtin_trap(); /* a run succeeded */
    const uint8_t *p = view.data;
    uint8_t x = 0;
    for (size_t b = 0; b < view.size; b++) x ^= p[b];
    sink ^= x;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > OFX_FUZZ_MAX_INPUT) return 0;
  uint8_t *copy = malloc(size ? size : 1);
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  ofx_model *model = NULL;
  ofx_extractor *fx = NULL;
  void *inputs[MAX_INPUTS] = {0};
  ofx_dtype dtypes[MAX_INPUTS];
  int64_t dims[MAX_INPUTS][OFX_MAX_RANK];
  size_t ranks[MAX_INPUTS], bytes[MAX_INPUTS];
  size_t n_inputs = 0;
  ofx_status s = ofx_model_load(copy, size, &model);
  ofx_fuzz_check_error(s);
  if (s != OFX_OK || model->graph->n_listed[OFX_VIEW_EVAL] == 0) goto done;
  const ofx_graph *g = model->graph;
  const char *name = g->listed[OFX_VIEW_EVAL][g->n_listed[OFX_VIEW_EVAL] - 1].name;
  s = ofx_extractor_create(model, &name, 1, 0, &fx);
  ofx_fuzz_check_error(s);
  if (s != OFX_OK) goto done;
  n_inputs = ofx_extractor_input_count(fx);
  if (n_inputs > MAX_INPUTS) goto done;
  for (size_t i = 0; i < n_inputs; i++) {
    const ofx_node *node = &g->nodes[ofx_extractor_input_model_index(fx, i)];
    inputs[i] = make_input(&g->values[node->outputs[0]], &dtypes[i], dims[i], &ranks[i], &bytes[i]);
    if (inputs[i] == NULL) goto done;
  }
  run_once(fx, inputs, dtypes, dims, ranks, bytes, n_inputs);
  run_once(fx, inputs, dtypes, dims, ranks, bytes, n_inputs);
done:
  for (size_t i = 0; i < MAX_INPUTS; i++) free(inputs[i]);
  ofx_extractor_free(fx);
  ofx_model_free(model);
  free(copy);
  return 0;
}
