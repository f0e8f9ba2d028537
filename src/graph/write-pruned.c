/* Writes the pruned graph as a standalone ONNX model whose outputs are the requested values.
 *
 * Kept nodes, initializers, graph inputs, value_info, opset imports and metadata are copied
 * verbatim from the model bytes (their encoded spans); folded Constant/Identity nodes that kept
 * nodes read are written back too. An output whose requested name differs from its value name
 * is given that name through an Identity node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph.h"
#include "onnx/pb-writer.h"

/* onnx.proto field numbers used here */
enum {
  MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOMAIN = 4,
  MODEL_MODEL_VERSION = 5, MODEL_DOC_STRING = 6, MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8,
  MODEL_METADATA_PROPS = 14,
  GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
  GRAPH_VALUE_INFO = 13,
  NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4,
  VALUE_INFO_NAME = 1, VALUE_INFO_TYPE = 2, TYPE_TENSOR = 1, TENSOR_TYPE_ELEM_TYPE = 1,
  TENSOR_TYPE_SHAPE = 2, SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
};

typedef struct plan {
  const ofx_graph *g;
  const onnx_graph *og;
  bool *keep;          /* per IR node */
  bool *initializers;  /* per ONNX initializer */
  bool *inputs;        /* per ONNX graph input */
  int *folded;         /* ONNX indices of folded nodes to write, dependencies first */
  size_t n_folded;
  bool *folded_seen;   /* per ONNX node */
} plan;

static ofx_status oom(void) { return ofx_error(OFX_OUT_OF_MEMORY, "out of memory writing the pruned model"); }

static int onnx_input_index(const onnx_graph *og, const char *name) {
  for (size_t i = 0; i < og->n_inputs; i++)
    if (onnx_str_eq(og->inputs[i].name, name)) return (int)i;
  return -1;
}

static void need_value(plan *p, int v);

/* A folded Constant/Identity chain: write its nodes root first. */
static void need_folded(plan *p, int index) {
  if (p->folded_seen[index]) return;
  p->folded_seen[index] = true;
  const onnx_node *n = &p->og->nodes[index];
  for (size_t k = 0; k < n->n_inputs; k++) {
    /* Identity of a constant: its single input is an initializer or another folded node */
    char name[512];
    if (n->inputs[k].len == 0 || n->inputs[k].len >= sizeof name) continue;
    memcpy(name, n->inputs[k].ptr, n->inputs[k].len);
    name[n->inputs[k].len] = '\0';
    size_t v;
    if (ofx_strmap_get(&p->g->value_index, name, &v)) need_value(p, (int)v);
  }
  p->folded[p->n_folded++] = index;
}

static void need_value(plan *p, int v) {
  if (v < 0) return;
  const ofx_value *value = &p->g->values[v];
  if (value->onnx_initializer >= 0) {
    p->initializers[value->onnx_initializer] = true;
    int input = onnx_input_index(p->og, value->name); /* old IR versions list them as inputs too */
    if (input >= 0) p->inputs[input] = true;
  } else if (value->kind == OFX_VALUE_INPUT) {
    int input = onnx_input_index(p->og, value->name);
    if (input >= 0) p->inputs[input] = true;
  } else if (value->kind == OFX_VALUE_CONSTANT && value->onnx_producer >= 0) {
    need_folded(p, value->onnx_producer);
  }
}

/* The element type of a value: declared, or followed through its producers as their ops' output
 * types say (input 0's type by default). */
int32_t ofx_value_onnx_type(const ofx_graph *g, int v) {
  for (int hops = 0; v >= 0 && hops < 10000; hops++) {
    const ofx_value *value = &g->values[v];
    if (value->onnx_initializer >= 0) /* as the model stores it: float16 weights are held widened */
      return g->model->graph->initializers[value->onnx_initializer].data_type;
    if (value->dtype != OFX_DTYPE_UNDEFINED) return (int32_t)value->dtype;
    if (value->kind != OFX_VALUE_NODE || value->producer < 0) break;
    const ofx_node *n = &g->nodes[value->producer];
    int64_t to;
    ofx_attr_tensor fill;
    switch (n->traits.output_type) {
      case OFX_OUTPUT_INT64: return OFX_DTYPE_INT64;
      case OFX_OUTPUT_BOOL: return OFX_DTYPE_BOOL;
      case OFX_OUTPUT_TO_ATTR:
        return ofx_node_attr_int(n, "to", OFX_DTYPE_UNDEFINED, &to) == OFX_OK ? (int32_t)to : OFX_DTYPE_UNDEFINED;
      case OFX_OUTPUT_VALUE_ATTR:
        if (ofx_node_attr_tensor(n, "value", &fill, NULL, 0) != OFX_OK) return OFX_DTYPE_UNDEFINED;
        return fill.rank < 0 ? OFX_DTYPE_FLOAT32 : (int32_t)fill.dtype;
      case OFX_OUTPUT_FLOAT32: return OFX_DTYPE_FLOAT32;
      case OFX_OUTPUT_INT32: return OFX_DTYPE_INT32;
      case OFX_OUTPUT_ZERO_POINT: {
        const size_t zp = n->n_inputs >= 8 ? 7 : 2;
        if (zp >= n->n_inputs || n->inputs[zp] < 0) return OFX_DTYPE_UINT8;
        v = n->inputs[zp];
        break;
      }
      case OFX_OUTPUT_DYNAMIC_QUANTIZED: return n->n_outputs > 1 && n->outputs[1] == v ? OFX_DTYPE_FLOAT32 : OFX_DTYPE_UINT8;
      case OFX_OUTPUT_LIKE_INPUT1: v = n->n_inputs > 1 ? n->inputs[1] : -1; break;
      case OFX_OUTPUT_LIKE_INPUT0: v = n->n_inputs ? n->inputs[0] : -1; break;
    }
  }
  return OFX_DTYPE_FLOAT32; /* the computed features; only reached for untyped float graphs */
}

static void write_value_info(pb_writer *graph, const ofx_graph *g, int v, const char *name) {
  const ofx_value *value = &g->values[v];
  pb_writer vi = {0}, type = {0}, tensor = {0}, shape = {0};
  pbw_varint_field(&tensor, TENSOR_TYPE_ELEM_TYPE, (uint64_t)ofx_value_onnx_type(g, v));
  if (value->rank >= 0) {
    for (int d = 0; d < value->rank; d++) {
      pb_writer dim = {0};
      if (value->dims[d] >= 0) pbw_varint_field(&dim, DIM_VALUE, (uint64_t)value->dims[d]);
      else if (value->dim_params[d]) pbw_string_field(&dim, DIM_PARAM, value->dim_params[d]);
      pbw_message(&shape, SHAPE_DIM, &dim);
      pbw_free(&dim);
    }
    pbw_message(&tensor, TENSOR_TYPE_SHAPE, &shape);
  }
  pbw_message(&type, TYPE_TENSOR, &tensor);
  pbw_string_field(&vi, VALUE_INFO_NAME, name);
  pbw_message(&vi, VALUE_INFO_TYPE, &type);
  pbw_message(graph, GRAPH_OUTPUT, &vi);
  pbw_free(&vi);
  pbw_free(&type);
  pbw_free(&tensor);
  pbw_free(&shape);
}

static ofx_status write_graph(plan *p, const int *output_values, const char *const *output_names, size_t count,
                              pb_writer *graph) {
  const ofx_graph *g = p->g;
  const onnx_graph *og = p->og;
  for (size_t i = 0; i < p->n_folded; i++) {
    onnx_str raw = og->nodes[p->folded[i]].raw;
    pbw_bytes_field(graph, GRAPH_NODE, raw.ptr, raw.len);
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    if (!p->keep[i] || g->nodes[i].proto == NULL) continue;
    pbw_bytes_field(graph, GRAPH_NODE, g->nodes[i].proto->raw.ptr, g->nodes[i].proto->raw.len);
  }
  for (size_t i = 0; i < count; i++) {
    const char *value_name = g->values[output_values[i]].name;
    if (strcmp(value_name, output_names[i]) == 0) continue;
    pb_writer node = {0};
    pbw_string_field(&node, NODE_INPUT, value_name);
    pbw_string_field(&node, NODE_OUTPUT, output_names[i]);
    char label[300];
    snprintf(label, sizeof label, "onnxfx_output_%.250s", output_names[i]);
    pbw_string_field(&node, NODE_NAME, label);
    pbw_string_field(&node, NODE_OP_TYPE, "Identity");
    pbw_message(graph, GRAPH_NODE, &node);
    pbw_free(&node);
  }
  if (og->name.len) pbw_bytes_field(graph, GRAPH_NAME, og->name.ptr, og->name.len);
  for (size_t i = 0; i < og->n_initializers; i++)
    if (p->initializers[i]) pbw_bytes_field(graph, GRAPH_INITIALIZER, og->initializers[i].raw.ptr, og->initializers[i].raw.len);
  for (size_t i = 0; i < og->n_inputs; i++)
    if (p->inputs[i]) pbw_bytes_field(graph, GRAPH_INPUT, og->inputs[i].raw.ptr, og->inputs[i].raw.len);
  for (size_t i = 0; i < count; i++) write_value_info(graph, g, output_values[i], output_names[i]);
  for (size_t i = 0; i < og->n_value_infos; i++) {
    char name[512];
    onnx_str n = og->value_infos[i].name;
    if (n.len >= sizeof name) continue;
    memcpy(name, n.ptr, n.len);
    name[n.len] = '\0';
    size_t v;
    if (!ofx_strmap_get(&g->value_index, name, &v)) continue;
    int producer = g->values[v].producer;
    if (g->values[v].kind == OFX_VALUE_NODE && producer >= 0 && p->keep[producer])
      pbw_bytes_field(graph, GRAPH_VALUE_INFO, og->value_infos[i].raw.ptr, og->value_infos[i].raw.len);
  }
  return graph->failed ? oom() : OFX_OK;
}

static ofx_status write_model(const ofx_graph *g, const pb_writer *graph, uint8_t **out, size_t *out_size) {
  const onnx_model *m = g->model;
  pb_writer model = {0};
  pbw_varint_field(&model, MODEL_IR_VERSION, (uint64_t)m->ir_version);
  if (m->producer_name.len) pbw_bytes_field(&model, MODEL_PRODUCER_NAME, m->producer_name.ptr, m->producer_name.len);
  if (m->producer_version.len) pbw_bytes_field(&model, MODEL_PRODUCER_VERSION, m->producer_version.ptr, m->producer_version.len);
  if (m->domain.len) pbw_bytes_field(&model, MODEL_DOMAIN, m->domain.ptr, m->domain.len);
  if (m->model_version) pbw_varint_field(&model, MODEL_MODEL_VERSION, (uint64_t)m->model_version);
  if (m->doc_string.len) pbw_bytes_field(&model, MODEL_DOC_STRING, m->doc_string.ptr, m->doc_string.len);
  pbw_message(&model, MODEL_GRAPH, graph);
  for (size_t i = 0; i < m->n_opsets; i++) pbw_bytes_field(&model, MODEL_OPSET_IMPORT, m->opsets[i].raw.ptr, m->opsets[i].raw.len);
  for (size_t i = 0; i < m->n_metadata; i++)
    pbw_bytes_field(&model, MODEL_METADATA_PROPS, m->metadata[i].raw.ptr, m->metadata[i].raw.len);
  if (model.failed) {
    pbw_free(&model);
    return oom();
  }
  *out = model.data;
  *out_size = model.len;
  return OFX_OK;
}

ofx_status ofx_graph_write_pruned(const ofx_graph *g, const int *output_values, const char *const *output_names,
                                  size_t count, uint8_t **out, size_t *out_size) {
  const onnx_graph *og = g->model->graph;
  for (size_t i = 0; i < count; i++) {
    size_t other;
    if (output_names[i][0] == '\0') return ofx_error(OFX_INVALID_ARGUMENT, "output %zu has an empty name", i);
    if (ofx_strmap_get(&g->value_index, output_names[i], &other) && (int)other != output_values[i])
      return ofx_error(OFX_INVALID_ARGUMENT,
                       "output name '%s' is already the name of another value in the model; choose another key",
                       output_names[i]);
    for (size_t j = 0; j < i; j++)
      if (strcmp(output_names[i], output_names[j]) == 0)
        return ofx_error(OFX_INVALID_ARGUMENT, "output name '%s' is given twice", output_names[i]);
  }
  plan p = {g, og, NULL, NULL, NULL, NULL, 0, NULL};
  size_t *producers = malloc((count + 1) * sizeof *producers);
  p.keep = malloc((g->n_nodes + 1) * sizeof *p.keep);
  p.initializers = calloc(og->n_initializers + 1, sizeof *p.initializers);
  p.inputs = calloc(og->n_inputs + 1, sizeof *p.inputs);
  p.folded = malloc((og->n_nodes + 1) * sizeof *p.folded);
  p.folded_seen = calloc(og->n_nodes + 1, sizeof *p.folded_seen);
  pb_writer graph = {0};
  ofx_status s = OFX_OK;
  if (!producers || !p.keep || !p.initializers || !p.inputs || !p.folded || !p.folded_seen) {
    s = oom();
    goto done;
  }
  size_t n_producers = 0;
  for (size_t i = 0; i < count; i++) {
    const ofx_value *v = &g->values[output_values[i]];
    if (v->producer >= 0) producers[n_producers++] = (size_t)v->producer;
    need_value(&p, output_values[i]);
  }
  s = ofx_graph_prune(g, producers, n_producers, p.keep);
  if (s != OFX_OK) goto done;
  for (size_t i = 0; i < g->n_nodes; i++) {
    if (!p.keep[i]) continue;
    const ofx_node *n = &g->nodes[i];
    if (n->proto == NULL) need_value(&p, n->outputs[0]);
    for (size_t k = 0; k < n->n_inputs; k++) need_value(&p, n->inputs[k]);
    for (size_t k = 0; k < n->n_implicit_inputs; k++) need_value(&p, n->implicit_inputs[k]);
  }
  s = write_graph(&p, output_values, output_names, count, &graph);
  if (s == OFX_OK) s = write_model(g, &graph, out, out_size);
done:
  pbw_free(&graph);
  free(producers);
  free(p.keep);
  free(p.initializers);
  free(p.inputs);
  free(p.folded);
  free(p.folded_seen);
  return s;
}
