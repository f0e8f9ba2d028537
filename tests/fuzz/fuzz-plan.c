/* Target (c): selection, pruning and extractor creation (op init: attribute validation, weight
 * packing). For each view, every listed name (up to a bound) gets its own extractor, then one
 * extractor takes a batch of names at once, then malformed requests must fail cleanly. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "runtime/runtime.h"

#define MAX_SINGLE 24
#define MAX_BATCH 16

static void create(ofx_model *model, const char *const *names, size_t count, int train) {
  ofx_extractor *fx = NULL;
  ofx_status s = ofx_extractor_create(model, names, count, train, &fx);
  ofx_fuzz_check_error(s);
  if (s != OFX_OK) return;
  if (ofx_extractor_output_count(fx) != count) __builtin_trap();
  for (size_t i = 0; i < ofx_extractor_input_count(fx); i++)
    if (ofx_extractor_input_model_index(fx, i) >= model->graph->n_inputs) __builtin_trap();
  /* running before inputs are set is an error, never a crash */
  if (ofx_extractor_input_count(fx) > 0 && ofx_extractor_run(fx) == OFX_OK) __builtin_trap();
  ofx_extractor_free(fx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > OFX_FUZZ_MAX_INPUT) return 0;
  uint8_t *copy = malloc(size ? size : 1);
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  ofx_model *model = NULL;
  ofx_status s = ofx_model_load(copy, size, &model);
  ofx_fuzz_check_error(s);
  if (s == OFX_OK) {
    const ofx_graph *g = model->graph;
    for (int view = 0; view < 2; view++) {
      int train = view == OFX_VIEW_TRAIN;
      size_t n = g->n_listed[view];
      /* the last names first: they need the most of the graph */
      for (size_t i = 0; i < n && i < MAX_SINGLE; i++) {
        const char *name = g->listed[view][n - 1 - i].name;
        create(model, &name, 1, train);
      }
      const char *batch[MAX_BATCH];
      size_t count = 0;
      for (size_t i = 0; i < n && count < MAX_BATCH; i += 1 + n / MAX_BATCH) batch[count++] = g->listed[view][i].name;
      if (count) create(model, batch, count, train);
    }
    static const char *const odd[] = {"", ".", "..", ":", ":0", "x:", "x:99999999999999999999", "x:-1",
                                      "a.b.c.d.e.f.g.h.i.j.k", "\xff\xfe", "0", "_1"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) create(model, &odd[i], 1, 0);
    ofx_model_free(model);
  }
  free(copy);
  return 0;
}
