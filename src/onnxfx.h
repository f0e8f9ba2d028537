/* onnxfx: torchvision-style feature extraction for ONNX models.
 *
 * The only public C header. A model is loaded from ONNX bytes, its nodes get torchvision-style
 * dotted names, and an extractor built for some of those names runs only the part of the graph
 * they depend on.
 *
 * Every fallible call returns an ofx_status; on anything but OFX_OK, ofx_last_error() holds a
 * message naming what is wrong and where (node, op, field). Results come back through
 * out-pointers. Nothing here aborts on bad input. */
#ifndef ONNXFX_H
#define ONNXFX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X-macro: name, code. The names double as the JS Error codes. */
#define OFX_STATUS_LIST(X)  \
  X(OK, 0)                  \
  X(BAD_MODEL, 1)           \
  X(NODE_NOT_FOUND, 2)      \
  X(UNSUPPORTED_OP, 3)      \
  X(BAD_INPUT, 4)           \
  X(OUT_OF_MEMORY, 5)       \
  X(INVALID_ARGUMENT, 6)

typedef enum ofx_status {
#define OFX_STATUS_ENUM(name, code) OFX_##name = code,
  OFX_STATUS_LIST(OFX_STATUS_ENUM)
#undef OFX_STATUS_ENUM
} ofx_status;

/* The calling thread's last error message; valid until the next failing call on that thread. */
const char *ofx_last_error(void);
const char *ofx_status_name(ofx_status status);

/* Threads every extractor's kernels use, process-wide (default 1). In WebAssembly, more than
 * one needs the pthreads build (cross-origin isolated pages in browsers); the count actually
 * available may be lower than asked: ofx_get_num_threads() tells. Call between runs. */
ofx_status ofx_set_num_threads(size_t threads);
size_t ofx_get_num_threads(void);

/* Element types use ONNX's TensorProto.DataType numbering. */
typedef enum ofx_dtype {
  OFX_DTYPE_UNDEFINED = 0,
  OFX_DTYPE_FLOAT32 = 1,
  OFX_DTYPE_UINT8 = 2,
  OFX_DTYPE_INT8 = 3,
  OFX_DTYPE_INT32 = 6,
  OFX_DTYPE_INT64 = 7,
  OFX_DTYPE_BOOL = 9,
  OFX_DTYPE_FLOAT16 = 10,  /* inputs only: computed, and returned, as float32 */
  OFX_DTYPE_BFLOAT16 = 16, /* the same */
} ofx_dtype;

#define OFX_MAX_RANK 8

typedef struct ofx_model ofx_model;
typedef struct ofx_extractor ofx_extractor;

/* Parses ONNX bytes and names every node. Zero-copy: weights point into `bytes`, which must stay
 * alive and unchanged until ofx_model_free. */
ofx_status ofx_model_load(const uint8_t *bytes, size_t size, ofx_model **out_model);
void ofx_model_free(ofx_model *model);

/* ofx_model_load for a model that keeps tensors in external files (TensorProto.data_location =
 * EXTERNAL, as onnx.save(..., save_as_external_data=True) writes): file i, named locations[i]
 * exactly as the model's "location" entries spell it, is files[i] with sizes[i] bytes. Reading
 * the files, and deciding which paths are allowed, is the caller's job. Tensors point into these
 * buffers (zero-copy), which must stay alive and unchanged until ofx_model_free. A location the
 * table lacks, or an offset/length outside its file, is OFX_BAD_MODEL. */
ofx_status ofx_model_load_external(const uint8_t *bytes, size_t size, const char *const *locations,
                                   const uint8_t *const *files, const size_t *sizes, size_t count,
                                   ofx_model **out_model);

/* Reads `length` bytes at `offset` of external file `file` (its index in the locations table)
 * into dest; anything but OFX_OK fails the call that needed the bytes (its message is kept). */
typedef ofx_status (*ofx_external_reader)(void *ctx, size_t file, uint64_t offset, size_t length, void *dest);

/* ofx_model_load_external for external data that is not in memory: sizes[i] is file i's size,
 * and its tensors are read through `reader` when something needs them — each extractor reads
 * the weights it packs, one node at a time, and keeps only the packed form — so a model's
 * external data never sits in memory whole (a model whose weights and their packed copy would
 * not fit together still runs). reader and ctx must stay valid until ofx_model_free. */
ofx_status ofx_model_load_deferred(const uint8_t *bytes, size_t size, const char *const *locations, const size_t *sizes,
                                   size_t count, ofx_external_reader reader, void *ctx, ofx_model **out_model);

/* A JSON description owned by the model:
 * {"inputs":[{"name","type","dims"}], "outputs":[...],
 *  "nodes":[{"name","opType","onnxName","inputs","outputs"}],
 *  "trainNodes":[names], "evalNodes":[names]}
 * Dims are numbers, or strings for symbolic dims, or null when unknown. */
const char *ofx_model_describe_json(const ofx_model *model);

/* Output shapes of the nodes that static inference reaches, as JSON {"valueName": dims}, dims
 * as in ofx_model_describe_json: numbers, a symbolic input dim's name where the output dim
 * follows it ("batch"), null where it depends on the input some other way. Inferred by
 * planning (no computation) for the declared input shapes; computed on the first call and
 * cached; values behind unsupported ops are absent. */
ofx_status ofx_model_infer_shapes(ofx_model *model, const char **out_json);

/* ofx_extractor_create flags. */
enum {
  OFX_EXTRACTOR_TRAIN = 1,     /* names from the train view (else eval) */
  OFX_EXTRACTOR_NO_FUSION = 2, /* no activation fusion: every node runs as its own step */
  /* Packed Conv/Gemm/MatMul weights kept as float16 (half the memory; widened per layer before
   * the float32 kernels run, which costs about 2^-11 relative error per weight). */
  OFX_EXTRACTOR_FLOAT16_WEIGHTS = 4,
};

/* Builds an extractor for `count` requested node names (full or truncated dotted names). The
 * extractor returns one output per request, in execution order; ofx_extractor_output_request
 * maps each output back to the request it answers. `flags`: OFX_EXTRACTOR_*. */
ofx_status ofx_extractor_create(ofx_model *model, const char *const *names, size_t count, unsigned flags,
                                ofx_extractor **out_extractor);
void ofx_extractor_free(ofx_extractor *extractor);

/* Progress of ofx_extractor_create while it reads and packs weights: `done` of `total` bytes of
 * the constants its nodes read (weights, mostly), reported as nodes are built, about every 1%
 * and once at the end. Process-wide, like the thread count: set it around the create call it
 * concerns; fn NULL: none. fn must not call back into onnxfx. */
typedef void (*ofx_progress_fn)(void *ctx, uint64_t done, uint64_t total);
void ofx_set_create_progress(ofx_progress_fn fn, void *ctx);

size_t ofx_extractor_input_count(const ofx_extractor *extractor);
/* Index of the model input (in ofx_model_describe_json's "inputs") that extractor input i is. */
size_t ofx_extractor_input_model_index(const ofx_extractor *extractor, size_t i);
size_t ofx_extractor_output_count(const ofx_extractor *extractor);
size_t ofx_extractor_output_request(const ofx_extractor *extractor, size_t i);
/* Number of graph nodes the pruned plan runs (graph inputs excluded). */
size_t ofx_extractor_planned_node_count(const ofx_extractor *extractor);

/* Binds input i (extractor order) to caller memory, which must stay valid during the next run. */
ofx_status ofx_extractor_set_input(ofx_extractor *extractor, size_t i, ofx_dtype dtype,
                                   const int64_t *dims, size_t rank, const void *data, size_t size);
ofx_status ofx_extractor_run(ofx_extractor *extractor);

/* Profiling: while on, each run adds the wall time of every planned step (its layout
 * conversions included) to that step's total; turning it on clears the totals. Steps are
 * in execution order; step n_steps is the final copy of NHWC outputs to NCHW. Steps folded
 * at plan time or fused into the step before them stay at 0. */
ofx_status ofx_extractor_set_profiling(ofx_extractor *extractor, int on);
/* Graph node index (in ofx_model_describe_json's "nodes") of step i < planned node count. */
size_t ofx_extractor_step_node(const ofx_extractor *extractor, size_t i);
/* Total milliseconds of step i (0 <= i <= planned node count) since profiling was turned on. */
double ofx_extractor_step_ms(const ofx_extractor *extractor, size_t i);

/* The plan as text: totals, one line per step that runs (node, op, output layout, shape, arena
 * offset and bytes, layout conversions, fused nodes), and where each output comes from. Plans
 * for the inputs set since the last run if all are set, else (when not planned yet) for the
 * model's declared input shapes, which must be static (OFX_BAD_INPUT otherwise). Release
 * *out_text with ofx_free. */
ofx_status ofx_extractor_explain(ofx_extractor *extractor, char **out_text);

/* Output i of the last successful run; owned by the extractor, valid until the next run. */
typedef struct ofx_tensor_view {
  ofx_dtype dtype;
  size_t rank;
  int64_t dims[OFX_MAX_RANK];
  const void *data;
  size_t size; /* bytes */
} ofx_tensor_view;
ofx_status ofx_extractor_output(const ofx_extractor *extractor, size_t i, ofx_tensor_view *out);

/* The pruned graph as a standalone ONNX model whose outputs are the extractor's outputs, named
 * by `output_names` (one per output, in extractor output order). Only the initializers it uses
 * are kept; opset imports and metadata are copied. Release *out_bytes with ofx_free. */
ofx_status ofx_extractor_to_onnx(const ofx_extractor *extractor, const char *const *output_names,
                                 uint8_t **out_bytes, size_t *out_size);
void ofx_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
