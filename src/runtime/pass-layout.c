/* Layout pass (plan time): which memory order each rank-4 tensor has, and where it must
 * change. Conv and pooling want NHWC (OFX_OP_WANTS_NHWC) and produce it; elementwise ops
 * (OFX_OP_ANY_LAYOUT) run NHWC when an input already is and every other operand is NHWC or
 * layout-neutral; every other op sees NCHW. A conversion is recorded where a tensor's layout
 * differs from what its reader wants, and requested outputs stored NHWC get an NCHW copy at the
 * end. Each step that runs is then reshaped once more, for the layouts it actually gets: that
 * sets its outputs' layouts and its scratch size. */
#include <stdlib.h>

#include "base/status.h"
#include "runtime/plan.h"

static ofx_status add_conversion(ofx_plan *plan, size_t step, size_t slot, int source, const ofx_tensor *from, ofx_layout to) {
  if (plan->n_conversions == plan->conversions_capacity) {
    size_t capacity = plan->conversions_capacity ? plan->conversions_capacity * 2 : 16;
    ofx_conversion *grown = realloc(plan->conversions, capacity * sizeof *grown);
    if (grown == NULL) return ofx_plan_oom("planning");
    plan->conversions = grown;
    plan->conversions_capacity = capacity;
  }
  ofx_conversion *c = &plan->conversions[plan->n_conversions++];
  c->step = step;
  c->slot = slot;
  c->source = source;
  c->alias = ofx_layout_neutral(from);
  c->tensor = *from;
  c->tensor.layout = to;
  c->tensor.data = NULL;
  c->offset = 0;
  return OFX_OK;
}

/* Converts step i's rank-4 float inputs to what its op wants; in[] gets the converted tensors. */
static ofx_status convert_inputs(ofx_plan *plan, const ofx_op *op, size_t i, ofx_tensor *in) {
  const ofx_node *node = op->node;
  ofx_layout any_target = OFX_LAYOUT_NCHW;
  if (op->def->input_layout == OFX_OP_ANY_LAYOUT) {
    bool some_nhwc = false, all_fit = true;
    for (size_t k = 0; k < node->n_inputs; k++) {
      if (in[k].rank < 0) continue;
      if (in[k].rank == 4 && in[k].layout == OFX_LAYOUT_NHWC) some_nhwc = true;
      else if (in[k].rank > 4 || (in[k].rank < 4 && !ofx_layout_neutral(&in[k]))) all_fit = false;
    }
    if (some_nhwc && all_fit) any_target = OFX_LAYOUT_NHWC;
  }
  for (size_t k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    if (v < 0 || in[k].rank != 4 || ofx_op_input_is(op, k, OFX_INPUT_PACKED | OFX_INPUT_SHAPE_ONLY) ||
        (ofx_dtype_size(in[k].dtype) != 4 && ofx_dtype_size(in[k].dtype) != 1))
      continue;
    ofx_layout target = OFX_LAYOUT_NCHW;
    if (op->def->input_layout == OFX_OP_WANTS_NHWC && k == 0) target = OFX_LAYOUT_NHWC;
    if (op->def->input_layout == OFX_OP_ANY_LAYOUT) target = any_target;
    if (in[k].layout == target) continue;
    OFX_TRY(add_conversion(plan, i, k, v, &in[k], target));
    in[k] = plan->conversions[plan->n_conversions - 1].tensor;
  }
  return OFX_OK;
}

ofx_status ofx_pass_layout(ofx_plan *plan) {
  ofx_tensor *in = plan->op_inputs, *out = plan->op_outputs;
  for (size_t i = 0; i < plan->n_steps; i++) {
    ofx_op *op = &plan->steps[i];
    const ofx_node *n = op->node;
    if (plan->state[i] == OFX_STEP_FOLDED) continue;
    if (plan->state[i] == OFX_STEP_FUSED && n->outputs[0] >= 0 && plan->known[n->outputs[0]]) continue; /* folded producer */
    ofx_plan_gather(plan, op, in, out);
    for (size_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0 && !plan->known[n->inputs[k]]) in[k].data = NULL;
    /* a fused step is its producer's epilogue: it takes the producer's layout, no conversion */
    if (plan->state[i] != OFX_STEP_FUSED) OFX_TRY(convert_inputs(plan, op, i, in));
    for (size_t k = 0; k < n->n_outputs; k++) out[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
    op->scratch_bytes = 0;
    OFX_TRY(op->def->reshape(op, in, out)); /* succeeded in the fold pass for the same shapes */
    for (size_t k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) {
        plan->tensors[n->outputs[k]] = out[k];
        plan->tensors[n->outputs[k]].data = NULL;
      }
  }
  for (size_t o = 0; o < plan->n_outputs; o++) {
    const ofx_tensor *t = &plan->tensors[plan->output_value[o]];
    if (t->rank == 4 && t->layout == OFX_LAYOUT_NHWC)
      OFX_TRY(add_conversion(plan, plan->n_steps, o, plan->output_value[o], t, OFX_LAYOUT_NCHW));
  }
  return OFX_OK;
}
