/* Target (b): graph building and naming. ofx_model_load decodes, builds the IR (values, topological
 * order, constant folding, subgraph captures), names every node and writes the JSON description;
 * the description must be a NUL-terminated string and every name non-empty and unique. */
#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"
#include "fuzz.h"
#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > OFX_FUZZ_MAX_INPUT) return 0;
  uint8_t *copy = malloc(size ? size : 1);
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  ofx_model *model = NULL;
  ofx_status s = ofx_model_load(copy, size, &model);
  ofx_fuzz_check_error(s);
  if (s == OFX_OK) {
    const char *json = ofx_model_describe_json(model);
    if (json == NULL || json[0] != '{' || json[strlen(json) - 1] != '}') __builtin_trap();
    const ofx_graph *g = model->graph;
    ofx_strmap seen = {0};
    for (size_t i = 0; i < g->n_nodes; i++) {
      const char *name = g->nodes[i].name;
      if (name == NULL || name[0] == '\0') __builtin_trap();
      if (ofx_strmap_get(&seen, name, NULL)) __builtin_trap(); /* names are unique */
      if (!ofx_strmap_put(&seen, name, i)) break;
      for (size_t k = 0; k < g->nodes[i].n_inputs; k++)
        if (g->nodes[i].inputs[k] >= (int)g->n_values) __builtin_trap();
    }
    ofx_strmap_free(&seen);
    for (int view = 0; view < 2; view++)
      for (size_t i = 0; i < g->n_listed[view]; i++)
        if (g->listed[view][i].node < 0 || (size_t)g->listed[view][i].node >= g->n_nodes) __builtin_trap();
    ofx_model_free(model);
  }
  free(copy);
  return 0;
}
