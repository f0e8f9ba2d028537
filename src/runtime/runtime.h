/* Internal runtime types shared by model.c and extractor.c. */
#ifndef OFX_RUNTIME_RUNTIME_H
#define OFX_RUNTIME_RUNTIME_H

#include "graph/graph.h"
#include "onnxfx.h"

struct ofx_model {
  ofx_graph *graph;
  char *description; /* ofx_model_describe_json */
  char *shapes;      /* ofx_model_infer_shapes, computed on first use */
};

/* The pool of ofx_set_num_threads, or NULL for one thread (threads.c). */
struct ofx_threadpool *ofx_runtime_threadpool(void);

#endif
