/* Graph-level rules on the models of tests/tools/make_naming_models.py: selection in each view,
 * "name:k" output addressing, and pruning through implicit inputs of If bodies.
 * Usage: test-graph NAMING_MODEL_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "ops/op.h"
#include "test-util.h"

static ofx_graph *load(const char *dir, const char *name, uint8_t **bytes) {
  char path[1024];
  size_t size;
  snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
  *bytes = ofx_test_read_file(path, &size);
  ofx_graph *g = NULL;
  if (*bytes && ofx_graph_build(*bytes, size, ofx_op_describe, &g) != OFX_OK) fprintf(stderr, "%s: %s\n", name, ofx_last_error());
  CHECK(g != NULL);
  return g;
}

static int node_named(const ofx_graph *g, const char *name) {
  for (size_t i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].name, name) == 0) return (int)i;
  return -1;
}

static void test_if_implicit_inputs(const char *dir) {
  uint8_t *bytes;
  ofx_graph *g = load(dir, "if_implicit", &bytes);
  if (!g) return;
  int head = node_named(g, "head"), encoder = node_named(g, "encoder"), side = node_named(g, "side");
  CHECK(head >= 0 && encoder >= 0 && side >= 0);
  CHECK(g->nodes[head].n_implicit_inputs == 1);
  bool *keep = calloc(g->n_nodes, sizeof *keep);
  size_t selected = (size_t)head;
  CHECK(ofx_graph_prune(g, &selected, 1, keep) == OFX_OK);
  CHECK(keep[encoder]);  /* read only inside the If's branches */
  CHECK(!keep[side]);
  free(keep);
  ofx_graph_free(g);
  free(bytes);
}

static void test_output_addressing(const char *dir) {
  uint8_t *bytes;
  ofx_graph *g = load(dir, "multi_output", &bytes);
  if (!g) return;
  size_t node, output;
  CHECK(ofx_graph_resolve(g, "split:1", OFX_VIEW_EVAL, &node, &output) == OFX_OK && output == 1 &&
        strcmp(g->nodes[node].name, "split") == 0);
  CHECK(ofx_graph_resolve(g, "split", OFX_VIEW_EVAL, &node, &output) == OFX_OK && output == 0);
  CHECK(ofx_graph_resolve(g, "split:2", OFX_VIEW_EVAL, &node, &output) == OFX_NODE_NOT_FOUND &&
        strstr(ofx_last_error(), "has 2 outputs") != NULL);
  CHECK(ofx_graph_resolve(g, "spl", OFX_VIEW_EVAL, &node, &output) == OFX_NODE_NOT_FOUND);
  ofx_graph_free(g);
  free(bytes);
}

static void test_views(const char *dir) {
  uint8_t *bytes;
  ofx_graph *g = load(dir, "dropout", &bytes);
  if (!g) return;
  size_t node, output;
  CHECK(ofx_graph_resolve(g, "classifier.0", OFX_VIEW_TRAIN, &node, &output) == OFX_OK);
  CHECK(ofx_graph_resolve(g, "classifier.0", OFX_VIEW_EVAL, &node, &output) == OFX_NODE_NOT_FOUND &&
        strstr(ofx_last_error(), "exists in train mode") != NULL);
  CHECK(g->n_listed[OFX_VIEW_TRAIN] == g->n_listed[OFX_VIEW_EVAL] + 1);
  ofx_graph_free(g);
  free(bytes);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s NAMING_MODEL_DIR\n", argv[0]);
    return 2;
  }
  test_if_implicit_inputs(argv[1]);
  test_output_addressing(argv[1]);
  test_views(argv[1]);
  return ofx_test_finish("graph");
}
