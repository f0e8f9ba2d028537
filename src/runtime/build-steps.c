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
  return ofx_constant_tensor(value, t, &plan->constant_copies[v]);
}

/* One op per kept node, in execution order; graph inputs become the extractor's inputs. */
ofx_status ofx_plan_build_steps(ofx_plan *plan, const bool *keep) {
  const ofx_graph *g = plan->graph;
  size_t n_flags = 0;
  for (size_t i = 0; i < g->n_nodes; i++) n_flags += keep[i] ? g->nodes[i].n_inputs : 0;
  if ((plan->input_flags = calloc(n_flags + 1, 1)) == NULL) return oom("creating an extractor");
  n_flags = 0;
  for (size_t i = 0; i < g->n_nodes; i++) {
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
    op->input_flags = plan->input_flags + n_flags;
    op->extra_input = -1;
    n_flags += node->n_inputs;
    op->def = ofx_op_for_node(node);
    if (op->def == NULL)
      return ofx_error(OFX_UNSUPPORTED_OP, "node '%s' (ONNX name '%s'): op %s%s%s (opset %lld) is not supported",
                       node->name, node->onnx_name, node->domain[0] ? node->domain : "",
                       node->domain[0] ? "." : "", node->op_type, (long long)g->opset);
    plan->n_steps++; /* counted before init so that destroy sees partially built state */
    OFX_TRY(op->def->init(op));
    for (size_t k = 0; k < node->n_inputs; k++) {
      int v = node->inputs[k];
      /* small packed constants are bound too: the fold pass may read them */
      if (v >= 0 && g->values[v].kind == OFX_VALUE_CONSTANT &&
          (!ofx_op_input_is(op, k, OFX_INPUT_PACKED) || g->values[v].nbytes <= OFX_PLAN_EVAL_MAX * 8))
        OFX_TRY(bind_constant(plan, v));
    }
  }
  return check_declared_inputs(plan);
}

