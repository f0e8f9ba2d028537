/* Static output shapes for model.nodes, so a UI can show a tree of scopes with shapes before
 * running anything. The extractor's planner already computes every shape from the input
 * shapes; here it plans twice, with each symbolic input dim set to two different sizes, and an
 * output dim that moves with exactly one symbol is reported by that symbol's name. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/status.h"
#include "runtime/extractor-internal.h"
#include "runtime/runtime.h"

/* Sizes given to symbolic dims: batch-like leading dims and everything else (spatial sizes
 * must be large enough for every kernel window). */
static int64_t substitute(int axis, int pass) {
  if (axis == 0) return pass ? 2 : 1;
  return pass ? 256 : 224;
}

/* Nodes whose op onnxfx has and whose inputs come from such nodes (or inputs, constants). */
static bool *reachable_nodes(const ofx_graph *g) {
  bool *ok = calloc(g->n_nodes + 1, sizeof *ok);
  if (ok == NULL) return NULL;
  for (size_t i = 0; i < g->n_nodes; i++) {
    const ofx_node *n = &g->nodes[i];
    ok[i] = n->proto == NULL || ofx_op_for_node(n) != NULL;
    for (size_t k = 0; k < n->n_inputs && ok[i]; k++) {
      int v = n->inputs[k];
      if (v >= 0 && g->values[v].kind == OFX_VALUE_NODE && g->values[v].producer >= 0 && !ok[g->values[v].producer])
        ok[i] = false;
    }
  }
  return ok;
}

static void write_dims(ofx_json *j, const ofx_tensor *a, const ofx_tensor *b, const ofx_tensor *in1,
                       const ofx_tensor *in2, const ofx_graph *g, const int *input_values, size_t n_inputs) {
  ofx_json_raw(j, "[");
  for (int d = 0; d < a->rank; d++) {
    if (d) ofx_json_raw(j, ",");
    if (a->dims[d] == b->dims[d]) {
      ofx_json_int(j, a->dims[d]);
      continue;
    }
    /* the symbolic input dim this one follows, if exactly one does */
    const char *symbol = NULL;
    int matches = 0;
    for (size_t i = 0; i < n_inputs; i++) {
      const ofx_value *v = &g->values[input_values[i]];
      for (int k = 0; k < v->rank; k++)
        if (v->dims[k] < 0 && in1[i].dims[k] == a->dims[d] && in2[i].dims[k] == b->dims[d]) {
          symbol = v->dim_params[k];
          matches++;
        }
    }
    if (matches == 1 && symbol) ofx_json_string(j, symbol);
    else ofx_json_raw(j, "null");
  }
  ofx_json_raw(j, "]");
}

static ofx_status infer(ofx_model *model, char **out) {
  const ofx_graph *g = model->graph;
  bool *ok = reachable_nodes(g);
  int *values = malloc((g->n_values + 1) * sizeof *values);
  ofx_extractor *fx[2] = {NULL, NULL};
  ofx_tensor *inputs[2] = {NULL, NULL};
  int *input_values = NULL;
  ofx_json j = {0};
  ofx_status s = OFX_OK;
  if (!ok || !values) {
    s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory inferring shapes");
    goto done;
  }
  size_t count = 0;
  for (size_t i = 0; i < g->n_nodes; i++)
    if (ok[i] && g->nodes[i].proto)
      for (size_t k = 0; k < g->nodes[i].n_outputs; k++)
        if (g->nodes[i].outputs[k] >= 0) values[count++] = g->nodes[i].outputs[k];
  ofx_json_raw(&j, "{");
  bool first = true;
  for (int pass = 0; pass < 2 && count; pass++) {
    /* one extractor per pass: a plan keeps only the last shapes */
    if (ofx_extractor_create_for_shapes(model, values, count, &fx[pass]) != OFX_OK) goto finish;
    size_t n_inputs = ofx_extractor_input_count(fx[pass]);
    inputs[pass] = calloc(n_inputs + 1, sizeof *inputs[pass]);
    input_values = input_values ? input_values : calloc(n_inputs + 1, sizeof *input_values);
    if (!inputs[pass] || !input_values) {
      s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory inferring shapes");
      goto done;
    }
    for (size_t i = 0; i < n_inputs; i++) {
      const ofx_value *v = &g->values[input_values[i] = (int)ofx_extractor_input_value(fx[pass], i)];
      if (v->rank < 0 || v->dtype == OFX_DTYPE_UNDEFINED) goto finish; /* nothing to start from */
      ofx_tensor *t = &inputs[pass][i];
      t->dtype = ofx_compute_dtype(v->dtype); /* float16 is computed as float32 */
      t->rank = v->rank;
      for (int d = 0; d < v->rank; d++) t->dims[d] = v->dims[d] >= 0 ? v->dims[d] : substitute(d, pass);
    }
    if (ofx_extractor_plan_shapes(fx[pass], inputs[pass]) != OFX_OK) goto finish;
  }
  for (size_t i = 0; i < count && fx[1]; i++) {
    const ofx_tensor *a = ofx_extractor_value_shape(fx[0], values[i]), *b = ofx_extractor_value_shape(fx[1], values[i]);
    if (a->rank < 0 || a->rank != b->rank) continue;
    if (!first) ofx_json_raw(&j, ",");
    first = false;
    ofx_json_string(&j, g->values[values[i]].name);
    ofx_json_raw(&j, ":");
    write_dims(&j, a, b, inputs[0], inputs[1], g, input_values, ofx_extractor_input_count(fx[1]));
  }
finish:
  /* an op that cannot plan (an unsupported attribute, say) leaves shapes unknown, not an error */
  ofx_error_clear();
  ofx_json_raw(&j, "}");
  if (j.failed) s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory inferring shapes");
done:
  for (int pass = 0; pass < 2; pass++) {
    ofx_extractor_free(fx[pass]);
    free(inputs[pass]);
  }
  free(input_values);
  free(ok);
  free(values);
  if (s != OFX_OK) {
    ofx_json_free(&j);
    return s;
  }
  *out = j.text;
  return OFX_OK;
}

ofx_status ofx_model_infer_shapes(ofx_model *model, const char **out_json) {
  ofx_error_clear();
  if (model->shapes == NULL) OFX_TRY(infer(model, &model->shapes));
  *out_json = model->shapes;
  return OFX_OK;
}
