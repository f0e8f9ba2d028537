/* Fuse pass (create time): folds activations into the op producing their input, the way
 * XNNPACK's subgraph fusion does, with consumer counts so that nothing another step or the
 * caller reads disappears:
 *   - Relu, Clip, HardSwish, Sigmoid(v)                  -> the producer's epilogue;
 *   - gate(v) -> Mul(v, gate), gate Sigmoid or HardSigmoid -> SiLU / HardSwish epilogue
 *     (efficientnet's Conv -> Sigmoid -> Mul, mobilenet_v3's Conv -> HardSigmoid -> Mul);
 *   - an activation after a folded one, when the producer can chain them (Conv -> Clip ->
 *     HardSwish).
 * Which ops are activations and which can take one is the op table's data (.activation,
 * .fuse_activation). A fused step is skipped at run and its output aliases the producer's;
 * a requested value is never fused away. plan->fusion = false turns the pass off. */
#include <stdlib.h>

#include "runtime/plan.h"

/* The Mul step reading only `v` and `gate` (in either order), or -1. */
static int gate_mul(const ofx_plan *plan, int reader, int v, int gate) {
  if (reader < 0) return -1;
  const ofx_op *op = &plan->steps[reader];
  const ofx_node *n = op->node;
  if (op->def->kind != OFX_OP_Mul || n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0) return -1;
  bool pair = (n->inputs[0] == v && n->inputs[1] == gate) || (n->inputs[0] == gate && n->inputs[1] == v);
  return pair ? reader : -1;
}

ofx_status ofx_pass_fuse(ofx_plan *plan) {
  const ofx_graph *g = plan->graph;
  if (!plan->fusion) return OFX_OK;
  int *step_of_node = malloc((g->n_nodes + 1) * sizeof *step_of_node);
  size_t *readers = calloc(g->n_values + 1, sizeof *readers);
  int *reader = malloc((g->n_values + 1) * sizeof *reader); /* the last step reading each value */
  if (!step_of_node || !readers || !reader) {
    free(step_of_node);
    free(readers);
    free(reader);
    return ofx_plan_oom("creating an extractor");
  }
  for (size_t v = 0; v < g->n_values; v++) reader[v] = -1;
  for (size_t n = 0; n < g->n_nodes; n++) step_of_node[n] = -1;
  for (size_t i = 0; i < plan->n_steps; i++) {
    const ofx_node *n = plan->steps[i].node;
    step_of_node[n - g->nodes] = (int)i;
    for (size_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) readers[n->inputs[k]]++, reader[n->inputs[k]] = (int)i;
    for (size_t k = 0; k < n->n_implicit_inputs; k++) readers[n->implicit_inputs[k]]++;
  }
  for (size_t o = 0; o < plan->n_outputs; o++) readers[plan->output_value[o]]++; /* requested: kept */
  for (size_t j = 0; j < plan->n_steps; j++) {
    ofx_op *act = &plan->steps[j];
    ofx_activation a;
    if (!act->def->activation || act->node->n_inputs < 1 || act->node->n_outputs != 1 || act->node->outputs[0] < 0) continue;
    int v = act->node->inputs[0], out = act->node->outputs[0];
    if (v < 0 || g->values[v].kind != OFX_VALUE_NODE || g->values[v].producer < 0) continue;
    int source = plan->alias_of[v] >= 0 ? plan->alias_of[v] : v; /* after an activation already fused */
    int i = step_of_node[g->values[source].producer];
    if (i < 0 || plan->state[i] == OFX_STEP_FUSED || !plan->steps[i].def->fuse_activation || plan->steps[i].node->n_outputs != 1)
      continue;
    if (!act->def->activation(act, &a)) continue;
    int mul = -1;
    bool gate = a.kind == OFX_ACTIVATION_SIGMOID || a.kind == OFX_ACTIVATION_HARDSIGMOID;
    if (gate && readers[v] == 2 && readers[out] == 1 && (mul = gate_mul(plan, reader[out], v, out)) >= 0)
      a.kind = a.kind == OFX_ACTIVATION_SIGMOID ? OFX_ACTIVATION_SWISH : OFX_ACTIVATION_HARDSWISH;
    else if (readers[v] != 1)
      continue;
    if (!plan->steps[i].def->fuse_activation(&plan->steps[i], &a)) continue;
    plan->state[j] = OFX_STEP_FUSED;
    plan->fused_into[j] = i;
    plan->alias_of[out] = source;
    if (mul >= 0) {
      plan->state[mul] = OFX_STEP_FUSED;
      plan->fused_into[mul] = i;
      plan->alias_of[plan->steps[mul].node->outputs[0]] = source;
    }
  }
  free(step_of_node);
  free(readers);
  free(reader);
  return OFX_OK;
}
