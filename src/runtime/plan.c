/* What the passes share: plan-owned memory, gathering a step's tensors, resetting. */
#include "runtime/plan.h"

#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "runtime/memory-plan.h"

ofx_status ofx_plan_oom(const char *what) { return ofx_error(OFX_OUT_OF_MEMORY, "out of memory %s", what); }

void *ofx_plan_aligned_block(size_t size) {
  void *p = NULL;
  size = (size + OFX_TENSOR_ALIGNMENT - 1) & ~(size_t)(OFX_TENSOR_ALIGNMENT - 1);
  if (posix_memalign(&p, OFX_TENSOR_ALIGNMENT, size ? size : OFX_TENSOR_ALIGNMENT) != 0) return NULL;
  return p;
}

/* Constant v's elements in a new aligned block (*out; NULL on failure). */
static ofx_status read_aligned(const ofx_graph *g, int v, void **out) {
  const size_t nbytes = g->values[v].nbytes;
  if ((*out = ofx_plan_aligned_block(nbytes ? nbytes : 1)) == NULL) return ofx_plan_oom("reading a constant");
  ofx_status s = ofx_graph_read_constant(g, v, *out);
  if (s != OFX_OK) {
    free(*out);
    *out = NULL;
  }
  return s;
}

ofx_status ofx_constant_tensor(const ofx_graph *g, int v, ofx_tensor *t, void **copy) {
  const ofx_value *value = &g->values[v];
  *t = (ofx_tensor){value->dtype, value->rank, {0}, (void *)value->data, OFX_LAYOUT_NCHW};
  memcpy(t->dims, value->dims, sizeof t->dims);
  *copy = NULL;
  const size_t align = ofx_dtype_size(value->dtype);
  const bool deferred = ofx_value_deferred(value); /* read from its external file */
  if (!deferred && (value->data == NULL || align == 0 || (uintptr_t)value->data % align == 0)) return OFX_OK;
  OFX_TRY(read_aligned(g, v, copy));
  t->data = *copy;
  return OFX_OK;
}

ofx_status ofx_plan_lend_constant(const ofx_graph *g, int v, void **lent) {
  ofx_value *value = &((ofx_graph *)g)->values[v]; /* data is set for the lender's use only */
  *lent = NULL;
  if (!ofx_value_deferred(value)) return OFX_OK;
  OFX_TRY(read_aligned(g, v, lent));
  value->data = *lent;
  return OFX_OK;
}

void ofx_plan_unlend_constant(const ofx_graph *g, int v, void *lent) {
  if (lent == NULL) return;
  ((ofx_graph *)g)->values[v].data = NULL;
  free(lent);
}

ofx_status ofx_plan_block(ofx_plan *plan, size_t bytes, void **out) {
  void **blocks = realloc(plan->plan_blocks, (plan->n_plan_blocks + 1) * sizeof *blocks);
  if (blocks == NULL) return ofx_plan_oom("planning");
  plan->plan_blocks = blocks;
  *out = ofx_plan_aligned_block(bytes);
  if (*out == NULL) return ofx_plan_oom("planning");
  plan->plan_blocks[plan->n_plan_blocks++] = *out;
  return OFX_OK;
}

void ofx_plan_reset(ofx_plan *plan) {
  for (size_t i = 0; i < plan->n_plan_blocks; i++) free(plan->plan_blocks[i]);
  plan->n_plan_blocks = 0;
  plan->n_conversions = 0;
  for (size_t i = 0; i < plan->n_steps; i++) {
    if (plan->state[i] == OFX_STEP_VIEW) {
      const ofx_node *n = plan->steps[i].node;
      plan->alias_of[n->outputs[0]] = -1;
    }
    if (plan->state[i] != OFX_STEP_FUSED) plan->state[i] = OFX_STEP_RUNS;
  }
}

void ofx_plan_gather(const ofx_plan *plan, const ofx_op *op, ofx_tensor *in, ofx_tensor *out) {
  const ofx_node *node = op->node;
  for (size_t k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    if (v >= 0) {
      in[k] = plan->tensors[v];
      if (in[k].rank < 0 && plan->graph->values[v].kind == OFX_VALUE_CONSTANT) {
        /* packed constant: shape only, for reshape */
        const ofx_value *c = &plan->graph->values[v];
        in[k].dtype = c->dtype;
        in[k].rank = c->rank;
        memcpy(in[k].dims, c->dims, sizeof in[k].dims);
        in[k].data = NULL;
      }
    } else {
      in[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
    }
  }
  if (op->extra_input >= 0) in[node->n_inputs] = plan->tensors[op->extra_input];
  for (size_t k = 0; k < node->n_outputs; k++) {
    int v = node->outputs[k];
    out[k] = v >= 0 ? plan->tensors[v] : (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL};
  }
}

size_t ofx_plan_value_bytes(const ofx_plan *plan, int v) {
  const ofx_tensor *t = &plan->tensors[v];
  return ofx_tensor_numel(t) * ofx_dtype_size(t->dtype);
}

bool ofx_layout_neutral(const ofx_tensor *t) {
  int64_t d[4] = {1, 1, 1, 1};
  for (int i = 0; i < t->rank && i < 4; i++) d[4 - t->rank + i] = t->dims[i];
  return t->rank <= 4 && (d[1] == 1 || d[2] * d[3] == 1);
}

void ofx_plan_free(ofx_plan *p) {
  for (size_t i = 0; i < p->n_steps; i++) {
    ofx_op *op = &p->steps[i];
    if (op->def && op->def->destroy) op->def->destroy(op);
    else free(op->state);
  }
  if (p->constant_copies)
    for (size_t v = 0; v < p->graph->n_values; v++) free(p->constant_copies[v]);
  if (p->state) ofx_plan_reset(p);
  void *blocks[] = {p->constant_copies, p->steps, p->input_flags, p->input_nodes, p->inputs, p->output_value, p->tensors,
                    p->state, p->alias_of, p->fused_into, p->known, p->input_known, p->plan_blocks, p->conversions,
                    p->offsets, p->in_place_of, p->arena, p->scratch, p->op_inputs, p->op_outputs};
  for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) free(blocks[i]);
}
