/* The graph IR: values (tensors) and nodes in execution order, built from a decoded ONNX model.
 * Constant and Identity-of-constant nodes are folded away, graph inputs become the first nodes,
 * and every node gets a torchvision-style dotted name. No maths happens here: the runtime
 * evaluates other constant-only subgraphs and hands their values back (ofx_graph_make_constant). */
#ifndef OFX_GRAPH_GRAPH_H
#define OFX_GRAPH_GRAPH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/strmap.h"
#include "onnx/onnx.h"
#include "onnxfx.h"

typedef enum ofx_value_kind {
  OFX_VALUE_INPUT,    /* a graph input fed by the caller */
  OFX_VALUE_CONSTANT, /* an initializer or a folded constant */
  OFX_VALUE_NODE,     /* computed by a node */
} ofx_value_kind;

typedef struct ofx_value {
  const char *name;
  ofx_value_kind kind;
  int producer; /* node index for OFX_VALUE_NODE and OFX_VALUE_INPUT, else -1 */
  ofx_dtype dtype;
  int rank;                         /* -1 when unknown */
  int64_t dims[OFX_MAX_RANK];       /* -1 where unknown or symbolic */
  const char *dim_params[OFX_MAX_RANK]; /* symbolic dim names, NULL otherwise */
  /* Where the value comes from in the ONNX graph, for writing pruned models: the initializer
   * index, or the index of the (possibly folded) ONNX node producing it; -1 otherwise. */
  int onnx_initializer;
  int onnx_producer;
  /* Constants: element data, possibly unaligned (it may point into the model bytes). */
  const void *data;
  size_t nbytes;
  /* A constant folded at load from DequantizeLinear(q, scale, zero_point) of an 8-bit constant q
   * (runtime/pass-fold-constants.c): the value indices of q, scale and zero point (-1: none) and
   * the axis, so that the planner can run the op reading it on 8-bit kernels (pass-fuse.c).
   * dequantized.q is -1 for every other value. */
  struct {
    int q, scale, zero_point, axis;
  } dequantized;
  /* A constant whose elements stay in external file `file` at `offset`, or in memory at
   * `stored` (a float16 model's weights in the model bytes), or are computed again from the
   * folded node `recompute` (an index for graph->recompute: a big weight the load-time fold
   * would otherwise hold, DequantizeLinear of 8-bit weights), with data NULL until someone reads
   * them with ofx_graph_read_constant; widen_half: stored float16/bfloat16, read as float32.
   * file and recompute are -1 and stored NULL for every other value. */
  struct {
    int file;
    uint64_t offset;
    const void *stored;
    int recompute;
    bool widen_half, bfloat16;
  } deferred;
} ofx_value;

/* Whether v's elements are read on demand (from a file, stored half-precision bytes, or computed). */
static inline bool ofx_value_read_on_demand(const ofx_value *v) {
  return v->deferred.file >= 0 || v->deferred.stored != NULL || v->deferred.recompute >= 0;
}
static inline bool ofx_value_deferred(const ofx_value *v) { return ofx_value_read_on_demand(v) && v->data == NULL; }
/* Marks v's elements as nowhere but v->data: not in a file, stored bytes or a recompute. */
static inline void ofx_value_not_deferred(ofx_value *v) {
  v->deferred.file = -1;
  v->deferred.stored = NULL;
  v->deferred.recompute = -1;
}

/* What the graph layer needs to know about a node's op, given by the op table when the graph is
 * built (ofx_graph_build's describe: ops/op.c's ofx_op_describe). The graph layer includes
 * nothing from src/ops and compares no op-type strings; it reads these. */

/* How an op's output element type follows from its inputs and attributes; write-pruned.c types
 * a pruned model's outputs with it where the model declares none. */
typedef enum ofx_output_type {
  OFX_OUTPUT_LIKE_INPUT0 = 0, /* the default: input 0's type */
  OFX_OUTPUT_LIKE_INPUT1,     /* input 1's (CastLike's target, Where's X) */
  OFX_OUTPUT_INT64,           /* indices and shapes (ArgMax, Shape, NonZero) */
  OFX_OUTPUT_BOOL,            /* comparisons and logic (Equal, Not, IsNaN) */
  OFX_OUTPUT_TO_ATTR,         /* the 'to' attribute (Cast) */
  OFX_OUTPUT_VALUE_ATTR,      /* the 'value' tensor attribute's, float32 when absent (ConstantOfShape) */
  OFX_OUTPUT_FLOAT32,          /* DequantizeLinear */
  OFX_OUTPUT_INT32,            /* integer sums (ConvInteger, MatMulInteger) */
  OFX_OUTPUT_ZERO_POINT,      /* its output zero point's, uint8 when absent: input 2 of QuantizeLinear, input 7 of the
                                 QLinear ops (the ones with 8 or more inputs) */
  OFX_OUTPUT_DYNAMIC_QUANTIZED, /* uint8, but float32 for output 1, the scale (DynamicQuantizeLinear) */
} ofx_output_type;

/* What the graph layer does with a node of an op (ofx_op_traits.flags). */
enum {
  OFX_TRAIT_TRAIN_ONLY = 1u << 0,      /* listed in the train view only: a no-op at inference (Dropout) */
  OFX_TRAIT_CONSTANT = 1u << 1,        /* folded into a constant value at load (Constant) */
  OFX_TRAIT_IDENTITY = 1u << 2,        /* output 0 is input 0: folded when that is a constant (Identity) */
  OFX_TRAIT_READS_SHAPE = 1u << 3,     /* reads its input's shape only: named as shape arithmetic (Shape, Size) */
  OFX_TRAIT_NOT_SHAPE_ARITH = 1u << 4, /* makes tensors even when fed by shape arithmetic only (Expand, Tile) */
  OFX_TRAIT_NAMED_BY_PERM = 1u << 5,   /* torch's transpose when its perm swaps two axes, else permute (Transpose) */
  OFX_TRAIT_QUANT_HELPER = 1u << 6,    /* added by a quantizer around a layer: named but not listed ((Dynamic)QuantizeLinear,
                                          DequantizeLinear) */
  OFX_TRAIT_INTEGER_PRODUCT = 1u << 7, /* an 8-bit layer whose float result a chain after it makes: the chain's last node
                                          takes the layer's name (ConvInteger, MatMulInteger) */
};

typedef struct ofx_op_traits {
  int kind;                    /* the op table's kind; -1 when the table does not know the op */
  const char *torch_name;      /* the torch function naming the node when it is not the lower-cased op
                                * type ("cat" for Concat); NULL otherwise */
  ofx_output_type output_type;
  unsigned flags;              /* OFX_TRAIT_* */
} ofx_op_traits;

/* Fills *out for an op; ops it does not know get OFX_OP_TRAITS_UNKNOWN. */
typedef void (*ofx_op_describe_fn)(const char *domain, const char *op_type, ofx_op_traits *out);
#define OFX_OP_TRAITS_UNKNOWN ((ofx_op_traits){.kind = -1})

typedef struct ofx_node {
  const char *name;      /* torchvision-style dotted name, unique */
  const char *scope;     /* module scope path ("" at the root or when unknown) */
  const char *onnx_name; /* as written in the model (may be empty) */
  const char *op_type;   /* "Input" for graph-input pseudo nodes */
  const char *domain;
  const onnx_node *proto; /* NULL for graph inputs */
  size_t n_inputs, n_outputs;
  int *inputs; /* value indices, -1 for an omitted optional input */
  int *outputs;
  /* Values of enclosing graphs that If/Loop/Scan bodies read: dependencies like inputs. */
  size_t n_implicit_inputs;
  int *implicit_inputs;
  ofx_op_traits traits; /* from the op table at build; OFX_OP_TRAITS_UNKNOWN for graph inputs */
  /* A quantizer's helper (naming.c): named, selectable by its exact name, but not listed and
   * never what a truncated name selects, so that a quantized model lists the float one's names. */
  bool unlisted;
} ofx_node;

/* torchvision's two views of a model: the nodes traced in train mode and in eval mode. */
typedef enum ofx_view { OFX_VIEW_TRAIN = 0, OFX_VIEW_EVAL = 1 } ofx_view;

/* A name listed by getGraphNodeNames: a node, or a module scope standing for its last node. */
typedef struct ofx_listed_name {
  const char *name;
  int node;
} ofx_listed_name;

/* External data files given to ofx_model_load_external (buffers owned by the caller), or, with
 * data NULL, read on demand through `read` (ofx_model_load_deferred). */
typedef struct ofx_external_files {
  size_t count;
  const char *const *locations;
  const uint8_t *const *data;
  const size_t *sizes;
  ofx_external_reader read;
  void *read_ctx;
} ofx_external_files;

typedef struct ofx_graph {
  ofx_arena arena;
  const ofx_external_files *external; /* set during ofx_graph_build_external only */
  const onnx_model *model;
  int64_t opset; /* version of the default ("" / ai.onnx) domain */
  size_t n_values, n_nodes, n_inputs, n_outputs;
  ofx_value *values;
  ofx_node *nodes; /* execution order; graph inputs first */
  int *inputs;     /* value indices of the graph inputs (not initializers) */
  int *outputs;    /* value indices of the graph outputs */
  size_t n_listed[2];
  ofx_listed_name *listed[2]; /* per view, execution order */
  ofx_strmap value_index; /* value name -> index */
  ofx_external_reader read_external; /* deferred external data (NULL: all of it is in memory) */
  void *read_ctx;
  const char **external_locations; /* their files' locations, for errors (deferred.file indexes it) */
  /* Computes constant v (deferred.recompute >= 0) into dest: set by the load-time fold, which
   * knows how to run the node it left the value to (the graph layer runs no ops). */
  ofx_status (*recompute)(const struct ofx_graph *graph, int v, void *dest);
  void *recompute_ctx;
} ofx_graph;

/* Builds the IR from model bytes; the bytes must outlive the graph. `describe` gives every node
 * its traits (the library passes ops/op.c's ofx_op_describe; NULL: no op is known, so nothing is
 * folded and every node is named by its lower-cased op type). */
ofx_status ofx_graph_build(const uint8_t *bytes, size_t size, ofx_op_describe_fn describe, ofx_graph **out);
/* The same, resolving external tensor data in `external` (NULL: none given). */
ofx_status ofx_graph_build_external(const uint8_t *bytes, size_t size, const ofx_external_files *external,
                                    ofx_op_describe_fn describe, ofx_graph **out);
void ofx_graph_free(ofx_graph *graph);

/* Building in steps, so that the runtime can fold constant subgraphs before names are made
 * (runtime/model.c): ofx_graph_build_external is ofx_graph_build_unnamed, then
 * ofx_graph_name_nodes. Between the two, node names are NULL (errors name the ONNX name). */
ofx_status ofx_graph_build_unnamed(const uint8_t *bytes, size_t size, const ofx_external_files *external,
                                   ofx_op_describe_fn describe, ofx_graph **out);
/* Gives every node its dotted name and fills graph->listed (naming.c). */
ofx_status ofx_graph_name_nodes(ofx_graph *graph);

/* Folding evaluated nodes into constants (graph-fold.c), before naming. ofx_graph_alloc gives
 * graph-owned memory (16-byte aligned, freed with the graph, NULL when out of memory);
 * ofx_graph_make_constant makes value v a constant holding `data` (the value keeps its
 * onnx_producer, so that a pruned model writes the original node back); ofx_graph_remove_nodes
 * drops the nodes marked in remove[], whose outputs must all be constants by then, keeping the
 * node list compact and producer indices right. */
void *ofx_graph_alloc(ofx_graph *graph, size_t bytes);
void ofx_graph_make_constant(ofx_graph *graph, int v, ofx_dtype dtype, int rank, const int64_t *dims, const void *data,
                             size_t nbytes);
ofx_status ofx_graph_remove_nodes(ofx_graph *graph, const bool *remove);
/* Reads constant v's v->nbytes bytes of elements into dest, from memory or, for a deferred one,
 * from its external file (float16 widened to float32 when the load-time pass asked for it). */
ofx_status ofx_graph_read_constant(const ofx_graph *graph, int v, void *dest);
/* Quantization parameters as constants carry them: one float32 element in memory (a scale), or
 * one uint8/int8 element (a zero point, with its type); false for anything else. */
bool ofx_value_scalar_f32(const ofx_value *v, float *out);
bool ofx_value_scalar_8bit(const ofx_value *v, int32_t *out, ofx_dtype *type);
/* Marks a deferred float16/bfloat16 constant to be read as float32 (pass-widen-float16.c). */
void ofx_graph_defer_widening(ofx_graph *graph, int v);
/* Makes an in-memory float16/bfloat16 constant deferred: its bytes stay where they are and each
 * read widens them (pass-widen-float16.c), so no float32 copy lives as long as the model. */
void ofx_graph_defer_in_memory_half(ofx_graph *graph, int v);

/* Replaces constant v's elements by `data` of another element type, keeping where the value
 * comes from (initializer or node): float16 weights widened to float32 (graph-fold.c). */
void ofx_graph_set_constant_data(ofx_graph *graph, int v, ofx_dtype dtype, const void *data, size_t nbytes);

static inline bool ofx_node_in_view(const ofx_node *node, ofx_view view) {
  return !(view == OFX_VIEW_EVAL && (node->traits.flags & OFX_TRAIT_TRAIN_ONLY));
}

/* Resolves a request to (node, output index) in a view (selection.c): the last node in
 * execution order named `request` or inside scope `request`; "name:k" addresses output k. */
ofx_status ofx_graph_resolve(const ofx_graph *graph, const char *request, ofx_view view,
                             size_t *node_index, size_t *output_index);
/* Marks in keep[] every node that the given nodes' outputs depend on, them included. */
ofx_status ofx_graph_prune(const ofx_graph *graph, const size_t *nodes, size_t count, bool *keep);

/* Writes the part of the model that `output_values` need as a standalone ONNX model whose
 * outputs are named `output_names` (write-pruned.c). *out is malloc'd; the caller frees it. */
ofx_status ofx_graph_write_pruned(const ofx_graph *graph, const int *output_values,
                                  const char *const *output_names, size_t count, uint8_t **out,
                                  size_t *out_size);

/* A value's ONNX element type: declared, or followed through its producers as their ops' output
 * types say; FLOAT32 when nothing tells (write-pruned.c). Not the type it is computed in: float16
 * values are computed as float32. */
int32_t ofx_value_onnx_type(const ofx_graph *graph, int v);

/* Element count of a static shape; false when a dim is unknown or the product overflows. */
bool ofx_shape_numel(const int64_t *dims, int rank, size_t *numel);
size_t ofx_dtype_size(ofx_dtype dtype);

/* Records an error prefixed with the node's name, op type and ONNX name (node-attributes.c). */
ofx_status ofx_node_error(const ofx_node *node, ofx_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ofx_status ofx_node_verror(const ofx_node *node, ofx_status status, const char *fmt, va_list args);

/* A node's attributes by type (node-attributes.c). An absent attribute gives the default (a list
 * gives *count 0); a present one of another type is BAD_MODEL naming the node and the attribute.
 * Old exporters' attributes without a type are read by the field they fill. */
bool ofx_node_has_attr(const ofx_node *node, const char *name);
ofx_status ofx_node_attr_int(const ofx_node *node, const char *name, int64_t default_value, int64_t *out);
ofx_status ofx_node_attr_float(const ofx_node *node, const char *name, float default_value, float *out);
/* Reads up to `capacity` values (more is BAD_MODEL); out NULL only counts them. */
ofx_status ofx_node_attr_ints(const ofx_node *node, const char *name, int64_t *out, size_t capacity,
                              size_t *count);
ofx_status ofx_node_attr_floats(const ofx_node *node, const char *name, float *out, size_t capacity,
                                size_t *count);
/* Copies a string attribute into out (NUL-terminated); too long for capacity is BAD_MODEL. */
ofx_status ofx_node_attr_string(const ofx_node *node, const char *name, const char *default_value, char *out,
                                size_t capacity);

/* A tensor attribute's type and shape (ConstantOfShape's 'value'); rank -1 when it is absent. */
typedef struct ofx_attr_tensor {
  ofx_dtype dtype;
  int rank;
  int64_t dims[OFX_MAX_RANK];
  size_t numel;
} ofx_attr_tensor;
/* Reads a tensor attribute, and copies its elements into data (numel * element size bytes, at
 * most `capacity`, else BAD_MODEL). data NULL, or a type without a fixed element size
 * (strings): the type and shape only. */
ofx_status ofx_node_attr_tensor(const ofx_node *node, const char *name, ofx_attr_tensor *out, void *data,
                                size_t capacity);

#endif
