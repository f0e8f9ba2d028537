#include "kernels/f32-conv2d/f32-conv2d.h"

/* First and one-past-last output index whose input index o*stride - pad + offset lies in
 * [0, size): keeps the bounds checks out of the inner loop. */
static void valid_range(size_t out_size, size_t stride, size_t pad, size_t offset, size_t size,
                        size_t *first, size_t *last) {
  long long lo = (long long)pad - (long long)offset; /* need o*stride >= lo */
  size_t f = lo <= 0 ? 0 : (size_t)((lo + (long long)stride - 1) / (long long)stride);
  long long hi = (long long)size + (long long)pad - (long long)offset; /* need o*stride < hi */
  size_t l = hi <= 0 ? 0 : (size_t)((hi + (long long)stride - 1) / (long long)stride);
  if (l > out_size) l = out_size;
  if (f > l) f = l;
  *first = f;
  *last = l;
}

void ofx_f32_conv2d_nchw_minmax__scalar(const ofx_conv2d_params *p, const float *input,
                                        const float *weights, const float *bias, float *output) {
  const size_t out_plane = p->out_height * p->out_width;
  const size_t in_plane = p->in_height * p->in_width;
  const size_t kernel_size = p->kernel_height * p->kernel_width;
  for (size_t oc = 0; oc < p->out_channels; oc++) {
    float *out = output + oc * out_plane;
    const float b = bias ? bias[oc] : 0.0f;
    for (size_t i = 0; i < out_plane; i++) out[i] = b;
    for (size_t ic = 0; ic < p->in_channels; ic++) {
      const float *in = input + ic * in_plane;
      const float *w = weights + (oc * p->in_channels + ic) * kernel_size;
      for (size_t kh = 0; kh < p->kernel_height; kh++) {
        size_t oh0, oh1;
        valid_range(p->out_height, p->stride_height, p->pad_top, kh * p->dilation_height,
                    p->in_height, &oh0, &oh1);
        for (size_t kw = 0; kw < p->kernel_width; kw++) {
          const float wv = w[kh * p->kernel_width + kw];
          size_t ow0, ow1;
          valid_range(p->out_width, p->stride_width, p->pad_left, kw * p->dilation_width,
                      p->in_width, &ow0, &ow1);
          for (size_t oh = oh0; oh < oh1; oh++) {
            const float *in_row =
                in + (oh * p->stride_height + kh * p->dilation_height - p->pad_top) * p->in_width;
            float *out_row = out + oh * p->out_width;
            const size_t iw_offset = kw * p->dilation_width - p->pad_left;
            if (p->stride_width == 1) {
              /* index, not pointer, arithmetic: iw_offset wraps around when negative */
              for (size_t ow = ow0; ow < ow1; ow++) out_row[ow] += wv * in_row[ow + iw_offset];
            } else {
              for (size_t ow = ow0; ow < ow1; ow++)
                out_row[ow] += wv * in_row[ow * p->stride_width + iw_offset];
            }
          }
        }
      }
    }
    for (size_t i = 0; i < out_plane; i++) {
      float v = out[i];
      v = v < p->output_min ? p->output_min : v;
      out[i] = v > p->output_max ? p->output_max : v;
    }
  }
}
