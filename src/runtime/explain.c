/* The plan as text (fx.explain(), `onnxfx plan`): totals, then one line per step that runs with
 * its node, op, output layout, shape and arena place, the layout conversions before it, the step
 * whose output it overwrites when it runs in place ("over conv1") and the nodes fused into it;
 * then where each requested output is read from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/status.h"
#include "runtime/plan.h"

static size_t count_state(const ofx_plan *plan, ofx_step_state state) {
  size_t n = 0;
  for (size_t i = 0; i < plan->n_steps; i++) n += plan->state[i] == state;
  return n;
}

/* Bytes of the weights the ops packed into their state (ofx_op.packed_bytes). */
static size_t packed_bytes(const ofx_plan *plan) {
  size_t total = 0;
  for (size_t i = 0; i < plan->n_steps; i++) total += plan->steps[i].packed_bytes;
  return total;
}

static const char *layout_name(const ofx_tensor *t) {
  if (t->rank != 4) return "-";
  return t->layout == OFX_LAYOUT_NHWC ? "NHWC" : "NCHW";
}

ofx_status ofx_plan_explain(const ofx_plan *plan, char **out) {
  const ofx_graph *g = plan->graph;
  ofx_json j = {0};
  size_t runs = 0, name_width = 4, op_width = 2;
  for (size_t i = 0; i < plan->n_steps; i++) {
    if (!ofx_plan_step_runs(plan, i)) continue;
    runs++;
    size_t nw = strlen(plan->steps[i].node->name), ow = strlen(plan->steps[i].node->op_type);
    if (nw > name_width) name_width = nw;
    if (ow > op_width) op_width = ow;
  }
  if (name_width > 48) name_width = 48;
  ofx_json_printf(&j, "requested outputs: %zu\n", plan->n_outputs);
  ofx_json_printf(&j, "nodes: %zu in the graph, %zu kept, %zu pruned\n", g->n_nodes, plan->n_steps + plan->n_inputs, plan->n_pruned);
  ofx_json_printf(&j, "steps: %zu run, folded %zu, fused %zu, views %zu\n", runs, count_state(plan, OFX_STEP_FOLDED),
                  count_state(plan, OFX_STEP_FUSED), count_state(plan, OFX_STEP_VIEW));
  ofx_json_printf(&j, "memory: arena %zu bytes, scratch %zu bytes, packed weights %zu bytes, layout conversions %zu\n\n",
                  plan->arena_used, plan->scratch_used, packed_bytes(plan), plan->n_conversions);
  ofx_json_printf(&j, "%5s  %-*s  %-*s  %-6s  %-20s  %12s  %12s  %s\n", "step", (int)name_width, "node", (int)op_width, "op",
                  "layout", "output shape", "arena offset", "bytes", "converts / fused");
  size_t cursor = 0;
  for (size_t i = 0; i < plan->n_steps; i++) {
    size_t first = cursor;
    while (cursor < plan->n_conversions && plan->conversions[cursor].step == i) cursor++;
    if (!ofx_plan_step_runs(plan, i)) continue;
    const ofx_node *n = plan->steps[i].node;
    int v = n->n_outputs ? n->outputs[0] : -1;
    char shape[96] = "-", offset[24] = "-", bytes[24] = "-";
    const ofx_tensor *t = v >= 0 ? &plan->tensors[v] : NULL;
    if (t) {
      ofx_shape_str(t->dims, t->rank, shape, sizeof shape);
      snprintf(offset, sizeof offset, "%zu", plan->offsets[v]);
      snprintf(bytes, sizeof bytes, "%zu", ofx_plan_value_bytes(plan, v));
    }
    ofx_json_printf(&j, "%5zu  %-*s  %-*s  %-6s  %-20s  %12s  %12s", i, (int)name_width, n->name, (int)op_width, n->op_type,
                    t ? layout_name(t) : "-", shape, offset, bytes);
    for (size_t c = first; c < cursor; c++)
      ofx_json_printf(&j, "%sin%zu->%s%s", c == first ? "  " : " ", plan->conversions[c].slot, layout_name(&plan->conversions[c].tensor),
                      plan->conversions[c].alias ? "(relabel)" : "");
    bool annotated = cursor > first;
    if (plan->in_place_of[i] >= 0) {
      int producer = g->values[plan->in_place_of[i]].producer;
      ofx_json_printf(&j, "%sover %s", annotated ? " " : "  ", producer >= 0 ? g->nodes[producer].name : "?");
      annotated = true;
    }
    for (size_t f = i + 1; f < plan->n_steps; f++)
      if (plan->state[f] == OFX_STEP_FUSED && plan->fused_into[f] == (int)i) {
        ofx_json_printf(&j, "%s+%s(%s)", annotated ? " " : "  ", plan->steps[f].node->name, plan->steps[f].node->op_type);
        annotated = true;
      }
    if (n->n_outputs > 1) ofx_json_printf(&j, "%s(+%zu more outputs)", annotated ? " " : "  ", n->n_outputs - 1);
    ofx_json_raw(&j, "\n");
  }
  ofx_json_raw(&j, "\noutputs\n");
  for (size_t o = 0; o < plan->n_outputs; o++) {
    int v = plan->output_value[o];
    const ofx_tensor *t = &plan->tensors[v];
    char shape[96];
    int producer = g->values[v].producer;
    ofx_json_printf(&j, "  %zu: '%s' from node '%s', %s %s", o, g->values[v].name, producer >= 0 ? g->nodes[producer].name : "?",
                    onnx_dtype_name((int32_t)t->dtype), ofx_shape_str(t->dims, t->rank, shape, sizeof shape));
    if (plan->alias_of[v] >= 0) ofx_json_printf(&j, ", shares the memory of '%s'", g->values[plan->alias_of[v]].name);
    for (size_t c = 0; c < plan->n_conversions; c++)
      if (plan->conversions[c].step == plan->n_steps && plan->conversions[c].slot == o)
        ofx_json_printf(&j, ", copied NHWC->NCHW at the end%s", plan->conversions[c].alias ? " (relabel)" : "");
    if (plan->known[v]) ofx_json_raw(&j, ", known at plan time");
    ofx_json_raw(&j, "\n");
  }
  if (j.failed) {
    ofx_json_free(&j);
    return ofx_plan_oom("explaining the plan");
  }
  *out = j.text;
  return OFX_OK;
}
