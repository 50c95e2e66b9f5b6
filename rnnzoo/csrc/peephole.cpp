// C++ time loops of the peephole LSTM: torch.ops.rnnzoo.peephole_forward / peephole_backward.
//
// They compute exactly what forward_loop / backward_loop in rnnzoo/nn/peephole_scan.py compute (that Python is
// the reference, tested against this in tests/test_peephole_native.py), in the same canonical form:
//   xproj (T, B, 4H) = W_ih x_t + b_ih + b_hh, gate order i, f, g, o;  peep (3H,) = [p_i, p_f, p_o];
//   mask (T, B, 1) bool or None; past a sequence's length its state is held.
// Per step the forward does one matmul (W_hh h_{t-1}, written into the gates buffer) and one fused pointwise
// pass (pointwise.h) that adds xproj_t and stores the activated gates, c_t and h_t; the backward
// does one fused pointwise pass (which also accumulates the peephole gradients) and one matmul
// (dh_{t-1} = W_hhᵀ da_t). The recurrent weight gradient is two large matmuls after the loop.
//
// Matmuls: float32 per-step products go through MKL's packed GEMM (W_hh packed once per call, reused for
// all T steps) when libtorch's MKL exports it; otherwise (and for float64) through at::addmm_ / at::mm_out.
//
// Only the ATen headers needed are included and the Python module is a bare PyInit (no pybind11): that keeps
// the build short. Importing rnnzoo._C runs the static TORCH_LIBRARY registrations below.

#include <Python.h>
#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/zeros.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <tuple>
#include <vector>

#include "pointwise.h"
#include "scan_common.h"

namespace rnnzoo {

RNNZOO_FORWARD_STEP(forward_step_f32, float, sigmoid_f, tanh_f, )
RNNZOO_FORWARD_STEP(forward_step_f64, double, sigmoid_d, tanh_d, )
RNNZOO_BACKWARD_STEP(backward_step_f32, float, tanh_f, )
RNNZOO_BACKWARD_STEP(backward_step_f64, double, tanh_d, )
#ifdef RNNZOO_ISA_VARIANTS
RNNZOO_FORWARD_STEP(forward_step_f32_avx2, float, sigmoid_f, tanh_f, RNNZOO_TARGET_AVX2)
RNNZOO_BACKWARD_STEP(backward_step_f32_avx2, float, tanh_f, RNNZOO_TARGET_AVX2)
RNNZOO_FORWARD_STEP(forward_step_f32_avx512, float, sigmoid_f, tanh_f, RNNZOO_TARGET_AVX512)
RNNZOO_BACKWARD_STEP(backward_step_f32_avx512, float, tanh_f, RNNZOO_TARGET_AVX512)
#endif

namespace {

// The float kernels for this CPU (see cpu_isa in scan_common.h).
struct F32Kernels {
  decltype(&forward_step_f32) forward = &forward_step_f32;
  decltype(&backward_step_f32) backward = &backward_step_f32;
  const char* name = "default";
  F32Kernels() {
#ifdef RNNZOO_ISA_VARIANTS
    switch (cpu_isa()) {
      case Isa::kAvx512:
        forward = &forward_step_f32_avx512, backward = &backward_step_f32_avx512, name = "avx512";
        break;
      case Isa::kAvx2:
        forward = &forward_step_f32_avx2, backward = &backward_step_f32_avx2, name = "avx2";
        break;
      default:
        break;
    }
#endif
  }
};

const F32Kernels& f32_kernels() {
  static const F32Kernels instance;
  return instance;
}

inline void forward_step(int64_t b0, int64_t b1, int64_t H, const float* x, float* gates, const float* c_prev,
                         const float* h_prev, const float* peep, const bool* mask, float* c_out, float* h_out) {
  f32_kernels().forward(b0, b1, H, x, gates, c_prev, h_prev, peep, mask, c_out, h_out);
}
inline void forward_step(int64_t b0, int64_t b1, int64_t H, const double* x, double* gates, const double* c_prev,
                         const double* h_prev, const double* peep, const bool* mask, double* c_out,
                         double* h_out) {
  forward_step_f64(b0, b1, H, x, gates, c_prev, h_prev, peep, mask, c_out, h_out);
}
inline void backward_step(int64_t b0, int64_t b1, int64_t H, const float* gates, const float* c_prev,
                          const float* c_cur, const float* grad_h, const float* grad_c, const float* peep,
                          const bool* mask, bool set_dh_zero, float* dh, float* dc, float* d_pre, float* acc) {
  f32_kernels().backward(b0, b1, H, gates, c_prev, c_cur, grad_h, grad_c, peep, mask, set_dh_zero, dh, dc, d_pre,
                         acc);
}
inline void backward_step(int64_t b0, int64_t b1, int64_t H, const double* gates, const double* c_prev,
                          const double* c_cur, const double* grad_h, const double* grad_c, const double* peep,
                          const bool* mask, bool set_dh_zero, double* dh, double* dc, double* d_pre,
                          double* acc) {
  backward_step_f64(b0, b1, H, gates, c_prev, c_cur, grad_h, grad_c, peep, mask, set_dh_zero, dh, dc, d_pre, acc);
}

void check_inputs(const at::Tensor& xproj, const at::Tensor& w_hh, const at::Tensor& peep, const at::Tensor& h0,
                  const at::Tensor& c0, const std::optional<at::Tensor>& mask) {
  TORCH_CHECK(xproj.dim() == 3 && xproj.size(2) % 4 == 0, "peephole: xproj must be (T, B, 4H)");
  const int64_t T = xproj.size(0), B = xproj.size(1), H = xproj.size(2) / 4;
  TORCH_CHECK(xproj.device().is_cpu(), "peephole: CPU tensors only");
  TORCH_CHECK(xproj.scalar_type() == at::kFloat || xproj.scalar_type() == at::kDouble,
              "peephole: float32 or float64 only");
  for (const at::Tensor* t : {&w_hh, &peep, &h0, &c0}) {
    TORCH_CHECK(t->scalar_type() == xproj.scalar_type() && t->device().is_cpu(),
                "peephole: all tensors must share xproj's dtype and be on the CPU");
  }
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * H && w_hh.size(1) == H, "peephole: w_hh must be (4H, H)");
  TORCH_CHECK(peep.numel() == 3 * H, "peephole: peep must have 3H elements");
  TORCH_CHECK(h0.numel() == B * H && c0.numel() == B * H, "peephole: h0 and c0 must be (B, H)");
  if (mask.has_value() && mask->defined()) {
    TORCH_CHECK(mask->numel() == T * B, "peephole: mask must be (T, B, 1)");
  }
}

// ---------------------------------------------------------------------------------------------------------
template <typename T>
void forward_impl(const at::Tensor& xproj, const at::Tensor& w_hh, const at::Tensor& peep, const at::Tensor& h0,
                  const at::Tensor& c0,
                  const at::Tensor& mask, at::Tensor& hs, at::Tensor& cs, at::Tensor& gates) {
  const int64_t steps = gates.size(0), B = gates.size(1), H = gates.size(2) / 4;
  if (steps == 0 || B == 0) return;
  StepGemm<T> gemm(w_hh, /*w_transposed=*/true, B, 4 * H, H);  // a += h_{t-1} W_hhᵀ
  const T* p = peep.const_data_ptr<T>();
  const bool* m = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  const int64_t grain = row_grain(H);
  for (int64_t t = 0; t < steps; ++t) {
    at::Tensor h_prev = t == 0 ? h0 : hs[t - 1];
    at::Tensor c_prev = t == 0 ? c0 : cs[t - 1];
    at::Tensor a = gates[t];
    gemm.run(h_prev, a, /*accumulate=*/false);  // W_hh h_{t-1}; the pointwise pass adds xproj_t
    const T* x_ptr = xproj[t].const_data_ptr<T>();
    T* a_ptr = a.mutable_data_ptr<T>();
    const T* cp = c_prev.const_data_ptr<T>();
    const T* hp = h_prev.const_data_ptr<T>();
    T* cn = cs[t].mutable_data_ptr<T>();
    T* hn = hs[t].mutable_data_ptr<T>();
    const bool* mt = m != nullptr ? m + t * B : nullptr;
    at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
      const FlushDenormals task_flush_denormals;
      forward_step(b0, b1, H, x_ptr, a_ptr, cp, hp, p, mt, cn, hn);
    });
  }
}

template <typename T>
void backward_impl(const at::Tensor& grad_hs, const at::Tensor& grad_cs, const at::Tensor& w_hh,
                   const at::Tensor& peep, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& mask,
                   const at::Tensor& hs, const at::Tensor& cs, const at::Tensor& gates, at::Tensor& d_pre,
                   at::Tensor& grad_w_hh, at::Tensor& grad_peep, at::Tensor& dh, at::Tensor& dc) {
  const int64_t steps = gates.size(0), B = gates.size(1), H = gates.size(2) / 4;
  if (steps == 0 || B == 0) return;
  StepGemm<T> gemm(w_hh, /*w_transposed=*/false, B, H, 4 * H);  // dh_{t-1} = da_t W_hh
  const T* p = peep.const_data_ptr<T>();
  const bool* m = mask.defined() ? mask.const_data_ptr<bool>() : nullptr;
  const int64_t grain = row_grain(H);
  // Peephole gradients: each chunk of rows of a step sums into its own slot (fixed chunks, so the result does
  // not depend on the thread count), then the slots are added in order into a double accumulator.
  const int64_t n_chunks = (B + grain - 1) / grain;
  std::vector<T> slots(size_t(n_chunks * 3 * H));
  std::vector<double> acc(size_t(3 * H), 0.0);
  T* dh_ptr = dh.mutable_data_ptr<T>();
  T* dc_ptr = dc.mutable_data_ptr<T>();
  StepSlices<T> grad_h_steps, grad_c_steps;
  for (int64_t t = steps - 1; t >= 0; --t) {
    const T* g = gates[t].const_data_ptr<T>();
    const T* cp = (t == 0 ? c0 : cs[t - 1]).const_data_ptr<T>();
    const T* cc = cs[t].const_data_ptr<T>();
    const T* gh = grad_h_steps.at(grad_hs[t]);
    const T* gc = grad_c_steps.at(grad_cs[t]);
    at::Tensor da = d_pre[t];
    T* da_ptr = da.mutable_data_ptr<T>();
    const bool* mt = m != nullptr ? m + t * B : nullptr;
    std::fill(slots.begin(), slots.end(), T(0));
    at::parallel_for(0, n_chunks, 1, [&](int64_t k0, int64_t k1) {
      const FlushDenormals task_flush_denormals;
      for (int64_t k = k0; k < k1; ++k) {
        const int64_t b0 = k * grain, b1 = std::min(B, b0 + grain);
        backward_step(b0, b1, H, g, cp, cc, gh, gc, p, mt, /*set_dh_zero=*/mt != nullptr, dh_ptr, dc_ptr, da_ptr,
                      slots.data() + k * 3 * H);
      }
    });
    for (int64_t k = 0; k < n_chunks; ++k) {
      const T* s = slots.data() + k * 3 * H;
      for (int64_t j = 0; j < 3 * H; ++j) acc[j] += double(s[j]);
    }
    // dh_{t-1} = W_hhᵀ da_t (+ what held rows pass through: with a mask dh holds exactly that, 0 elsewhere).
    gemm.run(da, dh, /*accumulate=*/mt != nullptr);
  }
  T* gp = grad_peep.mutable_data_ptr<T>();
  for (int64_t j = 0; j < 3 * H; ++j) gp[j] = T(acc[j]);
  // grad_w_hh = Σ_t da_tᵀ h_{t-1}: step 0 with h0, steps 1.. with hs[:-1] as one large matmul.
  at::mm_out(grad_w_hh, d_pre[0].t(), h0);
  if (steps > 1) {
    grad_w_hh.addmm_(d_pre.narrow(0, 1, steps - 1).reshape({-1, 4 * H}).t(),
                     hs.narrow(0, 0, steps - 1).reshape({-1, H}));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
std::tuple<at::Tensor, at::Tensor, at::Tensor> peephole_forward(const at::Tensor& xproj_in,
                                                                const at::Tensor& w_hh_in,
                                                                const at::Tensor& peep_in, const at::Tensor& h0_in,
                                                                const at::Tensor& c0_in,
                                                                const std::optional<at::Tensor>& mask_in) {
  c10::impl::ExcludeDispatchKeyGuard no_autograd(c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  const FlushDenormals flush_denormals;  // this thread; the parallel_for tasks set their own
  check_inputs(xproj_in, w_hh_in, peep_in, h0_in, c0_in, mask_in);
  const int64_t T = xproj_in.size(0), B = xproj_in.size(1), H = xproj_in.size(2) / 4;
  const at::Tensor w_hh = w_hh_in.contiguous(), peep = peep_in.contiguous();
  const at::Tensor h0 = h0_in.reshape({B, H}).contiguous(), c0 = c0_in.reshape({B, H}).contiguous();
  const at::Tensor mask = mask_of(mask_in);
  const at::Tensor xproj = xproj_in.contiguous();
  at::Tensor gates = at::empty({T, B, 4 * H}, xproj.options());
  at::Tensor hs = at::empty({T, B, H}, gates.options());
  at::Tensor cs = at::empty({T, B, H}, gates.options());
  if (gates.scalar_type() == at::kFloat) {
    forward_impl<float>(xproj, w_hh, peep, h0, c0, mask, hs, cs, gates);
  } else {
    forward_impl<double>(xproj, w_hh, peep, h0, c0, mask, hs, cs, gates);
  }
  return {hs, cs, gates};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> peephole_backward(
    const at::Tensor& grad_hs_in, const at::Tensor& grad_cs_in, const at::Tensor& w_hh_in, const at::Tensor& peep_in,
    const at::Tensor& h0_in, const at::Tensor& c0_in, const std::optional<at::Tensor>& mask_in,
    const at::Tensor& hs_in, const at::Tensor& cs_in, const at::Tensor& gates_in) {
  c10::impl::ExcludeDispatchKeyGuard no_autograd(c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  const FlushDenormals flush_denormals;  // this thread; the parallel_for tasks set their own
  check_inputs(gates_in, w_hh_in, peep_in, h0_in, c0_in, mask_in);
  const int64_t T = gates_in.size(0), B = gates_in.size(1), H = gates_in.size(2) / 4;
  for (const at::Tensor* t : {&grad_hs_in, &grad_cs_in, &hs_in, &cs_in}) {
    TORCH_CHECK(t->numel() == T * B * H && t->scalar_type() == gates_in.scalar_type() && t->device().is_cpu(),
                "peephole_backward: grad_hs, grad_cs, hs, cs must be (T, B, H) like gates");
  }
  // grad_hs / grad_cs may have any strides (an expanded zero or one): they are read a step at a time and only
  // a step's slice is made contiguous (a no-op for contiguous gradients).
  TORCH_CHECK(grad_hs_in.sizes() == hs_in.sizes() && grad_cs_in.sizes() == cs_in.sizes(),
              "peephole_backward: grad_hs, grad_cs must have the shapes of hs, cs");
  const at::Tensor w_hh = w_hh_in.contiguous(), peep = peep_in.contiguous();
  const at::Tensor h0 = h0_in.reshape({B, H}).contiguous(), c0 = c0_in.reshape({B, H}).contiguous();
  const at::Tensor grad_hs = grad_hs_in.reshape({T, B, H});
  const at::Tensor grad_cs = grad_cs_in.reshape({T, B, H});
  const at::Tensor hs = hs_in.reshape({T, B, H}).contiguous(), cs = cs_in.reshape({T, B, H}).contiguous();
  const at::Tensor gates = gates_in.contiguous();
  const at::Tensor mask = mask_of(mask_in);
  at::Tensor d_pre = at::empty({T, B, 4 * H}, gates.options());
  at::Tensor grad_w_hh = at::empty({4 * H, H}, gates.options());
  at::Tensor grad_peep = at::zeros({3 * H}, gates.options());
  at::Tensor dh = at::zeros({B, H}, gates.options());
  at::Tensor dc = at::zeros({B, H}, gates.options());
  if (gates.scalar_type() == at::kFloat) {
    backward_impl<float>(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, hs, cs, gates, d_pre, grad_w_hh, grad_peep,
                         dh, dc);
  } else {
    backward_impl<double>(grad_hs, grad_cs, w_hh, peep, h0, c0, mask, hs, cs, gates, d_pre, grad_w_hh, grad_peep,
                          dh, dc);
  }
  return {d_pre, grad_w_hh, grad_peep.view(peep_in.sizes()), dh.view(h0_in.sizes()), dc.view(c0_in.sizes())};
}

}  // namespace rnnzoo

TORCH_LIBRARY(rnnzoo, m) {
  m.def("peephole_forward(Tensor xproj, Tensor w_hh, Tensor peep, Tensor h0, Tensor c0, Tensor? mask)"
        " -> (Tensor, Tensor, Tensor)");
  m.def("peephole_backward(Tensor grad_hs, Tensor grad_cs, Tensor w_hh, Tensor peep, Tensor h0, Tensor c0,"
        " Tensor? mask, Tensor hs, Tensor cs, Tensor gates)"
        " -> (Tensor d_xproj, Tensor grad_w_hh, Tensor grad_peep, Tensor grad_h0, Tensor grad_c0)");
}

TORCH_LIBRARY_IMPL(rnnzoo, CPU, m) {
  m.impl("peephole_forward", &rnnzoo::peephole_forward);
  m.impl("peephole_backward", &rnnzoo::peephole_backward);
}

// A bare extension module: importing it loads this library, which runs the registrations above.
static struct PyModuleDef rnnzoo_c_module = {PyModuleDef_HEAD_INIT, "rnnzoo._C",
                                             "C++ time loops of rnnzoo (registers torch.ops.rnnzoo.*)", -1,
                                             nullptr};

PyMODINIT_FUNC PyInit__C(void) { return PyModule_Create(&rnnzoo_c_module); }
