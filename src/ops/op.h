/* The operator interface: every op family implements init (validate attributes, pack constant
 * weights), reshape (output types and shapes from input shapes) and run (compute), the same
 * create/reshape/run split XNNPACK operators use, so faster kernels plug in without touching
 * the runtime. */
#ifndef OFX_OPS_OP_H
#define OFX_OPS_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "onnxfx.h"
#include "ops/op-kind.h"

/* Memory order of a rank-4 activation. dims are always the logical (ONNX, NCHW) shape; NHWC
 * says the data is stored with channels innermost, the order the fast kernels want. */
typedef enum ofx_layout { OFX_LAYOUT_NCHW = 0, OFX_LAYOUT_NHWC = 1 } ofx_layout;

typedef struct ofx_tensor {
  ofx_dtype dtype;
  int rank; /* -1 for an omitted optional input */
  int64_t dims[OFX_MAX_RANK];
  void *data;
  ofx_layout layout; /* NCHW unless a rank-4 tensor is stored NHWC */
} ofx_tensor;

/* What an op wants its rank-4 inputs to be; the runtime converts where layouts differ. */
typedef enum ofx_op_input_layout {
  OFX_OP_WANTS_NCHW = 0, /* the default: every input in ONNX order */
  OFX_OP_WANTS_NHWC,     /* input 0 NHWC (Conv, pooling); the op sets its outputs' layout */
  OFX_OP_ANY_LAYOUT,     /* elementwise: rank-4 inputs share input 0's layout, the op handles it */
} ofx_op_input_layout;

typedef struct ofx_threadpool ofx_threadpool;

/* The 8-bit operands behind a float op's dequantized inputs in a QDQ model (.fuse_quantized). */
typedef struct ofx_quantized_operands {
  int x;              /* the float value the input's QuantizeLinear reads */
  float x_scale;      /* and its constant per-tensor parameters */
  int32_t x_zero_point;
  ofx_dtype x_type;   /* uint8 or int8 */
  const ofx_value *w, *w_scale, *w_zero_point; /* 8-bit constant weights (zero point may be NULL) */
  int w_axis;         /* the axis of per-axis w parameters */
} ofx_quantized_operands;

/* What an op's init says about one of its inputs (ofx_op_mark_input). */
enum {
  OFX_INPUT_PACKED = 1u << 0,     /* a constant packed by init: run never reads it */
  OFX_INPUT_PLAN = 1u << 1,       /* reshape reads its data (Reshape's shape, Resize's scales) */
  OFX_INPUT_SHAPE_ONLY = 1u << 2, /* run reads only its shape, never its data (Shape, Size) */
};

typedef struct ofx_run_context {
  ofx_threadpool *pool; /* NULL: run on the calling thread */
  void *scratch;        /* at least op->scratch_bytes, 16-byte aligned */
} ofx_run_context;

typedef struct ofx_op ofx_op;

/* An activation the runtime folds into the op producing its input (see fuse_activations in
 * runtime/extractor.c). */
typedef enum ofx_activation_kind {
  OFX_ACTIVATION_CLAMP,     /* min(max(x, min), max): Relu, Clip */
  OFX_ACTIVATION_SIGMOID,
  OFX_ACTIVATION_HARDSIGMOID, /* clamp(x / 6 + 0.5, 0, 1) (HardSigmoid with those alpha, beta) */
  OFX_ACTIVATION_HARDSWISH, /* x * hardsigmoid(x): HardSwish, or HardSigmoid(v) -> Mul(v, hardsigmoid(v)) */
  OFX_ACTIVATION_SWISH,     /* SiLU, x * sigmoid(x): Sigmoid(v) -> Mul(v, sigmoid(v)) */
  OFX_ACTIVATION_ROUND_TRIP, /* QuantizeLinear -> DequantizeLinear of QDQ models: x onto the 8-bit grid,
                                (clamp(round(x / scale) + zero_point, min, max) - zero_point) * scale */
} ofx_activation_kind;

typedef struct ofx_activation {
  ofx_activation_kind kind;
  float min, max;     /* OFX_ACTIVATION_CLAMP; ROUND_TRIP: the 8-bit type's range */
  float scale;        /* OFX_ACTIVATION_ROUND_TRIP */
  int32_t zero_point; /* OFX_ACTIVATION_ROUND_TRIP */
} ofx_activation;

/* Everything the code knows about one op, written with designated initializers only (fields
 * left out are NULL, 0 or the first enumerator):
 *
 *   const ofx_op_def ofx_op_relu = {.op_type = "Relu", .kind = OFX_OP_Relu, .init = relu_init,
 *                                   .reshape = unary_reshape, .run = clamp_run,
 *                                   .input_layout = OFX_OP_ANY_LAYOUT, .activation = clamp_activation};
 *
 * Adding an op: write its definition in the family's file and add its row to op-defs.inc. A
 * definition without .run is one the table only describes (Constant: folded at load; NonZero:
 * typed in pruned models); ofx_op_find and ofx_op_for_node say such ops are not supported. */
typedef struct ofx_op_def {
  const char *op_type; /* the ONNX op type, as its row in op-defs.inc names it */
  ofx_op_kind kind;    /* its row: OFX_OP_<op_type> */
  /* Validates attributes and constant inputs and packs weights into op->state. Input shapes of
   * non-constant inputs are not known yet. */
  ofx_status (*init)(ofx_op *op);
  /* Sets out[k].dtype/rank/dims from the inputs', validates them, and may set
   * op->scratch_bytes. in[k].data is non-NULL whenever input k's data is known at plan time:
   * constants, small integer graph inputs, inputs marked OFX_INPUT_PLAN, and outputs of ops
   * the planner evaluated early (see runtime/extractor.c). Ops that need an input's data to
   * size their outputs (Reshape's target, Slice's starts) read it here and fail when it is
   * NULL. */
  ofx_status (*reshape)(ofx_op *op, const ofx_tensor *in, ofx_tensor *out);
  /* Computes outputs from inputs with the shapes of the last reshape. Cannot fail. NULL: the
   * op is described, not run. */
  void (*run)(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx);
  /* Frees op->state (may be NULL: then free(op->state) is used). */
  void (*destroy)(ofx_op *op);
  ofx_op_input_layout input_layout;

  /* Fusion. The runtime folds an activation node into the op producing its input when that
   * producer has .fuse_activation and the activation node's .activation says what it is (the
   * runtime's fusion pass). Both are optional and called after init.
   * - activation: this op as an activation (Relu and Clip with constant bounds: CLAMP; Sigmoid;
   *   HardSwish; HardSigmoid with alpha 1/6, beta 0.5); false when this node is none.
   * - fuse_activation: folds `act` into this op's output (Conv's epilogue); false when it
   *   cannot, and the activation then runs as its own node.
   * A new fusable activation: an ofx_activation_kind if none fits, the .activation of its op,
   * and a case in each .fuse_activation that can apply it. */
  bool (*activation)(const ofx_op *op, ofx_activation *act);
  bool (*fuse_activation)(ofx_op *op, const ofx_activation *act);
  /* Optional, for the dequantizing chain of dynamically quantized models (fuse pass):
   * Integer op -> Cast(float) -> Mul(., x_scale * w_scale) [-> Add(., bias)] becomes this op
   * writing float32: y = float(acc) * (x_scale * w_scale) + bias. `x_scale` is the value the op
   * then reads at run (op->extra_input), `w_scale` and `bias` constants (bias NULL: none). False
   * when it cannot; the chain then runs as it is. */
  bool (*fuse_dequantize)(ofx_op *op, int x_scale, const ofx_value *w_scale, const ofx_value *bias);
  /* Optional, for QDQ models (called while steps are built, instead of init, with op->state
   * NULL; see pass-fuse.c): this float op's input 0 is DequantizeLinear(
   * QuantizeLinear(x)) with constant per-tensor parameters and its weights a constant folded
   * from DequantizeLinear of 8-bit weights. The op then runs on the 8-bit kernels, reading x (as
   * op->extra_input) and quantizing it itself; input 0 only gives its shape. False when it
   * cannot; init then runs, and the op computes in float on the dequantized values. */
  bool (*fuse_quantized)(ofx_op *op, const ofx_quantized_operands *q);

  /* Output 0 is input 0's elements in the same order under another shape (Reshape, Flatten,
   * Squeeze, Unsqueeze, Identity): the planner may let it share input 0's memory and skip run. */
  bool view;
  /* Output 0 may be written over input k's memory when input k has output 0's shape, type and
   * layout and dies at this step: run reads each element before writing the same element (Add,
   * Relu, Sigmoid). The memory pass decides. */
  bool in_place;

  /* What the graph layer knows of the op's nodes (ofx_op_describe: graph/graph.h's ofx_op_traits). */
  const char *torch_name;      /* torch function naming its nodes, when not the lower-cased op type */
  ofx_output_type output_type; /* how its output element type follows (default: input 0's) */
  unsigned trait_flags;        /* OFX_TRAIT_*: folded at load, train view only, shape arithmetic... */
} ofx_op_def;

struct ofx_op {
  const ofx_op_def *def;
  const ofx_graph *graph;
  const ofx_node *node;
  int64_t opset;
  void *state;
  /* Per node input (n_inputs entries, zeroed by the runtime before init): OFX_INPUT_* flags set
   * by init. Flags, not bit masks, so that a Concat of 49 inputs is no different from one of 2. */
  uint8_t *input_flags;
  bool shapes_only;       /* built only to infer shapes: init may skip packing weights */
  bool float16_weights;   /* keep packed weights as float16 (OFX_EXTRACTOR_FLOAT16_WEIGHTS; ops/packed-weights.h) */
  size_t scratch_bytes;
  size_t packed_bytes; /* weights init packed into op->state (explain's totals) */
  /* A value the op reads at run beyond its node's inputs, as in[node->n_inputs] (-1: none): set
   * by a fusion that gives the op another node's input (fuse_dequantize's x_scale). */
  int extra_input;
};

/* The op definition for a node, or NULL when the op is not supported. The one place that
 * compares op-type strings; everything else compares kinds. */
const ofx_op_def *ofx_op_find(const char *domain, const char *op_type);
/* The definition of a kind (kind < OFX_OP_KIND_COUNT); its .run is NULL for ops only described. */
const ofx_op_def *ofx_op_def_of_kind(ofx_op_kind kind);
/* The definition that runs a node (by its traits' kind), or NULL when the op is not supported. */
const ofx_op_def *ofx_op_for_node(const ofx_node *node);
/* The graph layer's view of an op (an ofx_op_describe_fn for ofx_graph_build): its kind and the
 * definition's .torch_name, .output_type, .trait_flags; OFX_OP_TRAITS_UNKNOWN for ops the table
 * does not know, or in another domain. */
void ofx_op_describe(const char *domain, const char *op_type, ofx_op_traits *out);

/* Allocates op->state (zeroed, `size` bytes) for an init; OUT_OF_MEMORY naming the node if not.
 * The extractor frees it (or the op's destroy does). */
ofx_status ofx_op_state_new(ofx_op *op, size_t size);

/* Records an error prefixed with the node's name, op type and ONNX name. */
ofx_status ofx_op_error(const ofx_op *op, ofx_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets or clears OFX_INPUT_* flags of input k (ignored past the node's inputs). */
static inline void ofx_op_mark_input(ofx_op *op, size_t k, unsigned flags) {
  if (k < op->node->n_inputs) op->input_flags[k] |= (uint8_t)flags;
}
static inline void ofx_op_unmark_input(ofx_op *op, size_t k, unsigned flags) {
  if (k < op->node->n_inputs) op->input_flags[k] &= (uint8_t)~flags;
}
static inline bool ofx_op_input_is(const ofx_op *op, size_t k, unsigned flag) {
  return k < op->node->n_inputs && (op->input_flags[k] & flag) != 0;
}

/* Constant input k as a graph value, or NULL when the input is absent or not constant. */
const ofx_value *ofx_op_const_input(const ofx_op *op, size_t k);
bool ofx_op_has_input(const ofx_op *op, size_t k);

/* Attributes: read with the node accessors of graph/graph.h, ofx_node_attr_int(op->node, ...),
 * whose errors name the node and the attribute like ofx_op_error. */

/* Writes "[1, 3, 224, 224]" into buf. */
const char *ofx_shape_str(const int64_t *dims, int rank, char *buf, size_t size);


/* Checks that input k is present with the given dtype and (rank >= 0) rank; the error names the
 * input and its shape. */
ofx_status ofx_op_check_input(const ofx_op *op, const ofx_tensor *in, size_t k, ofx_dtype dtype,
                              int rank);
/* Normalizes a possibly negative axis against rank; error when out of range. */
ofx_status ofx_op_axis(const ofx_op *op, const char *what, int64_t axis, int rank, int *out);
/* The type the runtime computes values of ONNX type t in: float32 for float16 and bfloat16
 * (weights are widened when the model loads, inputs when they are set; docs/api.md "float16"),
 * else t. */
static inline bool ofx_dtype_is_half(ofx_dtype t) { return t == OFX_DTYPE_FLOAT16 || t == OFX_DTYPE_BFLOAT16; }
static inline ofx_dtype ofx_compute_dtype(ofx_dtype t) { return ofx_dtype_is_half(t) ? OFX_DTYPE_FLOAT32 : t; }

/* Element count of a tensor whose shape is fully known. */
size_t ofx_tensor_numel(const ofx_tensor *t);
#endif
