/* ONNX model -> IR: values and nodes linked by index, topologically sorted, constants folded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph-internal.h"

#define MAX_TENSOR_BYTES ((uint64_t)1 << 32)

static char *str_dup(ofx_graph *g, onnx_str s) { return ofx_arena_strndup(&g->arena, s.ptr, s.len); }

static ofx_status oom(void) { return ofx_error(OFX_OUT_OF_MEMORY, "out of memory while building the graph"); }

bool ofx_shape_numel(const int64_t *dims, int rank, size_t *numel) {
  uint64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return false;
    if (dims[i] != 0 && n > MAX_TENSOR_BYTES / (uint64_t)dims[i]) return false;
    n *= (uint64_t)dims[i];
  }
  if (n > SIZE_MAX) return false; /* 2^32 elements would wrap to 0 in a 32-bit size_t */
  *numel = (size_t)n;
  return true;
}

size_t ofx_dtype_size(ofx_dtype dtype) { return onnx_dtype_size((int32_t)dtype); }

static bool parse_u64(onnx_str s, uint64_t *out) {
  if (s.len == 0 || s.len > 19) return false;
  uint64_t n = 0;
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] < '0' || s.ptr[i] > '9') return false;
    n = n * 10 + (uint64_t)(s.ptr[i] - '0');
  }
  *out = n;
  return true;
}

/* The typed field holding a TensorProto's elements when it has no raw_data. */
static const onnx_repeated *typed_field(const onnx_tensor *t) {
  switch (t->data_type) {
    case OFX_DTYPE_FLOAT32: return &t->float_data;
    case 11: return &t->double_data;
    case OFX_DTYPE_INT64: return &t->int64_data;
    case 12: case 13: return &t->uint64_data;
    default: return &t->int32_data; /* int32, int16, int8, uint8, uint16, bool, float16 */
  }
}

size_t ofx_tensor_proto_count(const onnx_tensor *t) { return typed_field(t)->count; }

void ofx_tensor_proto_decode(const onnx_tensor *t, size_t numel, void *data) {
  const onnx_repeated *field = typed_field(t);
  size_t esize = onnx_dtype_size(t->data_type);
  if (t->data_type == OFX_DTYPE_FLOAT32) {
    onnx_repeated_read_f32(field, data);
  } else if (t->data_type == 11) {
    onnx_repeated_read_f64(field, data);
  } else if (t->data_type == 12 || t->data_type == 13) {
    uint64_t *wide = (uint64_t *)data;
    onnx_repeated_read_u64(field, wide);
    if (t->data_type == 12)
      for (size_t i = 0; i < numel; i++) ((uint32_t *)data)[i] = (uint32_t)wide[i];
  } else {
    int64_t *wide = (int64_t *)data;
    onnx_repeated_read_i64(field, wide);
    /* narrow in place, front to back: element i is written at or before where it was read */
    for (size_t i = 0; i < numel && esize < 8; i++) {
      int64_t x = wide[i];
      if (esize == 4) ((int32_t *)data)[i] = (int32_t)x;
      else if (esize == 2) ((uint16_t *)data)[i] = (uint16_t)x;
      else ((uint8_t *)data)[i] = (uint8_t)x;
    }
  }
}

/* Points v->data into the external file the tensor names (keys location, offset, length). */
static ofx_status bind_external_data(ofx_graph *g, const onnx_tensor *t, ofx_value *v, size_t nbytes) {
  onnx_str location = {0};
  uint64_t offset = 0, length = nbytes;
  bool has_location = false;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const onnx_string_entry *e = &t->external_data[i];
    bool ok = true;
    if (onnx_str_eq(e->key, "location")) location = e->value, has_location = true;
    else if (onnx_str_eq(e->key, "offset")) ok = parse_u64(e->value, &offset);
    else if (onnx_str_eq(e->key, "length")) ok = parse_u64(e->value, &length);
    if (!ok) return ofx_error(OFX_BAD_MODEL, "tensor '%s': external data %.*s is not a number", v->name, (int)e->key.len, e->key.ptr);
  }
  if (!has_location) return ofx_error(OFX_BAD_MODEL, "tensor '%s' keeps its data externally but names no location", v->name);
  if (length != nbytes)
    return ofx_error(OFX_BAD_MODEL, "tensor '%s': external data length is %llu bytes, its dims and type need %zu", v->name,
                     (unsigned long long)length, nbytes);
  const ofx_external_files *ext = g->external;
  for (size_t i = 0; ext != NULL && i < ext->count; i++) {
    if (strlen(ext->locations[i]) != location.len || memcmp(ext->locations[i], location.ptr, location.len) != 0) continue;
    if (offset > ext->sizes[i] || length > ext->sizes[i] - offset)
      return ofx_error(OFX_BAD_MODEL, "tensor '%s': bytes %llu..%llu are past the end of external file '%s' (%zu bytes)", v->name,
                       (unsigned long long)offset, (unsigned long long)(offset + length), ext->locations[i], ext->sizes[i]);
    v->data = ext->data ? ext->data[i] + offset : NULL; /* NULL: read on demand (deferred) */
    v->nbytes = nbytes;
    if (ext->data == NULL) v->deferred.file = (int)i, v->deferred.offset = offset;
    return OFX_OK;
  }
  return ofx_error(OFX_BAD_MODEL, "tensor '%s' keeps its data in the external file '%.*s', which was not given", v->name,
                   (int)location.len, location.ptr);
}

/* Points value->data at a tensor's elements: raw_data (or an external file) is used in place,
 * the typed repeated fields are decoded into the arena. */
static ofx_status bind_tensor_data(ofx_graph *g, const onnx_tensor *t, ofx_value *v) {
  if (t->n_dims > OFX_MAX_RANK)
    return ofx_error(OFX_BAD_MODEL, "tensor '%s' has rank %zu, more than the %d supported", v->name,
                     t->n_dims, OFX_MAX_RANK);
  v->dtype = (ofx_dtype)t->data_type;
  v->rank = (int)t->n_dims;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0)
      return ofx_error(OFX_BAD_MODEL, "tensor '%s' has a negative dim (%lld) at axis %zu", v->name,
                       (long long)t->dims[i], i);
    v->dims[i] = t->dims[i];
  }
  size_t numel;
  size_t esize = onnx_dtype_size(t->data_type);
  if (!ofx_shape_numel(v->dims, v->rank, &numel) || (esize && numel > MAX_TENSOR_BYTES / esize))
    return ofx_error(OFX_BAD_MODEL, "tensor '%s' is too large (its dims multiply past 4 GiB)", v->name);
  if (esize == 0) {
    /* strings and 4-bit types are never computed on; keep them unbound */
    v->data = NULL;
    v->nbytes = 0;
    return OFX_OK;
  }
  size_t nbytes = numel * esize;
  if (t->data_location == 1) return bind_external_data(g, t, v, nbytes);
  if (t->has_raw_data) {
    if (t->raw_data.len != nbytes)
      return ofx_error(OFX_BAD_MODEL, "tensor '%s': raw_data has %zu bytes, its dims and type need %zu",
                       v->name, t->raw_data.len, nbytes);
    v->data = t->raw_data.ptr;
    v->nbytes = nbytes;
    return OFX_OK;
  }
  size_t count = ofx_tensor_proto_count(t);
  if (count != numel)
    return ofx_error(OFX_BAD_MODEL, "tensor '%s' has %zu elements of data, its dims need %zu", v->name, count, numel);
  void *data = ofx_arena_alloc(&g->arena, numel ? numel : 1, esize > 8 ? esize : 8);
  if (data == NULL) return oom();
  ofx_tensor_proto_decode(t, numel, data);
  v->data = data;
  v->nbytes = nbytes;
  return OFX_OK;
}

static void bind_type(ofx_graph *g, const onnx_type *type, ofx_value *v) {
  v->rank = -1;
  if (type == NULL || type->kind != ONNX_TYPE_TENSOR) return;
  v->dtype = (ofx_dtype)type->elem_type;
  if (!type->has_shape || type->rank > OFX_MAX_RANK) return;
  v->rank = (int)type->rank;
  for (size_t i = 0; i < type->rank; i++) {
    const onnx_dim *d = &type->dims[i];
    v->dims[i] = d->has_value && d->value >= 0 ? d->value : -1;
    v->dim_params[i] = d->has_param ? str_dup(g, d->param) : NULL;
  }
}

static ofx_status add_value(ofx_graph *g, onnx_str name, ofx_value_kind kind, int producer,
                            int *index) {
  char *cname = str_dup(g, name);
  if (cname == NULL) return oom();
  size_t existing;
  if (ofx_strmap_get(&g->value_index, cname, &existing))
    return ofx_error(OFX_BAD_MODEL, "value '%s' is defined twice (graph inputs, initializers and node outputs must have unique names)", cname);
  ofx_value *v = &g->values[g->n_values];
  v->name = cname;
  v->kind = kind;
  v->producer = producer;
  v->rank = -1;
  v->onnx_initializer = -1;
  v->onnx_producer = -1;
  v->dequantized.q = -1;
  ofx_value_not_deferred(v);
  if (!ofx_strmap_put(&g->value_index, cname, g->n_values)) return oom();
  *index = (int)g->n_values++;
  return OFX_OK;
}

static const char *node_label(const onnx_node *n, size_t index) {
  static _Thread_local char label[160];
  if (n->name.len)
    snprintf(label, sizeof label, "node '%.*s' (%.*s)", (int)(n->name.len > 100 ? 100 : n->name.len),
             n->name.ptr, (int)(n->op_type.len > 40 ? 40 : n->op_type.len), n->op_type.ptr);
  else
    snprintf(label, sizeof label, "node #%zu (%.*s)", index, (int)(n->op_type.len > 40 ? 40 : n->op_type.len),
             n->op_type.ptr);
  return label;
}

/* Depth-first topological order that keeps the model's order where it is already valid. */
static ofx_status topo_order(const onnx_graph *og, const int *value_producer_onnx,
                             int **node_inputs, const size_t *n_node_inputs, int *order) {
  size_t n = og->n_nodes;
  unsigned char *state = calloc(n ? n : 1, 1); /* 0 new, 1 on stack, 2 done */
  size_t *stack = malloc((n ? n : 1) * sizeof *stack);
  size_t *next_input = calloc(n ? n : 1, sizeof *next_input);
  if (!state || !stack || !next_input) {
    free(state); free(stack); free(next_input);
    return oom();
  }
  size_t emitted = 0;
  ofx_status status = OFX_OK;
  for (size_t root = 0; root < n && status == OFX_OK; root++) {
    if (state[root]) continue;
    size_t depth = 0;
    stack[depth++] = root;
    state[root] = 1;
    while (depth) {
      size_t node = stack[depth - 1];
      if (next_input[node] < n_node_inputs[node]) {
        int value = node_inputs[node][next_input[node]++];
        int producer = value >= 0 ? value_producer_onnx[value] : -1;
        if (producer < 0) continue;
        if (state[producer] == 1) {
          status = ofx_error(OFX_BAD_MODEL, "the graph has a cycle through %s",
                             node_label(&og->nodes[producer], (size_t)producer));
          break;
        }
        if (state[producer] == 0) {
          state[producer] = 1;
          stack[depth++] = (size_t)producer;
        }
        continue;
      }
      state[node] = 2;
      order[emitted++] = (int)node;
      depth--;
    }
  }
  free(state);
  free(stack);
  free(next_input);
  return status;
}

/* Constant nodes become constant values; Identity of a constant aliases it. Returns true when
 * the node was folded. */
static ofx_status fold_node(ofx_graph *g, const onnx_node *n, const ofx_op_traits *traits, int *inputs,
                            int *outputs, bool *folded) {
  *folded = false;
  if ((traits->flags & OFX_TRAIT_IDENTITY) && n->n_inputs == 1 && inputs[0] >= 0 &&
      g->values[inputs[0]].kind == OFX_VALUE_CONSTANT && outputs[0] >= 0) {
    ofx_value *out = &g->values[outputs[0]];
    const ofx_value *in = &g->values[inputs[0]];
    const char *name = out->name;
    int onnx_producer = out->onnx_producer;
    *out = *in;
    out->name = name;
    out->onnx_producer = onnx_producer;
    out->onnx_initializer = -1;
    *folded = true;
    return OFX_OK;
  }
  if (!(traits->flags & OFX_TRAIT_CONSTANT) || n->n_outputs != 1 || outputs[0] < 0) return OFX_OK;
  if (n->n_attributes != 1)
    return ofx_error(OFX_BAD_MODEL, "Constant node '%.*s' must have exactly one attribute",
                     (int)n->name.len, n->name.ptr);
  const onnx_attribute *a = &n->attributes[0];
  ofx_value *v = &g->values[outputs[0]];
  v->kind = OFX_VALUE_CONSTANT;
  v->producer = -1;
  if (onnx_str_eq(a->name, "value") && a->t) {
    OFX_TRY(bind_tensor_data(g, a->t, v));
  } else if (onnx_str_eq(a->name, "value_float") || onnx_str_eq(a->name, "value_int")) {
    bool is_float = onnx_str_eq(a->name, "value_float");
    void *data = ofx_arena_alloc(&g->arena, 1, 8);
    if (!data) return oom();
    if (is_float) *(float *)data = a->f;
    else *(int64_t *)data = a->i;
    v->dtype = is_float ? OFX_DTYPE_FLOAT32 : OFX_DTYPE_INT64;
    v->rank = 0;
    v->data = data;
    v->nbytes = is_float ? 4 : 8;
  } else if (onnx_str_eq(a->name, "value_floats") || onnx_str_eq(a->name, "value_ints")) {
    bool is_float = onnx_str_eq(a->name, "value_floats");
    const onnx_repeated *r = is_float ? &a->floats : &a->ints;
    void *data = ofx_arena_alloc(&g->arena, r->count ? r->count : 1, 8);
    if (!data) return oom();
    if (is_float) onnx_repeated_read_f32(r, data);
    else onnx_repeated_read_i64(r, data);
    v->dtype = is_float ? OFX_DTYPE_FLOAT32 : OFX_DTYPE_INT64;
    v->rank = 1;
    v->dims[0] = (int64_t)r->count;
    v->data = data;
    v->nbytes = r->count * (is_float ? 4 : 8);
  } else {
    /* sparse_value, value_string(s): not foldable here; leave the node in the graph */
    v->kind = OFX_VALUE_NODE;
    return OFX_OK;
  }
  *folded = true;
  return OFX_OK;
}


/* Names that If/Loop/Scan bodies read from enclosing graphs. A body defines its inputs,
 * initializers and node outputs; anything else a body node reads must come from outside. */
typedef struct name_scope {
  ofx_strmap names;
  const struct name_scope *parent;
} name_scope;

typedef struct free_names {
  ofx_strmap seen;
  const char **list;
  size_t count, capacity;
} free_names;

static bool scope_defines(const name_scope *s, const char *name) {
  for (; s; s = s->parent)
    if (ofx_strmap_get(&s->names, name, NULL)) return true;
  return false;
}

static ofx_status define_name(ofx_graph *g, name_scope *s, onnx_str name) {
  char *c = str_dup(g, name);
  return c && ofx_strmap_put(&s->names, c, 1) ? OFX_OK : oom();
}

static ofx_status collect_free_names(ofx_graph *g, const onnx_graph *body, const name_scope *parent,
                                     free_names *out);

static ofx_status collect_attribute_bodies(ofx_graph *g, const onnx_node *n, const name_scope *scope,
                                           free_names *out) {
  for (size_t a = 0; a < n->n_attributes; a++) {
    const onnx_attribute *attr = &n->attributes[a];
    if (attr->g) OFX_TRY(collect_free_names(g, attr->g, scope, out));
    for (size_t k = 0; k < attr->n_graphs; k++) OFX_TRY(collect_free_names(g, &attr->graphs[k], scope, out));
  }
  return OFX_OK;
}

static ofx_status collect_free_names(ofx_graph *g, const onnx_graph *body, const name_scope *parent,
                                     free_names *out) {
  name_scope scope = {{0}, parent};
  ofx_status s = OFX_OK;
  for (size_t i = 0; i < body->n_inputs && s == OFX_OK; i++) s = define_name(g, &scope, body->inputs[i].name);
  for (size_t i = 0; i < body->n_initializers && s == OFX_OK; i++) s = define_name(g, &scope, body->initializers[i].name);
  for (size_t i = 0; i < body->n_nodes && s == OFX_OK; i++)
    for (size_t k = 0; k < body->nodes[i].n_outputs && s == OFX_OK; k++)
      if (body->nodes[i].outputs[k].len) s = define_name(g, &scope, body->nodes[i].outputs[k]);
  for (size_t i = 0; i < body->n_nodes && s == OFX_OK; i++) {
    const onnx_node *n = &body->nodes[i];
    for (size_t k = 0; k < n->n_inputs && s == OFX_OK; k++) {
      if (n->inputs[k].len == 0) continue;
      char *name = str_dup(g, n->inputs[k]);
      if (name == NULL) s = oom();
      else if (!scope_defines(&scope, name) && !ofx_strmap_get(&out->seen, name, NULL)) {
        if (out->count == out->capacity) {
          size_t capacity = out->capacity ? out->capacity * 2 : 8;
          const char **list = realloc(out->list, capacity * sizeof *list);
          if (list == NULL) {
            s = oom();
            break;
          }
          out->list = list;
          out->capacity = capacity;
        }
        out->list[out->count++] = name;
        if (!ofx_strmap_put(&out->seen, name, 1)) s = oom();
      }
    }
    if (s == OFX_OK) s = collect_attribute_bodies(g, n, &scope, out);
  }
  ofx_strmap_free(&scope.names);
  return s;
}

/* Resolves node i's implicit inputs into deps[n_inputs ...]; returns how many. */
static ofx_status implicit_inputs(ofx_graph *g, const onnx_node *n, size_t index, int **deps, size_t *count) {
  *count = 0;
  bool has_body = false;
  for (size_t a = 0; a < n->n_attributes; a++) has_body |= n->attributes[a].g != NULL || n->attributes[a].n_graphs > 0;
  if (!has_body) return OFX_OK;
  free_names names = {{0}, NULL, 0, 0};
  ofx_status s = collect_attribute_bodies(g, n, NULL, &names);
  int *all = NULL;
  if (s == OFX_OK && names.count) {
    all = ofx_arena_alloc(&g->arena, n->n_inputs + names.count + 1, sizeof(int));
    if (all == NULL) s = oom();
  }
  for (size_t k = 0; k < names.count && s == OFX_OK; k++) {
    size_t v;
    if (!ofx_strmap_get(&g->value_index, names.list[k], &v))
      s = ofx_error(OFX_BAD_MODEL, "%s: a subgraph reads '%s', which no enclosing graph defines",
                    node_label(n, index), names.list[k]);
    else all[n->n_inputs + k] = (int)v;
  }
  if (s == OFX_OK && all) {
    memcpy(all, *deps, n->n_inputs * sizeof(int));
    *deps = all;
    *count = names.count;
  }
  free(names.list);
  ofx_strmap_free(&names.seen);
  return s;
}

static ofx_status build(ofx_graph *g, const uint8_t *bytes, size_t size, ofx_op_describe_fn describe) {
  onnx_model *model;
  OFX_TRY(onnx_model_decode(bytes, size, &g->arena, &model));
  g->model = model;
  if (model->graph == NULL) return ofx_error(OFX_BAD_MODEL, "invalid ONNX model: it has no graph");
  g->opset = -1;
  for (size_t i = 0; i < model->n_opsets; i++)
    if (model->opsets[i].domain.len == 0 || onnx_str_eq(model->opsets[i].domain, "ai.onnx"))
      g->opset = model->opsets[i].version;
  if (g->opset < 0)
    return ofx_error(OFX_BAD_MODEL, "invalid ONNX model: opset_import names no version of the default ONNX domain");
  const onnx_graph *og = model->graph;

  size_t max_values = og->n_initializers + og->n_inputs;
  for (size_t i = 0; i < og->n_nodes; i++) max_values += og->nodes[i].n_outputs;
  g->values = ofx_arena_alloc(&g->arena, max_values ? max_values : 1, sizeof *g->values);
  g->nodes = ofx_arena_alloc(&g->arena, og->n_inputs + og->n_nodes + 1, sizeof *g->nodes);
  g->inputs = ofx_arena_alloc(&g->arena, og->n_inputs + 1, sizeof *g->inputs);
  g->outputs = ofx_arena_alloc(&g->arena, og->n_outputs + 1, sizeof *g->outputs);
  int *value_producer_onnx = ofx_arena_alloc(&g->arena, max_values + 1, sizeof(int));
  int **node_inputs = ofx_arena_alloc(&g->arena, og->n_nodes + 1, sizeof(int *));
  int **node_outputs = ofx_arena_alloc(&g->arena, og->n_nodes + 1, sizeof(int *));
  size_t *n_node_inputs = ofx_arena_alloc(&g->arena, og->n_nodes + 1, sizeof(size_t));
  int *order = ofx_arena_alloc(&g->arena, og->n_nodes + 1, sizeof(int));
  if (!g->values || !g->nodes || !g->inputs || !g->outputs || !value_producer_onnx || !node_inputs ||
      !node_outputs || !n_node_inputs || !order)
    return oom();

  for (size_t i = 0; i < og->n_initializers; i++) {
    int index;
    ofx_status s = add_value(g, og->initializers[i].name, OFX_VALUE_CONSTANT, -1, &index);
    if (s == OFX_OK) s = bind_tensor_data(g, &og->initializers[i], &g->values[index]);
    if (s != OFX_OK) return ofx_error_prefix(s, "graph.initializer[%zu]: ", i);
    value_producer_onnx[index] = -1;
    g->values[index].onnx_initializer = (int)i;
  }
  for (size_t i = 0; i < og->n_inputs; i++) {
    char *name = str_dup(g, og->inputs[i].name);
    if (name == NULL) return oom();
    if (ofx_strmap_get(&g->value_index, name, NULL)) continue; /* an initializer's default */
    int index;
    OFX_TRY(add_value(g, og->inputs[i].name, OFX_VALUE_INPUT, (int)g->n_nodes, &index));
    bind_type(g, og->inputs[i].type, &g->values[index]);
    value_producer_onnx[index] = -1;
    ofx_node *node = &g->nodes[g->n_nodes++];
    node->onnx_name = g->values[index].name;
    node->op_type = "Input";
    node->domain = "";
    node->traits = OFX_OP_TRAITS_UNKNOWN;
    node->n_outputs = 1;
    node->outputs = ofx_arena_alloc(&g->arena, 1, sizeof(int));
    if (!node->outputs) return oom();
    node->outputs[0] = index;
    g->inputs[g->n_inputs++] = index;
  }
  for (size_t i = 0; i < og->n_nodes; i++) {
    const onnx_node *n = &og->nodes[i];
    node_outputs[i] = ofx_arena_alloc(&g->arena, n->n_outputs + 1, sizeof(int));
    if (!node_outputs[i]) return oom();
    for (size_t k = 0; k < n->n_outputs; k++) {
      node_outputs[i][k] = -1;
      if (n->outputs[k].len == 0) continue; /* an optional output left out */
      ofx_status s = add_value(g, n->outputs[k], OFX_VALUE_NODE, -1, &node_outputs[i][k]);
      if (s != OFX_OK) return ofx_error_prefix(s, "%s: ", node_label(n, i));
      value_producer_onnx[node_outputs[i][k]] = (int)i;
      g->values[node_outputs[i][k]].onnx_producer = (int)i;
    }
  }
  for (size_t i = 0; i < og->n_nodes; i++) {
    const onnx_node *n = &og->nodes[i];
    node_inputs[i] = ofx_arena_alloc(&g->arena, n->n_inputs + 1, sizeof(int));
    if (!node_inputs[i]) return oom();
    n_node_inputs[i] = n->n_inputs;
    for (size_t k = 0; k < n->n_inputs; k++) {
      node_inputs[i][k] = -1;
      if (n->inputs[k].len == 0) continue;
      char *name = str_dup(g, n->inputs[k]);
      size_t index;
      if (name == NULL) return oom();
      if (!ofx_strmap_get(&g->value_index, name, &index))
        return ofx_error(OFX_BAD_MODEL, "%s: input %zu '%s' is not a graph input, an initializer or any node's output",
                         node_label(n, i), k, name);
      node_inputs[i][k] = (int)index;
    }
    size_t n_implicit;
    OFX_TRY(implicit_inputs(g, n, i, &node_inputs[i], &n_implicit));
    n_node_inputs[i] = n->n_inputs + n_implicit; /* the topological order sees both */
  }
  for (size_t i = 0; i < og->n_outputs; i++) {
    char *name = str_dup(g, og->outputs[i].name);
    size_t index;
    if (name == NULL) return oom();
    if (!ofx_strmap_get(&g->value_index, name, &index))
      return ofx_error(OFX_BAD_MODEL, "graph output '%s' is not produced by any node", name);
    g->outputs[g->n_outputs++] = (int)index;
    if (g->values[index].kind == OFX_VALUE_NODE) bind_type(g, og->outputs[i].type, &g->values[index]);
  }
  for (size_t i = 0; i < og->n_value_infos; i++) {
    char *name = str_dup(g, og->value_infos[i].name);
    size_t index;
    if (name && ofx_strmap_get(&g->value_index, name, &index) && g->values[index].kind == OFX_VALUE_NODE)
      bind_type(g, og->value_infos[i].type, &g->values[index]);
  }

  OFX_TRY(topo_order(og, value_producer_onnx, node_inputs, n_node_inputs, order));

  for (size_t k = 0; k < og->n_nodes; k++) {
    size_t i = (size_t)order[k];
    const onnx_node *n = &og->nodes[i];
    const char *op_type = str_dup(g, n->op_type), *domain = str_dup(g, n->domain);
    if (!op_type || !domain) return oom();
    ofx_op_traits traits = OFX_OP_TRAITS_UNKNOWN;
    if (describe) describe(domain, op_type, &traits);
    bool folded;
    ofx_status s = fold_node(g, n, &traits, node_inputs[i], node_outputs[i], &folded);
    if (s != OFX_OK) return ofx_error_prefix(s, "%s: ", node_label(n, i));
    if (folded) continue;
    ofx_node *node = &g->nodes[g->n_nodes];
    node->onnx_name = str_dup(g, n->name);
    node->op_type = op_type;
    node->domain = domain;
    node->traits = traits;
    if (!node->onnx_name) return oom();
    node->proto = n;
    node->n_inputs = n->n_inputs;
    node->inputs = node_inputs[i];
    node->n_implicit_inputs = n_node_inputs[i] - n->n_inputs;
    node->implicit_inputs = node_inputs[i] + n->n_inputs;
    node->n_outputs = n->n_outputs;
    node->outputs = node_outputs[i];
    for (size_t o = 0; o < n->n_outputs; o++)
      if (node->outputs[o] >= 0) g->values[node->outputs[o]].producer = (int)g->n_nodes;
    g->n_nodes++;
  }
  return OFX_OK;
}

ofx_status ofx_graph_build(const uint8_t *bytes, size_t size, ofx_op_describe_fn describe, ofx_graph **out) {
  return ofx_graph_build_external(bytes, size, NULL, describe, out);
}

ofx_status ofx_graph_build_unnamed(const uint8_t *bytes, size_t size, const ofx_external_files *external,
                                   ofx_op_describe_fn describe, ofx_graph **out) {
  ofx_graph *g = calloc(1, sizeof *g);
  if (g == NULL) return oom();
  g->external = external;
  ofx_status s = OFX_OK;
  if (external && external->count && external->data == NULL) {
    g->read_external = external->read, g->read_ctx = external->read_ctx;
    if ((g->external_locations = ofx_arena_alloc(&g->arena, external->count, sizeof *g->external_locations)) == NULL) s = oom();
    for (size_t i = 0; s == OFX_OK && i < external->count; i++) {
      const char *location = external->locations[i] ? external->locations[i] : "";
      if ((g->external_locations[i] = ofx_arena_strndup(&g->arena, location, strlen(location))) == NULL) s = oom();
    }
  }
  if (s == OFX_OK) s = build(g, bytes, size, describe);
  g->external = NULL;
  if (s != OFX_OK) {
    ofx_graph_free(g);
    return s;
  }
  *out = g;
  return OFX_OK;
}

ofx_status ofx_graph_build_external(const uint8_t *bytes, size_t size, const ofx_external_files *external,
                                    ofx_op_describe_fn describe, ofx_graph **out) {
  ofx_graph *g;
  OFX_TRY(ofx_graph_build_unnamed(bytes, size, external, describe, &g));
  ofx_status s = ofx_graph_name_nodes(g);
  if (s != OFX_OK) {
    ofx_graph_free(g);
    return s;
  }
  *out = g;
  return OFX_OK;
}

void ofx_graph_free(ofx_graph *g) {
  if (g == NULL) return;
  ofx_strmap_free(&g->value_index);
  ofx_arena_free(&g->arena);
  free(g);
}
