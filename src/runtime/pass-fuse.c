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
 * a requested value is never fused away. plan->fusion = false turns the pass off.
 *
 * Before the activations, the dequantizing chains of dynamically quantized models (onnxruntime's
 * quantize_dynamic): ConvInteger / MatMulInteger -> Cast(float) -> Mul(., s) [-> Add(., bias)],
 * where s = Mul(x_scale, w_scale) of the activation's DynamicQuantizeLinear scale and a constant,
 * become the integer op writing float32 on the 8-bit GEMM (.fuse_dequantize); the scales Mul,
 * read by nothing else, is skipped too, the op computing x_scale * w_scale itself.
 *
 * Then QDQ models: an op with .fuse_quantized (Conv, MatMul) whose input 0 is
 * DequantizeLinear(QuantizeLinear(x)) with equal constant per-tensor parameters and whose weights
 * were folded at load from DequantizeLinear of 8-bit constants (ofx_value.dequantized) reads x
 * and runs on the 8-bit GEMM. That match is made while the steps are built
 * (ofx_fuse_init_quantized, in place of the op's float init: packing float weights only to free
 * them had resnet50.qdq peak at 276 MB against 176 MB for its QOperator twin); this pass skips
 * the DequantizeLinear and QuantizeLinear steps once every reader of theirs was fused so. QDQ
 * models also quantize what those ops write: op -> QuantizeLinear -> DequantizeLinear with equal
 * constant parameters becomes the op's OFX_ACTIVATION_ROUND_TRIP epilogue (the same float
 * operations), before activations fold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
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

/* The one step reading v, or -1 when something else reads it too (another step, the caller). */
static int only_reader(const size_t *readers, const int *reader, int v) { return v >= 0 && readers[v] == 1 ? reader[v] : -1; }

static bool is_kind(const ofx_plan *plan, int step, ofx_op_kind kind) { return step >= 0 && plan->steps[step].def->kind == kind; }

static const ofx_value *constant(const ofx_graph *g, int v) {
  return v >= 0 && g->values[v].kind == OFX_VALUE_CONSTANT ? &g->values[v] : NULL;
}

/* The input of binary step `step` that is not v (-1 when the step does not read v once). */
static int other_input(const ofx_plan *plan, int step, int v) {
  const ofx_node *n = plan->steps[step].node;
  if (n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0) return -1;
  return n->inputs[0] == v && n->inputs[1] != v ? n->inputs[1] : n->inputs[1] == v && n->inputs[0] != v ? n->inputs[0] : -1;
}

/* Fusions pack from constants (an integer op's weights and zero points, the chain's scale and
 * bias, a QDQ layer's 8-bit weights): those still deferred (external data, split models,
 * recomputed constants) are lent for the call, then made deferred again. */
#define MAX_LENT 12
typedef struct lent_set {
  int values[MAX_LENT];
  void *blocks[MAX_LENT];
  size_t n;
} lent_set;

static ofx_status lend(const ofx_graph *g, lent_set *set, int v) {
  if (v < 0 || set->n == MAX_LENT) return OFX_OK; /* more: the fusion sees no data and declines */
  set->values[set->n] = v;
  return ofx_plan_lend_constant(g, v, &set->blocks[set->n++]);
}

static void unlend(const ofx_graph *g, lent_set *set) {
  while (set->n > 0) {
    set->n--;
    ofx_plan_unlend_constant(g, set->values[set->n], set->blocks[set->n]);
  }
}

/* After a failed lend: out of memory stops the create; a file that cannot be read leaves the
 * layer unfused (it fails later where it is read, naming the file). */
static ofx_status lend_failed(ofx_status s) {
  if (s == OFX_OUT_OF_MEMORY) return s;
  ofx_error_clear();
  return OFX_OK;
}

static ofx_status fuse_dequantize_chains(ofx_plan *plan, const size_t *readers, const int *reader, const int *step_of_node) {
  const ofx_graph *g = plan->graph;
  for (size_t i = 0; i < plan->n_steps; i++) {
    ofx_op *op = &plan->steps[i];
    if (!op->def->fuse_dequantize || op->node->n_outputs != 1 || plan->state[i] != OFX_STEP_RUNS) continue;
    const int acc = op->node->outputs[0];
    const int cast = only_reader(readers, reader, acc);
    int64_t to = 0;
    if (!is_kind(plan, cast, OFX_OP_Cast) || ofx_node_attr_int(plan->steps[cast].node, "to", 0, &to) != OFX_OK ||
        to != OFX_DTYPE_FLOAT32 || plan->steps[cast].node->outputs[0] < 0)
      continue;
    const int cast_out = plan->steps[cast].node->outputs[0], mul = only_reader(readers, reader, cast_out);
    if (!is_kind(plan, mul, OFX_OP_Mul)) continue;
    const int s = other_input(plan, mul, cast_out);
    if (s < 0 || g->values[s].kind != OFX_VALUE_NODE || readers[s] != 1) continue;
    const int scales = step_of_node[g->values[s].producer];
    if (!is_kind(plan, scales, OFX_OP_Mul) || plan->steps[scales].node->n_inputs != 2) continue;
    const int a = plan->steps[scales].node->inputs[0], b = plan->steps[scales].node->inputs[1];
    const ofx_value *w_scale = constant(g, b) ? constant(g, b) : constant(g, a);
    const int x_scale = constant(g, b) ? a : b;
    if (!w_scale || x_scale < 0 || constant(g, x_scale)) continue;
    const int mul_out = plan->steps[mul].node->outputs[0];
    int add = only_reader(readers, reader, mul_out);
    const ofx_value *bias = is_kind(plan, add, OFX_OP_Add) ? constant(g, other_input(plan, add, mul_out)) : NULL;
    if (!bias) add = -1;
    lent_set lent = {.n = 0};
    ofx_status st = OFX_OK;
    for (size_t k = 0; k < op->node->n_inputs && st == OFX_OK; k++) st = lend(g, &lent, op->node->inputs[k]);
    if (st == OFX_OK) st = lend(g, &lent, (int)(w_scale - g->values));
    if (st == OFX_OK && bias) st = lend(g, &lent, (int)(bias - g->values));
    const bool fused = st == OFX_OK && op->def->fuse_dequantize(op, x_scale, w_scale, bias);
    unlend(g, &lent);
    if (st != OFX_OK && (st = lend_failed(st)) != OFX_OK) return st;
    if (!fused) continue;
    op->extra_input = x_scale;
    const int chain[4] = {cast, mul, add, scales};
    for (int c = 0; c < 4; c++) {
      if (chain[c] < 0) continue;
      plan->state[chain[c]] = OFX_STEP_FUSED;
      plan->fused_into[chain[c]] = (int)i;
      if (c < 3) plan->alias_of[plan->steps[chain[c]].node->outputs[0]] = acc; /* the scales Mul's output: read by no one now */
    }
  }
  return OFX_OK;
}

/* The constant per-tensor scale and zero point (absent: uint8 0) of a QuantizeLinear or
 * DequantizeLinear node, or false. */
static bool grid_of(const ofx_graph *g, const ofx_node *n, float *scale, int32_t *zp, ofx_dtype *type) {
  *zp = 0, *type = OFX_DTYPE_UINT8;
  if (n->n_inputs < 2 || !ofx_value_scalar_f32(constant(g, n->inputs[1]), scale)) return false;
  return n->n_inputs < 3 || n->inputs[2] < 0 || ofx_value_scalar_8bit(constant(g, n->inputs[2]), zp, type);
}

/* The grid a QuantizeLinear -> DequantizeLinear pair round-trips through: the same constant
 * parameters on both (the same float bits), or false. */
static bool shared_grid(const ofx_graph *g, const ofx_node *qn, const ofx_node *dn, float *scale, int32_t *zp, ofx_dtype *type) {
  float dq_scale;
  int32_t dq_zp;
  ofx_dtype dq_type;
  return grid_of(g, qn, scale, zp, type) && grid_of(g, dn, &dq_scale, &dq_zp, &dq_type) &&
         memcmp(&dq_scale, scale, sizeof dq_scale) == 0 && dq_zp == *zp && dq_type == *type;
}

/* Marks step `s` fused into step `into`, its output sharing x's memory (no one reads it). */
static void skip_step(ofx_plan *plan, int s, int into, int x) {
  plan->state[s] = OFX_STEP_FUSED;
  plan->fused_into[s] = into;
  plan->alias_of[plan->steps[s].node->outputs[0]] = plan->alias_of[x] >= 0 ? plan->alias_of[x] : x;
}

/* The node producing v when it is a node of `kind`, or NULL (the graph's view: at build time the
 * producer's step may not exist yet, and a kept node's producers are always kept). */
static const ofx_node *producer_node_of_kind(const ofx_graph *g, int v, ofx_op_kind kind) {
  if (v < 0 || g->values[v].kind != OFX_VALUE_NODE || g->values[v].producer < 0) return NULL;
  const ofx_node *n = &g->nodes[g->values[v].producer];
  const ofx_op_def *def = ofx_op_for_node(n);
  return def && def->kind == kind ? n : NULL;
}

/* Node n's QDQ operands: input 0 is DequantizeLinear(QuantizeLinear(x)) over a shared constant
 * grid, input 1 a constant the load-time fold dequantized from 8-bit weights. */
static bool quantized_operands(const ofx_graph *g, const ofx_node *n, ofx_quantized_operands *q) {
  if (n->n_inputs < 2 || n->n_outputs != 1 || n->inputs[1] < 0) return false;
  const ofx_value *w = constant(g, n->inputs[1]);
  const ofx_node *dn = producer_node_of_kind(g, n->inputs[0], OFX_OP_DequantizeLinear);
  const ofx_node *qn = dn && dn->n_inputs > 0 ? producer_node_of_kind(g, dn->inputs[0], OFX_OP_QuantizeLinear) : NULL;
  if (!w || w->dequantized.q < 0 || w->dequantized.scale < 0 || !qn) return false;
  *q = (ofx_quantized_operands){.x = qn->inputs[0], .w = &g->values[w->dequantized.q], .w_scale = &g->values[w->dequantized.scale],
                                .w_zero_point = w->dequantized.zero_point >= 0 ? &g->values[w->dequantized.zero_point] : NULL,
                                .w_axis = w->dequantized.axis};
  return shared_grid(g, qn, dn, &q->x_scale, &q->x_zero_point, &q->x_type);
}

ofx_status ofx_fuse_init_quantized(ofx_plan *plan, ofx_op *op, bool *fused) {
  const ofx_graph *g = plan->graph;
  const ofx_node *n = op->node;
  ofx_quantized_operands q;
  *fused = false;
  if (!plan->fusion || plan->shapes_only || !op->def->fuse_quantized || !quantized_operands(g, n, &q)) return OFX_OK;
  lent_set lent = {.n = 0};
  const ofx_value *w = &g->values[n->inputs[1]];
  ofx_status s = lend(g, &lent, w->dequantized.q);
  if (s == OFX_OK) s = lend(g, &lent, w->dequantized.scale);
  if (s == OFX_OK) s = lend(g, &lent, w->dequantized.zero_point);
  if (s == OFX_OK && n->n_inputs > 2) s = lend(g, &lent, n->inputs[2]); /* Conv's float bias */
  *fused = s == OFX_OK && op->def->fuse_quantized(op, &q);
  unlend(g, &lent);
  if (s != OFX_OK) return lend_failed(s);
  if (*fused) op->extra_input = q.x;
  ofx_error_clear(); /* a declined fusion leaves the op to its float init */
  return OFX_OK;
}

/* Steps ofx_fuse_init_quantized put on 8-bit kernels read x themselves: their DequantizeLinear
 * and QuantizeLinear steps are skipped once nothing else reads them. */
static ofx_status skip_quantized_operands(ofx_plan *plan, const size_t *readers, const int *step_of_node) {
  const ofx_graph *g = plan->graph;
  int *fused_by = malloc((g->n_values + 1) * sizeof *fused_by); /* the first op now reading only its shape */
  size_t *shape_readers = calloc(g->n_values + 1, sizeof *shape_readers), *skipped_readers = calloc(g->n_values + 1, sizeof *skipped_readers);
  if (!fused_by || !shape_readers || !skipped_readers) {
    free(fused_by), free(shape_readers), free(skipped_readers);
    return ofx_plan_oom("creating an extractor");
  }
  for (size_t i = 0; i < plan->n_steps; i++) {
    const ofx_op *op = &plan->steps[i];
    const ofx_op_def *node_def = ofx_op_for_node(op->node);
    if (!node_def || !node_def->fuse_quantized || op->extra_input < 0 || plan->state[i] != OFX_STEP_RUNS) continue;
    const int x_dq = op->node->inputs[0];
    if (shape_readers[x_dq]++ == 0) fused_by[x_dq] = (int)i;
  }
  /* DequantizeLinear steps read only for their shape, then QuantizeLinear steps read only by those */
  for (size_t pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < plan->n_steps; i++) {
      const ofx_node *n = plan->steps[i].node;
      if (plan->state[i] != OFX_STEP_RUNS || n->n_outputs != 1 || n->outputs[0] < 0 || n->n_inputs < 1) continue;
      const int out = n->outputs[0];
      if (!is_kind(plan, (int)i, pass ? OFX_OP_QuantizeLinear : OFX_OP_DequantizeLinear)) continue;
      const size_t gone = pass ? skipped_readers[out] : shape_readers[out];
      if (gone == 0 || gone != readers[out]) continue;
      const int q = pass ? n->inputs[0] : plan->steps[step_of_node[g->values[n->inputs[0]].producer]].node->inputs[0];
      skip_step(plan, (int)i, fused_by[out], q);
      if (!pass && skipped_readers[n->inputs[0]]++ == 0) fused_by[n->inputs[0]] = fused_by[out];
    }
  free(fused_by), free(shape_readers), free(skipped_readers);
  return OFX_OK;
}

/* op -> QuantizeLinear -> DequantizeLinear, each read only by the next, same constant per-tensor
 * parameters: the round trip folds into the op (.fuse_activation with OFX_ACTIVATION_ROUND_TRIP). */
static void fuse_round_trips(ofx_plan *plan, const size_t *readers, const int *reader, const int *step_of_node) {
  const ofx_graph *g = plan->graph;
  for (size_t i = 0; i < plan->n_steps; i++) {
    const ofx_node *qn = plan->steps[i].node;
    if (!is_kind(plan, (int)i, OFX_OP_QuantizeLinear) || plan->state[i] != OFX_STEP_RUNS || qn->n_inputs < 2 || qn->n_outputs != 1 ||
        qn->outputs[0] < 0)
      continue;
    const int v = qn->inputs[0];
    if (v < 0 || g->values[v].kind != OFX_VALUE_NODE || g->values[v].producer < 0 || readers[v] != 1) continue;
    const int p = step_of_node[g->values[v].producer];
    const int dq = only_reader(readers, reader, qn->outputs[0]);
    if (p < 0 || plan->state[p] != OFX_STEP_RUNS || !plan->steps[p].def->fuse_activation || plan->steps[p].node->n_outputs != 1 ||
        !is_kind(plan, dq, OFX_OP_DequantizeLinear) || plan->state[dq] != OFX_STEP_RUNS)
      continue;
    const ofx_node *dn = plan->steps[dq].node;
    float scale;
    int32_t zp;
    ofx_dtype type;
    if (dn->n_outputs != 1 || dn->outputs[0] < 0 || !shared_grid(g, qn, dn, &scale, &zp, &type) || !(scale > 0) || !isfinite(scale))
      continue;
    const bool is_signed = type == OFX_DTYPE_INT8;
    const ofx_activation a = {.kind = OFX_ACTIVATION_ROUND_TRIP, .min = is_signed ? -128.0f : 0.0f, .max = is_signed ? 127.0f : 255.0f,
                              .scale = scale, .zero_point = zp};
    if (!plan->steps[p].def->fuse_activation(&plan->steps[p], &a)) continue;
    skip_step(plan, (int)i, p, v);
    skip_step(plan, dq, p, v);
  }
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
  ofx_status s = fuse_dequantize_chains(plan, readers, reader, step_of_node);
  if (s == OFX_OK) s = skip_quantized_operands(plan, readers, step_of_node);
  if (s == OFX_OK) fuse_round_trips(plan, readers, reader, step_of_node);
  if (s != OFX_OK) {
    free(step_of_node);
    free(readers);
    free(reader);
    return s;
  }
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
