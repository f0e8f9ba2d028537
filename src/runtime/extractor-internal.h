/* Internal extractor entry points for tests and tools (not part of the public API). */
#ifndef OFX_RUNTIME_EXTRACTOR_INTERNAL_H
#define OFX_RUNTIME_EXTRACTOR_INTERNAL_H

#include "onnxfx.h"
#include "ops/op.h"

/* An extractor whose outputs are the given graph values (e.g. the graph's outputs, or any
 * node's k-th output), in the given order, each produced by a node or a graph input. The
 * conformance test uses it to extract what a model declares as outputs. */
ofx_status ofx_extractor_create_for_values(ofx_model *model, const int *values, size_t count,
                                           ofx_extractor **out_extractor);

/* An extractor that only infers shapes (ops skip weight packing): plan it with
 * ofx_extractor_plan_shapes, read shapes with ofx_extractor_value_shape; never run it. */
ofx_status ofx_extractor_create_for_shapes(ofx_model *model, const int *values, size_t count,
                                           ofx_extractor **out_extractor);
/* Plans for inputs of these dtypes and shapes (extractor input order); no data is needed. */
ofx_status ofx_extractor_plan_shapes(ofx_extractor *extractor, const ofx_tensor *inputs);
/* Graph value index of extractor input i. */
size_t ofx_extractor_input_value(const ofx_extractor *extractor, size_t i);
/* Shape of a graph value after planning (rank -1 when not computed). */
const ofx_tensor *ofx_extractor_value_shape(const ofx_extractor *extractor, int value);

/* The extractor's plan, for tests that check what the passes decided. */
struct ofx_plan;
const struct ofx_plan *ofx_extractor_plan(const ofx_extractor *extractor);

#endif
