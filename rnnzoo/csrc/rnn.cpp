// C++ time loops of the vanilla (tanh or relu) RNN: torch.ops.rnnzoo.rnn_forward / rnn_backward.
//
// They compute exactly what forward_loop / backward_loop in rnnzoo/nn/rnn_scan.py compute (that Python is the
// reference, tested against this in tests/test_rnn_native.py), in the same canonical form:
//   xproj (T, B, H) = W_ih x_t + b_ih + b_hh (both biases fold into the input share: nothing multiplies them);
//   w_hh (H, H); h0 (B, H); mask (T, B, 1) bool or None; past a sequence's length its state is held.
// Per step the forward does one matmul (W_hh h_{t-1}, written into h_t's slot) and one pointwise pass
// (pointwise.h); the backward one pointwise pass and one matmul (dh_{t-1} += W_hhᵀ d_a_t). The recurrent weight
// gradient is one large matmul after the loop. Matmuls and threading as in gru.cpp (scan_common.h).

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/zeros.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include <tuple>

#include "pointwise.h"
#include "scan_common.h"

namespace rnnzoo {

RNNZOO_RNN_FORWARD_STEP(rnn_forward_step_f32, float, tanh_f, )
RNNZOO_RNN_FORWARD_STEP(rnn_forward_step_f64, double, tanh_d, )
RNNZOO_RNN_BACKWARD_STEP(rnn_backward_step_f32, float, )
RNNZOO_RNN_BACKWARD_STEP(rnn_backward_step_f64, double, )
#ifdef RNNZOO_ISA_VARIANTS
RNNZOO_RNN_FORWARD_STEP(rnn_forward_step_f32_avx2, float, tanh_f, RNNZOO_TARGET_AVX2)
RNNZOO_RNN_BACKWARD_STEP(rnn_backward_step_f32_avx2, float, RNNZOO_TARGET_AVX2)
RNNZOO_RNN_FORWARD_STEP(rnn_forward_step_f32_avx512, float, tanh_f, RNNZOO_TARGET_AVX512)
RNNZOO_RNN_BACKWARD_STEP(rnn_backward_step_f32_avx512, float, RNNZOO_TARGET_AVX512)
#endif

namespace {

struct RnnF32Kernels {
  decltype(&rnn_forward_step_f32) forward = &rnn_forward_step_f32;
  decltype(&rnn_backward_step_f32) backward = &rnn_backward_step_f32;
  RnnF32Kernels() {
#ifdef RNNZOO_ISA_VARIANTS
    switch (cpu_isa()) {
      case Isa::kAvx512:
        forward = &rnn_forward_step_f32_avx512, backward = &rnn_backward_step_f32_avx512;
        break;
      case Isa::kAvx2:
        forward = &rnn_forward_step_f32_avx2, backward = &rnn_backward_step_f32_avx2;
        break;
      default:
        break;
    }
#endif
  }
};

const RnnF32Kernels& rnn_f32_kernels() {
  static const RnnF32Kernels instance;
  return instance;
}

inline void forward_step(int64_t b0, int64_t b1, int64_t H, bool relu, const float* x, const float* h_prev,
                         const bool* mask, float* h_out) {
  rnn_f32_kernels().forward(b0, b1, H, relu, x, h_prev, mask, h_out);
}
inline void forward_step(int64_t b0, int64_t b1, int64_t H, bool relu, const double* x, const double* h_prev,
                         const bool* mask, double* h_out) {
  rnn_forward_step_f64(b0, b1, H, relu, x, h_prev, mask, h_out);
}
inline void backward_step(int64_t b0, int64_t b1, int64_t H, bool relu, const float* h, const float* grad_h,
                          const bool* mask, float* dh, float* d_a) {
  rnn_f32_kernels().backward(b0, b1, H, relu, h, grad_h, mask, dh, d_a);
}
inline void backward_step(int64_t b0, int64_t b1, int64_t H, bool relu, const double* h, const double* grad_h,
                          const bool* mask, double* dh, double* d_a) {
  rnn_backward_step_f64(b0, b1, H, relu, h, grad_h, mask, dh, d_a);
}

void check_inputs(const at::Tensor& xproj, const at::Tensor& w_hh, const at::Tensor& h0,
                  const std::optional<at::Tensor>& mask) {
  TORCH_CHECK(xproj.dim() == 3, "rnn: xproj must be (T, B, H)");
  const int64_t T = xproj.size(0), B = xproj.size(1), H = xproj.size(2);
  TORCH_CHECK(xproj.device().is_cpu(), "rnn: CPU tensors only");
  TORCH_CHECK(xproj.scalar_type() == at::kFloat || xproj.scalar_type() == at::kDouble,
              "rnn: float32 or float64 only");
  for (const at::Tensor* t : {&w_hh, &h0}) {
    TORCH_CHECK(t->scalar_type() == xproj.scalar_type() && t->device().is_cpu(),
                "rnn: all tensors must share xproj's dtype and be on the CPU");
  }
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == H && w_hh.size(1) == H, "rnn: w_hh must be (H, H)");
  TORCH_CHECK(h0.numel() == B * H, "rnn: h0 must be (B, H)");
  if (mask.has_value() && mask->defined()) {
    TORCH_CHECK(mask->numel() == T * B, "rnn: mask must be (T, B, 1)");
  }
}

template <typename T>
void forward_impl(const at::Tensor& xproj, const at::Tensor& w_hh, const at::Tensor& h0, const at::Tensor& mask,
                  bool relu, at::Tensor& hs) {
  const int64_t steps = hs.size(0), B = hs.size(1), H = hs.size(2);
  if (steps == 0 || B == 0) return;
  StepGemm<T> gemm(w_hh, /*w_transposed=*/true, B, H, H);  // h_t <- h_{t-1} W_hhᵀ, then the pointwise pass
  const bool* m = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  const int64_t grain = row_grain(H);
  for (int64_t t = 0; t < steps; ++t) {
    at::Tensor h_prev = t == 0 ? h0 : hs[t - 1];
    at::Tensor h_t = hs[t];
    gemm.run(h_prev, h_t, /*accumulate=*/false);
    const T* x_ptr = xproj[t].const_data_ptr<T>();
    const T* hp = h_prev.const_data_ptr<T>();
    T* hn = h_t.mutable_data_ptr<T>();
    const bool* mt = m != nullptr ? m + t * B : nullptr;
    at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
      const FlushDenormals task_flush_denormals;
      forward_step(b0, b1, H, relu, x_ptr, hp, mt, hn);
    });
  }
}

template <typename T>
void backward_impl(const at::Tensor& grad_hs, const at::Tensor& w_hh, const at::Tensor& h0, const at::Tensor& mask,
                   const at::Tensor& hs, bool relu, at::Tensor& d_a, at::Tensor& grad_w_hh, at::Tensor& dh) {
  const int64_t steps = hs.size(0), B = hs.size(1), H = hs.size(2);
  if (steps == 0 || B == 0) {
    grad_w_hh.zero_();
    return;
  }
  StepGemm<T> gemm(w_hh, /*w_transposed=*/false, B, H, H);  // dh_{t-1} += d_a_t W_hh
  const bool* m = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  const int64_t grain = row_grain(H);
  T* dh_ptr = dh.mutable_data_ptr<T>();
  StepSlices<T> grad_h_steps;
  for (int64_t t = steps - 1; t >= 0; --t) {
    const T* h_ptr = hs[t].const_data_ptr<T>();
    const T* gr = grad_h_steps.at(grad_hs[t]);
    at::Tensor da = d_a[t];
    T* da_ptr = da.mutable_data_ptr<T>();
    const bool* mt = m != nullptr ? m + t * B : nullptr;
    at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
      const FlushDenormals task_flush_denormals;
      backward_step(b0, b1, H, relu, h_ptr, gr, mt, dh_ptr, da_ptr);
    });
    gemm.run(da, dh, /*accumulate=*/true);  // dh_{t-1} = (0 or the held d) + W_hhᵀ d_a_t
  }
  // grad_w_hh = Σ_t d_a_tᵀ h_{t-1}: step 0 with h0, steps 1.. with hs[:-1] as one large matmul.
  at::mm_out(grad_w_hh, d_a[0].t(), h0);
  if (steps > 1) {
    grad_w_hh.addmm_(d_a.narrow(0, 1, steps - 1).reshape({-1, H}).t(), hs.narrow(0, 0, steps - 1).reshape({-1, H}));
  }
}

}  // namespace

at::Tensor rnn_forward(const at::Tensor& xproj_in, const at::Tensor& w_hh_in, const at::Tensor& h0_in,
                       const std::optional<at::Tensor>& mask_in, bool relu) {
  c10::impl::ExcludeDispatchKeyGuard no_autograd(c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  const FlushDenormals flush_denormals;  // this thread; the parallel_for tasks set their own
  check_inputs(xproj_in, w_hh_in, h0_in, mask_in);
  const int64_t T = xproj_in.size(0), B = xproj_in.size(1), H = xproj_in.size(2);
  const at::Tensor w_hh = w_hh_in.contiguous(), h0 = h0_in.reshape({B, H}).contiguous();
  const at::Tensor mask = mask_of(mask_in);
  const at::Tensor xproj = xproj_in.contiguous();
  at::Tensor hs = at::empty({T, B, H}, xproj.options());
  if (hs.scalar_type() == at::kFloat) {
    forward_impl<float>(xproj, w_hh, h0, mask, relu, hs);
  } else {
    forward_impl<double>(xproj, w_hh, h0, mask, relu, hs);
  }
  return hs;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> rnn_backward(const at::Tensor& grad_hs_in, const at::Tensor& w_hh_in,
                                                            const at::Tensor& h0_in,
                                                            const std::optional<at::Tensor>& mask_in,
                                                            const at::Tensor& hs_in, bool relu) {
  c10::impl::ExcludeDispatchKeyGuard no_autograd(c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  const FlushDenormals flush_denormals;  // this thread; the parallel_for tasks set their own
  check_inputs(hs_in, w_hh_in, h0_in, mask_in);
  const int64_t T = hs_in.size(0), B = hs_in.size(1), H = hs_in.size(2);
  // grad_hs may have any strides (an expanded zero or one): only a step's slice is made contiguous.
  TORCH_CHECK(grad_hs_in.sizes() == hs_in.sizes() && grad_hs_in.scalar_type() == hs_in.scalar_type() &&
                  grad_hs_in.device().is_cpu(),
              "rnn_backward: grad_hs must have the shape, dtype and device of hs");
  const at::Tensor w_hh = w_hh_in.contiguous(), h0 = h0_in.reshape({B, H}).contiguous();
  const at::Tensor hs = hs_in.contiguous();
  const at::Tensor mask = mask_of(mask_in);
  at::Tensor d_a = at::empty({T, B, H}, hs.options());
  at::Tensor grad_w_hh = at::empty({H, H}, hs.options());
  at::Tensor dh = at::zeros({B, H}, hs.options());
  if (hs.scalar_type() == at::kFloat) {
    backward_impl<float>(grad_hs_in, w_hh, h0, mask, hs, relu, d_a, grad_w_hh, dh);
  } else {
    backward_impl<double>(grad_hs_in, w_hh, h0, mask, hs, relu, d_a, grad_w_hh, dh);
  }
  return {d_a, grad_w_hh, dh.view(h0_in.sizes())};
}

}  // namespace rnnzoo

TORCH_LIBRARY_FRAGMENT(rnnzoo, m) {
  m.def("rnn_forward(Tensor xproj, Tensor w_hh, Tensor h0, Tensor? mask, bool relu) -> Tensor");
  m.def("rnn_backward(Tensor grad_hs, Tensor w_hh, Tensor h0, Tensor? mask, Tensor hs, bool relu)"
        " -> (Tensor d_xproj, Tensor grad_w_hh, Tensor grad_h0)");
}

TORCH_LIBRARY_IMPL(rnnzoo, CPU, m) {
  m.impl("rnn_forward", &rnnzoo::rnn_forward);
  m.impl("rnn_backward", &rnnzoo::rnn_backward);
}
