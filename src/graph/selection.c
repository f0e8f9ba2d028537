/* Resolving requested names to nodes and pruning what they do not need. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph.h"

/* `name` equals the request or lies inside scope `request` ("layer1" matches "layer1.0.conv1",
 * never "layer10"). Names are compared literally: no pattern characters. */
static bool in_scope(const char *name, const char *request, size_t request_len) {
  return strncmp(name, request, request_len) == 0 &&
         (name[request_len] == '\0' || name[request_len] == '.');
}

static bool find_last(const ofx_graph *g, const char *request, size_t len, ofx_view view, size_t *node) {
  for (size_t i = g->n_nodes; i-- > 0;) {
    const ofx_node *n = &g->nodes[i];
    if (ofx_node_in_view(n, view) && in_scope(n->name, request, len) && (!n->unlisted || n->name[len] == '\0')) {
      *node = i;
      return true;
    }
  }
  return false;
}

ofx_status ofx_graph_resolve(const ofx_graph *g, const char *request, ofx_view view,
                             size_t *node_index, size_t *output_index) {
  size_t len = strlen(request);
  if (len == 0) return ofx_error(OFX_NODE_NOT_FOUND, "an empty node name was requested");
  /* "name:k" addresses output k; names never contain ':' (naming keeps [A-Za-z0-9_.]) */
  size_t output = 0, name_len = len;
  const char *colon = strrchr(request, ':');
  if (colon && colon[1] != '\0') {
    const char *p = colon + 1;
    while (*p && isdigit((unsigned char)*p)) p++;
    if (*p == '\0' && p - colon <= 7) {
      output = (size_t)atol(colon + 1);
      name_len = (size_t)(colon - request);
    }
  }
  size_t node;
  if (name_len == 0 || !find_last(g, request, name_len, view, &node)) {
    size_t other;
    bool in_train = view == OFX_VIEW_EVAL && name_len && find_last(g, request, name_len, OFX_VIEW_TRAIN, &other);
    return ofx_error(OFX_NODE_NOT_FOUND, "node '%s' is not present in the model%s", request,
                     in_train ? " in eval mode (it exists in train mode)" : "");
  }
  const ofx_node *n = &g->nodes[node];
  if (output >= n->n_outputs || n->outputs[output] < 0)
    return ofx_error(OFX_NODE_NOT_FOUND, "node '%s' has %zu output%s; '%s' asks for output %zu", n->name,
                     n->n_outputs, n->n_outputs == 1 ? "" : "s", request, output);
  *node_index = node;
  *output_index = output;
  return OFX_OK;
}

static void push_producer(const ofx_graph *g, int value, bool *keep, size_t *stack, size_t *depth) {
  if (value < 0) return;
  int producer = g->values[value].producer;
  if (producer >= 0 && g->values[value].kind != OFX_VALUE_CONSTANT && !keep[producer]) {
    keep[producer] = true;
    stack[(*depth)++] = (size_t)producer;
  }
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
    for (size_t k = 0; k < node->n_inputs; k++) push_producer(g, node->inputs[k], keep, stack, &depth);
    /* values read inside If/Loop/Scan bodies are dependencies too */
    for (size_t k = 0; k < node->n_implicit_inputs; k++) push_producer(g, node->implicit_inputs[k], keep, stack, &depth);
  }
  free(stack);
  return OFX_OK;
}
