/* ofx_extractor: the pruned plan for a set of requested nodes, and running it.
 *
 * create: resolve names -> prune -> one op per kept node (init validates and packs weights)
 *         -> the fuse pass.
 * plan:   whenever the input shapes (or the data of inputs read at plan time) change, the
 *         plan-time passes in order: fold, layout, memory (runtime/plan.h says what each does).
 * run:    bind the inputs, then run the steps left, converting layouts where the plan says.
 * This file only orchestrates and runs: what is decided lives in the passes; extractor-inputs.c
 * binds inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/x32-transpose/x32-transpose.h"
#include "kernels/x8-transpose/x8-transpose.h"
#include "ops/op.h"
#include "runtime/extractor-impl.h"
#include "runtime/extractor-internal.h"
#include "runtime/memory-plan.h"
#include "runtime/plan.h"
#include "runtime/runtime.h"
#include "threadpool/threadpool.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
static double now_ms(void) { return emscripten_get_now(); }
#else
#include <time.h>
static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}
#endif

#define oom ofx_plan_oom

void ofx_extractor_free(ofx_extractor *fx) {
  if (fx == NULL) return;
  ofx_plan_free(&fx->plan);
  free(fx->bound);
  for (size_t i = 0; fx->input_f32 && i < fx->plan.n_inputs; i++) free(fx->input_f32[i]);
  free(fx->input_f32);
  free(fx->output_request);
  free(fx->planned_input_shapes);
  free(fx->step_ms);
  free(fx);
}

static struct {
  ofx_progress_fn fn;
  void *ctx;
} create_progress;

void ofx_set_create_progress(ofx_progress_fn fn, void *ctx) {
  create_progress.fn = fn;
  create_progress.ctx = ctx;
}

/* The extractor for output `values` (execution order), output i answering request
 * `requests[i]`: prunes to what the values' producers need, builds one op per kept node and
 * runs the create-time passes. */
static ofx_status extractor_build(ofx_model *model, const int *values, const size_t *requests, size_t count,
                                  unsigned flags, bool shapes_only, ofx_extractor **out) {
  const ofx_graph *g = model->graph;
  ofx_extractor *fx = calloc(1, sizeof *fx);
  if (fx == NULL) return oom("creating an extractor");
  ofx_plan *p = &fx->plan;
  p->graph = g;
  p->shapes_only = shapes_only;
  p->fusion = !shapes_only && !(flags & OFX_EXTRACTOR_NO_FUSION);
  p->float16_weights = (flags & OFX_EXTRACTOR_FLOAT16_WEIGHTS) != 0;
  if (!shapes_only) p->progress = create_progress.fn, p->progress_ctx = create_progress.ctx;
  size_t *producers = malloc(count * sizeof *producers);
  bool *keep = malloc((g->n_nodes + 1) * sizeof *keep);
  p->steps = calloc(g->n_nodes + 1, sizeof *p->steps);
  p->input_nodes = calloc(g->n_inputs + 1, sizeof *p->input_nodes);
  p->inputs = calloc(g->n_inputs + 1, sizeof *p->inputs);
  p->output_value = calloc(count, sizeof *p->output_value);
  p->tensors = calloc(g->n_values + 1, sizeof *p->tensors);
  p->constant_copies = calloc(g->n_values + 1, sizeof *p->constant_copies);
  p->state = calloc(g->n_nodes + 1, sizeof *p->state);
  p->fused_into = malloc((g->n_nodes + 1) * sizeof *p->fused_into);
  p->alias_of = malloc((g->n_values + 1) * sizeof *p->alias_of);
  p->known = calloc(g->n_values + 1, sizeof *p->known);
  p->offsets = calloc(g->n_values + 1, sizeof *p->offsets);
  p->in_place_of = malloc((g->n_nodes + 1) * sizeof *p->in_place_of);
  p->input_known = calloc(g->n_inputs + 1, sizeof *p->input_known);
  fx->bound = calloc(g->n_inputs + 1, sizeof *fx->bound);
  fx->input_f32 = calloc(g->n_inputs + 1, sizeof *fx->input_f32);
  fx->output_request = calloc(count, sizeof *fx->output_request);
  fx->planned_input_shapes = calloc(g->n_inputs + 1, sizeof *fx->planned_input_shapes);
  ofx_status s = OFX_OK;
  if (!producers || !keep || !p->steps || !p->input_nodes || !p->inputs || !p->output_value || !p->tensors ||
      !p->constant_copies || !p->state || !p->fused_into || !p->alias_of || !p->known || !p->offsets || !p->in_place_of ||
      !p->input_known || !fx->bound || !fx->input_f32 || !fx->output_request || !fx->planned_input_shapes) {
    s = oom("creating an extractor");
    goto done;
  }
  for (size_t v = 0; v < g->n_values; v++) p->tensors[v].rank = -1, p->alias_of[v] = -1;
  for (size_t i = 0; i < g->n_nodes; i++) p->fused_into[i] = p->in_place_of[i] = -1;
  p->n_outputs = count;
  for (size_t i = 0; i < count; i++) {
    p->output_value[i] = values[i];
    fx->output_request[i] = requests[i];
    producers[i] = (size_t)g->values[values[i]].producer;
  }
  s = ofx_graph_prune(g, producers, count, keep);
  if (s == OFX_OK) s = ofx_plan_build_steps(p, keep);
  if (s == OFX_OK) {
    size_t widest = 0;
    for (size_t i = 0; i < p->n_steps; i++) {
      const ofx_node *n = p->steps[i].node;
      if (n->n_inputs > widest) widest = n->n_inputs;
      if (n->n_outputs > widest) widest = n->n_outputs;
    }
    p->op_inputs = calloc(widest + 1, sizeof *p->op_inputs);
    p->op_outputs = calloc(widest + 1, sizeof *p->op_outputs);
    if (!p->op_inputs || !p->op_outputs) s = oom("creating an extractor");
  }
    if (s == OFX_OK) s = ofx_pass_fuse(p);
done:
  free(producers);
  free(keep);
  if (s != OFX_OK) {
    ofx_extractor_free(fx);
    return s;
  }
  *out = fx;
  return OFX_OK;
}

ofx_status ofx_extractor_create(ofx_model *model, const char *const *names, size_t count, unsigned flags,
                                ofx_extractor **out) {
  ofx_error_clear();
  if (model == NULL || (names == NULL && count)) return ofx_error(OFX_INVALID_ARGUMENT, "no model or names given");
  if (count == 0) return ofx_error(OFX_INVALID_ARGUMENT, "no nodes were requested");
  const ofx_graph *g = model->graph;
  size_t *nodes = malloc(count * sizeof *nodes), *order = malloc(count * sizeof *order);
  int *values = malloc(count * sizeof *values), *sorted = malloc(count * sizeof *sorted);
  ofx_status s = OFX_OK;
  if (!nodes || !order || !values || !sorted) {
    s = oom("creating an extractor");
    goto done;
  }
  ofx_view view = (flags & OFX_EXTRACTOR_TRAIN) ? OFX_VIEW_TRAIN : OFX_VIEW_EVAL;
  for (size_t i = 0; i < count && s == OFX_OK; i++) {
    size_t output;
    s = ofx_graph_resolve(g, names[i], view, &nodes[i], &output);
    if (s == OFX_OK) values[i] = g->nodes[nodes[i]].outputs[output];
  }
  if (s != OFX_OK) goto done;
  /* outputs in execution order (then output index); one value requested twice is an error,
   * where torchvision would silently drop or move one of the requests */
  for (size_t i = 0; i < count; i++) {
    size_t j = i;
    while (j > 0 && (nodes[order[j - 1]] > nodes[i] || (nodes[order[j - 1]] == nodes[i] && values[order[j - 1]] > values[i]))) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  for (size_t i = 0; i < count; i++) {
    sorted[i] = values[order[i]];
    if (i > 0 && sorted[i - 1] == sorted[i]) {
      size_t a = order[i - 1] < order[i] ? order[i - 1] : order[i], b = order[i - 1] < order[i] ? order[i] : order[i - 1];
      s = ofx_error(OFX_INVALID_ARGUMENT, "requests '%s' and '%s' both resolve to node '%s' (value '%s'); request it once",
                    names[a], names[b], g->nodes[nodes[order[i]]].name, g->values[sorted[i]].name);
      goto done;
    }
  }
  s = extractor_build(model, sorted, order, count, flags, false, out);
done:
  free(nodes);
  free(order);
  free(values);
  free(sorted);
  return s;
}


size_t ofx_extractor_input_count(const ofx_extractor *fx) { return fx->plan.n_inputs; }
size_t ofx_extractor_input_model_index(const ofx_extractor *fx, size_t i) { return fx->plan.input_nodes[i]; }
size_t ofx_extractor_output_count(const ofx_extractor *fx) { return fx->plan.n_outputs; }
size_t ofx_extractor_output_request(const ofx_extractor *fx, size_t i) { return fx->output_request[i]; }
size_t ofx_extractor_planned_node_count(const ofx_extractor *fx) { return fx->plan.n_steps; }

static bool same_shape(const ofx_tensor *a, const ofx_tensor *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

/* The plan-time passes, in order, for the inputs in plan.inputs. */
static ofx_status plan(ofx_extractor *fx) {
  ofx_plan *p = &fx->plan;
  fx->planned = fx->ran = false;
  ofx_plan_reset(p);
  OFX_TRY(ofx_pass_fold(p));
  if (p->shapes_only) return OFX_OK;
  OFX_TRY(ofx_pass_layout(p));
  OFX_TRY(ofx_pass_memory(p));
  for (size_t i = 0; i < p->n_inputs; i++) fx->planned_input_shapes[i] = p->inputs[i];
  fx->planned = true;
  return OFX_OK;
}

/* Plans again unless the bound inputs have the planned shapes and the data the plan read. */
static ofx_status plan_if_needed(ofx_extractor *fx) {
  ofx_plan *p = &fx->plan;
  bool replan = !fx->planned;
  for (size_t i = 0; i < p->n_inputs && !replan; i++) {
    if (!same_shape(&p->inputs[i], &fx->planned_input_shapes[i])) replan = true;
    else if (p->input_known[i] && memcmp(p->inputs[i].data, p->tensors[ofx_plan_input_value(p, i)].data,
                                         ofx_tensor_numel(&p->inputs[i]) * ofx_dtype_size(p->inputs[i].dtype)) != 0)
      replan = true; /* its data shaped the plan */
  }
  return replan ? plan(fx) : OFX_OK;
}

/* Converts one tensor between NCHW and NHWC, image by image. */
static void convert_layout(const ofx_tensor *from, ofx_tensor *to) {
  size_t n = (size_t)from->dims[0], c = (size_t)from->dims[1], hw = (size_t)(from->dims[2] * from->dims[3]);
  if (ofx_dtype_size(from->dtype) == 1) { /* quantized activations */
    const bool to_nhwc = to->layout == OFX_LAYOUT_NHWC;
    for (size_t b = 0; b < n; b++)
      ofx_x8_transpose__scalar(to_nhwc ? c : hw, to_nhwc ? hw : c, (const uint8_t *)from->data + b * c * hw, to_nhwc ? hw : c,
                               (uint8_t *)to->data + b * c * hw, to_nhwc ? c : hw);
    return;
  }
  for (size_t b = 0; b < n; b++) {
    const float *src = (const float *)from->data + b * c * hw;
    float *dst = (float *)to->data + b * c * hw;
    if (to->layout == OFX_LAYOUT_NHWC) ofx_f32_nchw_to_nhwc(c, hw, src, dst);
    else ofx_f32_nhwc_to_nchw(c, hw, src, dst);
  }
}

/* Performs the conversions of step `step` starting at *cursor and points in[] at them. */
static void run_conversions(ofx_plan *p, size_t step, size_t *cursor, ofx_tensor *in) {
  for (; *cursor < p->n_conversions && p->conversions[*cursor].step == step; (*cursor)++) {
    ofx_conversion *c = &p->conversions[*cursor];
    const ofx_tensor *from = &p->tensors[c->source];
    if (c->alias) c->tensor.data = from->data;
    else convert_layout(from, &c->tensor);
    if (in) in[c->slot] = c->tensor;
  }
}

ofx_status ofx_extractor_run(ofx_extractor *fx) {
  ofx_error_clear();
  ofx_plan *p = &fx->plan;
  OFX_TRY(ofx_extractor_check_bound(fx));
  OFX_TRY(plan_if_needed(fx));
  ofx_tensor *in = p->op_inputs, *out = p->op_outputs;
  for (size_t i = 0; i < p->n_inputs; i++)
    if (!p->input_known[i]) p->tensors[ofx_plan_input_value(p, i)].data = p->inputs[i].data;
  ofx_run_context ctx = {ofx_runtime_threadpool(), p->scratch};
  ofx_threadpool_wake(ctx.pool); /* workers asleep since the last run wake while step 0 starts */
  size_t cursor = 0;
  double started = fx->step_ms ? now_ms() : 0;
  for (size_t i = 0; i < p->n_steps; i++) {
    if (!ofx_plan_step_runs(p, i)) continue;
    ofx_op *op = &p->steps[i];
    ofx_plan_gather(p, op, in, out);
    run_conversions(p, i, &cursor, in);
    op->def->run(op, in, out, &ctx);
    if (fx->step_ms) {
      double t = now_ms();
      fx->step_ms[i] += t - started;
      started = t;
    }
  }
  run_conversions(p, p->n_steps, &cursor, NULL);
  if (fx->step_ms) fx->step_ms[p->n_steps] += now_ms() - started;
  /* the caller's input memory is only borrowed for this run */
  for (size_t i = 0; i < p->n_inputs; i++) fx->bound[i] = false;
  fx->ran = true;
  return OFX_OK;
}

ofx_status ofx_extractor_set_profiling(ofx_extractor *fx, int on) {
  free(fx->step_ms);
  fx->step_ms = NULL; /* NULL: not profiled */
  if (on && (fx->step_ms = calloc(fx->plan.n_steps + 1, sizeof *fx->step_ms)) == NULL) return oom("profiling");
  return OFX_OK;
}

size_t ofx_extractor_step_node(const ofx_extractor *fx, size_t i) {
  return i < fx->plan.n_steps ? (size_t)(fx->plan.steps[i].node - fx->plan.graph->nodes) : SIZE_MAX;
}

double ofx_extractor_step_ms(const ofx_extractor *fx, size_t i) {
  return fx->step_ms && i <= fx->plan.n_steps ? fx->step_ms[i] : 0;
}

ofx_status ofx_extractor_output(const ofx_extractor *fx, size_t i, ofx_tensor_view *view) {
  const ofx_plan *p = &fx->plan;
  if (i >= p->n_outputs) return ofx_error(OFX_INVALID_ARGUMENT, "output index %zu is out of range", i);
  const ofx_tensor *t = &p->tensors[p->output_value[i]];
  for (size_t c = 0; c < p->n_conversions; c++)
    if (p->conversions[c].step == p->n_steps && p->conversions[c].slot == i) t = &p->conversions[c].tensor;
  if (!fx->ran || t->rank < 0 || (t->data == NULL && ofx_tensor_numel(t) != 0))
    return ofx_error(OFX_INVALID_ARGUMENT, "output %zu is not available before a successful run", i);
  view->dtype = t->dtype;
  view->rank = (size_t)t->rank;
  memcpy(view->dims, t->dims, sizeof view->dims);
  view->data = t->data;
  view->size = ofx_tensor_numel(t) * ofx_dtype_size(t->dtype);
  return OFX_OK;
}

ofx_status ofx_extractor_to_onnx(const ofx_extractor *fx, const char *const *output_names, uint8_t **out_bytes,
                                 size_t *out_size) {
  ofx_error_clear();
  if (output_names == NULL || out_bytes == NULL || out_size == NULL)
    return ofx_error(OFX_INVALID_ARGUMENT, "no output names or result pointers given");
  return ofx_graph_write_pruned(fx->plan.graph, fx->plan.output_value, output_names, fx->plan.n_outputs, out_bytes, out_size);
}

void ofx_free(void *p) { free(p); }

ofx_status ofx_extractor_explain(ofx_extractor *fx, char **out_text) {
  ofx_error_clear();
  ofx_plan *p = &fx->plan;
  if (out_text == NULL) return ofx_error(OFX_INVALID_ARGUMENT, "no result pointer given");
  bool given = p->n_inputs > 0;
  for (size_t i = 0; i < p->n_inputs; i++) given = given && fx->bound[i];
  ofx_status s = OFX_OK;
  if (given) {
    s = plan_if_needed(fx);
  } else if (!fx->planned) { /* the declared input shapes, which must be static */
    ofx_tensor *declared = calloc(p->n_inputs + 1, sizeof *declared);
    void **zeros = NULL;
    if (declared == NULL) return oom("explaining the plan");
    for (size_t i = 0; i < p->n_inputs && s == OFX_OK; i++) {
      const ofx_value *v = &p->graph->values[ofx_plan_input_value(p, i)];
      declared[i] = (ofx_tensor){ofx_compute_dtype(v->dtype), v->rank, {0}, NULL};
      for (int d = 0; d < v->rank && s == OFX_OK; d++) {
        declared[i].dims[d] = v->dims[d];
        if (v->dims[d] < 0)
          s = ofx_error(OFX_BAD_INPUT, "input '%s' has a symbolic dim (%s): give an input to explain the plan for its shape", v->name,
                        v->dim_params[d] ? v->dim_params[d] : "?");
      }
      if (s == OFX_OK && (v->rank < 0 || v->dtype == OFX_DTYPE_UNDEFINED))
        s = ofx_error(OFX_BAD_INPUT, "input '%s' declares no shape or type: give an input to explain the plan", v->name);
    }
    if (s == OFX_OK) s = ofx_extractor_bind_zeros(fx, declared, &zeros);
    if (s == OFX_OK) s = plan(fx);
    ofx_extractor_free_zeros(fx, zeros);
    free(declared);
  }
  return s == OFX_OK ? ofx_plan_explain(p, out_text) : s;
}

ofx_status ofx_extractor_create_for_values(ofx_model *model, const int *values, size_t count, ofx_extractor **out) {
  ofx_error_clear();
  if (model == NULL || values == NULL || count == 0) return ofx_error(OFX_INVALID_ARGUMENT, "no model or values given");
  const ofx_graph *g = model->graph;
  size_t *requests = malloc(count * sizeof *requests);
  if (requests == NULL) return oom("creating an extractor");
  ofx_status s = OFX_OK;
  for (size_t i = 0; i < count && s == OFX_OK; i++) {
    int v = values[i];
    if (v < 0 || (size_t)v >= g->n_values || g->values[v].producer < 0)
      s = ofx_error(OFX_INVALID_ARGUMENT, "value %d is not produced by a node or a graph input", v);
    requests[i] = i;
  }
  if (s == OFX_OK) s = extractor_build(model, values, requests, count, 0, false, out);
  free(requests);
  return s;
}

ofx_status ofx_extractor_create_for_shapes(ofx_model *model, const int *values, size_t count, ofx_extractor **out) {
  size_t *requests = malloc((count + 1) * sizeof *requests);
  if (requests == NULL) return oom("inferring shapes");
  for (size_t i = 0; i < count; i++) requests[i] = i;
  ofx_status s = extractor_build(model, values, requests, count, 0, true, out);
  free(requests);
  return s;
}

ofx_status ofx_extractor_plan_shapes(ofx_extractor *fx, const ofx_tensor *inputs) {
  void **zeros = NULL;
  ofx_status s = ofx_extractor_bind_zeros(fx, inputs, &zeros); /* the fold pass copies small integer inputs */
  if (s == OFX_OK) s = plan(fx);
  ofx_extractor_free_zeros(fx, zeros);
  return s;
}

size_t ofx_extractor_input_value(const ofx_extractor *fx, size_t i) { return (size_t)ofx_plan_input_value(&fx->plan, i); }

const ofx_tensor *ofx_extractor_value_shape(const ofx_extractor *fx, int value) { return &fx->plan.tensors[value]; }

const ofx_plan *ofx_extractor_plan(const ofx_extractor *fx) { return &fx->plan; }
