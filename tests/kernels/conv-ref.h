/* Naive NHWC convolution references for the igemm and dwconv tests (OIHW weights). */
#ifndef OFX_CONV_REF_H
#define OFX_CONV_REF_H

#include <math.h>
#include <stddef.h>

typedef struct conv_shape {
  size_t in_h, in_w, kh, kw, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
  size_t out_h, out_w;
} conv_shape;

static inline void conv_shape_finish(conv_shape *s) {
  const size_t eff_h = (s->kh - 1) * s->dil_h + 1, eff_w = (s->kw - 1) * s->dil_w + 1;
  /* symmetric padding as ONNX pads = [top, left, top, left] */
  s->out_h = (s->in_h + 2 * s->pad_top - eff_h) / s->stride_h + 1;
  s->out_w = (s->in_w + 2 * s->pad_left - eff_w) / s->stride_w + 1;
}

/* One group: input x[in_h][in_w][x_stride] starting at channel ci0, weights [cout][cin][kh][kw],
 * output y[p][cout] (+ |terms| in mag). depthwise: cin = 1 and channel o reads channel ci0+o. */
static inline void conv_ref_nhwc(const conv_shape *s, size_t cin, size_t cout, int depthwise,
                                 const float *x, size_t x_stride, size_t ci0, const float *w,
                                 const float *bias, float *y, float *mag) {
  for (size_t oy = 0; oy < s->out_h; oy++)
    for (size_t ox = 0; ox < s->out_w; ox++)
      for (size_t o = 0; o < cout; o++) {
        float acc = bias[o], m = fabsf(bias[o]);
        for (size_t ky = 0; ky < s->kh; ky++)
          for (size_t kx = 0; kx < s->kw; kx++) {
            const long long iy = (long long)(oy * s->stride_h + ky * s->dil_h) - (long long)s->pad_top;
            const long long ix = (long long)(ox * s->stride_w + kx * s->dil_w) - (long long)s->pad_left;
            if (iy < 0 || ix < 0 || iy >= (long long)s->in_h || ix >= (long long)s->in_w) continue;
            const float *px = x + ((size_t)iy * s->in_w + (size_t)ix) * x_stride + ci0;
            for (size_t ci = 0; ci < cin; ci++) {
              const float v = (depthwise ? px[o] : px[ci]) * w[((o * cin + ci) * s->kh + ky) * s->kw + kx];
              acc += v;
              m += fabsf(v);
            }
          }
        const size_t p = oy * s->out_w + ox;
        y[p * cout + o] = acc;
        mag[p * cout + o] = m;
      }
}

#endif
