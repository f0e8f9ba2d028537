/* torchvision-style node names.
 *
 * Every node gets a module scope and a torch function name from whichever source the model
 * has, in this order:
 *   1. metadata "pkg.torch.onnx.name_scopes" (torch.export-based exporter): a Python list of
 *      cumulative module paths, first "" (the root), last the fx node name ("add_7");
 *   2. TorchScript exporter names: "/layer1/layer1.0/relu_1/Relu" has scope segments layer1,
 *      layer1.0, relu_1; a segment that starts with the previous one plus "." extends it, so the
 *      scope is layer1.0.relu_1;
 *   3. TensorFlow-style paths (tf2onnx): "StatefulPartitionedCall/model/block1_conv1/Relu" has
 *      scope model.block1_conv1 once the prefix every such node shares is dropped;
 *   4. any other name is kept as it is (made a valid dotted path); nameless nodes are
 *      "<function>" at the root.
 * Then, as torchvision does for leaf modules, a scope holding exactly one node and no child
 * scope names that node (layer1.0.conv1, fc) -- with torch.export metadata, each node of a leaf
 * scope whose nodes are all calls of one function (a ReLU module called twice) -- other nodes are <scope>.<function> with _1, _2 ...
 * counters per name in execution order (layer1.0.add, flatten). Graph inputs keep their names.
 *
 * Shape arithmetic (Shape/Size and what is computed from them only) is named last, so that it
 * does not take the counters of tensor ops. Transpose is torch's transpose when it swaps two axes,
 * permute otherwise.
 *
 * Scopes that torchvision would see as one leaf module but the exporter split into several
 * nodes (MobileNetV2's features.0 = Conv + Clip, SqueezeExcitation = leaves + Mul, a
 * Conv2dNormActivation whose BatchNorm was folded into its lone Conv) are listed too, after their
 * last node, so the names users copy from torchvision are found in the listing. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph.h"

typedef struct scope_info {
  const char *path;
  int parent;
  int direct_nodes, child_scopes, total_nodes, height;
  int last_node[2]; /* per view */
  /* the function of its direct nodes when they all share one and all come from torch.export
   * metadata: then they are calls of one leaf module (relu, relu_1), as torchvision counts */
  const char *shared_function;
  bool calls_of_leaf;
} scope_info;

typedef struct scope_table {
  scope_info *items;
  size_t count, capacity;
  ofx_strmap index;
} scope_table;

/* How one node was placed: its innermost scope (-1 for the root) and its function name, or a
 * flat name kept as written. */
typedef struct node_origin {
  int scope;
  const char *function;
  const char *flat_name;
  bool from_metadata;
} node_origin;

static ofx_status oom(void) { return ofx_error(OFX_OUT_OF_MEMORY, "out of memory while naming nodes"); }

/* The torch function a node's op stands for: the op table's name for it where that is not the
 * lower-cased op type (Concat: cat), else the lower-cased op type. */
static const char *torch_function_name(const ofx_node *node, ofx_arena *arena) {
  if (node->traits.torch_name) return node->traits.torch_name;
  size_t n = strlen(node->op_type);
  char *lower = ofx_arena_strndup(arena, node->op_type, n);
  if (lower == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)lower[i];
    lower[i] = isalnum(c) ? (char)tolower(c) : '_';
  }
  return n ? lower : "node";
}

/* The torch function of a node: as torch_function_name, except that a Transpose swapping exactly
 * two axes is torch's `transpose` (or `swapaxes`) and any other permutation its `permute`. */
static const char *node_function_name(const ofx_node *node, ofx_arena *arena) {
  if ((node->traits.flags & OFX_TRAIT_NAMED_BY_PERM) && node->proto != NULL) {
    int64_t axes[OFX_MAX_RANK];
    size_t count; /* counted first: a perm too long (or mistyped) for Transpose is named all the same */
    if (ofx_node_attr_ints(node, "perm", NULL, 0, &count) != OFX_OK || count == 0 || count > OFX_MAX_RANK ||
        ofx_node_attr_ints(node, "perm", axes, OFX_MAX_RANK, &count) != OFX_OK)
      return "transpose";
    size_t moved = 0;
    for (size_t i = 0; i < count; i++) moved += axes[i] != (int64_t)i;
    return moved == 2 ? "transpose" : "permute";
  }
  return torch_function_name(node, arena);
}

/* Keeps [A-Za-z0-9_-] and single inner dots (unless `dots` is false); anything else becomes '_'. */
static char *sanitize_n(ofx_arena *arena, const char *s, size_t n, bool dots) {
  char *out = ofx_arena_alloc(arena, n + 1, 1);
  if (out == NULL) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.' && dots) {
      if (k == 0 || out[k - 1] == '.') continue;
      out[k++] = '.';
    } else {
      out[k++] = (isalnum(c) || c == '_' || c == '-') ? (char)c : '_';
    }
  }
  while (k && out[k - 1] == '.') k--;
  out[k] = '\0';
  return out;
}

static int scope_get_or_add(scope_table *t, const char *path, int parent) {
  size_t existing;
  if (ofx_strmap_get(&t->index, path, &existing)) return (int)existing;
  if (t->count == t->capacity) {
    size_t capacity = t->capacity ? t->capacity * 2 : 64;
    scope_info *items = realloc(t->items, capacity * sizeof *items);
    if (items == NULL) return -2;
    t->items = items;
    t->capacity = capacity;
  }
  scope_info *s = &t->items[t->count];
  memset(s, 0, sizeof *s);
  s->path = path;
  s->parent = parent;
  s->last_node[0] = s->last_node[1] = -1;
  s->calls_of_leaf = true;
  if (parent >= 0) t->items[parent].child_scopes++;
  if (!ofx_strmap_put(&t->index, path, t->count)) return -2;
  return (int)t->count++;
}

/* Registers a chain of cumulative scope paths (outermost first); returns the innermost scope,
 * -1 for none, -2 when out of memory. */
static int register_chain(scope_table *t, const char *const *paths, size_t n) {
  int scope = -1;
  for (size_t i = 0; i < n; i++) {
    if (paths[i][0] == '\0') continue;
    scope = scope_get_or_add(t, paths[i], scope);
    if (scope == -2) return -2;
  }
  return scope;
}

/* Parses a Python list repr of strings ("['', 'layer1', 'add_3']"); NULL when malformed. */
static char **parse_python_list(ofx_arena *arena, const char *s, size_t len, size_t *count) {
  size_t capacity = 1;
  for (size_t i = 0; i < len; i++) capacity += s[i] == ',';
  char **items = ofx_arena_alloc(arena, capacity, sizeof *items);
  if (items == NULL) return NULL;
  size_t i = 0, n = 0;
  while (i < len && isspace((unsigned char)s[i])) i++;
  if (i >= len || s[i++] != '[') return NULL;
  for (;;) {
    while (i < len && isspace((unsigned char)s[i])) i++;
    if (i < len && s[i] == ']') break;
    if (i >= len || (s[i] != '\'' && s[i] != '"') || n >= capacity) return NULL;
    char quote = s[i++];
    char *item = ofx_arena_alloc(arena, len + 1, 1);
    if (item == NULL) return NULL;
    size_t k = 0;
    while (i < len && s[i] != quote) {
      if (s[i] == '\\' && i + 1 < len) i++;
      item[k++] = s[i++];
    }
    if (i >= len) return NULL;
    i++; /* closing quote */
    item[k] = '\0';
    items[n++] = item;
    while (i < len && isspace((unsigned char)s[i])) i++;
    if (i < len && s[i] == ',') {
      i++;
      continue;
    }
    if (i < len && s[i] == ']') break;
    return NULL;
  }
  *count = n;
  return items;
}

/* fx names are numbered across the whole graph ("add_7"); counters are made per scope later. */
static const char *strip_counter(ofx_arena *arena, const char *fx_name) {
  size_t n = strlen(fx_name), end = n;
  while (end > 0 && isdigit((unsigned char)fx_name[end - 1])) end--;
  if (end > 1 && end < n && fx_name[end - 1] == '_') n = end - 1;
  return sanitize_n(arena, fx_name, n, false);
}

static const onnx_string_entry *node_metadata(const ofx_node *node, const char *key) {
  if (node->proto == NULL) return NULL;
  for (size_t i = 0; i < node->proto->n_metadata; i++)
    if (onnx_str_eq(node->proto->metadata[i].key, key)) return &node->proto->metadata[i];
  return NULL;
}

/* Source 1: torch.export metadata. Returns false when the node has none (or it is malformed). */
static bool origin_from_metadata(ofx_graph *g, scope_table *t, const ofx_node *node, node_origin *o,
                                 ofx_status *status) {
  const onnx_string_entry *e = node_metadata(node, "pkg.torch.onnx.name_scopes");
  if (e == NULL) return false;
  size_t n;
  char **entries = parse_python_list(&g->arena, e->value.ptr, e->value.len, &n);
  if (entries == NULL || n < 2) return false;
  for (size_t i = 0; i + 1 < n; i++) {
    entries[i] = sanitize_n(&g->arena, entries[i], strlen(entries[i]), true);
    if (entries[i] == NULL) {
      *status = oom();
      return true;
    }
  }
  o->scope = register_chain(t, (const char *const *)entries, n - 1);
  o->function = strip_counter(&g->arena, entries[n - 1]);
  o->from_metadata = true;
  if (o->scope == -2 || o->function == NULL) *status = oom();
  if (o->function && o->function[0] == '\0') o->function = torch_function_name(node, &g->arena);
  return true;
}

/* Source 2: "/a/a.0/b/Op". */
static ofx_status origin_from_torchscript(ofx_graph *g, scope_table *t, const ofx_node *node,
                                          node_origin *o) {
  const char *name = node->onnx_name;
  size_t n = strlen(name), n_segments = 0;
  for (size_t i = 0; i < n; i++) n_segments += name[i] == '/';
  const char **paths = calloc(n_segments + 1, sizeof *paths);
  char *path = malloc(n + 1);
  if (!paths || !path) {
    free(paths);
    free(path);
    return oom();
  }
  size_t path_len = 0, prev_len = 0, prev_start = 0, n_paths = 0;
  const char *prev = NULL;
  for (const char *p = name + 1;;) {
    const char *slash = strchr(p, '/');
    if (slash == NULL) break; /* the last segment is the op part, not a scope */
    size_t seg_len = (size_t)(slash - p);
    if (seg_len > 0) {
      bool extends = prev && seg_len > prev_len + 1 && memcmp(p, prev, prev_len) == 0 && p[prev_len] == '.';
      if (extends) path_len = prev_start; /* layer1 then layer1.0: replace, as a child scope */
      else if (path_len) path[path_len++] = '.';
      prev_start = path_len;
      memcpy(path + path_len, p, seg_len);
      path_len += seg_len;
      prev = p;
      prev_len = seg_len;
      paths[n_paths] = sanitize_n(&g->arena, path, path_len, true);
      if (paths[n_paths++] == NULL) break;
    }
    p = slash + 1;
  }
  bool ok = n_paths == 0 || paths[n_paths - 1] != NULL;
  o->scope = ok ? register_chain(t, paths, n_paths) : -2;
  free(paths);
  free(path);
  o->function = node_function_name(node, &g->arena);
  return o->scope == -2 || o->function == NULL ? oom() : OFX_OK;
}

/* Source 3: "prefix/model/layer/Op", with the first `skip` segments (shared by all) dropped. */
/* tf2onnx names an op it fused from several TF ops by joining their names with '_', each
 * starting with the model's own name again ("m/conv/Relu6_m/bn/FusedBatchNormV3_m/..."): keep
 * the first op's path. Returns `name` itself when there is nothing to cut. */
static const char *tf_primary_name(ofx_arena *arena, const char *name) {
  const char *slash = strchr(name, '/');
  if (slash == NULL || slash == name) return name;
  size_t root = (size_t)(slash - name);
  for (const char *p = slash; (p = strchr(p + 1, '_')) != NULL;)
    if (strncmp(p + 1, name, root) == 0 && p[1 + root] == '/') return ofx_arena_strndup(arena, name, (size_t)(p - name));
  return name;
}

static ofx_status origin_from_tf_path(ofx_graph *g, scope_table *t, const ofx_node *node, size_t skip,
                                      node_origin *o) {
  const char *name = tf_primary_name(&g->arena, node->onnx_name);
  if (name == NULL) return oom();
  size_t n = strlen(name), n_segments = 1;
  for (size_t i = 0; i < n; i++) n_segments += name[i] == '/';
  const char **paths = calloc(n_segments, sizeof *paths);
  char *path = malloc(n + 1);
  if (!paths || !path) {
    free(paths);
    free(path);
    return oom();
  }
  size_t path_len = 0, n_paths = 0, segment = 0;
  bool failed = false;
  for (const char *p = name;; segment++) {
    const char *slash = strchr(p, '/');
    if (slash == NULL) break;
    if (segment >= skip && slash > p) {
      if (path_len) path[path_len++] = '.';
      char *clean = sanitize_n(&g->arena, p, (size_t)(slash - p), false);
      if (clean == NULL) {
        failed = true;
        break;
      }
      memcpy(path + path_len, clean, strlen(clean));
      path_len += strlen(clean);
      paths[n_paths] = ofx_arena_strndup(&g->arena, path, path_len);
      if (paths[n_paths++] == NULL) {
        failed = true;
        break;
      }
    }
    p = slash + 1;
  }
  o->scope = failed ? -2 : register_chain(t, paths, n_paths);
  free(paths);
  free(path);
  o->function = node_function_name(node, &g->arena);
  return o->scope == -2 || o->function == NULL ? oom() : OFX_OK;
}

/* Number of leading path segments every tf-style name shares (wrappers such as
 * "StatefulPartitionedCall/model"), never counting a name's last (op) segment. */
static size_t shared_tf_prefix(const ofx_graph *g) {
  const char *first = NULL;
  size_t shared = SIZE_MAX;
  for (size_t i = 0; i < g->n_nodes; i++) {
    const char *name = g->nodes[i].onnx_name;
    if (g->nodes[i].proto == NULL || name[0] == '/' || strchr(name, '/') == NULL) continue;
    if (node_metadata(&g->nodes[i], "pkg.torch.onnx.name_scopes")) continue;
    if (first == NULL) {
      first = name;
      shared = 0;
      for (const char *p = name; (p = strchr(p, '/')) != NULL; p++) shared++;
    }
    size_t k = 0;
    const char *a = first, *b = name;
    while (k < shared) {
      const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
      if (!sa || !sb || sa - a != sb - b || memcmp(a, b, (size_t)(sa - a)) != 0) break;
      a = sa + 1;
      b = sb + 1;
      k++;
    }
    shared = k;
  }
  return shared == SIZE_MAX ? 0 : shared;
}

static bool name_taken(const ofx_strmap *taken, const char *name) { return ofx_strmap_get(taken, name, NULL); }

/* base, base_1, base_2, ...: the first free one. */
static const char *unique_name(ofx_arena *arena, ofx_strmap *taken, ofx_strmap *counters,
                               const char *base) {
  size_t next = 0;
  ofx_strmap_get(counters, base, &next);
  const char *candidate = base;
  for (;;) {
    if (next > 0) candidate = ofx_arena_sprintf(arena, "%s_%zu", base, next);
    if (candidate == NULL) return NULL;
    next++;
    if (!name_taken(taken, candidate)) break;
  }
  if (!ofx_strmap_put(counters, base, next) || !ofx_strmap_put(taken, candidate, 1)) return NULL;
  return candidate;
}

/* The listing of one view: its nodes, each followed by the multi-node leaf-like scopes it
 * ends (innermost first). */
static bool is_graph_output(const ofx_graph *g, int v) {
  for (size_t i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == v) return true;
  return false;
}

/* A precision border: a Cast that a float16 conversion with float32 inputs and outputs
 * (keep_io_types) puts between a float32 graph input and the float16 graph, or between the
 * graph and a float32 graph output. It is named but not listed, so that the float16 model lists
 * the same names as the float32 one (docs/naming.md). */
static bool precision_border(const ofx_graph *g, const ofx_node *node) {
  if (node->traits.output_type != OFX_OUTPUT_TO_ATTR || node->n_inputs != 1 || node->n_outputs != 1 ||
      node->inputs[0] < 0 || node->outputs[0] < 0)
    return false;
  int64_t to;
  if (ofx_node_attr_int(node, "to", 0, &to) != OFX_OK) {
    ofx_error_clear();
    return false;
  }
  const ofx_value *in = &g->values[node->inputs[0]];
  if (to == OFX_DTYPE_FLOAT16) return in->kind == OFX_VALUE_INPUT && in->dtype == OFX_DTYPE_FLOAT32;
  return to == OFX_DTYPE_FLOAT32 && is_graph_output(g, node->outputs[0]) &&
         ofx_value_onnx_type(g, node->inputs[0]) == OFX_DTYPE_FLOAT16;
}

static ofx_status build_listing(ofx_graph *g, const scope_table *scopes, const ofx_strmap *taken,
                                ofx_view view) {
  g->listed[view] = ofx_arena_alloc(&g->arena, g->n_nodes + scopes->count + 1, sizeof *g->listed[view]);
  int *head = malloc((g->n_nodes + 1) * sizeof *head);
  int *next = malloc((scopes->count + 1) * sizeof *next);
  if (!g->listed[view] || !head || !next) {
    free(head);
    free(next);
    return oom();
  }
  for (size_t i = 0; i < g->n_nodes; i++) head[i] = -1;
  for (size_t k = 0; k < scopes->count; k++) {
    const scope_info *s = &scopes->items[k];
    /* Conv2dNormActivation: Conv + activation, or a lone Conv once BatchNorm is folded */
    bool block_of_leaves = s->direct_nodes == 0 && s->height == 1 && (s->child_scopes >= 2 || s->total_nodes == 1);
    bool multi_node_leaf = s->child_scopes == 0 && s->direct_nodes >= 2 && !s->calls_of_leaf;
    /* SqueezeExcitation: leaf children, then its own op (the scaling Mul) gives the output */
    bool leaves_then_own_op = s->direct_nodes >= 1 && s->child_scopes >= 2 && s->height == 1 &&
                              s->last_node[view] >= 0 && g->nodes[s->last_node[view]].scope == s->path;
    next[k] = -1;
    if (!(block_of_leaves || multi_node_leaf || leaves_then_own_op) || s->last_node[view] < 0 ||
        name_taken(taken, s->path))
      continue;
    next[k] = head[s->last_node[view]]; /* push front: deeper scopes were registered later */
    head[s->last_node[view]] = (int)k;
  }
  size_t n = 0;
  for (size_t i = 0; i < g->n_nodes; i++) {
    if (!ofx_node_in_view(&g->nodes[i], view) || precision_border(g, &g->nodes[i]) || g->nodes[i].unlisted) continue;
    g->listed[view][n++] = (ofx_listed_name){g->nodes[i].name, (int)i};
    for (int k = head[i]; k >= 0; k = next[k]) g->listed[view][n++] = (ofx_listed_name){scopes->items[k].path, (int)i};
  }
  g->n_listed[view] = n;
  free(head);
  free(next);
  return OFX_OK;
}

/* Marks node->unlisted for what a quantizer adds around a layer, so that the quantized model
 * lists the float model's names (docs/naming.md), and moves a layer's name to the node giving
 * its float value where the quantizer put one after it:
 *   - (Dynamic)QuantizeLinear and DequantizeLinear are not listed;
 *   - dynamic int8: in an 8-bit layer's scope its dequantizing chain up to the last node —
 *     ConvInteger, Cast, the scales Mul, the output Mul — whose last node (the bias Add, or the
 *     output Mul) stands for the layer and takes its function name ("conv");
 *   - static int8: a node whose output is quantized and dequantized right after it — QDQ's
 *     Conv -> QuantizeLinear -> DequantizeLinear, QOperator's QLinearConv -> DequantizeLinear —
 *     gives its name (scope and function) to that DequantizeLinear and is not listed itself.
 * `layer1.0.conv1` is then the dequantized float output, what the next layer reads, at the
 * position the float model's `layer1.0.conv1` has. */
static ofx_status mark_quantizer_helpers(ofx_graph *g, node_origin *origins) {
  size_t *readers = calloc(g->n_values + 1, sizeof *readers);
  int *reader = malloc((g->n_values + 1) * sizeof *reader);
  bool *is8 = calloc(g->n_values + 1, sizeof *is8);
  if (!readers || !reader || !is8) {
    free(readers);
    free(reader);
    free(is8);
    return oom();
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    const ofx_node *n = &g->nodes[i];
    for (size_t k = 0; k < n->n_inputs + n->n_implicit_inputs; k++) {
      const int v = k < n->n_inputs ? n->inputs[k] : n->implicit_inputs[k - n->n_inputs];
      if (v >= 0) readers[v]++, reader[v] = (int)i;
    }
  }
  for (size_t i = 0; i < g->n_outputs; i++) { /* a reader, but no node: the chains stop there */
    readers[g->outputs[i]]++;
    reader[g->outputs[i]] = -1;
  }

  /* Which values hold a quantizer's 8-bit integers: inputs and constants of an 8-bit type and
   * what a QuantizeLinear makes. A helper reading an 8-bit value is a DequantizeLinear and makes
   * floats again; other ops pass input 0's kind on (QLinearConv: 8-bit in, 8-bit out). Nodes are
   * in execution order, so a value is settled before its readers look. */
  for (size_t v = 0; v < g->n_values; v++)
    is8[v] = g->values[v].kind != OFX_VALUE_NODE &&
             (g->values[v].dtype == OFX_DTYPE_UINT8 || g->values[v].dtype == OFX_DTYPE_INT8);
  for (size_t i = 0; i < g->n_nodes; i++) {
    ofx_node *node = &g->nodes[i];
    const bool helper = (node->traits.flags & OFX_TRAIT_QUANT_HELPER) != 0;
    if (helper) node->unlisted = true;
    if (node->proto == NULL) continue;
    const bool in8 = node->n_inputs > 0 && node->inputs[0] >= 0 && is8[node->inputs[0]];
    for (size_t k = 0; k < node->n_outputs; k++)
      if (node->outputs[k] >= 0) is8[node->outputs[k]] = !helper ? in8 : node->n_outputs == 1 ? !in8 : k == 0;
  }

  for (size_t i = 0; i < g->n_nodes; i++) { /* dynamic int8 */
    ofx_node *node = &g->nodes[i];
    if (!(node->traits.flags & OFX_TRAIT_INTEGER_PRODUCT) || node->n_outputs != 1 || origins[i].scope < 0) continue;
    /* the chain: sole readers in the layer's scope */
    size_t last = i;
    for (int v = node->outputs[0]; v >= 0 && readers[v] == 1 && reader[v] >= 0;) {
      const size_t r = (size_t)reader[v];
      if (origins[r].scope != origins[i].scope || g->nodes[r].n_outputs != 1 ||
          (g->nodes[r].traits.flags & (OFX_TRAIT_INTEGER_PRODUCT | OFX_TRAIT_QUANT_HELPER)))
        break;
      g->nodes[last].unlisted = true;
      last = r;
      v = g->nodes[r].outputs[0];
    }
    if (last == i) continue;
    origins[last].function = origins[i].function;
    /* the scales Mul: in the scope, read only by the chain */
    for (size_t j = 0; j < g->n_nodes; j++) {
      const ofx_node *n = &g->nodes[j];
      if (j == last || n->unlisted || origins[j].scope != origins[i].scope || n->n_outputs != 1 || n->outputs[0] < 0) continue;
      const int v = n->outputs[0];
      if (readers[v] == 1 && reader[v] >= 0 && g->nodes[reader[v]].unlisted && origins[reader[v]].scope == origins[i].scope) g->nodes[j].unlisted = true;
    }
  }

  for (size_t i = 0; i < g->n_nodes; i++) { /* static int8: QDQ and QOperator */
    ofx_node *node = &g->nodes[i];
    if (node->proto == NULL || node->unlisted || (node->traits.flags & OFX_TRAIT_QUANT_HELPER) || node->n_outputs != 1 ||
        node->outputs[0] < 0)
      continue;
    /* at most QuantizeLinear then DequantizeLinear, each the sole reader of the value before it
     * and named after it: in the node's scope, or in none (a graph output's: logits_QuantizeLinear) */
    size_t last = i;
    bool dequantized = false;
    for (int v = node->outputs[0], step = 0; step < 2 && readers[v] == 1 && reader[v] >= 0; step++) {
      const size_t r = (size_t)reader[v];
      const ofx_node *h = &g->nodes[r];
      if (!(h->traits.flags & OFX_TRAIT_QUANT_HELPER) || h->n_outputs != 1 || h->outputs[0] < 0 || h->n_inputs == 0 ||
          h->inputs[0] != v || (origins[r].scope >= 0 && origins[r].scope != origins[i].scope))
        break;
      last = r;
      if (is8[v]) { /* h dequantizes */
        dequantized = true;
        break;
      }
      v = h->outputs[0];
    }
    if (!dequantized) continue;
    origins[last] = origins[i];
    g->nodes[last].unlisted = false;
    node->unlisted = true;
  }
  free(readers);
  free(reader);
  free(is8);
  return OFX_OK;
}

ofx_status ofx_graph_name_nodes(ofx_graph *g) {
  ofx_status status = OFX_OK;
  scope_table scopes = {0};
  ofx_strmap taken = {0}, counters = {0};
  node_origin *origins = calloc(g->n_nodes + 1, sizeof *origins);
  if (origins == NULL) return oom();
  size_t tf_skip = shared_tf_prefix(g);

  for (size_t i = 0; i < g->n_nodes && status == OFX_OK; i++) {
    ofx_node *node = &g->nodes[i];
    node_origin *o = &origins[i];
    o->scope = -1;
    if (node->proto == NULL) {
      /* graph inputs keep their names, made valid dotted paths ("input_1:0" -> "input_1_0") */
      o->flat_name = sanitize_n(&g->arena, node->onnx_name, strlen(node->onnx_name), true);
      if (o->flat_name && o->flat_name[0] == '\0') o->flat_name = "input";
    } else if (origin_from_metadata(g, &scopes, node, o, &status)) {
      /* done */
    } else if (node->onnx_name[0] == '/') {
      status = origin_from_torchscript(g, &scopes, node, o);
    } else if (strchr(node->onnx_name, '/')) {
      status = origin_from_tf_path(g, &scopes, node, tf_skip, o);
    } else if (node->onnx_name[0]) {
      o->flat_name = sanitize_n(&g->arena, node->onnx_name, strlen(node->onnx_name), true);
      if (o->flat_name && o->flat_name[0] == '\0') o->flat_name = NULL;
    }
    if (status == OFX_OK && o->flat_name == NULL && o->function == NULL) {
      o->function = node_function_name(node, &g->arena);
      if (o->function == NULL) status = oom();
    }
  }
  if (status == OFX_OK) status = mark_quantizer_helpers(g, origins);
  if (status != OFX_OK) goto done;
  for (size_t i = 0; i < g->n_nodes; i++) { /* what a scope holds, a quantizer's helpers aside */
    const node_origin *o = &origins[i];
    if (o->scope < 0 || g->nodes[i].unlisted) continue;
    scope_info *sc = &scopes.items[o->scope];
    sc->direct_nodes++;
    sc->total_nodes++;
    if (!o->from_metadata || (sc->shared_function && strcmp(sc->shared_function, o->function) != 0))
      sc->calls_of_leaf = false;
    sc->shared_function = o->function;
  }
  /* Children are registered after their parents: a reverse sweep folds subtree facts upward. */
  for (size_t k = scopes.count; k-- > 0;) {
    scope_info *s = &scopes.items[k];
    if (s->parent < 0) continue;
    scope_info *p = &scopes.items[s->parent];
    p->total_nodes += s->total_nodes;
    if (s->height + 1 > p->height) p->height = s->height + 1;
  }
  for (size_t i = 0; i < g->n_nodes; i++)
    for (int s = g->nodes[i].unlisted ? -1 : origins[i].scope; s >= 0; s = scopes.items[s].parent)
      for (int view = 0; view < 2; view++)
        if (ofx_node_in_view(&g->nodes[i], (ofx_view)view)) scopes.items[s].last_node[view] = (int)i;

  /* Shape arithmetic (Shape and what is computed from shapes only: the Gather/Unsqueeze/Concat
   * feeding a Reshape) is torch's int plumbing, not tensor ops: it is named after every other
   * node, so that it does not take the counters of the tensor ops (vit's torch.cat stays `cat`). */
  bool *shape_only = calloc(g->n_nodes + 1, sizeof *shape_only);
  if (shape_only == NULL) {
    status = oom();
    goto done;
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    const ofx_node *node = &g->nodes[i];
    if (node->proto == NULL) continue;
    if (node->traits.flags & OFX_TRAIT_READS_SHAPE) {
      shape_only[i] = true;
      continue;
    }
    if (node->traits.flags & OFX_TRAIT_NOT_SHAPE_ARITH) continue;
    bool any = false, all = true;
    for (size_t k = 0; k < node->n_inputs; k++) {
      if (node->inputs[k] < 0) continue;
      const ofx_value *v = &g->values[node->inputs[k]];
      if (v->kind == OFX_VALUE_CONSTANT) continue;
      if (v->kind == OFX_VALUE_NODE && v->producer >= 0 && shape_only[v->producer]) any = true;
      else all = false;
    }
    shape_only[i] = any && all && node->n_implicit_inputs == 0;
  }

  /* tensor ops first, then shape arithmetic, then a quantizer's helpers: neither takes the
   * counters of the tensor ops */
  for (size_t step = 0; step < 3 * g->n_nodes; step++) {
    size_t i = step % g->n_nodes;
    const size_t sweep = g->nodes[i].unlisted ? 2 : shape_only[i] ? 1 : 0;
    if (sweep != step / g->n_nodes) continue;
    ofx_node *node = &g->nodes[i];
    const node_origin *o = &origins[i];
    const char *base = o->flat_name;
    if (base == NULL && o->scope < 0) {
      base = o->function;
    } else if (base == NULL) {
      const scope_info *s = &scopes.items[o->scope];
      bool leaf = s->child_scopes == 0 && (s->direct_nodes == 1 || s->calls_of_leaf) && !node->unlisted;
      base = leaf ? s->path : ofx_arena_sprintf(&g->arena, "%s.%s", s->path, o->function);
    }
    node->scope = o->scope >= 0 ? scopes.items[o->scope].path : "";
    node->name = base ? unique_name(&g->arena, &taken, &counters, base) : NULL;
    if (node->name == NULL) {
      free(shape_only);
      status = oom();
      goto done;
    }
  }
  free(shape_only);
  status = build_listing(g, &scopes, &taken, OFX_VIEW_TRAIN);
  if (status == OFX_OK) status = build_listing(g, &scopes, &taken, OFX_VIEW_EVAL);

done:
  free(origins);
  free(scopes.items);
  ofx_strmap_free(&scopes.index);
  ofx_strmap_free(&taken);
  ofx_strmap_free(&counters);
  return status;
}
