/* ofx_extractor: the pruned plan for a set of requested nodes.
 *
 * create: resolve names -> prune -> one op per kept node (init validates and packs weights).
 * run:    when input shapes change, reshape every op and re-plan memory (one arena, lifetimes
 *         from the plan); then bind tensors and run the ops in order.
 *
 * Plan-time evaluation. Exported models compute Reshape targets, Slice bounds, Expand shapes
 * with small subgraphs (Shape -> Gather -> Concat -> Reshape). plan() walks the steps in order
 * and tracks which values have data *known at plan time*:
 *   - constants (packed ones too, when small: build_steps binds them),
 *   - small graph inputs (<= OFX_PLAN_EVAL_MAX elements) of integer type, or read by some
 *     op's reshape (op->plan_inputs, e.g. Resize's scales); their contents join the plan key:
 *     run() re-plans when they change,
 *   - outputs of steps evaluated early: a step whose inputs are all known (or only have their
 *     shape read, op->shape_inputs) and whose outputs are all small is run right after its
 *     reshape, into plan-owned memory, and skipped by run().
 * Each reshape sees in[k].data for known inputs and NULL otherwise, so Reshape & co. read their
 * shape-like inputs there and fail with a clear error when the data is not known. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "runtime/memory-plan.h"
#include "runtime/runtime.h"
#include "threadpool/threadpool.h"
#include "runtime/extractor-internal.h"
#include "kernels/x32-transpose/x32-transpose.h"

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

/* Largest tensor (elements) evaluated or read at plan time. */
#define OFX_PLAN_EVAL_MAX 1024

typedef struct input_binding {
  bool set;
  ofx_tensor tensor;
  size_t size;
} input_binding;

struct ofx_extractor {
  ofx_model *model;
  const ofx_graph *graph;
  size_t n_steps;
  ofx_op *steps;
  uint8_t *input_flags; /* the steps' ofx_op.input_flags, one block */
  size_t n_inputs;
  size_t *input_nodes; /* graph-input pseudo nodes the plan needs */
  input_binding *bindings;
  size_t n_outputs;
  size_t *output_request;
  int *output_value;
  ofx_tensor *tensors; /* per graph value: shape and data during a run */
  void **constant_copies; /* aligned copies of unaligned constants, per value */
  /* plan for the current input shapes */
  bool planned;
  ofx_tensor *planned_input_shapes;
  void *arena;
  size_t arena_size;
  void *scratch;
  size_t scratch_size;
  /* plan-time evaluation (see the top of the file) */
  bool *known;          /* per value: data known at plan time */
  bool *step_done;      /* per step: evaluated by plan(), skipped by run() */
  bool *input_known;    /* per extractor input: its data is part of the plan key */
  void **plan_blocks;   /* plan-owned memory of known values, freed on re-plan */
  size_t n_plan_blocks;
  /* layout conversions of the current plan (see plan_layouts), in step order */
  struct conversion *conversions;
  size_t n_conversions, conversions_capacity;
  /* built to infer shapes only: ops skip weight packing, plan() stops after shapes */
  bool shapes_only;
  /* activations fused into the op before them (fuse_activations): the step is skipped and its
   * output value shares its input's memory */
  bool *fused;    /* per step */
  int *alias_of;  /* per value: the value whose memory it shares, or -1 */
  /* one op's inputs and outputs, gathered for reshape and run; sized for the widest step */
  ofx_tensor *op_inputs, *op_outputs;
  /* per step (+1 for the output conversions): milliseconds while profiling, else NULL */
  double *step_ms;
};

/* A layout conversion: the fast kernels keep activations NHWC, ONNX and NCHW-only ops see
 * NCHW. Converted tensors live in the arena for the one step that reads them; requested
 * outputs stored NHWC get an NCHW copy at the end (step == n_steps). */
typedef struct conversion {
  size_t step;
  size_t slot;       /* the step's input index, or the output index */
  int source;        /* value converted */
  bool alias;        /* C == 1 or H*W == 1: both layouts are the same memory, only relabel */
  ofx_tensor tensor; /* the converted tensor */
  size_t offset;     /* arena offset of a copy */
} conversion;

static void free_plan_blocks(ofx_extractor *fx) {
  for (size_t i = 0; i < fx->n_plan_blocks; i++) free(fx->plan_blocks[i]);
  fx->n_plan_blocks = 0;
}

static ofx_status oom(const char *what) { return ofx_error(OFX_OUT_OF_MEMORY, "out of memory %s", what); }

static void *aligned_block(size_t size) {
  void *p = NULL;
  size = (size + OFX_TENSOR_ALIGNMENT - 1) & ~(size_t)(OFX_TENSOR_ALIGNMENT - 1);
  if (posix_memalign(&p, OFX_TENSOR_ALIGNMENT, size ? size : OFX_TENSOR_ALIGNMENT) != 0) return NULL;
  return p;
}

/* Binds constant value v for run-time reads, copying it when it is not aligned for its type. */
static ofx_status bind_constant(ofx_extractor *fx, int v) {
  const ofx_value *value = &fx->graph->values[v];
  ofx_tensor *t = &fx->tensors[v];
  if (t->rank >= 0 && (t->data || value->nbytes == 0)) return OFX_OK;
  t->dtype = value->dtype;
  t->rank = value->rank;
  memcpy(t->dims, value->dims, sizeof t->dims);
  size_t align = ofx_dtype_size(value->dtype);
  if (value->data == NULL || align == 0 || ((uintptr_t)value->data % align) == 0) {
    t->data = (void *)value->data;
    return OFX_OK;
  }
  void *copy = aligned_block(value->nbytes);
  if (copy == NULL) return oom("copying a constant");
  memcpy(copy, value->data, value->nbytes);
  fx->constant_copies[v] = copy;
  t->data = copy;
  return OFX_OK;
}

static ofx_status build_steps(ofx_extractor *fx, const bool *keep) {
  const ofx_graph *g = fx->graph;
  size_t n_flags = 0;
  for (size_t i = 0; i < g->n_nodes; i++) n_flags += keep[i] ? g->nodes[i].n_inputs : 0;
  if ((fx->input_flags = calloc(n_flags + 1, 1)) == NULL) return oom("creating an extractor");
  n_flags = 0;
  for (size_t i = 0; i < g->n_nodes; i++) {
    if (!keep[i]) continue;
    const ofx_node *node = &g->nodes[i];
    if (node->proto == NULL) {
      fx->input_nodes[fx->n_inputs++] = i;
      continue;
    }
    ofx_op *op = &fx->steps[fx->n_steps];
    op->graph = g;
    op->node = node;
    op->opset = g->opset;
    op->shapes_only = fx->shapes_only;
    op->input_flags = fx->input_flags + n_flags;
    n_flags += node->n_inputs;
    op->def = ofx_op_find(node->domain, node->op_type);
    if (op->def == NULL)
      return ofx_error(OFX_UNSUPPORTED_OP, "node '%s' (ONNX name '%s'): op %s%s%s (opset %lld) is not supported",
                       node->name, node->onnx_name, node->domain[0] ? node->domain : "",
                       node->domain[0] ? "." : "", node->op_type, (long long)g->opset);
    fx->n_steps++; /* counted before init so that destroy sees partially built state */
    OFX_TRY(op->def->init(op));
    for (size_t k = 0; k < node->n_inputs; k++) {
      int v = node->inputs[k];
      /* small packed constants are bound too: plan-time evaluation may read them */
      if (v >= 0 && g->values[v].kind == OFX_VALUE_CONSTANT &&
          (!ofx_op_input_is(op, k, OFX_INPUT_PACKED) || g->values[v].nbytes <= OFX_PLAN_EVAL_MAX * 8))
        OFX_TRY(bind_constant(fx, v));
    }
  }
  return OFX_OK;
}

void ofx_extractor_free(ofx_extractor *fx) {
  if (fx == NULL) return;
  for (size_t i = 0; i < fx->n_steps; i++) {
    ofx_op *op = &fx->steps[i];
    if (op->def && op->def->destroy) op->def->destroy(op);
    else free(op->state);
  }
  if (fx->constant_copies)
    for (size_t v = 0; v < fx->graph->n_values; v++) free(fx->constant_copies[v]);
  free(fx->constant_copies);
  free(fx->steps);
  free(fx->input_flags);
  free(fx->input_nodes);
  free(fx->bindings);
  free(fx->output_request);
  free(fx->output_value);
  free(fx->tensors);
  free(fx->planned_input_shapes);
  free(fx->arena);
  free(fx->scratch);
  free_plan_blocks(fx);
  free(fx->plan_blocks);
  free(fx->known);
  free(fx->conversions);
  free(fx->fused);
  free(fx->alias_of);
  free(fx->op_inputs);
  free(fx->op_outputs);
  free(fx->step_ms);
  free(fx->step_done);
  free(fx->input_known);
  free(fx);
}

/* An input whose declared static shape cannot fit in memory can never be fed: say so now,
 * naming it, rather than at the first run. */
static ofx_status check_declared_inputs(const ofx_extractor *fx) {
  for (size_t i = 0; i < fx->n_inputs; i++) {
    const ofx_value *v = &fx->graph->values[fx->graph->nodes[fx->input_nodes[i]].outputs[0]];
    if (v->rank < 0) continue;
    long double bytes = (long double)ofx_dtype_size(v->dtype);
    bool known = true;
    for (int d = 0; d < v->rank; d++) {
      if (v->dims[d] < 0) known = false;
      else bytes *= (long double)v->dims[d];
    }
    if (!known || bytes <= (long double)OFX_MEMORY_LIMIT) continue;
    char shape[96];
    return ofx_error(OFX_OUT_OF_MEMORY, "input '%s' is declared as %s %s, %.0Lf bytes, more than the %llu bytes of memory there can be",
                     v->name, onnx_dtype_name((int32_t)v->dtype), ofx_shape_str(v->dims, v->rank, shape, sizeof shape), bytes,
                     (unsigned long long)OFX_MEMORY_LIMIT);
  }
  return OFX_OK;
}

/* The Mul step reading only `v` and `sig` (a gate of v), in either order: SiLU and HardSwish as
 * exported (efficientnet's Conv -> Sigmoid -> Mul, mobilenet_v3's Conv -> HardSigmoid -> Mul).
 * -1 when `reader` is not that. */
static int swish_mul(const ofx_extractor *fx, int reader, int v, int sig) {
  if (reader < 0) return -1;
  const ofx_node *n = fx->steps[reader].node;
  if (strcmp(fx->steps[reader].def->op_type, "Mul") != 0 || n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0)
    return -1;
  bool pair = (n->inputs[0] == v && n->inputs[1] == sig) || (n->inputs[0] == sig && n->inputs[1] == v);
  return pair ? reader : -1;
}

/* Folds activations into the op before them (Conv: a clamp in its kernels, SiLU, HardSwish or
 * Sigmoid on each output tile) when the values in between feed nothing else and were not
 * requested: Relu/Clip/HardSwish/Sigmoid(v), and gate(v) -> Mul(v, gate) with gate Sigmoid
 * (SiLU) or HardSigmoid (HardSwish). The folded steps are skipped and their outputs alias the
 * op's. An activation after a folded one folds into the same op when the op can chain them
 * (Conv -> Clip -> HardSwish). */
static ofx_status fuse_activations(ofx_extractor *fx) {
  const ofx_graph *g = fx->graph;
  fx->fused = calloc(fx->n_steps + 1, sizeof *fx->fused);
  fx->alias_of = malloc((g->n_values + 1) * sizeof *fx->alias_of);
  int *step_of_node = malloc((g->n_nodes + 1) * sizeof *step_of_node);
  int *readers = calloc(g->n_values + 1, sizeof *readers);
  int *reader = malloc((g->n_values + 1) * sizeof *reader); /* the last step reading each value */
  if (!fx->fused || !fx->alias_of || !step_of_node || !readers || !reader) {
    free(step_of_node);
    free(readers);
    free(reader);
    return oom("creating an extractor");
  }
  for (size_t v = 0; v < g->n_values; v++) fx->alias_of[v] = reader[v] = -1;
  for (size_t n = 0; n < g->n_nodes; n++) step_of_node[n] = -1;
  for (size_t i = 0; i < fx->n_steps; i++) {
    const ofx_node *n = fx->steps[i].node;
    step_of_node[n - g->nodes] = (int)i;
    for (size_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) readers[n->inputs[k]]++, reader[n->inputs[k]] = (int)i;
    for (size_t k = 0; k < n->n_implicit_inputs; k++) readers[n->implicit_inputs[k]]++;
  }
  for (size_t o = 0; o < fx->n_outputs; o++) readers[fx->output_value[o]]++; /* requested: keep */
  for (size_t j = 0; j < fx->n_steps; j++) {
    ofx_op *act = &fx->steps[j];
    ofx_activation a;
    if (!act->def->activation || act->node->n_inputs < 1 || act->node->n_outputs != 1 || act->node->outputs[0] < 0) continue;
    int v = act->node->inputs[0], out = act->node->outputs[0];
    if (v < 0 || g->values[v].kind != OFX_VALUE_NODE || g->values[v].producer < 0) continue;
    int source = fx->alias_of[v] >= 0 ? fx->alias_of[v] : v; /* after an activation already folded */
    int i = step_of_node[g->values[source].producer];
    if (i < 0 || fx->fused[i] || !fx->steps[i].def->fuse_activation || fx->steps[i].node->n_outputs != 1) continue;
    if (!act->def->activation(act, &a)) continue;
    int mul = -1;
    bool gate = a.kind == OFX_ACTIVATION_SIGMOID || a.kind == OFX_ACTIVATION_HARDSIGMOID;
    if (gate && readers[v] == 2 && readers[out] == 1 && (mul = swish_mul(fx, reader[out], v, out)) >= 0)
      a.kind = a.kind == OFX_ACTIVATION_SIGMOID ? OFX_ACTIVATION_SWISH : OFX_ACTIVATION_HARDSWISH;
    else if (readers[v] != 1)
      continue;
    if (!fx->steps[i].def->fuse_activation(&fx->steps[i], &a)) continue;
    fx->fused[j] = true;
    fx->alias_of[out] = source;
    if (mul >= 0) {
      fx->fused[mul] = true;
      fx->alias_of[fx->steps[mul].node->outputs[0]] = source;
    }
  }
  free(step_of_node);
  free(readers);
  free(reader);
  return OFX_OK;
}

/* The extractor for output `values` (execution order), output i answering request
 * `requests[i]`: prunes to what the values' producers need and builds one op per kept node. */
static ofx_status extractor_build(ofx_model *model, const int *values, const size_t *requests, size_t count,
                                  bool shapes_only, ofx_extractor **out) {
  const ofx_graph *g = model->graph;
  ofx_extractor *fx = calloc(1, sizeof *fx);
  if (fx == NULL) return oom("creating an extractor");
  fx->shapes_only = shapes_only;
  fx->model = model;
  fx->graph = g;
  size_t *producers = malloc(count * sizeof *producers);
  bool *keep = malloc((g->n_nodes + 1) * sizeof *keep);
  fx->steps = calloc(g->n_nodes + 1, sizeof *fx->steps);
  fx->input_nodes = calloc(g->n_inputs + 1, sizeof *fx->input_nodes);
  fx->output_request = calloc(count, sizeof *fx->output_request);
  fx->output_value = calloc(count, sizeof *fx->output_value);
  fx->tensors = calloc(g->n_values + 1, sizeof *fx->tensors);
  fx->constant_copies = calloc(g->n_values + 1, sizeof *fx->constant_copies);
  fx->bindings = calloc(g->n_inputs + 1, sizeof *fx->bindings);
  fx->planned_input_shapes = calloc(g->n_inputs + 1, sizeof *fx->planned_input_shapes);
  ofx_status s = OFX_OK;
  if (!producers || !keep || !fx->steps || !fx->input_nodes || !fx->output_request || !fx->output_value ||
      !fx->tensors || !fx->constant_copies || !fx->bindings || !fx->planned_input_shapes) {
    s = oom("creating an extractor");
    goto done;
  }
  for (size_t v = 0; v < g->n_values; v++) fx->tensors[v].rank = -1;
  fx->n_outputs = count;
  for (size_t i = 0; i < count; i++) {
    fx->output_value[i] = values[i];
    fx->output_request[i] = requests[i];
    producers[i] = (size_t)g->values[values[i]].producer;
  }
  s = ofx_graph_prune(g, producers, count, keep);
  if (s == OFX_OK) s = build_steps(fx, keep);
  if (s == OFX_OK) {
    size_t widest = 0;
    for (size_t i = 0; i < fx->n_steps; i++) {
      const ofx_node *n = fx->steps[i].node;
      if (n->n_inputs > widest) widest = n->n_inputs;
      if (n->n_outputs > widest) widest = n->n_outputs;
    }
    fx->op_inputs = calloc(widest + 1, sizeof *fx->op_inputs);
    fx->op_outputs = calloc(widest + 1, sizeof *fx->op_outputs);
    if (!fx->op_inputs || !fx->op_outputs) s = oom("creating an extractor");
  }
  if (s == OFX_OK) s = check_declared_inputs(fx);
  if (s == OFX_OK && !shapes_only) s = fuse_activations(fx);
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

ofx_status ofx_extractor_create(ofx_model *model, const char *const *names, size_t count, int train,
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
  ofx_view view = train ? OFX_VIEW_TRAIN : OFX_VIEW_EVAL;
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
  s = extractor_build(model, sorted, order, count, false, out);
done:
  free(nodes);
  free(order);
  free(values);
  free(sorted);
  return s;
}

size_t ofx_extractor_input_count(const ofx_extractor *fx) { return fx->n_inputs; }
size_t ofx_extractor_input_model_index(const ofx_extractor *fx, size_t i) { return fx->input_nodes[i]; }
size_t ofx_extractor_output_count(const ofx_extractor *fx) { return fx->n_outputs; }
size_t ofx_extractor_output_request(const ofx_extractor *fx, size_t i) { return fx->output_request[i]; }
size_t ofx_extractor_planned_node_count(const ofx_extractor *fx) { return fx->n_steps; }

static int input_value(const ofx_extractor *fx, size_t i) {
  return fx->graph->nodes[fx->input_nodes[i]].outputs[0];
}

ofx_status ofx_extractor_set_input(ofx_extractor *fx, size_t i, ofx_dtype dtype, const int64_t *dims,
                                   size_t rank, const void *data, size_t size) {
  ofx_error_clear();
  if (i >= fx->n_inputs) return ofx_error(OFX_INVALID_ARGUMENT, "input index %zu is out of range", i);
  const ofx_value *declared = &fx->graph->values[input_value(fx, i)];
  char got[128], want[128];
  if (rank > OFX_MAX_RANK)
    return ofx_error(OFX_BAD_INPUT, "input '%s' has rank %zu, at most %d is supported", declared->name, rank, OFX_MAX_RANK);
  ofx_tensor t = {dtype, (int)rank, {0}, (void *)data};
  for (size_t d = 0; d < rank; d++) {
    if (dims[d] < 0) return ofx_error(OFX_BAD_INPUT, "input '%s' has a negative dim", declared->name);
    t.dims[d] = dims[d];
  }
  bool shape_ok = declared->rank < 0 || declared->rank == (int)rank;
  for (int d = 0; shape_ok && declared->rank >= 0 && d < declared->rank; d++)
    if (declared->dims[d] >= 0 && declared->dims[d] != dims[d]) shape_ok = false;
  bool type_ok = declared->dtype == OFX_DTYPE_UNDEFINED || declared->dtype == dtype;
  if (!shape_ok || !type_ok) {
    /* expected shape with symbolic dims by name */
    size_t k = (size_t)snprintf(want, sizeof want, "%s [", onnx_dtype_name((int32_t)declared->dtype));
    for (int d = 0; d < declared->rank && k < sizeof want; d++) {
      const char *sep = d ? ", " : "";
      if (declared->dims[d] >= 0) k += (size_t)snprintf(want + k, sizeof want - k, "%s%lld", sep, (long long)declared->dims[d]);
      else k += (size_t)snprintf(want + k, sizeof want - k, "%s%s", sep, declared->dim_params[d] ? declared->dim_params[d] : "?");
    }
    if (k < sizeof want) snprintf(want + k, sizeof want - k, "]");
    char shape[96];
    snprintf(got, sizeof got, "%s %s", onnx_dtype_name((int32_t)dtype), ofx_shape_str(t.dims, t.rank, shape, sizeof shape));
    return ofx_error(OFX_BAD_INPUT, "input '%s': expected %s, got %s", declared->name, want, got);
  }
  size_t numel, esize = ofx_dtype_size(dtype);
  if (esize == 0) return ofx_error(OFX_BAD_INPUT, "input '%s': type %s is not supported", declared->name, onnx_dtype_name((int32_t)dtype));
  if (!ofx_shape_numel(t.dims, t.rank, &numel) || numel * esize != size)
    return ofx_error(OFX_BAD_INPUT, "input '%s': %zu bytes of data do not match its shape %s", declared->name, size,
                     ofx_shape_str(t.dims, t.rank, got, sizeof got));
  fx->bindings[i] = (input_binding){true, t, size};
  return OFX_OK;
}

static bool same_shape(const ofx_tensor *a, const ofx_tensor *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

/* Gathers op inputs/outputs from the value tensors. */
static void gather(const ofx_extractor *fx, const ofx_op *op, ofx_tensor *in, ofx_tensor *out) {
  const ofx_node *node = op->node;
  for (size_t k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    if (v >= 0) {
      in[k] = fx->tensors[v];
      if (in[k].rank < 0 && fx->graph->values[v].kind == OFX_VALUE_CONSTANT) {
        /* packed constant: shape only, for reshape */
        const ofx_value *c = &fx->graph->values[v];
        in[k].dtype = c->dtype;
        in[k].rank = c->rank;
        memcpy(in[k].dims, c->dims, sizeof in[k].dims);
        in[k].data = NULL;
      }
    } else {
      in[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
    }
  }
  for (size_t k = 0; k < node->n_outputs; k++) {
    int v = node->outputs[k];
    out[k] = v >= 0 ? fx->tensors[v] : (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
  }
}

static ofx_status plan_alloc(ofx_extractor *fx, size_t bytes, void **out) {
  void **blocks = realloc(fx->plan_blocks, (fx->n_plan_blocks + 1) * sizeof *blocks);
  if (blocks == NULL) return oom("planning");
  fx->plan_blocks = blocks;
  *out = aligned_block(bytes);
  if (*out == NULL) return oom("planning");
  fx->plan_blocks[fx->n_plan_blocks++] = *out;
  return OFX_OK;
}

/* Resets what is known at plan time: constants, and the small graph inputs whose contents
 * become part of the plan key (copied: the caller's memory is only borrowed for a run). */
static ofx_status plan_known_inputs(ofx_extractor *fx) {
  const ofx_graph *g = fx->graph;
  free_plan_blocks(fx);
  if (fx->known == NULL) {
    fx->known = calloc(g->n_values + 1, sizeof *fx->known);
    fx->step_done = calloc(fx->n_steps + 1, sizeof *fx->step_done);
    fx->input_known = calloc(fx->n_inputs + 1, sizeof *fx->input_known);
    if (!fx->known || !fx->step_done || !fx->input_known) return oom("planning");
  }
  for (size_t v = 0; v < g->n_values; v++)
    fx->known[v] = g->values[v].kind == OFX_VALUE_CONSTANT && fx->tensors[v].rank >= 0 &&
                   (fx->tensors[v].data != NULL || g->values[v].nbytes == 0);
  memset(fx->step_done, 0, fx->n_steps * sizeof *fx->step_done);
  for (size_t i = 0; i < fx->n_inputs; i++) {
    int v = input_value(fx, i);
    const ofx_tensor *t = &fx->bindings[i].tensor;
    bool read_by_reshape = false;
    for (size_t j = 0; j < fx->n_steps && !read_by_reshape; j++)
      for (size_t k = 0; k < fx->steps[j].node->n_inputs; k++)
        if (fx->steps[j].node->inputs[k] == v && ofx_op_input_is(&fx->steps[j], k, OFX_INPUT_PLAN)) read_by_reshape = true;
    bool integer = t->dtype == OFX_DTYPE_INT64 || t->dtype == OFX_DTYPE_INT32;
    fx->input_known[i] = ofx_tensor_numel(t) <= OFX_PLAN_EVAL_MAX && (integer || read_by_reshape);
    fx->tensors[v] = *t;
    fx->tensors[v].data = NULL;
    fx->known[v] = fx->input_known[i];
    if (fx->input_known[i]) {
      OFX_TRY(plan_alloc(fx, fx->bindings[i].size, &fx->tensors[v].data));
      if (fx->bindings[i].size) memcpy(fx->tensors[v].data, t->data, fx->bindings[i].size);
    }
  }
  return OFX_OK;
}

/* Runs step i now, into plan-owned memory; its outputs become known data. */
static ofx_status plan_evaluate(ofx_extractor *fx, ofx_op *op, ofx_tensor *in, ofx_tensor *out, size_t i) {
  if (fx->fused && fx->fused[i]) { /* its producer applied it already: share the producer's data */
    for (size_t k = 0; k < op->node->n_outputs; k++) {
      int v = op->node->outputs[k];
      if (v < 0) continue;
      fx->tensors[v].data = fx->tensors[fx->alias_of[v]].data;
      fx->known[v] = true;
    }
    fx->step_done[i] = true;
    return OFX_OK;
  }
  for (size_t k = 0; k < op->node->n_outputs; k++) {
    int v = op->node->outputs[k];
    if (v < 0) continue;
    OFX_TRY(plan_alloc(fx, ofx_tensor_numel(&out[k]) * ofx_dtype_size(out[k].dtype), &out[k].data));
    fx->tensors[v].data = out[k].data;
  }
  void *scratch = NULL;
  if (op->scratch_bytes && (scratch = aligned_block(op->scratch_bytes)) == NULL) return oom("planning");
  ofx_run_context ctx = {NULL, scratch};
  op->def->run(op, in, out, &ctx);
  free(scratch);
  for (size_t k = 0; k < op->node->n_outputs; k++)
    if (op->node->outputs[k] >= 0) fx->known[op->node->outputs[k]] = true;
  fx->step_done[i] = true;
  return OFX_OK;
}

/* Whether a tensor's NCHW and NHWC memory orders coincide once aligned to rank 4. */
static bool layout_neutral(const ofx_tensor *t) {
  int64_t d[4] = {1, 1, 1, 1};
  for (int i = 0; i < t->rank && i < 4; i++) d[4 - t->rank + i] = t->dims[i];
  return t->rank <= 4 && (d[1] == 1 || d[2] * d[3] == 1);
}

static ofx_status add_conversion(ofx_extractor *fx, size_t step, size_t slot, int source, const ofx_tensor *from,
                                 ofx_layout to) {
  if (fx->n_conversions == fx->conversions_capacity) {
    size_t capacity = fx->conversions_capacity ? fx->conversions_capacity * 2 : 16;
    conversion *grown = realloc(fx->conversions, capacity * sizeof *grown);
    if (grown == NULL) return oom("planning");
    fx->conversions = grown;
    fx->conversions_capacity = capacity;
  }
  conversion *c = &fx->conversions[fx->n_conversions++];
  c->step = step;
  c->slot = slot;
  c->source = source;
  c->alias = layout_neutral(from);
  c->tensor = *from;
  c->tensor.layout = to;
  c->tensor.data = NULL;
  c->offset = 0;
  return OFX_OK;
}

/* Decides step i's input layouts: converts rank-4 float inputs to what the op wants and
 * updates in[] to the converted tensors. Elementwise ops (OFX_OP_ANY_LAYOUT) run NHWC when an
 * input already is and every other operand is NHWC or layout-neutral. */
static ofx_status plan_layouts(ofx_extractor *fx, const ofx_op *op, size_t i, ofx_tensor *in) {
  const ofx_node *node = op->node;
  ofx_layout any_target = OFX_LAYOUT_NCHW;
  if (op->def->input_layout == OFX_OP_ANY_LAYOUT) {
    bool some_nhwc = false, all_fit = true;
    for (size_t k = 0; k < node->n_inputs; k++) {
      if (in[k].rank < 0) continue;
      if (in[k].rank == 4 && in[k].layout == OFX_LAYOUT_NHWC) some_nhwc = true;
      else if (in[k].rank > 4 || (in[k].rank < 4 && !layout_neutral(&in[k]))) all_fit = false;
    }
    if (some_nhwc && all_fit) any_target = OFX_LAYOUT_NHWC;
  }
  for (size_t k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    if (v < 0 || in[k].rank != 4 || ofx_op_input_is(op, k, OFX_INPUT_PACKED) || ofx_dtype_size(in[k].dtype) != 4) continue;
    ofx_layout target = OFX_LAYOUT_NCHW;
    if (op->def->input_layout == OFX_OP_WANTS_NHWC && k == 0) target = OFX_LAYOUT_NHWC;
    if (op->def->input_layout == OFX_OP_ANY_LAYOUT) target = any_target;
    if (in[k].layout == target) continue;
    OFX_TRY(add_conversion(fx, i, k, v, &in[k], target));
    in[k] = fx->conversions[fx->n_conversions - 1].tensor;
  }
  return OFX_OK;
}

/* Converts one tensor between NCHW and NHWC, image by image. */
static void convert_layout(const ofx_tensor *from, ofx_tensor *to) {
  size_t n = (size_t)from->dims[0], c = (size_t)from->dims[1], hw = (size_t)(from->dims[2] * from->dims[3]);
  for (size_t b = 0; b < n; b++) {
    const float *src = (const float *)from->data + b * c * hw;
    float *dst = (float *)to->data + b * c * hw;
    if (to->layout == OFX_LAYOUT_NHWC) ofx_f32_nchw_to_nhwc(c, hw, src, dst);
    else ofx_f32_nhwc_to_nchw(c, hw, src, dst);
  }
}

/* Performs the conversions of step `step` starting at *cursor and points in[] at them. */
static void run_conversions(ofx_extractor *fx, size_t step, size_t *cursor, ofx_tensor *in) {
  for (; *cursor < fx->n_conversions && fx->conversions[*cursor].step == step; (*cursor)++) {
    conversion *c = &fx->conversions[*cursor];
    const ofx_tensor *from = &fx->tensors[c->source];
    if (c->alias) c->tensor.data = from->data;
    else convert_layout(from, &c->tensor);
    if (in) in[c->slot] = c->tensor;
  }
}

static ofx_status plan(ofx_extractor *fx) {
  const ofx_graph *g = fx->graph;
  fx->planned = false;
  ofx_tensor *in = fx->op_inputs, *out = fx->op_outputs;
  size_t *offsets = calloc(g->n_values + 1, sizeof *offsets);
  int *last_use = malloc((g->n_values + 1) * sizeof *last_use);
  ofx_memory_plan mp = {0};
  ofx_status s = OFX_OK;
  if (!offsets || !last_use) {
    s = oom("planning");
    goto done;
  }
  s = plan_known_inputs(fx);
  if (s != OFX_OK) goto done;
  fx->n_conversions = 0;
  /* shapes, evaluating early what only depends on known data */
  size_t scratch = 0;
  for (size_t i = 0; i < fx->n_steps && s == OFX_OK; i++) {
    ofx_op *op = &fx->steps[i];
    gather(fx, op, in, out);
    bool evaluable = true;
    for (size_t k = 0; k < op->node->n_inputs; k++) {
      int v = op->node->inputs[k];
      if (v < 0) continue;
      if (!fx->known[v]) in[k].data = NULL;
      if (!fx->known[v] && !ofx_op_input_is(op, k, OFX_INPUT_SHAPE_ONLY | OFX_INPUT_PACKED)) evaluable = false;
    }
    if (!evaluable && !(fx->fused && fx->fused[i])) s = plan_layouts(fx, op, i, in);
    if (s != OFX_OK) break;
    for (size_t k = 0; k < op->node->n_outputs; k++) out[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
    op->scratch_bytes = 0;
    s = op->def->reshape(op, in, out);
    if (s == OFX_OK && ((uint64_t)op->scratch_bytes > OFX_MEMORY_LIMIT || op->scratch_bytes > SIZE_MAX - OFX_TENSOR_ALIGNMENT))
      s = ofx_op_error(op, OFX_OUT_OF_MEMORY, "needs %zu bytes of scratch, more than the %llu-byte limit", op->scratch_bytes,
                       (unsigned long long)OFX_MEMORY_LIMIT);
    if (s != OFX_OK) break;
    for (size_t k = 0; k < op->node->n_outputs && s == OFX_OK; k++) {
      int v = op->node->outputs[k];
      if (v < 0) continue;
      size_t numel;
      if (!ofx_shape_numel(out[k].dims, out[k].rank, &numel) || ofx_dtype_size(out[k].dtype) == 0 ||
          numel > SIZE_MAX / 16 / ofx_dtype_size(out[k].dtype)) {
        char shape[96];
        s = ofx_op_error(op, OFX_OUT_OF_MEMORY, "output %zu would have shape %s, which is too large", k,
                         ofx_shape_str(out[k].dims, out[k].rank, shape, sizeof shape));
        break;
      }
      fx->tensors[v] = out[k];
      fx->tensors[v].data = NULL;
      if (numel > OFX_PLAN_EVAL_MAX) evaluable = false;
    }
    if (s != OFX_OK) break;
    if (evaluable) s = plan_evaluate(fx, op, in, out, i);
    else if (op->scratch_bytes > scratch) scratch = op->scratch_bytes;
  }
  if (s != OFX_OK || fx->shapes_only) goto done;
  for (size_t o = 0; o < fx->n_outputs && s == OFX_OK; o++) {
    const ofx_tensor *t = &fx->tensors[fx->output_value[o]];
    if (t->rank == 4 && t->layout == OFX_LAYOUT_NHWC)
      s = add_conversion(fx, fx->n_steps, o, fx->output_value[o], t, OFX_LAYOUT_NCHW);
  }
  if (s != OFX_OK) goto done;
  /* lifetimes: requested outputs live to the end */
  for (size_t v = 0; v < g->n_values; v++) last_use[v] = -1;
  for (size_t i = 0; i < fx->n_steps; i++)
    for (size_t k = 0; k < fx->steps[i].node->n_inputs; k++)
      if (fx->steps[i].node->inputs[k] >= 0) last_use[fx->steps[i].node->inputs[k]] = (int)i;
  for (size_t o = 0; o < fx->n_outputs; o++) last_use[fx->output_value[o]] = INT32_MAX;
  if (fx->alias_of) /* an alias' readers keep the memory it shares alive */
    for (size_t v = 0; v < g->n_values; v++)
      if (fx->alias_of[v] >= 0 && last_use[v] > last_use[fx->alias_of[v]]) last_use[fx->alias_of[v]] = last_use[v];
  size_t cursor = 0;
  for (size_t i = 0; i < fx->n_steps; i++) {
    const ofx_node *n = fx->steps[i].node;
    size_t first_conversion = cursor;
    for (; cursor < fx->n_conversions && fx->conversions[cursor].step == i; cursor++) {
      conversion *c = &fx->conversions[cursor];
      if (!c->alias && !ofx_memory_plan_alloc(&mp, ofx_tensor_numel(&c->tensor) * sizeof(float), &c->offset)) {
        s = oom("planning");
        goto done;
      }
    }
    for (size_t k = 0; k < n->n_outputs; k++) {
      int v = n->outputs[k];
      if (v < 0 || fx->known[v] || (fx->alias_of && fx->alias_of[v] >= 0)) continue; /* aliases share */
      const ofx_tensor *t = &fx->tensors[v];
      size_t bytes = ofx_tensor_numel(t) * ofx_dtype_size(t->dtype);
      if (!ofx_memory_plan_alloc(&mp, bytes, &offsets[v])) {
        char shape[96];
        s = ofx_op_error(&fx->steps[i], OFX_OUT_OF_MEMORY,
                         "output '%s' (%s %s, %zu bytes) does not fit: the tensor arena would exceed %llu bytes",
                         g->values[v].name, onnx_dtype_name((int32_t)t->dtype), ofx_shape_str(t->dims, t->rank, shape, sizeof shape),
                         bytes, (unsigned long long)OFX_MEMORY_LIMIT);
        goto done;
      }
    }
    /* release what dies here: inputs last used by this step, outputs nobody reads */
    for (size_t pass = 0; pass < 2; pass++) {
      size_t count = pass ? n->n_outputs : n->n_inputs;
      const int *values = pass ? n->outputs : n->inputs;
      for (size_t k = 0; k < count; k++) {
        int v = values[k];
        if (v >= 0 && fx->alias_of && fx->alias_of[v] >= 0) v = fx->alias_of[v]; /* its memory is the source's */
        if (v < 0 || fx->known[v] || g->values[v].kind != OFX_VALUE_NODE || g->values[v].producer < 0) continue;
        if (g->nodes[g->values[v].producer].proto == NULL) continue;
        if (last_use[v] > (int)i) continue;
        last_use[v] = INT32_MAX - 1; /* release once, even if listed twice */
        const ofx_tensor *t = &fx->tensors[v];
        if (!ofx_memory_plan_release(&mp, offsets[v], ofx_tensor_numel(t) * ofx_dtype_size(t->dtype))) {
          s = oom("planning");
          goto done;
        }
      }
    }
    for (size_t c = first_conversion; c < cursor; c++) {
      const conversion *conv = &fx->conversions[c];
      if (!conv->alias && !ofx_memory_plan_release(&mp, conv->offset, ofx_tensor_numel(&conv->tensor) * sizeof(float))) {
        s = oom("planning");
        goto done;
      }
    }
  }
  for (; cursor < fx->n_conversions; cursor++) { /* NCHW copies of requested outputs: kept */
    conversion *c = &fx->conversions[cursor];
    if (!c->alias && !ofx_memory_plan_alloc(&mp, ofx_tensor_numel(&c->tensor) * sizeof(float), &c->offset)) {
      s = oom("planning");
      goto done;
    }
  }
  if ((uint64_t)scratch > OFX_MEMORY_LIMIT - mp.total) {
    s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory: %zu bytes of scratch and a %zu-byte tensor arena exceed %llu bytes",
                  scratch, mp.total, (unsigned long long)OFX_MEMORY_LIMIT);
    goto done;
  }
  if (mp.total > fx->arena_size) {
    free(fx->arena);
    fx->arena_size = 0;
    fx->arena = aligned_block(mp.total);
    if (fx->arena == NULL) {
      s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory: the plan needs a %zu-byte tensor arena", mp.total);
      goto done;
    }
    fx->arena_size = mp.total;
  }
  if (scratch > fx->scratch_size) {
    free(fx->scratch);
    fx->scratch_size = 0;
    fx->scratch = aligned_block(scratch);
    if (fx->scratch == NULL) {
      s = ofx_error(OFX_OUT_OF_MEMORY, "out of memory: %zu bytes of scratch", scratch);
      goto done;
    }
    fx->scratch_size = scratch;
  }
  for (size_t i = 0; i < fx->n_steps; i++) {
    const ofx_node *n = fx->steps[i].node;
    for (size_t k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0 && !fx->known[n->outputs[k]])
        fx->tensors[n->outputs[k]].data = fx->alias_of && fx->alias_of[n->outputs[k]] >= 0
                                              ? fx->tensors[fx->alias_of[n->outputs[k]]].data
                                              : (char *)fx->arena + offsets[n->outputs[k]];
  }
  for (size_t c = 0; c < fx->n_conversions; c++)
    if (!fx->conversions[c].alias) fx->conversions[c].tensor.data = (char *)fx->arena + fx->conversions[c].offset;
  for (size_t i = 0; i < fx->n_inputs; i++) fx->planned_input_shapes[i] = fx->bindings[i].tensor;
  fx->planned = true;
done:
  free(offsets);
  free(last_use);
  ofx_memory_plan_free(&mp);
  return s;
}

ofx_status ofx_extractor_run(ofx_extractor *fx) {
  ofx_error_clear();
  bool replan = !fx->planned;
  for (size_t i = 0; i < fx->n_inputs; i++) {
    if (!fx->bindings[i].set)
      return ofx_error(OFX_BAD_INPUT, "input '%s' was not given", fx->graph->values[input_value(fx, i)].name);
    if (!same_shape(&fx->bindings[i].tensor, &fx->planned_input_shapes[i])) replan = true;
    else if (fx->planned && fx->input_known[i] &&
             memcmp(fx->bindings[i].tensor.data, fx->tensors[input_value(fx, i)].data, fx->bindings[i].size) != 0)
      replan = true; /* its data shaped the plan */
  }
  if (replan) OFX_TRY(plan(fx));
  for (size_t i = 0; i < fx->n_inputs; i++)
    if (!fx->input_known[i]) fx->tensors[input_value(fx, i)].data = fx->bindings[i].tensor.data;
  ofx_tensor *in = fx->op_inputs, *out = fx->op_outputs;
  ofx_run_context ctx = {ofx_runtime_threadpool(), fx->scratch};
  ofx_threadpool_wake(ctx.pool); /* workers asleep since the last run wake while step 0 starts */
  size_t cursor = 0;
  double started = fx->step_ms ? now_ms() : 0;
  for (size_t i = 0; i < fx->n_steps; i++) {
    ofx_op *op = &fx->steps[i];
    if (fx->step_done[i] || (fx->fused && fx->fused[i])) continue;
    gather(fx, op, in, out);
    run_conversions(fx, i, &cursor, in);
    op->def->run(op, in, out, &ctx);
    if (fx->step_ms) {
      double t = now_ms();
      fx->step_ms[i] += t - started;
      started = t;
    }
  }
  run_conversions(fx, fx->n_steps, &cursor, NULL);
  if (fx->step_ms) fx->step_ms[fx->n_steps] += now_ms() - started;
  /* the caller's input memory is only borrowed for this run */
  for (size_t i = 0; i < fx->n_inputs; i++) fx->bindings[i].set = false;
  return OFX_OK;
}

ofx_status ofx_extractor_set_profiling(ofx_extractor *fx, int on) {
  free(fx->step_ms);
  fx->step_ms = NULL; /* NULL: not profiled */
  if (on && (fx->step_ms = calloc(fx->n_steps + 1, sizeof *fx->step_ms)) == NULL) return oom("profiling");
  return OFX_OK;
}

size_t ofx_extractor_step_node(const ofx_extractor *fx, size_t i) {
  return i < fx->n_steps ? (size_t)(fx->steps[i].node - fx->graph->nodes) : SIZE_MAX;
}

double ofx_extractor_step_ms(const ofx_extractor *fx, size_t i) {
  return fx->step_ms && i <= fx->n_steps ? fx->step_ms[i] : 0;
}

ofx_status ofx_extractor_output(const ofx_extractor *fx, size_t i, ofx_tensor_view *view) {
  if (i >= fx->n_outputs) return ofx_error(OFX_INVALID_ARGUMENT, "output index %zu is out of range", i);
  const ofx_tensor *t = &fx->tensors[fx->output_value[i]];
  for (size_t c = 0; c < fx->n_conversions; c++)
    if (fx->conversions[c].step == fx->n_steps && fx->conversions[c].slot == i) t = &fx->conversions[c].tensor;
  if (t->rank < 0 || (t->data == NULL && ofx_tensor_numel(t) != 0))
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
  return ofx_graph_write_pruned(fx->graph, fx->output_value, output_names, fx->n_outputs, out_bytes, out_size);
}

void ofx_free(void *p) { free(p); }

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
  if (s == OFX_OK) s = extractor_build(model, values, requests, count, false, out);
  free(requests);
  return s;
}

ofx_status ofx_extractor_create_for_shapes(ofx_model *model, const int *values, size_t count, ofx_extractor **out) {
  size_t *requests = malloc((count + 1) * sizeof *requests);
  if (requests == NULL) return oom("inferring shapes");
  for (size_t i = 0; i < count; i++) requests[i] = i;
  ofx_status s = extractor_build(model, values, requests, count, true, out);
  free(requests);
  return s;
}

ofx_status ofx_extractor_plan_shapes(ofx_extractor *fx, const ofx_tensor *inputs) {
  ofx_status s = OFX_OK;
  void **zeros = calloc(fx->n_inputs + 1, sizeof *zeros);
  if (zeros == NULL) return oom("inferring shapes");
  /* plan() copies small integer inputs as known data: give it zeros to copy */
  for (size_t i = 0; i < fx->n_inputs && s == OFX_OK; i++) {
    size_t bytes = ofx_tensor_numel(&inputs[i]) * ofx_dtype_size(inputs[i].dtype);
    if ((zeros[i] = calloc(bytes ? bytes : 1, 1)) == NULL) s = oom("inferring shapes");
    else fx->bindings[i] = (input_binding){true, inputs[i], bytes};
    fx->bindings[i].tensor.data = zeros[i];
  }
  if (s == OFX_OK) s = plan(fx);
  for (size_t i = 0; i < fx->n_inputs; i++) {
    free(zeros[i]);
    fx->bindings[i].set = false;
  }
  free(zeros);
  return s;
}

size_t ofx_extractor_input_value(const ofx_extractor *fx, size_t i) { return (size_t)input_value(fx, i); }

const ofx_tensor *ofx_extractor_value_shape(const ofx_extractor *fx, int value) { return &fx->tensors[value]; }
