/* Internal extractor entry points for tests and tools (not part of the public API). */
#ifndef OFX_RUNTIME_EXTRACTOR_INTERNAL_H
#define OFX_RUNTIME_EXTRACTOR_INTERNAL_H

#include "onnxfx.h"

/* An extractor whose outputs are the given graph values (e.g. the graph's outputs, or any
 * node's k-th output), in the given order, each produced by a node or a graph input. The
 * conformance test uses it to extract what a model declares as outputs. */
ofx_status ofx_extractor_create_for_values(ofx_model *model, const int *values, size_t count,
                                           ofx_extractor **out_extractor);

#endif
