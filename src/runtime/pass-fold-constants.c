/* Fold-constants pass (load time, before naming): every node whose inputs are all constants is
 * evaluated once, with its op's init/reshape/run, and its outputs become constant values of the
 * graph (graph-fold.c); the node leaves the graph. Weights that a model computes
 * (ConstantOfShape -> ..., Transpose/Reshape/Cast of an initializer, DequantizeLinear later)
 * are then constants before any extractor packs them, so Conv/Gemm/MatMul see them like
 * initializers. The graph is in topological order, so one walk folds whole chains.
 *
 * Left in the graph (and folded at plan time as before, or reported when an extractor needs
 * them): nodes producing a graph output, nodes with subgraphs, ops the table cannot run, and
 * nodes whose init or reshape rejects them: the error then comes from the extractor that needs
 * the node, not from loading a model whose other features may be fine. Folded nodes take no
 * name (docs/naming.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "runtime/memory-plan.h"
#include "runtime/plan.h"

static bool is_graph_output(const ofx_graph *g, int v) {
  for (size_t i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == v) return true;
  return false;
}

/* Whether node's inputs are all constants with data the ops can read, and nothing else keeps
 * it in the graph. */
static bool foldable(const ofx_graph *g, const ofx_node *node, const ofx_op_def *def) {
  if (node->proto == NULL || node->n_implicit_inputs || def == NULL || def->run == NULL) return false;
  size_t present = 0;
  for (size_t k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    if (v < 0) continue;
    const ofx_value *value = &g->values[v];
    /* deferred constants (external data, float16 weights, a split model's initializers) are read
     * for the evaluation: the folded value is what extractors need, as for in-memory ones */
    if (value->kind != OFX_VALUE_CONSTANT || value->rank < 0 || ofx_dtype_size(value->dtype) == 0 ||
        (value->data == NULL && value->nbytes && !ofx_value_deferred(value)))
      return false;
    present++;
  }
  /* every output named: ops write all their outputs, and a node without one has nothing to fold
   * (extractors never run it) */
  if (node->n_outputs == 0) return false;
  for (size_t k = 0; k < node->n_outputs; k++)
    if (node->outputs[k] < 0 || is_graph_output(g, node->outputs[k])) return false;
  return present > 0;
}

/* A failure that leaves the node to the extractors: anything but running out of memory. */
static ofx_status skip(ofx_status s, bool *folded) {
  if (s == OFX_OUT_OF_MEMORY) return s;
  ofx_error_clear();
  *folded = false;
  return OFX_OK;
}

/* A folded node's single output at least this big is not kept: it is computed again from the
 * node each time it is read (ofx_graph.recompute), one extractor's init at a time, so that a
 * model's weights are not held twice (DequantizeLinear of 8-bit weights: four times their size). */
#define RECOMPUTE_MIN_BYTES ((size_t)64 << 10)

/* The folded nodes whose outputs are recomputed (graph memory; deferred.recompute indexes it). */
typedef struct recompute_table {
  ofx_node *nodes;
  size_t count;
} recompute_table;

typedef enum fold_mode {
  FOLD_KEEP_OR_DEFER, /* outputs into graph memory, or left to recompute when big */
  FOLD_INTO_DEST,     /* output 0 into the caller's block (recompute) */
} fold_mode;

/* Evaluates one node. in/out hold n_inputs/n_outputs tensors; copies[] the aligned copies of
 * unaligned or deferred constants (freed by the caller). FOLD_KEEP_OR_DEFER: outputs become
 * constants in graph memory, except a big single output, for which only its shape is set and
 * *deferred is true (big deferred inputs are then never read); FOLD_INTO_DEST: output 0 is
 * written at dest. */
static ofx_status evaluate(ofx_graph *g, const ofx_node *node, const ofx_op_def *def, ofx_tensor *in, ofx_tensor *out,
                           void **copies, fold_mode mode, void *dest, bool *folded, bool *deferred) {
  *folded = true;
  *deferred = false;
  bool unread = false; /* big deferred inputs given by shape until the node is known to run */
  for (size_t k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    in[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL, OFX_LAYOUT_NCHW};
    if (v < 0) continue;
    const ofx_value *value = &g->values[v];
    if (mode == FOLD_KEEP_OR_DEFER && ofx_value_deferred(value) && value->nbytes > OFX_PLAN_EVAL_MAX * 8) {
      in[k] = (ofx_tensor){value->dtype, value->rank, {0}, NULL, OFX_LAYOUT_NCHW};
      memcpy(in[k].dims, value->dims, sizeof in[k].dims);
      unread = true;
      continue;
    }
    OFX_TRY(ofx_constant_tensor(g, v, &in[k], &copies[k]));
  }
  uint8_t *flags = calloc(node->n_inputs + 1, 1);
  if (flags == NULL) return ofx_plan_oom("folding constants");
  ofx_op op = {.def = def, .graph = g, .node = node, .opset = g->opset, .input_flags = flags};
  void *scratch = NULL;
  ofx_status s = def->init(&op);
  if (s != OFX_OK) {
    s = skip(s, folded);
    goto done;
  }
  for (size_t k = 0; k < node->n_outputs; k++) out[k] = (ofx_tensor){OFX_DTYPE_UNDEFINED, -1, {0}, NULL, OFX_LAYOUT_NCHW};
  if ((s = def->reshape(&op, in, out)) != OFX_OK) {
    s = skip(s, folded);
    goto done;
  }
  for (size_t k = 0; k < node->n_outputs && *folded; k++) {
    size_t numel, esize = ofx_dtype_size(out[k].dtype);
    if (node->outputs[k] < 0) continue;
    /* absurd sizes stay in the graph: the extractor that needs them says so */
    if (out[k].rank < 0 || esize == 0 || !ofx_shape_numel(out[k].dims, out[k].rank, &numel) ||
        (uint64_t)numel * esize > OFX_MEMORY_LIMIT) {
      *folded = false;
      goto done;
    }
    size_t bytes = numel * esize;
    if (mode == FOLD_INTO_DEST) {
      out[k].data = dest;
      continue;
    }
    if (node->n_outputs == 1 && bytes >= RECOMPUTE_MIN_BYTES) {
      *deferred = true; /* the caller records the shape: nothing runs now */
      goto done;
    }
    char *block = ofx_graph_alloc(g, bytes + OFX_TENSOR_ALIGNMENT);
    if (block == NULL) {
      s = ofx_plan_oom("folding constants");
      goto done;
    }
    out[k].data = block + (OFX_TENSOR_ALIGNMENT - (uintptr_t)block % OFX_TENSOR_ALIGNMENT) % OFX_TENSOR_ALIGNMENT;
  }
  for (size_t k = 0; unread && k < node->n_inputs; k++) /* it runs: the big inputs are read now */
    if (node->inputs[k] >= 0 && in[k].data == NULL && in[k].rank >= 0)
      if ((s = ofx_constant_tensor(g, node->inputs[k], &in[k], &copies[k])) != OFX_OK) goto done;
  if ((uint64_t)op.scratch_bytes > OFX_MEMORY_LIMIT) {
    *folded = false;
    goto done;
  }
  if (op.scratch_bytes && (scratch = ofx_plan_aligned_block(op.scratch_bytes)) == NULL) {
    s = ofx_plan_oom("folding constants");
    goto done;
  }
  ofx_run_context ctx = {NULL, scratch};
  def->run(&op, in, out, &ctx);
  for (size_t k = 0; k < node->n_outputs && mode == FOLD_KEEP_OR_DEFER; k++) {
    int v = node->outputs[k];
    if (v < 0) continue;
    size_t numel = ofx_tensor_numel(&out[k]);
    ofx_graph_make_constant(g, v, out[k].dtype, out[k].rank, out[k].dims, out[k].data, numel * ofx_dtype_size(out[k].dtype));
  }
done:
  if (def->destroy) def->destroy(&op);
  else free(op.state);
  free(scratch);
  free(flags);
  return s;
}

/* ofx_graph.recompute: runs the folded node again into dest. */
static ofx_status recompute(const ofx_graph *graph, int v, void *dest) {
  ofx_graph *g = (ofx_graph *)graph; /* evaluate writes nothing to it in FOLD_INTO_DEST */
  const recompute_table *table = g->recompute_ctx;
  const ofx_node *node = &table->nodes[g->values[v].deferred.recompute];
  const ofx_op_def *def = ofx_op_for_node(node);
  ofx_tensor *in = calloc(node->n_inputs + 1, sizeof *in), *out = calloc(node->n_outputs + 1, sizeof *out);
  void **copies = calloc(node->n_inputs + 1, sizeof *copies);
  ofx_status s = in && out && copies ? OFX_OK : ofx_plan_oom("computing a folded constant");
  bool folded = false, deferred = false;
  if (s == OFX_OK) s = evaluate(g, node, def, in, out, copies, FOLD_INTO_DEST, dest, &folded, &deferred);
  if (s == OFX_OK && !folded)
    s = ofx_error(OFX_INVALID_ARGUMENT, "constant '%s' could not be computed again from node '%s'", g->values[v].name, node->onnx_name);
  for (size_t k = 0; copies && k < node->n_inputs; k++) free(copies[k]);
  free(in), free(out), free(copies);
  return s;
}

/* Leaves output 0 of node (shape in *t) to be computed when read. */
static ofx_status defer_output(ofx_graph *g, const ofx_node *node, const ofx_tensor *t) {
  recompute_table *table = g->recompute_ctx;
  if (table == NULL) {
    if ((table = ofx_graph_alloc(g, sizeof *table)) == NULL ||
        (table->nodes = ofx_graph_alloc(g, (g->n_nodes + 1) * sizeof *table->nodes)) == NULL)
      return ofx_plan_oom("folding constants");
    table->count = 0;
    g->recompute = recompute;
    g->recompute_ctx = table;
  }
  table->nodes[table->count] = *node; /* the node leaves the graph; its inputs stay constants */
  const int v = node->outputs[0];
  ofx_graph_make_constant(g, v, t->dtype, t->rank, t->dims, NULL, ofx_tensor_numel(t) * ofx_dtype_size(t->dtype));
  g->values[v].deferred.recompute = (int)table->count++;
  return OFX_OK;
}

/* Records where a folded DequantizeLinear's float weights come from (ofx_value.dequantized), for
 * the fuse pass to put the op reading them on 8-bit kernels. */
static void note_dequantized(ofx_graph *g, const ofx_node *node) {
  const ofx_value *q = &g->values[node->inputs[0]];
  int64_t axis = 1;
  if (node->n_outputs < 1 || node->outputs[0] < 0 || (q->dtype != OFX_DTYPE_UINT8 && q->dtype != OFX_DTYPE_INT8) ||
      ofx_node_attr_int(node, "axis", 1, &axis) != OFX_OK) {
    ofx_error_clear();
    return;
  }
  ofx_value *v = &g->values[node->outputs[0]];
  v->dequantized.q = node->inputs[0];
  v->dequantized.scale = node->n_inputs > 1 ? node->inputs[1] : -1;
  v->dequantized.zero_point = node->n_inputs > 2 ? node->inputs[2] : -1;
  v->dequantized.axis = (int)(axis < 0 ? axis + q->rank : axis);
}

ofx_status ofx_pass_fold_constants(ofx_graph *g) {
  size_t widest = 1;
  for (size_t i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i].n_inputs > widest) widest = g->nodes[i].n_inputs;
    if (g->nodes[i].n_outputs > widest) widest = g->nodes[i].n_outputs;
  }
  bool *remove = calloc(g->n_nodes + 1, sizeof *remove);
  ofx_tensor *in = calloc(widest, sizeof *in), *out = calloc(widest, sizeof *out);
  void **copies = calloc(widest, sizeof *copies);
  ofx_status s = remove && in && out && copies ? OFX_OK : ofx_plan_oom("folding constants");
  size_t n_removed = 0;
  for (size_t i = 0; i < g->n_nodes && s == OFX_OK; i++) {
    const ofx_node *node = &g->nodes[i];
    const ofx_op_def *def = ofx_op_for_node(node);
    if (!foldable(g, node, def)) continue;
    bool deferred = false;
    s = evaluate(g, node, def, in, out, copies, FOLD_KEEP_OR_DEFER, NULL, &remove[i], &deferred);
    if (s == OFX_OK && deferred) s = defer_output(g, node, &out[0]);
    if (s == OFX_OK && remove[i] && def->kind == OFX_OP_DequantizeLinear) note_dequantized(g, node);
    for (size_t k = 0; k < widest; k++) {
      free(copies[k]);
      copies[k] = NULL;
    }
    n_removed += remove[i];
  }
  if (s == OFX_OK && n_removed) s = ofx_graph_remove_nodes(g, remove);
  free(remove);
  free(in);
  free(out);
  free(copies);
  return s;
}
