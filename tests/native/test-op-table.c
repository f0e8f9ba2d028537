/* The op table against op-defs.inc: for every kind, the definition the table holds says that
 * kind and that row's op type, so a definition cannot drift from its row (a copied initializer
 * keeping another op's .kind, a renamed .op_type). Usage: test-op-table */
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "ops/pool-nd.h"
#include "test-util.h"

static const char *const row_names[] = {
#define OFX_OP(op_type, symbol) [OFX_OP_##op_type] = #op_type,
#include "ops/op-defs.inc"
#undef OFX_OP
};

static void check_def(const ofx_op_def *def, ofx_op_kind kind) {
  CHECK(def != NULL);
  if (def == NULL) return;
  if (def->kind != kind || strcmp(def->op_type, row_names[kind]) != 0)
    fprintf(stderr, "row %s: the definition says kind %d (%s), op type '%s'\n", row_names[kind], (int)def->kind,
            (unsigned)def->kind < OFX_OP_KIND_COUNT ? row_names[def->kind] : "out of range", def->op_type);
  CHECK(def->kind == kind);
  CHECK(strcmp(def->op_type, row_names[kind]) == 0);
}

int main(void) {
  for (int k = 0; k < OFX_OP_KIND_COUNT; k++) {
    const ofx_op_def *def = ofx_op_def_of_kind((ofx_op_kind)k);
    check_def(def, (ofx_op_kind)k);
    /* the string lookups find the same row, in the default domain under both of its names; a
     * row without .run is described but not supported */
    const ofx_op_def *runs = def && def->run ? def : NULL;
    CHECK(ofx_op_find("", row_names[k]) == runs);
    CHECK(ofx_op_find("ai.onnx", row_names[k]) == runs);
    CHECK(ofx_op_find("com.microsoft", row_names[k]) == NULL);
    ofx_op_traits traits;
    ofx_op_describe("", row_names[k], &traits);
    CHECK(traits.kind == k);
    ofx_node node = {.traits = traits};
    CHECK(ofx_op_for_node(&node) == runs);
    ofx_op_describe("com.microsoft", row_names[k], &traits);
    CHECK(traits.kind == -1 && traits.flags == 0 && traits.torch_name == NULL);
  }
  /* definitions that init hands a node to (not rows of their own) keep their row's kind */
  check_def(&ofx_op_max_pool_nd, OFX_OP_MaxPool);
  check_def(&ofx_op_average_pool_nd, OFX_OP_AveragePool);
  CHECK(ofx_op_find("", "NoSuchOp") == NULL);
  ofx_op_traits unknown;
  ofx_op_describe("", "NoSuchOp", &unknown);
  CHECK(unknown.kind == -1 && unknown.output_type == OFX_OUTPUT_LIKE_INPUT0 && unknown.flags == 0);
  ofx_node input = {.traits = OFX_OP_TRAITS_UNKNOWN};
  CHECK(ofx_op_for_node(&input) == NULL);
  return ofx_test_finish("op-table");
}
