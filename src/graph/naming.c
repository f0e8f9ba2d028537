/* torchvision-style node names from the TorchScript exporter's scope names.
 *
 * "/layer1/layer1.0/relu_1/Relu" has scope segments layer1, layer1.0, relu_1; a segment that
 * starts with the previous segment plus "." extends it, so the scope path is layer1.0.relu_1.
 * A scope holding exactly one node and no child scope names that node, like a torchvision leaf
 * module (layer1.0.conv1, fc). Other nodes are <scope>.<torch function name> with _1, _2 ...
 * counters per name, in execution order (layer1.0.add, flatten). Graph inputs keep their names.
 *
 * Scopes that torchvision would see as one leaf module but the exporter split into several
 * nodes (MobileNetV2's features.0 = Conv + Clip) are listed too, after their last node, so the
 * names users copy from torchvision are found in the listing. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph.h"

typedef struct scope_info {
  const char *path;
  int parent;
  int direct_nodes, child_scopes, total_nodes, height;
  int last_node;
} scope_info;

typedef struct scope_table {
  scope_info *items;
  size_t count, capacity;
  ofx_strmap index;
} scope_table;

static ofx_status oom(void) { return ofx_error(OFX_OUT_OF_MEMORY, "out of memory while naming nodes"); }

/* ONNX op types whose torch function names differ from the lower-cased op type. */
static const char *torch_function_name(const char *op_type, ofx_arena *arena) {
  static const char *const table[][2] = {
      {"Concat", "cat"},        {"Div", "truediv"},
      {"MatMul", "matmul"},     {"ReduceMean", "mean"},
      {"GlobalAveragePool", "adaptive_avg_pool2d"},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(op_type, table[i][0]) == 0) return table[i][1];
  size_t n = strlen(op_type);
  char *lower = ofx_arena_strndup(arena, op_type, n);
  if (lower == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)lower[i];
    lower[i] = isalnum(c) ? (char)tolower(c) : '_';
  }
  return n ? lower : "node";
}

/* Keeps [A-Za-z0-9_] and single inner dots; anything else becomes '_'. */
static char *sanitize(ofx_arena *arena, const char *s) {
  size_t n = strlen(s);
  char *out = ofx_arena_alloc(arena, n + 1, 1);
  if (out == NULL) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (k == 0 || out[k - 1] == '.') continue;
      out[k++] = '.';
    } else {
      out[k++] = (isalnum(c) || c == '_') ? (char)c : '_';
    }
  }
  while (k && out[k - 1] == '.') k--;
  out[k] = '\0';
  return out;
}

static int scope_get_or_add(scope_table *t, ofx_arena *arena, const char *path, size_t len,
                            int parent) {
  char *key = ofx_arena_strndup(arena, path, len);
  if (key == NULL) return -2;
  size_t existing;
  if (ofx_strmap_get(&t->index, key, &existing)) return (int)existing;
  if (t->count == t->capacity) {
    size_t capacity = t->capacity ? t->capacity * 2 : 64;
    scope_info *items = realloc(t->items, capacity * sizeof *items);
    if (items == NULL) return -2;
    t->items = items;
    t->capacity = capacity;
  }
  scope_info *s = &t->items[t->count];
  memset(s, 0, sizeof *s);
  s->path = key;
  s->parent = parent;
  s->last_node = -1;
  if (parent >= 0) t->items[parent].child_scopes++;
  if (!ofx_strmap_put(&t->index, key, t->count)) return -2;
  return (int)t->count++;
}

/* Registers the scopes of an exporter name like "/a/a.0/b/Op"; returns the innermost scope
 * index, -1 for the root, -2 when out of memory. */
static int register_scopes(scope_table *t, ofx_arena *arena, const char *onnx_name) {
  size_t n = strlen(onnx_name);
  char *path = malloc(n + 1);
  if (path == NULL) return -2;
  size_t path_len = 0;
  const char *prev_seg = NULL;
  size_t prev_len = 0, prev_start = 0;
  int scope = -1;
  const char *p = onnx_name + 1;
  for (;;) {
    const char *slash = strchr(p, '/');
    if (slash == NULL) break; /* the last segment is the op part, not a scope */
    size_t seg_len = (size_t)(slash - p);
    if (seg_len > 0) {
      bool extends = prev_seg && seg_len > prev_len + 1 && memcmp(p, prev_seg, prev_len) == 0 &&
                     p[prev_len] == '.';
      if (extends) {
        path_len = prev_start; /* replace the previous segment by its extension */
      } else if (path_len) {
        path[path_len++] = '.';
      }
      prev_start = path_len;
      memcpy(path + path_len, p, seg_len);
      path_len += seg_len;
      prev_seg = p;
      prev_len = seg_len;
      /* either way the new scope nests in the previous one: layer1.0 is a child of layer1 */
      scope = scope_get_or_add(t, arena, path, path_len, scope);
      if (scope == -2) break;
    }
    p = slash + 1;
  }
  free(path);
  return scope;
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

ofx_status ofx_graph_name_nodes(ofx_graph *g) {
  ofx_status status = OFX_OK;
  scope_table scopes = {0};
  ofx_strmap taken = {0}, counters = {0};
  int *node_scope = calloc(g->n_nodes + 1, sizeof(int));
  if (node_scope == NULL) return oom();

  for (size_t i = 0; i < g->n_nodes; i++) {
    ofx_node *node = &g->nodes[i];
    node_scope[i] = -1;
    if (node->proto == NULL || node->onnx_name[0] != '/') continue;
    int scope = register_scopes(&scopes, &g->arena, node->onnx_name);
    if (scope == -2) {
      status = oom();
      goto done;
    }
    node_scope[i] = scope;
    if (scope >= 0) {
      scopes.items[scope].direct_nodes++;
      scopes.items[scope].total_nodes++;
      scopes.items[scope].last_node = (int)i;
    }
  }
  /* Children are registered after their parents: a reverse sweep folds subtree facts upward. */
  for (size_t k = scopes.count; k-- > 0;) {
    scope_info *s = &scopes.items[k];
    if (s->parent < 0) continue;
    scope_info *p = &scopes.items[s->parent];
    p->total_nodes += s->total_nodes;
    if (s->height + 1 > p->height) p->height = s->height + 1;
    if (s->last_node > p->last_node) p->last_node = s->last_node;
  }

  for (size_t i = 0; i < g->n_nodes; i++) {
    ofx_node *node = &g->nodes[i];
    const char *base;
    if (node->proto == NULL) {
      base = node->onnx_name; /* graph inputs keep their names */
    } else if (node->onnx_name[0] == '/') {
      int s = node_scope[i];
      const char *fn = torch_function_name(node->op_type, &g->arena);
      if (fn == NULL) {
        status = oom();
        goto done;
      }
      if (s < 0) base = fn;
      else if (scopes.items[s].direct_nodes == 1 && scopes.items[s].child_scopes == 0)
        base = scopes.items[s].path;
      else base = ofx_arena_sprintf(&g->arena, "%s.%s", scopes.items[s].path, fn);
    } else if (node->onnx_name[0]) {
      base = sanitize(&g->arena, node->onnx_name);
      if (base && base[0] == '\0') base = torch_function_name(node->op_type, &g->arena);
    } else {
      base = torch_function_name(node->op_type, &g->arena);
    }
    node->name = base ? unique_name(&g->arena, &taken, &counters, base) : NULL;
    if (node->name == NULL) {
      status = oom();
      goto done;
    }
  }

  /* The listing: every node, plus multi-node leaf-like scopes right after their last node,
   * innermost first. */
  size_t max_listed = g->n_nodes + scopes.count;
  g->listed = ofx_arena_alloc(&g->arena, max_listed + 1, sizeof *g->listed);
  if (g->listed == NULL) {
    status = oom();
    goto done;
  }
  int *alias_of_node_head = malloc((g->n_nodes + 1) * sizeof(int));
  int *alias_next = malloc((scopes.count + 1) * sizeof(int));
  if (!alias_of_node_head || !alias_next) {
    free(alias_of_node_head);
    free(alias_next);
    status = oom();
    goto done;
  }
  for (size_t i = 0; i < g->n_nodes; i++) alias_of_node_head[i] = -1;
  for (size_t k = 0; k < scopes.count; k++) {
    const scope_info *s = &scopes.items[k];
    bool block_of_leaves = s->direct_nodes == 0 && s->child_scopes >= 2 && s->height == 1;
    bool multi_node_leaf = s->child_scopes == 0 && s->direct_nodes >= 2;
    alias_next[k] = -1;
    if (!(block_of_leaves || multi_node_leaf) || s->last_node < 0) continue;
    if (name_taken(&taken, s->path)) continue;
    /* push front: later-registered (deeper) scopes come out first */
    alias_next[k] = alias_of_node_head[s->last_node];
    alias_of_node_head[s->last_node] = (int)k;
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    g->listed[g->n_listed].name = g->nodes[i].name;
    g->listed[g->n_listed++].node = (int)i;
    for (int k = alias_of_node_head[i]; k >= 0; k = alias_next[k]) {
      g->listed[g->n_listed].name = scopes.items[k].path;
      g->listed[g->n_listed++].node = (int)i;
    }
  }
  free(alias_of_node_head);
  free(alias_next);

done:
  free(node_scope);
  free(scopes.items);
  ofx_strmap_free(&scopes.index);
  ofx_strmap_free(&taken);
  ofx_strmap_free(&counters);
  return status;
}
