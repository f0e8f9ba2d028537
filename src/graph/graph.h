/* The graph IR: values (tensors) and nodes in execution order, built from a decoded ONNX model.
 * Constant-only nodes are folded away, graph inputs become the first nodes, and every node gets
 * a torchvision-style dotted name. No maths happens here. */
#ifndef OFX_GRAPH_GRAPH_H
#define OFX_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/strmap.h"
#include "onnx/onnx.h"
#include "onnxfx.h"

typedef enum ofx_value_kind {
  OFX_VALUE_INPUT,    /* a graph input fed by the caller */
  OFX_VALUE_CONSTANT, /* an initializer or a folded constant */
  OFX_VALUE_NODE,     /* computed by a node */
} ofx_value_kind;

typedef struct ofx_value {
  const char *name;
  ofx_value_kind kind;
  int producer; /* node index for OFX_VALUE_NODE and OFX_VALUE_INPUT, else -1 */
  ofx_dtype dtype;
  int rank;                         /* -1 when unknown */
  int64_t dims[OFX_MAX_RANK];       /* -1 where unknown or symbolic */
  const char *dim_params[OFX_MAX_RANK]; /* symbolic dim names, NULL otherwise */
  /* Constants: element data, possibly unaligned (it may point into the model bytes). */
  const void *data;
  size_t nbytes;
} ofx_value;

typedef struct ofx_node {
  const char *name;      /* torchvision-style dotted name, unique */
  const char *onnx_name; /* as written in the model (may be empty) */
  const char *op_type;   /* "Input" for graph-input pseudo nodes */
  const char *domain;
  const onnx_node *proto; /* NULL for graph inputs */
  size_t n_inputs, n_outputs;
  int *inputs; /* value indices, -1 for an omitted optional input */
  int *outputs;
} ofx_node;

/* A name listed by getGraphNodeNames: a node, or a module scope standing for its last node. */
typedef struct ofx_listed_name {
  const char *name;
  int node;
} ofx_listed_name;

typedef struct ofx_graph {
  ofx_arena arena;
  const onnx_model *model;
  int64_t opset; /* version of the default ("" / ai.onnx) domain */
  size_t n_values, n_nodes, n_inputs, n_outputs, n_listed;
  ofx_value *values;
  ofx_node *nodes; /* execution order; graph inputs first */
  int *inputs;     /* value indices of the graph inputs (not initializers) */
  int *outputs;    /* value indices of the graph outputs */
  ofx_listed_name *listed; /* execution order */
  ofx_strmap value_index; /* value name -> index */
} ofx_graph;

/* Builds the IR from model bytes; the bytes must outlive the graph. */
ofx_status ofx_graph_build(const uint8_t *bytes, size_t size, ofx_graph **out);
void ofx_graph_free(ofx_graph *graph);

/* Gives every node its dotted name and fills graph->listed (naming.c). */
ofx_status ofx_graph_name_nodes(ofx_graph *graph);

/* The last node in execution order named `request` or inside scope `request` (selection.c). */
ofx_status ofx_graph_resolve(const ofx_graph *graph, const char *request, size_t *node_index);
/* Marks in keep[] every node that the given nodes' outputs depend on, them included. */
ofx_status ofx_graph_prune(const ofx_graph *graph, const size_t *nodes, size_t count, bool *keep);

/* Element count of a static shape; false when a dim is unknown or the product overflows. */
bool ofx_shape_numel(const int64_t *dims, int rank, size_t *numel);
size_t ofx_dtype_size(ofx_dtype dtype);

/* Attribute lookup on a node's proto; NULL when absent. */
const onnx_attribute *ofx_node_attribute(const ofx_node *node, const char *name);

#endif
