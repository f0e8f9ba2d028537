/* The plan: what an extractor runs, built once by the create-time passes and re-derived by the
 * plan-time passes whenever the input shapes change. One structure that every pass reads and
 * fills in its own part of; each pass lives in its own file and does one job.
 *
 *   load (per model)  widen float16   float16 constants become float32 (pass-widen-float16.c)
 *                     fold constants  constant-only subgraphs evaluated once and made graph
 *                                   constants before naming (pass-fold-constants.c)
 *   create (once)     build steps   one op per kept node; init validates and packs weights
 *                     fuse          activation epilogues folded into their producer (pass-fuse.c)
 *   plan (per shape)  fold          shapes step by step; steps whose inputs are all known at
 *                                   plan time are evaluated here and skipped at run (pass-fold.c)
 *                     layout        NHWC/NCHW per tensor, the conversions between them, and each
 *                                   op's final reshape for the layouts it gets (pass-layout.c)
 *                     memory        lifetimes, views that share their input's memory, arena
 *                                   offsets and scratch, pointers bound (pass-memory.c)
 *   run               the steps that are left, in order (extractor.c)
 *
 * explain.c prints the result; docs/architecture.md follows one request through all of it. */
#ifndef OFX_RUNTIME_PLAN_H
#define OFX_RUNTIME_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "ops/op.h"

/* Largest tensor (elements) evaluated at plan time when its data depends on the inputs (a
 * Shape -> Gather -> Concat chain): such data joins the plan key and is compared every run.
 * What depends on constants only is folded whatever its size. */
#define OFX_PLAN_EVAL_MAX 1024

/* A layout conversion: the fast kernels keep activations NHWC, ONNX and NCHW-only ops see
 * NCHW. A converted tensor lives in the arena for the one step that reads it; requested outputs
 * stored NHWC get an NCHW copy at the end (step == n_steps). */
typedef struct ofx_conversion {
  size_t step;
  size_t slot;       /* the step's input index, or the output index */
  int source;        /* value converted */
  bool alias;        /* C == 1 or H*W == 1: both layouts are the same memory, only relabel */
  ofx_tensor tensor; /* the converted tensor */
  size_t offset;     /* arena offset of a copy */
} ofx_conversion;

/* Whether a value's data is known at plan time, and from what. */
enum {
  OFX_KNOWN_NOT = 0,
  OFX_KNOWN_CONSTANT, /* computed from constants only: folded whatever its size */
  OFX_KNOWN_INPUT,    /* computed from input data or shapes: only small tensors (OFX_PLAN_EVAL_MAX) */
};

/* Why a step does not run at run time. */
typedef enum ofx_step_state {
  OFX_STEP_RUNS = 0,
  OFX_STEP_FUSED,  /* its producer applies it (pass-fuse.c); its output aliases the producer's */
  OFX_STEP_FOLDED, /* evaluated at plan time (pass-fold.c) */
  OFX_STEP_VIEW,   /* its output is its input's memory under another shape (pass-memory.c) */
} ofx_step_state;

typedef struct ofx_plan {
  const ofx_graph *graph;
  /* steps: one op per kept node, execution order */
  size_t n_steps;
  ofx_op *steps;
  uint8_t *input_flags; /* the steps' ofx_op.input_flags, one block */
  size_t n_pruned;      /* graph nodes the requested outputs do not need */
  size_t n_inputs;
  size_t *input_nodes; /* graph-input pseudo nodes the plan needs */
  ofx_tensor *inputs;  /* per extractor input: what the plan is made for (data too), set by the caller */
  size_t n_outputs;
  int *output_value; /* requested values, execution order */
  /* per value: shape, layout and data during planning and runs */
  ofx_tensor *tensors;
  void **constant_copies; /* aligned copies of unaligned constants */
  /* fuse (create time) */
  bool fusion;            /* false: the fuse pass leaves every step as it is */
  ofx_progress_fn progress; /* ofx_set_create_progress's, for build steps (NULL: none) */
  void *progress_ctx;
  ofx_step_state *state;  /* per step: fuse sets FUSED; fold FOLDED; memory VIEW */
  int *alias_of;          /* per value: the value whose memory it shares (fused, view), or -1 */
  int *fused_into;        /* per step: the step that applies it when FUSED, else -1 */
  /* fold (plan time) */
  uint8_t *known;     /* per value: OFX_KNOWN_*, whether its data is known at plan time */
  bool *input_known;  /* per extractor input: its data shaped the plan (compared every run) */
  void **plan_blocks; /* plan-owned memory of known values, freed on re-plan */
  size_t n_plan_blocks;
  /* layout */
  ofx_conversion *conversions; /* step order */
  size_t n_conversions, conversions_capacity;
  /* memory */
  size_t *offsets;  /* per value: arena offset, when the arena holds it */
  int *in_place_of; /* per step: the input value whose memory its output took over, or -1 */
  void *arena;
  size_t arena_size, arena_used;
  void *scratch;
  size_t scratch_size, scratch_used;
  /* one op's inputs and outputs, gathered; sized for the widest step */
  ofx_tensor *op_inputs, *op_outputs;
  bool shapes_only; /* built to infer shapes: ops skip packing, planning stops after fold */
  bool float16_weights; /* OFX_EXTRACTOR_FLOAT16_WEIGHTS: ops keep packed weights as float16 */
} ofx_plan;

/* Load time (model.c), before naming: constant-only subgraphs are evaluated once and become
 * constant values of the graph, their nodes removed (pass-fold-constants.c). */
ofx_status ofx_pass_fold_constants(ofx_graph *graph);
/* Before it: float16 constants become float32 (pass-widen-float16.c). */
ofx_status ofx_pass_widen_float16(ofx_graph *graph);

/* Create time: the steps for the nodes marked in keep[] (build-steps.c), then the fuse pass. */
ofx_status ofx_plan_build_steps(ofx_plan *plan, const bool *keep);
/* Passes, in the order they run. */
ofx_status ofx_pass_fuse(ofx_plan *plan);
/* Called by build-steps in place of op's init: a Conv/MatMul the fuse pass would put on 8-bit
 * kernels (QDQ operands) is initialized quantized at once (*fused), so its float weights are
 * never recomputed and packed only to be freed. */
ofx_status ofx_fuse_init_quantized(ofx_plan *plan, ofx_op *op, bool *fused);
ofx_status ofx_pass_fold(ofx_plan *plan);
ofx_status ofx_pass_layout(ofx_plan *plan);
ofx_status ofx_pass_memory(ofx_plan *plan);

/* Shared by the passes (plan.c). */
ofx_status ofx_plan_oom(const char *what);
void *ofx_plan_aligned_block(size_t size);
/* A constant's tensor (dtype, shape, data) for ops to read: its data where it is aligned for its
 * type, else an aligned copy in *copy (the caller frees it; NULL when none was needed). The
 * model's raw_data bytes need not be aligned. */
ofx_status ofx_constant_tensor(const ofx_graph *graph, int v, ofx_tensor *t, void **copy);
/* Lends deferred constant v its elements for a moment (an op's init reading it through its
 * graph value): reads them into a new aligned block, *lent, and points the value's data at it;
 * nothing (*lent NULL) for a constant in memory. ofx_plan_unlend_constant frees the block and
 * makes the value deferred again. */
ofx_status ofx_plan_lend_constant(const ofx_graph *graph, int v, void **lent);
void ofx_plan_unlend_constant(const ofx_graph *graph, int v, void *lent);
/* Memory owned by the current plan (freed by ofx_plan_reset). */
ofx_status ofx_plan_block(ofx_plan *plan, size_t bytes, void **out);
/* Frees everything the plan holds, ops included. */
void ofx_plan_free(ofx_plan *plan);
/* Frees what the last planning made; keeps what create built. */
void ofx_plan_reset(ofx_plan *plan);
/* Gathers a step's input and output tensors from the value tensors into in[], out[]. */
void ofx_plan_gather(const ofx_plan *plan, const ofx_op *op, ofx_tensor *in, ofx_tensor *out);
/* Graph value of extractor input i. */
static inline int ofx_plan_input_value(const ofx_plan *plan, size_t i) {
  return plan->graph->nodes[plan->input_nodes[i]].outputs[0];
}
/* Whether step i runs at run time. */
static inline bool ofx_plan_step_runs(const ofx_plan *plan, size_t i) { return plan->state[i] == OFX_STEP_RUNS; }
/* Bytes of a value's tensor as planned. */
size_t ofx_plan_value_bytes(const ofx_plan *plan, int v);
/* Whether a tensor's NCHW and NHWC memory orders coincide once aligned to rank 4. */
bool ofx_layout_neutral(const ofx_tensor *t);
/* The plan as text (explain.c); *out is malloc'd. */
ofx_status ofx_plan_explain(const ofx_plan *plan, char **out);

#endif
