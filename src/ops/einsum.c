/* Einsum, float32 and float64: any equation over letters with '...', explicit or implicit
 * output, repeated labels (diagonals), contraction over labels missing from the output.
 *
 * Exporters emit Einsum for small matmul-like contractions ("bij,bjk->bik", "nchw,kc->nkhw"),
 * so this is one generic loop rather than a GEMM: per output element, the sum over every
 * combination of the contracted labels of the product of the inputs' elements. Strides per
 * label (a label repeated in one input adds its strides: the diagonal) make every pattern the
 * same loop. Ellipsis dims broadcast numpy-style (size 1 against any size). */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/typed.h"

#define MAX_TERMS 8
#define MAX_LABELS (52 + OFX_MAX_RANK) /* a-z, A-Z, then ellipsis dims */
#define MAX_TERM_LEN 64

typedef struct einsum_state {
  char equation[256];
  int n_terms;
  char terms[MAX_TERMS][MAX_TERM_LEN]; /* input terms, with "." for each '.' of "..." */
  char output[MAX_TERM_LEN];
  bool explicit_output;
  /* the last reshape */
  int n_loop;                               /* output labels first, then contracted ones */
  int64_t size[MAX_LABELS];                 /* per loop position */
  int64_t stride[MAX_TERMS][MAX_LABELS];    /* per input, per loop position */
  int n_out;
} einsum_state;

static int label_id(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

static ofx_status einsum_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(einsum_state)));
  einsum_state *s = op->state;
  char raw[256];
  OFX_TRY(ofx_node_attr_string(op->node, "equation", "", raw, sizeof raw));
  size_t n = 0;
  for (const char *p = raw; *p; p++)
    if (*p != ' ') s->equation[n++] = *p;
  s->equation[n] = '\0';
  const char *arrow = strstr(s->equation, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - s->equation) : n;
  s->explicit_output = arrow != NULL;
  if (arrow) {
    if (strlen(arrow + 2) >= MAX_TERM_LEN) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'equation' is too long");
    strcpy(s->output, arrow + 2);
  }
  s->n_terms = 1;
  size_t at = 0;
  for (size_t i = 0; i < lhs_len; i++) {
    char c = s->equation[i];
    if (c == ',') {
      if (s->n_terms == MAX_TERMS) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "more than %d Einsum inputs", MAX_TERMS);
      s->n_terms++;
      at = 0;
      continue;
    }
    if (label_id(c) < 0 && c != '.')
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'equation' ('%s') has an invalid character '%c'", raw, c);
    if (at + 1 >= MAX_TERM_LEN) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'equation' is too long");
    s->terms[s->n_terms - 1][at++] = c;
  }
  if ((size_t)s->n_terms != op->node->n_inputs)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'equation' ('%s') has %d input terms, the node has %zu inputs", raw,
                        s->n_terms, op->node->n_inputs);
  for (const char *p = s->output; *p; p++)
    if (label_id(*p) < 0 && *p != '.')
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'equation' ('%s') has an invalid output character '%c'", raw, *p);
  return OFX_OK;
}

/* Expands a term into label ids for a tensor of `rank`: "..." becomes the last `ell` ellipsis
 * ids (52 + position from the right-aligned ellipsis block of width max_ell). Returns the count
 * or -1 when the term does not fit the rank. */
static int expand_term(const char *term, int rank, int max_ell, int *ids, bool *has_ellipsis) {
  int explicit_count = 0;
  const char *dots = strstr(term, "...");
  for (const char *p = term; *p; p++) explicit_count += *p != '.';
  *has_ellipsis = dots != NULL;
  int ell = dots ? rank - explicit_count : 0;
  if (ell < 0 || (!dots && explicit_count != rank) || ell > max_ell) return -1;
  int n = 0;
  for (const char *p = term; *p;) {
    if (*p == '.') {
      if (strncmp(p, "...", 3) != 0 || p != dots) return -1;
      for (int j = 0; j < ell; j++) ids[n++] = 52 + (max_ell - ell) + j;
      p += 3;
      continue;
    }
    ids[n++] = label_id(*p++);
  }
  return n;
}

static ofx_status einsum_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  einsum_state *s = op->state;
  int dtype = in[0].dtype;
  if (dtype != OFX_DTYPE_FLOAT32 && dtype != OFX_DTYPE_DOUBLE && dtype != OFX_DTYPE_INT64 && dtype != OFX_DTYPE_INT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input type %s is not supported", onnx_dtype_name((int32_t)dtype));
  int max_ell = 0;
  for (int t = 0; t < s->n_terms; t++) {
    OFX_TRY(ofx_op_check_input(op, in, (size_t)t, (ofx_dtype)dtype, -1));
    int explicit_count = 0;
    for (const char *p = s->terms[t]; *p; p++) explicit_count += *p != '.';
    if (strstr(s->terms[t], "...") && in[t].rank - explicit_count > max_ell) max_ell = in[t].rank - explicit_count;
  }
  int64_t label_size[MAX_LABELS];
  int count[MAX_LABELS] = {0};
  for (int i = 0; i < MAX_LABELS; i++) label_size[i] = -1;
  int ids[MAX_TERMS][MAX_TERM_LEN + OFX_MAX_RANK], n_ids[MAX_TERMS];
  bool any_ellipsis = false;
  for (int t = 0; t < s->n_terms; t++) {
    bool e;
    n_ids[t] = expand_term(s->terms[t], in[t].rank, max_ell, ids[t], &e);
    any_ellipsis |= e;
    if (n_ids[t] < 0)
      return ofx_op_error(op, OFX_BAD_INPUT, "equation term '%s' does not fit input %d of rank %d", s->terms[t], t, in[t].rank);
    for (int k = 0; k < n_ids[t]; k++) {
      int l = ids[t][k];
      int64_t d = in[t].dims[k];
      count[l]++;
      if (label_size[l] < 0 || label_size[l] == 1) label_size[l] = d;
      else if (d != label_size[l] && !(l >= 52 && d == 1))
        return ofx_op_error(op, OFX_BAD_INPUT, "label '%c' has sizes %lld and %lld", l < 26 ? 'a' + l : l < 52 ? 'A' + l - 26 : '.',
                            (long long)label_size[l], (long long)d);
    }
  }
  /* output labels */
  int out_ids[MAX_LABELS], n_out = 0;
  if (s->explicit_output) {
    bool e;
    int rank_guess = 0;
    for (const char *p = s->output; *p; p++) rank_guess += *p != '.';
    if (strstr(s->output, "...")) rank_guess += max_ell;
    n_out = expand_term(s->output, rank_guess, max_ell, out_ids, &e);
    if (n_out < 0 || (any_ellipsis && !e && max_ell > 0))
      return ofx_op_error(op, OFX_BAD_MODEL, "output term '%s' is malformed", s->output);
    for (int k = 0; k < n_out; k++) {
      if (label_size[out_ids[k]] < 0)
        return ofx_op_error(op, OFX_BAD_MODEL, "output label of '%s' does not appear in the inputs", s->output);
      for (int j = 0; j < k; j++)
        if (out_ids[j] == out_ids[k]) return ofx_op_error(op, OFX_BAD_MODEL, "output term '%s' repeats a label", s->output);
    }
  } else {
    for (int j = 0; j < max_ell; j++) out_ids[n_out++] = 52 + j;
    for (int l = 0; l < 52; l++)
      if (count[l] == 1) out_ids[n_out++] = l;
  }
  if (n_out > OFX_MAX_RANK) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "output rank %d is too large", n_out);
  /* loop order: output labels, then the contracted ones */
  int loop[MAX_LABELS], n_loop = 0;
  bool used[MAX_LABELS] = {false};
  for (int k = 0; k < n_out; k++) loop[n_loop++] = out_ids[k], used[out_ids[k]] = true;
  for (int l = 0; l < MAX_LABELS; l++)
    if (label_size[l] >= 0 && !used[l]) loop[n_loop++] = l;
  s->n_loop = n_loop;
  s->n_out = n_out;
  for (int k = 0; k < n_loop; k++) s->size[k] = label_size[loop[k]];
  for (int t = 0; t < s->n_terms; t++) {
    for (int k = 0; k < n_loop; k++) s->stride[t][k] = 0;
    int64_t st = 1;
    for (int k = n_ids[t] - 1; k >= 0; k--) {
      int64_t d = in[t].dims[k];
      if (d != 1)
        for (int j = 0; j < n_loop; j++)
          if (loop[j] == ids[t][k]) s->stride[t][j] += st;
      st *= d;
    }
  }
  out[0].dtype = (ofx_dtype)dtype;
  out[0].rank = n_out;
  out[0].layout = OFX_LAYOUT_NCHW;
  for (int k = 0; k < n_out; k++) out[0].dims[k] = s->size[k];
  return OFX_OK;
}

static void einsum_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  (void)ctx;
  const einsum_state *s = op->state;
  size_t n_outer = 1, n_inner = 1;
  for (int k = 0; k < s->n_out; k++) n_outer *= (size_t)s->size[k];
  for (int k = s->n_out; k < s->n_loop; k++) n_inner *= (size_t)s->size[k];
  const int dtype = in[0].dtype;
  int64_t idx[MAX_LABELS] = {0};
  for (size_t o = 0; o < n_outer; o++) {
    /* idx[0..n_out) from o */
    size_t r = o;
    for (int k = s->n_out - 1; k >= 0; k--) {
      idx[k] = (int64_t)(r % (size_t)s->size[k]);
      r /= (size_t)s->size[k];
    }
    double acc = 0;
    for (int k = s->n_out; k < s->n_loop; k++) idx[k] = 0;
    for (size_t c = 0; c < n_inner; c++) {
      double prod = 1;
      for (int t = 0; t < s->n_terms; t++) {
        int64_t off = 0;
        for (int k = 0; k < s->n_loop; k++) off += idx[k] * s->stride[t][k];
        prod *= ofx_load_f64(in[t].data, dtype, (size_t)off);
      }
      acc += prod;
      for (int k = s->n_loop - 1; k >= s->n_out; k--) {
        if (++idx[k] < s->size[k]) break;
        idx[k] = 0;
      }
    }
    ofx_store_f64(out[0].data, dtype, o, acc);
  }
}

const ofx_op_def ofx_op_einsum = {.op_type = "Einsum", .kind = OFX_OP_Einsum, .init = einsum_init,
                                  .reshape = einsum_reshape, .run = einsum_run};
