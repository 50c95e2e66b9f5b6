// C++ time loops of the GRU: torch.ops.rnnzoo.gru_forward / gru_backward.
//
// They compute exactly what forward_loop / backward_loop in rnnzoo/nn/gru_scan.py compute (that Python is the
// reference, tested against this in tests/test_gru_native.py), in the same canonical form:
//   xproj (T, B, 3H) = W_ih x_t + b_ih, gate order r, z, n as in torch.nn; w_hh (3H, H); b_hh (3H,) (zeros for a
//   layer without biases; it stays apart from xproj because b_hn sits inside r ⊙ (W_hn h + b_hn));
//   mask (T, B, 1) bool or None; past a sequence's length its state is held.
// Per step the forward does one matmul (W_hh h_{t-1}, written into the gates buffer) and one fused pointwise
// pass (pointwise.h) that stores the activated gates r, z, n, gh_n = W_hn h_{t-1} + b_hn and h_t; the backward
// does one fused pointwise pass and one matmul (dh_{t-1} += W_hhᵀ d_gh_t). The recurrent weight and bias
// gradients are large reductions after the loop. Matmuls and threading as in peephole.cpp (scan_common.h).

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/zeros.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include <tuple>

#include "pointwise.h"
#include "scan_common.h"

namespace rnnzoo {

RNNZOO_GRU_FORWARD_STEP(gru_forward_step_f32, float, sigmoid_f, tanh_f, )
RNNZOO_GRU_FORWARD_STEP(gru_forward_step_f64, double, sigmoid_d, tanh_d, )
RNNZOO_GRU_BACKWARD_STEP(gru_backward_step_f32, float, )
RNNZOO_GRU_BACKWARD_STEP(gru_backward_step_f64, double, )
#ifdef RNNZOO_ISA_VARIANTS
RNNZOO_GRU_FORWARD_STEP(gru_forward_step_f32_avx2, float, sigmoid_f, tanh_f, RNNZOO_TARGET_AVX2)
RNNZOO_GRU_BACKWARD_STEP(gru_backward_step_f32_avx2, float, RNNZOO_TARGET_AVX2)
RNNZOO_GRU_FORWARD_STEP(gru_forward_step_f32_avx512, float, sigmoid_f, tanh_f, RNNZOO_TARGET_AVX512)
RNNZOO_GRU_BACKWARD_STEP(gru_backward_step_f32_avx512, float, RNNZOO_TARGET_AVX512)
#endif

namespace {

struct GruF32Kernels {
  decltype(&gru_forward_step_f32) forward = &gru_forward_step_f32;
  decltype(&gru_backward_step_f32) backward = &gru_backward_step_f32;
  GruF32Kernels() {
#ifdef RNNZOO_ISA_VARIANTS
    switch (cpu_isa()) {
      case Isa::kAvx512:
        forward = &gru_forward_step_f32_avx512, backward = &gru_backward_step_f32_avx512;
        break;
      case Isa::kAvx2:
        forward = &gru_forward_step_f32_avx2, backward = &gru_backward_step_f32_avx2;
        break;
      default:
        break;
    }
#endif
  }
};

const GruF32Kernels& gru_f32_kernels() {
  static const GruF32Kernels instance;
  return instance;
}

inline void forward_step(int64_t b0, int64_t b1, int64_t H, const float* x, float* gates, const float* b_hh,
                         const float* h_prev, const bool* mask, float* ghn, float* h_out) {
  gru_f32_kernels().forward(b0, b1, H, x, gates, b_hh, h_prev, mask, ghn, h_out);
}
inline void forward_step(int64_t b0, int64_t b1, int64_t H, const double* x, double* gates, const double* b_hh,
                         const double* h_prev, const bool* mask, double* ghn, double* h_out) {
  gru_forward_step_f64(b0, b1, H, x, gates, b_hh, h_prev, mask, ghn, h_out);
}
inline void backward_step(int64_t b0, int64_t b1, int64_t H, const float* gates, const float* ghn,
                          const float* h_prev, const float* grad_h, const bool* mask, float* dh, float* d_x,
                          float* d_gh) {
  gru_f32_kernels().backward(b0, b1, H, gates, ghn, h_prev, grad_h, mask, dh, d_x, d_gh);
}
inline void backward_step(int64_t b0, int64_t b1, int64_t H, const double* gates, const double* ghn,
                          const double* h_prev, const double* grad_h, const bool* mask, double* dh, double* d_x,
                          double* d_gh) {
  gru_backward_step_f64(b0, b1, H, gates, ghn, h_prev, grad_h, mask, dh, d_x, d_gh);
}

void check_inputs(const at::Tensor& xproj, const at::Tensor& w_hh, const at::Tensor& b_hh, const at::Tensor& h0,
                  const std::optional<at::Tensor>& mask) {
  TORCH_CHECK(xproj.dim() == 3 && xproj.size(2) % 3 == 0, "gru: xproj must be (T, B, 3H)");
  const int64_t T = xproj.size(0), B = xproj.size(1), H = xproj.size(2) / 3;
  TORCH_CHECK(xproj.device().is_cpu(), "gru: CPU tensors only");
  TORCH_CHECK(xproj.scalar_type() == at::kFloat || xproj.scalar_type() == at::kDouble,
              "gru: float32 or float64 only");
  for (const at::Tensor* t : {&w_hh, &b_hh, &h0}) {
    TORCH_CHECK(t->scalar_type() == xproj.scalar_type() && t->device().is_cpu(),
                "gru: all tensors must share xproj's dtype and be on the CPU");
  }
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 3 * H && w_hh.size(1) == H, "gru: w_hh must be (3H, H)");
  TORCH_CHECK(b_hh.numel() == 3 * H, "gru: b_hh must have 3H elements");
  TORCH_CHECK(h0.numel() == B * H, "gru: h0 must be (B, H)");
  if (mask.has_value() && mask->defined()) {
    TORCH_CHECK(mask->numel() == T * B, "gru: mask must be (T, B, 1)");
  }
}

template <typename T>
void forward_impl(const at::Tensor& xproj, const at::Tensor& w_hh, const at::Tensor& b_hh, const at::Tensor& h0,
                  const at::Tensor& mask, at::Tensor& hs, at::Tensor& gates, at::Tensor& ghn) {
  const int64_t steps = gates.size(0), B = gates.size(1), H = gates.size(2) / 3;
  if (steps == 0 || B == 0) return;
  StepGemm<T> gemm(w_hh, /*w_transposed=*/true, B, 3 * H, H);  // gates_t = h_{t-1} W_hhᵀ
  const T* bias = b_hh.const_data_ptr<T>();
  const bool* m = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  const int64_t grain = row_grain(H);
  for (int64_t t = 0; t < steps; ++t) {
    at::Tensor h_prev = t == 0 ? h0 : hs[t - 1];
    at::Tensor a = gates[t];
    gemm.run(h_prev, a, /*accumulate=*/false);
    const T* x_ptr = xproj[t].const_data_ptr<T>();
    T* a_ptr = a.mutable_data_ptr<T>();
    const T* hp = h_prev.const_data_ptr<T>();
    T* gn = ghn[t].mutable_data_ptr<T>();
    T* hn = hs[t].mutable_data_ptr<T>();
    const bool* mt = m != nullptr ? m + t * B : nullptr;
    at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
      const FlushDenormals task_flush_denormals;
      forward_step(b0, b1, H, x_ptr, a_ptr, bias, hp, mt, gn, hn);
    });
  }
}

template <typename T>
void backward_impl(const at::Tensor& grad_hs, const at::Tensor& w_hh, const at::Tensor& h0, const at::Tensor& mask,
                   const at::Tensor& hs, const at::Tensor& gates, const at::Tensor& ghn, at::Tensor& d_x,
                   at::Tensor& d_gh, at::Tensor& grad_w_hh, at::Tensor& grad_b_hh, at::Tensor& dh) {
  const int64_t steps = gates.size(0), B = gates.size(1), H = gates.size(2) / 3;
  if (steps == 0 || B == 0) {
    grad_w_hh.zero_();
    grad_b_hh.zero_();
    return;
  }
  StepGemm<T> gemm(w_hh, /*w_transposed=*/false, B, H, 3 * H);  // dh_{t-1} += d_gh_t W_hh
  const bool* m = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  const int64_t grain = row_grain(H);
  T* dh_ptr = dh.mutable_data_ptr<T>();
  StepSlices<T> grad_h_steps;
  for (int64_t t = steps - 1; t >= 0; --t) {
    const T* g = gates[t].const_data_ptr<T>();
    const T* gn = ghn[t].const_data_ptr<T>();
    const T* hp = (t == 0 ? h0 : hs[t - 1]).const_data_ptr<T>();
    const T* gr = grad_h_steps.at(grad_hs[t]);
    T* dx_ptr = d_x[t].mutable_data_ptr<T>();
    at::Tensor dg = d_gh[t];
    T* dg_ptr = dg.mutable_data_ptr<T>();
    const bool* mt = m != nullptr ? m + t * B : nullptr;
    at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
      const FlushDenormals task_flush_denormals;
      backward_step(b0, b1, H, g, gn, hp, gr, mt, dh_ptr, dx_ptr, dg_ptr);
    });
    gemm.run(dg, dh, /*accumulate=*/true);  // dh_{t-1} = d ⊙ z (or the held d) + W_hhᵀ d_gh_t
  }
  // grad_w_hh = Σ_t d_gh_tᵀ h_{t-1}: step 0 with h0, steps 1.. with hs[:-1] as one large matmul.
  at::mm_out(grad_w_hh, d_gh[0].t(), h0);
  if (steps > 1) {
    grad_w_hh.addmm_(d_gh.narrow(0, 1, steps - 1).reshape({-1, 3 * H}).t(),
                     hs.narrow(0, 0, steps - 1).reshape({-1, H}));
  }
  at::sum_out(grad_b_hh, d_gh.view({-1, 3 * H}), {0});
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> gru_forward(const at::Tensor& xproj_in, const at::Tensor& w_hh_in,
                                                           const at::Tensor& b_hh_in, const at::Tensor& h0_in,
                                                           const std::optional<at::Tensor>& mask_in) {
  c10::impl::ExcludeDispatchKeyGuard no_autograd(c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  const FlushDenormals flush_denormals;  // this thread; the parallel_for tasks set their own
  check_inputs(xproj_in, w_hh_in, b_hh_in, h0_in, mask_in);
  const int64_t T = xproj_in.size(0), B = xproj_in.size(1), H = xproj_in.size(2) / 3;
  const at::Tensor w_hh = w_hh_in.contiguous(), b_hh = b_hh_in.reshape({3 * H}).contiguous();
  const at::Tensor h0 = h0_in.reshape({B, H}).contiguous();
  const at::Tensor mask = mask_of(mask_in);
  const at::Tensor xproj = xproj_in.contiguous();
  at::Tensor gates = at::empty({T, B, 3 * H}, xproj.options());
  at::Tensor hs = at::empty({T, B, H}, gates.options());
  at::Tensor ghn = at::empty({T, B, H}, gates.options());
  if (gates.scalar_type() == at::kFloat) {
    forward_impl<float>(xproj, w_hh, b_hh, h0, mask, hs, gates, ghn);
  } else {
    forward_impl<double>(xproj, w_hh, b_hh, h0, mask, hs, gates, ghn);
  }
  return {hs, gates, ghn};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> gru_backward(
    const at::Tensor& grad_hs_in, const at::Tensor& w_hh_in, const at::Tensor& b_hh_in, const at::Tensor& h0_in,
    const std::optional<at::Tensor>& mask_in, const at::Tensor& hs_in, const at::Tensor& gates_in,
    const at::Tensor& ghn_in) {
  c10::impl::ExcludeDispatchKeyGuard no_autograd(c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  const FlushDenormals flush_denormals;  // this thread; the parallel_for tasks set their own
  check_inputs(gates_in, w_hh_in, b_hh_in, h0_in, mask_in);
  const int64_t T = gates_in.size(0), B = gates_in.size(1), H = gates_in.size(2) / 3;
  for (const at::Tensor* t : {&grad_hs_in, &hs_in, &ghn_in}) {
    TORCH_CHECK(t->numel() == T * B * H && t->scalar_type() == gates_in.scalar_type() && t->device().is_cpu(),
                "gru_backward: grad_hs, hs, ghn must be (T, B, H) like gates");
  }
  // grad_hs may have any strides (an expanded zero or one): only a step's slice is made contiguous.
  TORCH_CHECK(grad_hs_in.sizes() == hs_in.sizes(), "gru_backward: grad_hs must have the shape of hs");
  const at::Tensor w_hh = w_hh_in.contiguous();
  const at::Tensor h0 = h0_in.reshape({B, H}).contiguous();
  const at::Tensor grad_hs = grad_hs_in.reshape({T, B, H});
  const at::Tensor hs = hs_in.reshape({T, B, H}).contiguous(), ghn = ghn_in.reshape({T, B, H}).contiguous();
  const at::Tensor gates = gates_in.contiguous();
  const at::Tensor mask = mask_of(mask_in);
  at::Tensor d_x = at::empty({T, B, 3 * H}, gates.options());
  at::Tensor d_gh = at::empty({T, B, 3 * H}, gates.options());
  at::Tensor grad_w_hh = at::empty({3 * H, H}, gates.options());
  at::Tensor grad_b_hh = at::empty({3 * H}, gates.options());
  at::Tensor dh = at::zeros({B, H}, gates.options());
  if (gates.scalar_type() == at::kFloat) {
    backward_impl<float>(grad_hs, w_hh, h0, mask, hs, gates, ghn, d_x, d_gh, grad_w_hh, grad_b_hh, dh);
  } else {
    backward_impl<double>(grad_hs, w_hh, h0, mask, hs, gates, ghn, d_x, d_gh, grad_w_hh, grad_b_hh, dh);
  }
  return {d_x, grad_w_hh, grad_b_hh.view(b_hh_in.sizes()), dh.view(h0_in.sizes())};
}

}  // namespace rnnzoo

TORCH_LIBRARY_FRAGMENT(rnnzoo, m) {
  m.def("gru_forward(Tensor xproj, Tensor w_hh, Tensor b_hh, Tensor h0, Tensor? mask) -> (Tensor, Tensor, Tensor)");
  m.def("gru_backward(Tensor grad_hs, Tensor w_hh, Tensor b_hh, Tensor h0, Tensor? mask, Tensor hs, Tensor gates,"
        " Tensor ghn) -> (Tensor d_xproj, Tensor grad_w_hh, Tensor grad_b_hh, Tensor grad_h0)");
}

TORCH_LIBRARY_IMPL(rnnzoo, CPU, m) {
  m.impl("gru_forward", &rnnzoo::gru_forward);
  m.impl("gru_backward", &rnnzoo::gru_backward);
}
