/* ofx_model: the named graph plus its JSON description for JS. */
#include <stdlib.h>

#include "base/json.h"
#include "base/status.h"
#include "ops/op.h"
#include "runtime/memory-plan.h"
#include "runtime/plan.h"
#include "runtime/runtime.h"

static void describe_value(ofx_json *j, const ofx_value *v) {
  ofx_json_raw(j, "{\"name\":");
  ofx_json_string(j, v->name);
  ofx_json_raw(j, ",\"type\":");
  ofx_json_string(j, onnx_dtype_name((int32_t)v->dtype));
  ofx_json_raw(j, ",\"dims\":");
  if (v->rank < 0) {
    ofx_json_raw(j, "null");
  } else {
    ofx_json_raw(j, "[");
    for (int d = 0; d < v->rank; d++) {
      if (d) ofx_json_raw(j, ",");
      if (v->dims[d] >= 0) ofx_json_int(j, v->dims[d]);
      else if (v->dim_params[d]) ofx_json_string(j, v->dim_params[d]);
      else ofx_json_raw(j, "null");
    }
    ofx_json_raw(j, "]");
  }
  ofx_json_raw(j, "}");
}

static void describe_value_names(ofx_json *j, const ofx_graph *g, const int *values, size_t n) {
  ofx_json_raw(j, "[");
  for (size_t k = 0; k < n; k++) {
    if (k) ofx_json_raw(j, ",");
    ofx_json_string(j, values[k] >= 0 ? g->values[values[k]].name : "");
  }
  ofx_json_raw(j, "]");
}

static char *describe(const ofx_graph *g) {
  ofx_json j = {0};
  ofx_json_raw(&j, "{\"opset\":");
  ofx_json_int(&j, g->opset);
  ofx_json_raw(&j, ",\"inputs\":[");
  for (size_t i = 0; i < g->n_inputs; i++) {
    if (i) ofx_json_raw(&j, ",");
    describe_value(&j, &g->values[g->inputs[i]]);
  }
  ofx_json_raw(&j, "],\"outputs\":[");
  for (size_t i = 0; i < g->n_outputs; i++) {
    if (i) ofx_json_raw(&j, ",");
    describe_value(&j, &g->values[g->outputs[i]]);
  }
  ofx_json_raw(&j, "],\"nodes\":[");
  for (size_t i = 0; i < g->n_nodes; i++) {
    const ofx_node *n = &g->nodes[i];
    if (i) ofx_json_raw(&j, ",");
    ofx_json_raw(&j, "{\"name\":");
    ofx_json_string(&j, n->name);
    ofx_json_raw(&j, ",\"scope\":");
    ofx_json_string(&j, n->scope);
    ofx_json_raw(&j, ",\"opType\":");
    ofx_json_string(&j, n->op_type);
    ofx_json_raw(&j, ",\"onnxName\":");
    ofx_json_string(&j, n->onnx_name);
    ofx_json_raw(&j, ",\"inputs\":");
    describe_value_names(&j, g, n->inputs, n->n_inputs);
    ofx_json_raw(&j, ",\"outputs\":");
    describe_value_names(&j, g, n->outputs, n->n_outputs);
    ofx_json_raw(&j, "}");
  }
  static const char *const views[2] = {"trainNodes", "evalNodes"}; /* indexed by ofx_view */
  for (int view = 0; view < 2; view++) {
    ofx_json_raw(&j, "],\"");
    ofx_json_raw(&j, views[view]);
    ofx_json_raw(&j, "\":[");
    for (size_t i = 0; i < g->n_listed[view]; i++) {
      if (i) ofx_json_raw(&j, ",");
      ofx_json_string(&j, g->listed[view][i].name);
    }
  }
  /* 0: the views resolve every name alike, so one extractor serves both modes (web/index.js) */
  size_t train_only = 0;
  for (size_t i = 0; i < g->n_nodes; i++) train_only += !ofx_node_in_view(&g->nodes[i], OFX_VIEW_EVAL);
  ofx_json_raw(&j, "],\"trainOnlyNodes\":");
  ofx_json_int(&j, (long long)train_only);
  ofx_json_raw(&j, "}");
  if (j.failed) {
    ofx_json_free(&j);
    return NULL;
  }
  return j.text;
}

ofx_status ofx_model_load(const uint8_t *bytes, size_t size, ofx_model **out_model) {
  return ofx_model_load_external(bytes, size, NULL, NULL, NULL, 0, out_model);
}

static ofx_status load(const uint8_t *bytes, size_t size, const ofx_external_files *external, ofx_model **out_model);

ofx_status ofx_model_load_external(const uint8_t *bytes, size_t size, const char *const *locations,
                                   const uint8_t *const *files, const size_t *sizes, size_t count,
                                   ofx_model **out_model) {
  ofx_error_clear();
  if (count && (locations == NULL || files == NULL || sizes == NULL))
    return ofx_error(OFX_INVALID_ARGUMENT, "external data tables are NULL");
  for (size_t i = 0; i < count; i++)
    if (locations[i] == NULL || (files[i] == NULL && sizes[i]))
      return ofx_error(OFX_INVALID_ARGUMENT, "external data file %zu has a NULL location or data", i);
  const ofx_external_files external = {count, locations, files, sizes, NULL, NULL};
  return load(bytes, size, &external, out_model);
}

ofx_status ofx_model_load_deferred(const uint8_t *bytes, size_t size, const char *const *locations, const size_t *sizes,
                                   size_t count, ofx_external_reader reader, void *ctx, ofx_model **out_model) {
  ofx_error_clear();
  if (count && (locations == NULL || sizes == NULL || reader == NULL))
    return ofx_error(OFX_INVALID_ARGUMENT, "external data tables or reader are NULL");
  for (size_t i = 0; i < count; i++)
    if (locations[i] == NULL) return ofx_error(OFX_INVALID_ARGUMENT, "external data file %zu has a NULL location", i);
  const ofx_external_files external = {count, locations, NULL, sizes, reader, ctx};
  return load(bytes, size, &external, out_model);
}

static ofx_status load(const uint8_t *bytes, size_t size, const ofx_external_files *external, ofx_model **out_model) {
  if (bytes == NULL && size) return ofx_error(OFX_INVALID_ARGUMENT, "model bytes are NULL");
  if ((uint64_t)size > OFX_MEMORY_LIMIT)
    return ofx_error(OFX_OUT_OF_MEMORY, "the model is %zu bytes, more than the %llu bytes of memory there can be", size,
                     (unsigned long long)OFX_MEMORY_LIMIT);
  ofx_model *model = calloc(1, sizeof *model);
  if (model == NULL) return ofx_error(OFX_OUT_OF_MEMORY, "out of memory loading the model");
  /* build, widen float16 constants (computed in float32), fold constant-only subgraphs (so that
   * computed weights are constants when extractors pack them), then name what is left: folded
   * nodes take no name and no counter */
  ofx_status s = ofx_graph_build_unnamed(bytes, size, external, ofx_op_describe, &model->graph);
  if (s == OFX_OK) s = ofx_pass_widen_float16(model->graph);
  if (s == OFX_OK) s = ofx_pass_fold_constants(model->graph);
  if (s == OFX_OK) s = ofx_graph_name_nodes(model->graph);
  if (s == OFX_OK) {
    model->description = describe(model->graph);
    if (model->description == NULL) s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory describing the model");
  }
  if (s != OFX_OK) {
    ofx_model_free(model);
    return s;
  }
  *out_model = model;
  return OFX_OK;
}

void ofx_model_free(ofx_model *model) {
  if (model == NULL) return;
  ofx_graph_free(model->graph);
  free(model->description);
  free(model->shapes);
  free(model);
}

const char *ofx_model_describe_json(const ofx_model *model) { return model->description; }
