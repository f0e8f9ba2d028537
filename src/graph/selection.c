/* Resolving requested names to nodes and pruning what they do not need. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph.h"

/* `name` equals `request` or lies inside scope `request` ("layer1" matches "layer1.0.conv1",
 * never "layer10"). */
static bool in_scope(const char *name, const char *request, size_t request_len) {
  return strncmp(name, request, request_len) == 0 &&
         (name[request_len] == '\0' || name[request_len] == '.');
}

ofx_status ofx_graph_resolve(const ofx_graph *g, const char *request, size_t *node_index) {
  size_t len = strlen(request);
  if (len == 0) return ofx_error(OFX_NODE_NOT_FOUND, "an empty node name was requested");
  for (size_t i = g->n_nodes; i-- > 0;) {
    if (in_scope(g->nodes[i].name, request, len)) {
      *node_index = i;
      return OFX_OK;
    }
  }
  return ofx_error(OFX_NODE_NOT_FOUND, "node '%s' is not present in the model", request);
}

ofx_status ofx_graph_prune(const ofx_graph *g, const size_t *nodes, size_t count, bool *keep) {
  memset(keep, 0, g->n_nodes * sizeof *keep);
  size_t *stack = malloc((g->n_nodes + 1) * sizeof *stack);
  if (stack == NULL) return ofx_error(OFX_OUT_OF_MEMORY, "out of memory while pruning");
  size_t depth = 0;
  for (size_t i = 0; i < count; i++) {
    if (!keep[nodes[i]]) {
      keep[nodes[i]] = true;
      stack[depth++] = nodes[i];
    }
  }
  while (depth) {
    const ofx_node *node = &g->nodes[stack[--depth]];
    for (size_t k = 0; k < node->n_inputs; k++) {
      int v = node->inputs[k];
      if (v < 0) continue;
      int producer = g->values[v].producer;
      if (producer >= 0 && g->values[v].kind != OFX_VALUE_CONSTANT && !keep[producer]) {
        keep[producer] = true;
        stack[depth++] = (size_t)producer;
      }
    }
  }
  free(stack);
  return OFX_OK;
}
