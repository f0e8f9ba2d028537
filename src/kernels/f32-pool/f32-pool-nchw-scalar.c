#include <float.h>

#include "kernels/f32-pool/f32-pool.h"

void ofx_f32_maxpool2d_nchw__scalar(const ofx_pool2d_params *p, size_t planes, const float *input,
                                    float *output) {
  for (size_t c = 0; c < planes; c++) {
    const float *in = input + c * p->in_height * p->in_width;
    float *out = output + c * p->out_height * p->out_width;
    for (size_t oh = 0; oh < p->out_height; oh++) {
      for (size_t ow = 0; ow < p->out_width; ow++) {
        float best = -FLT_MAX;
        for (size_t kh = 0; kh < p->kernel_height; kh++) {
          long long ih = (long long)(oh * p->stride_height + kh * p->dilation_height) - (long long)p->pad_top;
          if (ih < 0 || ih >= (long long)p->in_height) continue;
          for (size_t kw = 0; kw < p->kernel_width; kw++) {
            long long iw = (long long)(ow * p->stride_width + kw * p->dilation_width) - (long long)p->pad_left;
            if (iw < 0 || iw >= (long long)p->in_width) continue;
            float v = in[ih * (long long)p->in_width + iw];
            if (v > best || v != v) best = v;
          }
        }
        out[oh * p->out_width + ow] = best;
      }
    }
  }
}

void ofx_f32_avgpool2d_nchw__scalar(const ofx_pool2d_params *p, size_t planes, const float *input,
                                    float *output) {
  for (size_t c = 0; c < planes; c++) {
    const float *in = input + c * p->in_height * p->in_width;
    float *out = output + c * p->out_height * p->out_width;
    for (size_t oh = 0; oh < p->out_height; oh++) {
      for (size_t ow = 0; ow < p->out_width; ow++) {
        float sum = 0.0f;
        size_t count = 0, padded_count = 0;
        for (size_t kh = 0; kh < p->kernel_height; kh++) {
          long long ih = (long long)(oh * p->stride_height + kh * p->dilation_height) - (long long)p->pad_top;
          /* padded area counts only inside the explicit pads, not the ceil_mode overhang */
          bool h_in_padded = ih >= -(long long)p->pad_top && ih < (long long)(p->in_height + p->pad_bottom);
          for (size_t kw = 0; kw < p->kernel_width; kw++) {
            long long iw = (long long)(ow * p->stride_width + kw * p->dilation_width) - (long long)p->pad_left;
            bool w_in_padded = iw >= -(long long)p->pad_left && iw < (long long)(p->in_width + p->pad_right);
            if (h_in_padded && w_in_padded) padded_count++;
            if (ih < 0 || ih >= (long long)p->in_height || iw < 0 || iw >= (long long)p->in_width) continue;
            sum += in[ih * (long long)p->in_width + iw];
            count++;
          }
        }
        size_t divisor = p->count_include_pad ? padded_count : count;
        out[oh * p->out_width + ow] = divisor ? sum / (float)divisor : 0.0f;
      }
    }
  }
}

void ofx_f32_global_avgpool_nchw__scalar(size_t planes, size_t plane_size, const float *input,
                                         float *output) {
  for (size_t c = 0; c < planes; c++) {
    const float *in = input + c * plane_size;
    double sum = 0.0;
    for (size_t i = 0; i < plane_size; i++) sum += in[i];
    output[c] = plane_size ? (float)(sum / (double)plane_size) : 0.0f;
  }
}
