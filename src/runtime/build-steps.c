/* Building the steps (create time): one op per node the requested outputs need, in execution
 * order. Each op's init validates its attributes and constant inputs and packs its weights;
 * the constants it did not pack are bound for reading (aligned copies where the model's bytes
 * are not); graph inputs become the extractor's inputs, checked against what memory can hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "runtime/memory-plan.h"
#include "runtime/plan.h"

#define oom ofx_plan_oom

/* An input whose declared static shape cannot fit in memory can never be fed: say so now,
 * naming it, rather than at the first run. */
static ofx_status check_declared_inputs(const ofx_plan *plan) {
  for (size_t i = 0; i < plan->n_inputs; i++) {
    const ofx_value *v = &plan->graph->values[ofx_plan_input_value(plan, i)];
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

/* Binds constant value v for run-time reads, copying it when it is not aligned for its type. */
static ofx_status bind_constant(ofx_plan *plan, int v) {
  const ofx_value *value = &plan->graph->values[v];
  ofx_tensor *t = &plan->tensors[v];
  if (t->rank >= 0 && (t->data || value->nbytes == 0)) return OFX_OK;
  return ofx_constant_tensor(plan->graph, v, t, &plan->constant_copies[v]);
}

/* Whether constant input k of op stays bound after init for run-time reads: every input the op did
 * not pack, and small packed ones too (the fold pass may read them). */
static bool bound_for_run(const ofx_op *op, size_t k, const ofx_value *value) {
  return !ofx_op_input_is(op, k, OFX_INPUT_PACKED) || value->nbytes <= OFX_PLAN_EVAL_MAX * 8;
}

/* Ops read constants through their graph values. A deferred one (external data read on demand,
 * ofx_model_load_deferred) is lent its bytes for its reader's init, one node at a time, so that
 * a model's external weights never sit in memory whole: read here, then after init kept bound
 * for run when the op did not pack them (the plan owns the copy), else freed. lent[k] is the
 * block read for input k, NULL when none was. */
static ofx_status lend_deferred(ofx_plan *plan, const ofx_node *node, void **lent) {
  ofx_value *values = ((ofx_graph *)plan->graph)->values; /* data is set for the init only */
  for (size_t k = 0; k < node->n_inputs; k++) lent[k] = NULL;
  for (size_t k = 0; k < node->n_inputs; k++) {
    const int v = node->inputs[k];
    if (v < 0 || !ofx_value_deferred(&values[v])) continue;
    if (plan->shapes_only && values[v].nbytes > OFX_PLAN_EVAL_MAX * 8) continue; /* shapes need no weights */
    if (plan->tensors[v].data) { /* bound for an earlier node */
      values[v].data = plan->tensors[v].data;
      continue;
    }
    OFX_TRY(ofx_plan_lend_constant(plan->graph, v, &lent[k]));
  }
  return OFX_OK;
}

static void return_deferred(ofx_plan *plan, const ofx_op *op, void **lent) {
  ofx_value *values = ((ofx_graph *)plan->graph)->values;
  const ofx_node *node = op->node;
  for (size_t k = 0; k < node->n_inputs; k++) {
    const int v = node->inputs[k];
    if (v < 0 || !ofx_value_read_on_demand(&values[v])) continue;
    if (lent[k] && bound_for_run(op, k, &values[v]) && plan->tensors[v].data == NULL) {
      plan->tensors[v] = (ofx_tensor){values[v].dtype, values[v].rank, {0}, lent[k], OFX_LAYOUT_NCHW};
      memcpy(plan->tensors[v].dims, values[v].dims, sizeof plan->tensors[v].dims);
      plan->constant_copies[v] = lent[k];
    } else {
      free(lent[k]);
    }
    lent[k] = NULL;
    values[v].data = NULL;
  }
}

/* Bytes of the constants node reads: what its init may read and pack (progress). */
static uint64_t constant_bytes(const ofx_graph *g, const ofx_node *node) {
  uint64_t bytes = 0;
  for (size_t k = 0; k < node->n_inputs; k++)
    if (node->inputs[k] >= 0 && g->values[node->inputs[k]].kind == OFX_VALUE_CONSTANT) bytes += g->values[node->inputs[k]].nbytes;
  return bytes;
}

/* One op per kept node, in execution order; graph inputs become the extractor's inputs. */
ofx_status ofx_plan_build_steps(ofx_plan *plan, const bool *keep) {
  const ofx_graph *g = plan->graph;
  size_t n_flags = 0, widest = 1;
  uint64_t total = 0, done = 0, reported = 0; /* progress, in constant bytes */
  for (size_t i = 0; i < g->n_nodes; i++) {
    n_flags += keep[i] ? g->nodes[i].n_inputs : 0;
    if (g->nodes[i].n_inputs > widest) widest = g->nodes[i].n_inputs;
    if (keep[i] && plan->progress) total += constant_bytes(g, &g->nodes[i]);
  }
  if ((plan->input_flags = calloc(n_flags + 1, 1)) == NULL) return oom("creating an extractor");
  void **lent = calloc(widest, sizeof *lent);
  if (lent == NULL) return oom("creating an extractor");
  ofx_status s = OFX_OK;
  n_flags = 0;
  for (size_t i = 0; i < g->n_nodes && s == OFX_OK; i++) {
    if (!keep[i]) {
      plan->n_pruned++;
      continue;
    }
    const ofx_node *node = &g->nodes[i];
    if (node->proto == NULL) {
      plan->input_nodes[plan->n_inputs++] = i;
      continue;
    }
    ofx_op *op = &plan->steps[plan->n_steps];
    op->graph = g;
    op->node = node;
    op->opset = g->opset;
    op->shapes_only = plan->shapes_only;
    op->float16_weights = plan->float16_weights;
    op->input_flags = plan->input_flags + n_flags;
    op->extra_input = -1;
    n_flags += node->n_inputs;
    op->def = ofx_op_for_node(node);
    if (op->def == NULL) {
      s = ofx_error(OFX_UNSUPPORTED_OP, "node '%s' (ONNX name '%s'): op %s%s%s (opset %lld) is not supported",
                    node->name, node->onnx_name, node->domain[0] ? node->domain : "",
                    node->domain[0] ? "." : "", node->op_type, (long long)g->opset);
      break;
    }
    plan->n_steps++; /* counted before init so that destroy sees partially built state */
    bool quantized = false;
    s = ofx_fuse_init_quantized(plan, op, &quantized);
    if (s == OFX_OK && !quantized) {
      s = lend_deferred(plan, node, lent);
      if (s == OFX_OK) s = op->def->init(op);
      return_deferred(plan, op, lent);
    }
    if (plan->progress && s == OFX_OK && (done += constant_bytes(g, node)) - reported >= total / 100 + 1) {
      plan->progress(plan->progress_ctx, done, total);
      reported = done;
    }
    for (size_t k = 0; k < node->n_inputs && s == OFX_OK; k++) {
      int v = node->inputs[k];
      if (v >= 0 && g->values[v].kind == OFX_VALUE_CONSTANT && bound_for_run(op, k, &g->values[v])) s = bind_constant(plan, v);
    }
  }
  free(lent);
  if (plan->progress && s == OFX_OK && reported != done) plan->progress(plan->progress_ctx, done, total);
  return s == OFX_OK ? check_declared_inputs(plan) : s;
}
