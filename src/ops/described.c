/* Ops the table describes but does not run (no .run: ofx_op_find and ofx_op_for_node report
 * them unsupported). Constant is folded into a constant value when the graph is built; one it
 * cannot fold (a sparse or string value) stays a node, which no extractor can run. NonZero and
 * NonMaxSuppression are here for their int64 outputs, which a pruned model keeping them
 * declares. */
#include "ops/op.h"

const ofx_op_def ofx_op_constant = {.op_type = "Constant", .kind = OFX_OP_Constant, .trait_flags = OFX_TRAIT_CONSTANT};
const ofx_op_def ofx_op_non_max_suppression = {.op_type = "NonMaxSuppression", .kind = OFX_OP_NonMaxSuppression,
                                               .output_type = OFX_OUTPUT_INT64};
const ofx_op_def ofx_op_non_zero = {.op_type = "NonZero", .kind = OFX_OP_NonZero, .output_type = OFX_OUTPUT_INT64};
