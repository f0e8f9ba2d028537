/* The extractor's own state, shared by extractor.c (create, plan, run) and extractor-inputs.c
 * (binding inputs); nothing else sees it. */
#ifndef OFX_RUNTIME_EXTRACTOR_IMPL_H
#define OFX_RUNTIME_EXTRACTOR_IMPL_H

#include "runtime/plan.h"

struct ofx_extractor {
  ofx_plan plan;
  bool *bound;            /* per input: given for the next run (plan.inputs holds it) */
  float **input_f32;      /* per input: float16 inputs widened to float32 (or float32 given for a
                           * float16 input, rounded to its precision), owned here */
  size_t *output_request; /* per output: the request it answers */
  bool planned, ran; /* ran: outputs hold the last run's values (explain may plan without running) */
  ofx_tensor *planned_input_shapes;
  double *step_ms; /* per step (+1 for the output conversions) while profiling, else NULL */
};

/* extractor-inputs.c */
/* INVALID_INPUT naming the first input not given for this run. */
ofx_status ofx_extractor_check_bound(const ofx_extractor *fx);
/* Binds zero-filled inputs of the given shapes (to plan without data); free with free_zeros. */
ofx_status ofx_extractor_bind_zeros(ofx_extractor *fx, const ofx_tensor *shapes, void ***zeros);
void ofx_extractor_free_zeros(ofx_extractor *fx, void **zeros);

#endif
