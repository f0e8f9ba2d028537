/* Memory pass (plan time): where every tensor lives during a run.
 *   - Views: a step whose op is a view (.view: Reshape, Flatten, Squeeze, Unsqueeze, Identity)
 *     and whose input sits in the arena in plain element order shares that memory and is
 *     skipped at run. Tensors are never written after their step, so sharing is safe for as
 *     long as either name is read.
 *   - In place: an op that reads each element before writing it (.in_place: Add, Relu, ...)
 *     writes its output over an input of the same shape, type and layout that dies there.
 *   - Lifetimes: a value lives from its step to its last reader (requested outputs to the end);
 *     a fused or view value keeps the memory it shares alive for its own readers.
 *   - Offsets in one arena (memory-plan.c: best-fit reuse), layout conversions included; the
 *     largest scratch of any step that runs; then the arena and scratch are allocated and every
 *     tensor's data pointer is bound. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "runtime/memory-plan.h"
#include "runtime/plan.h"

/* Whether step `step` reads a converted copy of its input k instead of the value's memory. */
static bool reads_copy(const ofx_plan *plan, size_t step, size_t k) {
  for (size_t c = 0; c < plan->n_conversions; c++)
    if (plan->conversions[c].step == step && plan->conversions[c].slot == k && !plan->conversions[c].alias) return true;
  return false;
}

/* Whether step i can be a view of its input 0 in this plan. */
static bool can_view(const ofx_plan *plan, size_t i) {
  const ofx_op *op = &plan->steps[i];
  const ofx_node *n = op->node;
  if (!op->def->view || plan->state[i] != OFX_STEP_RUNS || n->n_inputs < 1 || n->n_outputs < 1) return false;
  for (size_t k = 1; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0) return false; /* Dropout's mask */
  int v = n->inputs[0], out = n->outputs[0];
  if (v < 0 || out < 0 || plan->known[v] || plan->graph->values[v].kind != OFX_VALUE_NODE) return false;
  if (plan->graph->nodes[plan->graph->values[v].producer].proto == NULL) return false; /* the caller's memory */
  const ofx_tensor *x = &plan->tensors[v], *y = &plan->tensors[out];
  if (x->dtype != y->dtype || ofx_tensor_numel(x) != ofx_tensor_numel(y)) return false;
  if (x->rank == 4 && x->layout == OFX_LAYOUT_NHWC && !ofx_layout_neutral(x)) return false;
  return !reads_copy(plan, i, 0);
}

static ofx_status no_room(const ofx_plan *plan, size_t i, int v) {
  const ofx_tensor *t = &plan->tensors[v];
  char shape[96];
  return ofx_op_error(&plan->steps[i], OFX_OUT_OF_MEMORY,
                      "output '%s' (%s %s, %zu bytes) does not fit: the tensor arena would exceed %llu bytes",
                      plan->graph->values[v].name, onnx_dtype_name((int32_t)t->dtype), ofx_shape_str(t->dims, t->rank, shape, sizeof shape),
                      ofx_plan_value_bytes(plan, v), (unsigned long long)OFX_MEMORY_LIMIT);
}

/* Whether value v is held in the arena (not known at plan time, not an alias, not an input). */
static bool in_arena(const ofx_plan *plan, int v) {
  const ofx_graph *g = plan->graph;
  return v >= 0 && !plan->known[v] && plan->alias_of[v] < 0 && g->values[v].kind == OFX_VALUE_NODE &&
         g->values[v].producer >= 0 && g->nodes[g->values[v].producer].proto != NULL;
}

/* The input of step i whose memory its output can take over, or -1. */
static int in_place_input(const ofx_plan *plan, size_t i, const int *last_use) {
  const ofx_op *op = &plan->steps[i];
  const ofx_node *n = op->node;
  if (!op->def->in_place || !ofx_plan_step_runs(plan, i) || n->n_outputs != 1 || !in_arena(plan, n->outputs[0])) return -1;
  const ofx_tensor *y = &plan->tensors[n->outputs[0]];
  for (size_t k = 0; k < n->n_inputs; k++) {
    int v = n->inputs[k];
    if (v >= 0 && plan->alias_of[v] >= 0) v = plan->alias_of[v];
    if (!in_arena(plan, v) || last_use[v] != (int)i || reads_copy(plan, i, k)) continue;
    const ofx_tensor *x = &plan->tensors[v];
    if (x->dtype == y->dtype && x->rank == y->rank && x->layout == y->layout &&
        memcmp(x->dims, y->dims, (size_t)x->rank * sizeof x->dims[0]) == 0)
      return v;
  }
  return -1;
}

static ofx_status assign_offsets(ofx_plan *plan, int *last_use) {
  ofx_memory_plan mp = {0};
  ofx_status s = OFX_OK;
  size_t cursor = 0;
  for (size_t i = 0; i < plan->n_steps && s == OFX_OK; i++) {
    const ofx_node *n = plan->steps[i].node;
    size_t first_conversion = cursor;
    for (; cursor < plan->n_conversions && plan->conversions[cursor].step == i; cursor++) {
      ofx_conversion *c = &plan->conversions[cursor];
      if (!c->alias && !ofx_memory_plan_alloc(&mp, ofx_tensor_numel(&c->tensor) * ofx_dtype_size(c->tensor.dtype), &c->offset)) s = ofx_plan_oom("planning");
    }
    int taken = plan->in_place_of[i] = in_place_input(plan, i, last_use);
    if (taken >= 0) {
      plan->offsets[n->outputs[0]] = plan->offsets[taken];
      last_use[taken] = INT32_MAX - 1; /* handed over: the output releases it */
    }
    for (size_t k = 0; k < n->n_outputs && s == OFX_OK && taken < 0; k++)
      if (in_arena(plan, n->outputs[k]) && !ofx_memory_plan_alloc(&mp, ofx_plan_value_bytes(plan, n->outputs[k]), &plan->offsets[n->outputs[k]]))
        s = no_room(plan, i, n->outputs[k]);
    /* release what dies here: inputs last read by this step, outputs nobody reads */
    for (size_t pass = 0; pass < 2 && s == OFX_OK; pass++) {
      size_t count = pass ? n->n_outputs : n->n_inputs;
      const int *values = pass ? n->outputs : n->inputs;
      for (size_t k = 0; k < count && s == OFX_OK; k++) {
        int v = values[k];
        if (v >= 0 && plan->alias_of[v] >= 0) v = plan->alias_of[v]; /* its memory is the source's */
        if (!in_arena(plan, v) || last_use[v] > (int)i) continue;
        last_use[v] = INT32_MAX - 1; /* release once, even if listed twice */
        if (!ofx_memory_plan_release(&mp, plan->offsets[v], ofx_plan_value_bytes(plan, v))) s = ofx_plan_oom("planning");
      }
    }
    for (size_t c = first_conversion; c < cursor && s == OFX_OK; c++) {
      const ofx_conversion *conv = &plan->conversions[c];
      if (!conv->alias && !ofx_memory_plan_release(&mp, conv->offset, ofx_tensor_numel(&conv->tensor) * ofx_dtype_size(conv->tensor.dtype)))
        s = ofx_plan_oom("planning");
    }
  }
  for (; cursor < plan->n_conversions && s == OFX_OK; cursor++) { /* NCHW copies of requested outputs: kept */
    ofx_conversion *c = &plan->conversions[cursor];
    if (!c->alias && !ofx_memory_plan_alloc(&mp, ofx_tensor_numel(&c->tensor) * ofx_dtype_size(c->tensor.dtype), &c->offset)) s = ofx_plan_oom("planning");
  }
  plan->arena_used = mp.total;
  ofx_memory_plan_free(&mp);
  return s;
}

/* Grows *block to at least `bytes` (contents not kept). */
static ofx_status grow(void **block, size_t *size, size_t bytes, const char *what) {
  if (bytes <= *size) return OFX_OK;
  free(*block);
  *size = 0;
  if ((*block = ofx_plan_aligned_block(bytes)) == NULL)
    return ofx_error(OFX_OUT_OF_MEMORY, "out of memory: the plan needs %zu bytes of %s", bytes, what);
  *size = bytes;
  return OFX_OK;
}

ofx_status ofx_pass_memory(ofx_plan *plan) {
  const ofx_graph *g = plan->graph;
  for (size_t i = 0; i < plan->n_steps; i++)
    if (can_view(plan, i)) {
      int v = plan->steps[i].node->inputs[0];
      plan->state[i] = OFX_STEP_VIEW;
      plan->alias_of[plan->steps[i].node->outputs[0]] = plan->alias_of[v] >= 0 ? plan->alias_of[v] : v;
    }
  int *last_use = malloc((g->n_values + 1) * sizeof *last_use);
  if (last_use == NULL) return ofx_plan_oom("planning");
  for (size_t v = 0; v < g->n_values; v++) last_use[v] = -1;
  for (size_t i = 0; i < plan->n_steps; i++)
    for (size_t k = 0; k < plan->steps[i].node->n_inputs; k++)
      if (plan->steps[i].node->inputs[k] >= 0) last_use[plan->steps[i].node->inputs[k]] = (int)i;
  for (size_t i = 0; i < plan->n_steps; i++) /* read by a fused op, maybe after its own readers */
    if (plan->steps[i].extra_input >= 0 && last_use[plan->steps[i].extra_input] < (int)i) last_use[plan->steps[i].extra_input] = (int)i;
  for (size_t o = 0; o < plan->n_outputs; o++) last_use[plan->output_value[o]] = INT32_MAX;
  /* aliases in step order, so a view of a fused value extends the root's life too */
  for (size_t v = 0; v < g->n_values; v++)
    if (plan->alias_of[v] >= 0 && last_use[v] > last_use[plan->alias_of[v]]) last_use[plan->alias_of[v]] = last_use[v];
  ofx_status s = assign_offsets(plan, last_use);
  free(last_use);
  OFX_TRY(s);
  size_t scratch = 0;
  for (size_t i = 0; i < plan->n_steps; i++)
    if (ofx_plan_step_runs(plan, i) && plan->steps[i].scratch_bytes > scratch) scratch = plan->steps[i].scratch_bytes;
  plan->scratch_used = scratch;
  if ((uint64_t)scratch > OFX_MEMORY_LIMIT - plan->arena_used)
    return ofx_error(OFX_OUT_OF_MEMORY, "out of memory: %zu bytes of scratch and a %zu-byte tensor arena exceed %llu bytes", scratch,
                     plan->arena_used, (unsigned long long)OFX_MEMORY_LIMIT);
  OFX_TRY(grow(&plan->arena, &plan->arena_size, plan->arena_used, "tensor arena"));
  OFX_TRY(grow(&plan->scratch, &plan->scratch_size, scratch, "scratch"));
  /* bind: arena values first, then aliases (whose roots precede them in step order) */
  for (size_t i = 0; i < plan->n_steps; i++) {
    const ofx_node *n = plan->steps[i].node;
    for (size_t k = 0; k < n->n_outputs; k++) {
      int v = n->outputs[k];
      if (v < 0 || plan->known[v]) continue;
      plan->tensors[v].data = plan->alias_of[v] >= 0 ? plan->tensors[plan->alias_of[v]].data : (char *)plan->arena + plan->offsets[v];
    }
  }
  for (size_t c = 0; c < plan->n_conversions; c++)
    if (!plan->conversions[c].alias) plan->conversions[c].tensor.data = (char *)plan->arena + plan->conversions[c].offset;
  return OFX_OK;
}
