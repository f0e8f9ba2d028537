/* Fold pass (plan time): shapes, step by step, and plan-time evaluation of whatever can be known
 * before a run. Exported models compute Reshape targets, Slice bounds and Expand shapes with
 * small subgraphs (Shape -> Gather -> Concat -> Reshape), and a shape after them depends on the
 * data before them, so shapes and folding are one walk. Known at plan time:
 *   - constants (packed ones too, when small: the extractor binds them),
 *   - small graph inputs (<= OFX_PLAN_EVAL_MAX elements) of integer type, or read by some
 *     op's reshape (OFX_INPUT_PLAN, e.g. Resize's scales); their contents join the plan key:
 *     a run re-plans when they change,
 *   - outputs of steps whose inputs are all known (or only have their shape read): such a step
 *     is run right after its reshape, into plan-owned memory, and skipped at run. What derives
 *     from constants alone is folded whatever its size; what derives from the inputs only while
 *     small, so that an integer-input model does not run at plan time.
 * Each reshape sees in[k].data for known inputs and NULL otherwise, so Reshape & co. read their
 * shape-like inputs there and fail with a clear error when the data is not known. Every tensor is
 * NCHW here: the layout pass decides layouts afterwards. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "runtime/memory-plan.h"
#include "runtime/plan.h"

/* Resets what is known: constants, and the small graph inputs whose contents join the plan key
 * (copied: the caller's memory is only borrowed for a run). */
static ofx_status known_inputs(ofx_plan *plan) {
  const ofx_graph *g = plan->graph;
  for (size_t v = 0; v < g->n_values; v++)
    plan->known[v] = g->values[v].kind == OFX_VALUE_CONSTANT && plan->tensors[v].rank >= 0 &&
                             (plan->tensors[v].data != NULL || g->values[v].nbytes == 0)
                         ? OFX_KNOWN_CONSTANT
                         : OFX_KNOWN_NOT;
  for (size_t i = 0; i < plan->n_inputs; i++) {
    int v = ofx_plan_input_value(plan, i);
    const ofx_tensor *t = &plan->inputs[i];
    bool read_by_reshape = false;
    for (size_t j = 0; j < plan->n_steps && !read_by_reshape; j++)
      for (size_t k = 0; k < plan->steps[j].node->n_inputs; k++)
        if (plan->steps[j].node->inputs[k] == v && ofx_op_input_is(&plan->steps[j], k, OFX_INPUT_PLAN)) read_by_reshape = true;
    bool integer = t->dtype == OFX_DTYPE_INT64 || t->dtype == OFX_DTYPE_INT32;
    plan->input_known[i] = ofx_tensor_numel(t) <= OFX_PLAN_EVAL_MAX && (integer || read_by_reshape);
    plan->tensors[v] = *t;
    plan->tensors[v].data = NULL;
    plan->tensors[v].layout = OFX_LAYOUT_NCHW;
    plan->known[v] = plan->input_known[i] ? OFX_KNOWN_INPUT : OFX_KNOWN_NOT;
    if (plan->input_known[i]) {
      size_t bytes = ofx_tensor_numel(t) * ofx_dtype_size(t->dtype);
      OFX_TRY(ofx_plan_block(plan, bytes, &plan->tensors[v].data));
      if (bytes) memcpy(plan->tensors[v].data, t->data, bytes);
    }
  }
  return OFX_OK;
}

/* Runs step i now, into plan-owned memory; its outputs become known data. */
static ofx_status evaluate(ofx_plan *plan, size_t i, ofx_tensor *in, ofx_tensor *out, uint8_t known) {
  ofx_op *op = &plan->steps[i];
  const ofx_node *n = op->node;
  if (plan->state[i] == OFX_STEP_FUSED) { /* its producer applied it already: share its data */
    for (size_t k = 0; k < n->n_outputs; k++) {
      int v = n->outputs[k];
      if (v < 0) continue;
      plan->tensors[v].data = plan->tensors[plan->alias_of[v]].data;
      plan->known[v] = known;
    }
    return OFX_OK;
  }
  for (size_t k = 0; k < n->n_outputs; k++) {
    int v = n->outputs[k];
    if (v < 0) continue;
    OFX_TRY(ofx_plan_block(plan, ofx_tensor_numel(&out[k]) * ofx_dtype_size(out[k].dtype), &out[k].data));
    plan->tensors[v].data = out[k].data;
  }
  void *scratch = NULL;
  if (op->scratch_bytes && (scratch = ofx_plan_aligned_block(op->scratch_bytes)) == NULL) return ofx_plan_oom("planning");
  ofx_run_context ctx = {NULL, scratch};
  op->def->run(op, in, out, &ctx);
  free(scratch);
  for (size_t k = 0; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0) plan->known[n->outputs[k]] = known;
  plan->state[i] = OFX_STEP_FOLDED;
  return OFX_OK;
}

/* Reshapes step i and records its outputs' shapes; OUT_OF_MEMORY for absurd sizes. */
static ofx_status reshape(ofx_plan *plan, ofx_op *op, ofx_tensor *in, ofx_tensor *out, size_t *largest) {
  const ofx_node *n = op->node;
  for (size_t k = 0; k < n->n_outputs; k++) out[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
  op->scratch_bytes = 0;
  OFX_TRY(op->def->reshape(op, in, out));
  if ((uint64_t)op->scratch_bytes > OFX_MEMORY_LIMIT || op->scratch_bytes > SIZE_MAX - OFX_TENSOR_ALIGNMENT)
    return ofx_op_error(op, OFX_OUT_OF_MEMORY, "needs %zu bytes of scratch, more than the %llu-byte limit", op->scratch_bytes,
                        (unsigned long long)OFX_MEMORY_LIMIT);
  *largest = 0;
  for (size_t k = 0; k < n->n_outputs; k++) {
    int v = n->outputs[k];
    if (v < 0) continue;
    size_t numel;
    char shape[96];
    if (!ofx_shape_numel(out[k].dims, out[k].rank, &numel) || ofx_dtype_size(out[k].dtype) == 0)
      return ofx_op_error(op, OFX_OUT_OF_MEMORY, "output %zu would have shape %s, which is too large", k,
                          ofx_shape_str(out[k].dims, out[k].rank, shape, sizeof shape));
    /* in 64 bits: on wasm32 a tensor of 4 GiB or more wraps size_t (the whole address space) */
    const uint64_t bytes = (uint64_t)numel * ofx_dtype_size(out[k].dtype);
    if (bytes >= OFX_MEMORY_LIMIT)
      return ofx_op_error(op, OFX_OUT_OF_MEMORY, "output %zu would have shape %s: %llu bytes, more than the %llu a heap can hold",
                          k, ofx_shape_str(out[k].dims, out[k].rank, shape, sizeof shape), (unsigned long long)bytes,
                          (unsigned long long)OFX_MEMORY_LIMIT);
    plan->tensors[v] = out[k];
    plan->tensors[v].data = NULL;
    if (numel > *largest) *largest = numel;
  }
  return OFX_OK;
}

ofx_status ofx_pass_fold(ofx_plan *plan) {
  ofx_tensor *in = plan->op_inputs, *out = plan->op_outputs;
  OFX_TRY(known_inputs(plan));
  for (size_t i = 0; i < plan->n_steps; i++) {
    ofx_op *op = &plan->steps[i];
    const ofx_node *n = op->node;
    ofx_plan_gather(plan, op, in, out);
    bool evaluable = true, packs = false;
    uint8_t known = OFX_KNOWN_CONSTANT; /* what the outputs will be, if evaluated */
    for (size_t k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v < 0) continue;
      in[k].layout = OFX_LAYOUT_NCHW;
      if (!plan->known[v]) in[k].data = NULL;
      if (ofx_op_input_is(op, k, OFX_INPUT_PACKED)) packs = true;
      else if (ofx_op_input_is(op, k, OFX_INPUT_SHAPE_ONLY)) known = OFX_KNOWN_INPUT; /* input shapes are the plan's */
      else if (!plan->known[v]) evaluable = false;
      else if (plan->known[v] == OFX_KNOWN_INPUT) known = OFX_KNOWN_INPUT;
    }
    if (op->extra_input >= 0 && !plan->known[op->extra_input]) evaluable = false;
    size_t largest;
    OFX_TRY(reshape(plan, op, in, out, &largest));
    if (known == OFX_KNOWN_INPUT && largest > OFX_PLAN_EVAL_MAX) evaluable = false;
    if (plan->shapes_only && packs) evaluable = false; /* shapes-only ops packed nothing */
    if (evaluable) OFX_TRY(evaluate(plan, i, in, out, known));
  }
  return OFX_OK;
}
