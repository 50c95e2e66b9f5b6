// Fused per-step pointwise passes of the peephole LSTM, the GRU and the vanilla RNN (forward and backward), for float and double.
//
// Each function handles rows [b0, b1) of one time step. All buffers are contiguous and row-major:
// gates / d_pre rows are 4H long (i, f, g, o), state rows are H long. The float kernels are written as plain
// loops that GCC vectorises (no libm calls inside: exp is a Cephes-style polynomial, branch-free; needs
// -fno-trapping-math so the selects are if-converted) and are compiled for SSE2, AVX2+FMA and AVX-512
// (runtime dispatch, portable binary: no -march=native). The double kernels call libm (accuracy first; float is
// the fast path).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Instruction-set variants of the float kernels (chosen at run time in peephole.cpp by what the CPU supports;
// the binary itself stays portable x86-64). Elsewhere there is only the plain build.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(RNNZOO_NO_ISA_VARIANTS)
#define RNNZOO_ISA_VARIANTS 1
#define RNNZOO_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define RNNZOO_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#endif
#define RNNZOO_INLINE inline __attribute__((always_inline))

namespace rnnzoo {

// ---------------------------------------------------------------------------------------------------------
// Scalar math that vectorises. Inputs are clamped so that no input (not even ±inf) gives NaN; NaN stays NaN.

// e^x for float: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial (Cephes expf, ~1 ulp), 2^n
// written straight into the exponent bits. The clamp keeps n in [-126, 127] (normal numbers only).
RNNZOO_INLINE float exp_f(float x) {
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
  x = x < -87.3365447504f ? -87.3365447504f : x;
  // round(x / ln2) by the 1.5 * 2^23 trick (round to nearest even, exact for |v| < 2^22).
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return y * __builtin_bit_cast(float, bits);
}

// σ(x) = 1 / (1 + e^{-x}): e^{-x} is clamped above (σ -> ~0, never 0/0) and below (σ -> 1).
RNNZOO_INLINE float sigmoid_f(float x) { return 1.f / (1.f + exp_f(-x)); }

// tanh(x) = sign(x) (1 - 2 / (e^{2|x|} + 1)); for |x| < 0.625, where that form cancels, the odd polynomial
// of Cephes tanhf. Both are computed and one is selected (branch-free, so the loop vectorises).
RNNZOO_INLINE float tanh_f(float x) {
  const float ax = x < 0.f ? -x : x;
  const float big = 1.f - 2.f / (exp_f(2.f * ax) + 1.f);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * ax + ax;
  const float r = ax < 0.625f ? small : big;
  return __builtin_copysignf(r, x);
}

RNNZOO_INLINE double sigmoid_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }  // exp(-x) = inf -> 0
RNNZOO_INLINE double tanh_d(double x) { return std::tanh(x); }

// ---------------------------------------------------------------------------------------------------------
// Forward, one step, rows [b0, b1). On entry gates_t holds W_hh h_{t-1}; with x = xproj_t the pre-activations
// are a = x + W_hh h_{t-1} (added here, which saves a separate pass copying xproj into gates). On exit gates_t
// holds the activated gates (i, f, g, o), and c_t, h_t are written:
//     i_t = σ(a_i + p_i ⊙ c_{t-1});  f_t = σ(a_f + p_f ⊙ c_{t-1});  g_t = tanh(a_g)
//     c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
//     o_t = σ(a_o + p_o ⊙ c_t);       h_t = o_t ⊙ tanh(c_t)
// Rows whose mask is false hold their state (c_t = c_{t-1}, h_t = h_{t-1}); their gates are still stored.
#define RNNZOO_FORWARD_STEP(NAME, T, SIG, TANH, ATTR)                                                                \
  ATTR void NAME(int64_t b0, int64_t b1, int64_t H, const T* __restrict x, T* __restrict gates,                      \
                 const T* __restrict c_prev, const T* __restrict h_prev, const T* __restrict peep,                   \
                 const bool* mask, T* __restrict c_out, T* __restrict h_out) {                                       \
    const T* __restrict p_i = peep;                                                                                  \
    const T* __restrict p_f = peep + H;                                                                              \
    const T* __restrict p_o = peep + 2 * H;                                                                          \
    for (int64_t b = b0; b < b1; ++b) {                                                                              \
      T* __restrict a_i = gates + b * 4 * H;                                                                         \
      T* __restrict a_f = a_i + H;                                                                                   \
      T* __restrict a_g = a_i + 2 * H;                                                                               \
      T* __restrict a_o = a_i + 3 * H;                                                                               \
      const T* __restrict x_i = x + b * 4 * H;                                                                       \
      const T* __restrict x_f = x_i + H;                                                                             \
      const T* __restrict x_g = x_i + 2 * H;                                                                         \
      const T* __restrict x_o = x_i + 3 * H;                                                                         \
      const T* __restrict cp = c_prev + b * H;                                                                       \
      T* __restrict cn = c_out + b * H;                                                                              \
      T* __restrict hn = h_out + b * H;                                                                              \
      for (int64_t j = 0; j < H; ++j) {                                                                              \
        const T c = cp[j];                                                                                           \
        const T i = SIG((x_i[j] + a_i[j]) + p_i[j] * c);                                                             \
        const T f = SIG((x_f[j] + a_f[j]) + p_f[j] * c);                                                             \
        const T g = TANH(x_g[j] + a_g[j]);                                                                           \
        const T c_new = f * c + i * g;                                                                               \
        const T o = SIG((x_o[j] + a_o[j]) + p_o[j] * c_new);                                                         \
        a_i[j] = i;                                                                                                  \
        a_f[j] = f;                                                                                                  \
        a_g[j] = g;                                                                                                  \
        a_o[j] = o;                                                                                                  \
        cn[j] = c_new;                                                                                               \
        hn[j] = o * TANH(c_new);                                                                                     \
      }                                                                                                              \
      if (mask != nullptr && !mask[b]) { /* past the length: hold the state */                                       \
        std::memcpy(cn, cp, H * sizeof(T));                                                                          \
        std::memcpy(hn, h_prev + b * H, H * sizeof(T));                                                              \
      }                                                                                                              \
    }                                                                                                                \
  }

// ---------------------------------------------------------------------------------------------------------
// Backward, one step, rows [b0, b1). dh, dc hold the gradients reaching step t's state from step t+1
// (dh = W_hhᵀ da_{t+1}, plus what a held row passed through); grad_h, grad_c are the gradients of step t's
// outputs. With dh += grad_h, dc += grad_c, for a valid row:
//     da_o = dh ⊙ tanh(c_t) ⊙ o(1-o)
//     dc  += dh ⊙ o ⊙ (1 - tanh²(c_t)) + p_o ⊙ da_o
//     da_i = dc ⊙ g ⊙ i(1-i);  da_f = dc ⊙ c_{t-1} ⊙ f(1-f);  da_g = dc ⊙ i ⊙ (1-g²)
//     dc_{t-1} = dc ⊙ f + p_i ⊙ da_i + p_f ⊙ da_f
// and dh is set to 0, so that after this step the caller's dh += W_hhᵀ da gives dh_{t-1} (set_dh_zero is
// false when the caller overwrites dh with the matmul instead, i.e. without a mask).
// A row whose mask is false held its state at step t: da = 0 and dh, dc pass unchanged to step t-1.
// The peephole gradients of this step are added to acc (3H: Σ_b da_i c_{t-1}, Σ_b da_f c_{t-1}, Σ_b da_o c_t).
#define RNNZOO_BACKWARD_STEP(NAME, T, TANH, ATTR)                                                                    \
  ATTR void NAME(int64_t b0, int64_t b1, int64_t H, const T* __restrict gates, const T* __restrict c_prev,         \
                 const T* __restrict c_cur, const T* __restrict grad_h, const T* __restrict grad_c,                  \
                 const T* __restrict peep, const bool* mask, bool set_dh_zero, T* __restrict dh,                     \
                 T* __restrict dc, T* __restrict d_pre, T* __restrict acc) {                                         \
    const T* __restrict p_i = peep;                                                                                  \
    const T* __restrict p_f = peep + H;                                                                              \
    const T* __restrict p_o = peep + 2 * H;                                                                          \
    T* __restrict acc_i = acc;                                                                                       \
    T* __restrict acc_f = acc + H;                                                                                   \
    T* __restrict acc_o = acc + 2 * H;                                                                               \
    for (int64_t b = b0; b < b1; ++b) {                                                                              \
      const T* __restrict gh = grad_h + b * H;                                                                       \
      const T* __restrict gc = grad_c + b * H;                                                                       \
      T* __restrict dhr = dh + b * H;                                                                                \
      T* __restrict dcr = dc + b * H;                                                                                \
      T* __restrict da_i = d_pre + b * 4 * H;                                                                        \
      if (mask != nullptr && !mask[b]) { /* held: gradients pass straight through */                                 \
        for (int64_t j = 0; j < H; ++j) {                                                                            \
          dhr[j] += gh[j];                                                                                           \
          dcr[j] += gc[j];                                                                                           \
        }                                                                                                            \
        std::memset(da_i, 0, 4 * H * sizeof(T));                                                                     \
        continue;                                                                                                    \
      }                                                                                                              \
      T* __restrict da_f = da_i + H;                                                                                 \
      T* __restrict da_g = da_i + 2 * H;                                                                             \
      T* __restrict da_o = da_i + 3 * H;                                                                             \
      const T* __restrict g_i = gates + b * 4 * H;                                                                   \
      const T* __restrict g_f = g_i + H;                                                                             \
      const T* __restrict g_g = g_i + 2 * H;                                                                         \
      const T* __restrict g_o = g_i + 3 * H;                                                                         \
      const T* __restrict cp = c_prev + b * H;                                                                       \
      const T* __restrict cc = c_cur + b * H;                                                                        \
      for (int64_t j = 0; j < H; ++j) {                                                                              \
        const T i = g_i[j], f = g_f[j], g = g_g[j], o = g_o[j];                                                      \
        const T c = cc[j], c_p = cp[j];                                                                              \
        const T tc = TANH(c);                                                                                        \
        const T d_h = dhr[j] + gh[j];                                                                                \
        const T a_o = d_h * (tc * (o * (1 - o)));                                                                    \
        const T d_c = dcr[j] + gc[j] + d_h * (o * (1 - tc * tc)) + a_o * p_o[j];                                     \
        const T a_i = d_c * (g * (i * (1 - i)));                                                                     \
        const T a_f = d_c * (c_p * (f * (1 - f)));                                                                   \
        const T a_g = d_c * (i * (1 - g * g));                                                                       \
        da_i[j] = a_i;                                                                                               \
        da_f[j] = a_f;                                                                                               \
        da_g[j] = a_g;                                                                                               \
        da_o[j] = a_o;                                                                                               \
        dcr[j] = d_c * f + a_i * p_i[j] + a_f * p_f[j];                                                              \
        if (set_dh_zero) dhr[j] = 0;                                                                                 \
        acc_i[j] += a_i * c_p;                                                                                       \
        acc_f[j] += a_f * c_p;                                                                                       \
        acc_o[j] += a_o * c;                                                                                         \
      }                                                                                                              \
    }                                                                                                                \
  }

}  // namespace rnnzoo

// ---------------------------------------------------------------------------------------------------------
// GRU (torch.nn's equations, gate order r, z, n), used by gru.cpp. Rows of gates / d_x / d_gh are 3H long.
namespace rnnzoo {

// Forward, one step, rows [b0, b1). On entry gates_t holds W_hh h_{t-1} (no bias); with x = xproj_t
// (= W_ih x_t + b_ih) and gh = W_hh h_{t-1} + b_hh:
//     r = σ(x_r + gh_r);  z = σ(x_z + gh_z);  n = tanh(x_n + r ⊙ gh_n);  h_t = n + z ⊙ (h_{t-1} - n)
// On exit gates_t holds (r, z, n), ghn_out the step's gh_n (needed by the backward) and h_out h_t. Rows whose
// mask is false hold their state (h_t = h_{t-1}); their gates are still stored.
#define RNNZOO_GRU_FORWARD_STEP(NAME, T, SIG, TANH, ATTR)                                                            \
  ATTR void NAME(int64_t b0, int64_t b1, int64_t H, const T* __restrict x, T* __restrict gates,                      \
                 const T* __restrict b_hh, const T* __restrict h_prev, const bool* mask, T* __restrict ghn_out,      \
                 T* __restrict h_out) {                                                                              \
    const T* __restrict b_r = b_hh;                                                                                  \
    const T* __restrict b_z = b_hh + H;                                                                              \
    const T* __restrict b_n = b_hh + 2 * H;                                                                          \
    for (int64_t b = b0; b < b1; ++b) {                                                                              \
      T* __restrict a_r = gates + b * 3 * H;                                                                         \
      T* __restrict a_z = a_r + H;                                                                                   \
      T* __restrict a_n = a_r + 2 * H;                                                                               \
      const T* __restrict x_r = x + b * 3 * H;                                                                       \
      const T* __restrict x_z = x_r + H;                                                                             \
      const T* __restrict x_n = x_r + 2 * H;                                                                         \
      const T* __restrict hp = h_prev + b * H;                                                                       \
      T* __restrict gn = ghn_out + b * H;                                                                            \
      T* __restrict hn = h_out + b * H;                                                                              \
      for (int64_t j = 0; j < H; ++j) {                                                                              \
        const T r = SIG(x_r[j] + (a_r[j] + b_r[j]));                                                                 \
        const T z = SIG(x_z[j] + (a_z[j] + b_z[j]));                                                                 \
        const T g_n = a_n[j] + b_n[j];                                                                               \
        const T n = TANH(x_n[j] + r * g_n);                                                                          \
        a_r[j] = r;                                                                                                  \
        a_z[j] = z;                                                                                                  \
        a_n[j] = n;                                                                                                  \
        gn[j] = g_n;                                                                                                 \
        hn[j] = n + z * (hp[j] - n);                                                                                 \
      }                                                                                                              \
      if (mask != nullptr && !mask[b]) { /* past the length: hold the state */                                       \
        std::memcpy(hn, hp, H * sizeof(T));                                                                          \
      }                                                                                                              \
    }                                                                                                                \
  }

// Backward, one step, rows [b0, b1). dh holds the gradient reaching h_t from step t+1 (the part through W_hh
// excluded: the caller adds W_hhᵀ d_gh after this pass); grad_h is the gradient of step t's output. For a
// valid row, with d = dh + grad_h:
//     da_n = d ⊙ (1-z) ⊙ (1-n²);  da_z = d ⊙ (h_{t-1} - n) ⊙ z(1-z);  da_r = da_n ⊙ gh_n ⊙ r(1-r)
//     d_x = (da_r, da_z, da_n);   d_gh = (da_r, da_z, da_n ⊙ r);   dh <- d ⊙ z
// A row whose mask is false held its state at step t: d_x = d_gh = 0 and dh <- d passes to step t-1.
#define RNNZOO_GRU_BACKWARD_STEP(NAME, T, ATTR)                                                                      \
  ATTR void NAME(int64_t b0, int64_t b1, int64_t H, const T* __restrict gates, const T* __restrict ghn,            \
                 const T* __restrict h_prev, const T* __restrict grad_h, const bool* mask, T* __restrict dh,         \
                 T* __restrict d_x, T* __restrict d_gh) {                                                            \
    for (int64_t b = b0; b < b1; ++b) {                                                                              \
      const T* __restrict gr = grad_h + b * H;                                                                       \
      T* __restrict dhr = dh + b * H;                                                                                \
      T* __restrict dx_r = d_x + b * 3 * H;                                                                          \
      T* __restrict dg_r = d_gh + b * 3 * H;                                                                         \
      if (mask != nullptr && !mask[b]) { /* held: the gradient passes straight through */                            \
        for (int64_t j = 0; j < H; ++j) dhr[j] += gr[j];                                                             \
        std::memset(dx_r, 0, 3 * H * sizeof(T));                                                                     \
        std::memset(dg_r, 0, 3 * H * sizeof(T));                                                                     \
        continue;                                                                                                    \
      }                                                                                                              \
      T* __restrict dx_z = dx_r + H;                                                                                 \
      T* __restrict dx_n = dx_r + 2 * H;                                                                             \
      T* __restrict dg_z = dg_r + H;                                                                                 \
      T* __restrict dg_n = dg_r + 2 * H;                                                                             \
      const T* __restrict g_r = gates + b * 3 * H;                                                                   \
      const T* __restrict g_z = g_r + H;                                                                             \
      const T* __restrict g_n = g_r + 2 * H;                                                                         \
      const T* __restrict gn = ghn + b * H;                                                                          \
      const T* __restrict hp = h_prev + b * H;                                                                       \
      for (int64_t j = 0; j < H; ++j) {                                                                              \
        const T r = g_r[j], z = g_z[j], n = g_n[j];                                                                  \
        const T d = dhr[j] + gr[j];                                                                                  \
        const T a_n = d * (1 - z) * (1 - n * n);                                                                     \
        const T a_z = d * (hp[j] - n) * (z * (1 - z));                                                               \
        const T a_r = a_n * gn[j] * (r * (1 - r));                                                                   \
        dx_r[j] = a_r;                                                                                               \
        dx_z[j] = a_z;                                                                                               \
        dx_n[j] = a_n;                                                                                               \
        dg_r[j] = a_r;                                                                                               \
        dg_z[j] = a_z;                                                                                               \
        dg_n[j] = a_n * r;                                                                                           \
        dhr[j] = d * z;                                                                                              \
      }                                                                                                              \
    }                                                                                                                \
  }

// ---------------------------------------------------------------------------------------------------------
// Vanilla (Elman) RNN. Forward, one step, rows [b0, b1): on entry h_out holds W_hh h_{t-1} (the step's matmul);
// x is xproj = W_ih x_t + b_ih + b_hh. h_t = act(x + W_hh h_{t-1}), act tanh or relu. A row whose mask is false
// holds its state.
#define RNNZOO_RNN_FORWARD_STEP(NAME, T, TANH, ATTR)                                                                 \
  ATTR void NAME(int64_t b0, int64_t b1, int64_t H, bool relu, const T* __restrict x, const T* __restrict h_prev,    \
                 const bool* mask, T* __restrict h_out) {                                                            \
    for (int64_t b = b0; b < b1; ++b) {                                                                              \
      const T* __restrict xr = x + b * H;                                                                            \
      T* __restrict hn = h_out + b * H;                                                                              \
      if (mask != nullptr && !mask[b]) { /* past the length: hold the state */                                       \
        std::memcpy(hn, h_prev + b * H, H * sizeof(T));                                                              \
        continue;                                                                                                    \
      }                                                                                                              \
      if (relu) {                                                                                                    \
        for (int64_t j = 0; j < H; ++j) {                                                                            \
          const T a = xr[j] + hn[j];                                                                                 \
          hn[j] = a > T(0) ? a : T(0);                                                                               \
        }                                                                                                            \
      } else {                                                                                                       \
        for (int64_t j = 0; j < H; ++j) hn[j] = TANH(xr[j] + hn[j]);                                                 \
      }                                                                                                              \
    }                                                                                                                \
  }

// Backward, one step, rows [b0, b1). dh holds the gradient reaching h_t from step t+1 (the part through W_hh
// excluded: the caller adds W_hhᵀ d_a after this pass); grad_h is the gradient of step t's output. For a valid
// row, with d = dh + grad_h:  d_a = d ⊙ act'(h_t) (tanh: 1 - h_t², relu: [h_t > 0]);  dh <- 0.
// A row whose mask is false held its state at step t: d_a = 0 and dh <- d passes to step t-1.
#define RNNZOO_RNN_BACKWARD_STEP(NAME, T, ATTR)                                                                      \
  ATTR void NAME(int64_t b0, int64_t b1, int64_t H, bool relu, const T* __restrict h, const T* __restrict grad_h,   \
                 const bool* mask, T* __restrict dh, T* __restrict d_a) {                                            \
    for (int64_t b = b0; b < b1; ++b) {                                                                              \
      const T* __restrict gr = grad_h + b * H;                                                                       \
      const T* __restrict hr = h + b * H;                                                                            \
      T* __restrict dhr = dh + b * H;                                                                                \
      T* __restrict dar = d_a + b * H;                                                                               \
      if (mask != nullptr && !mask[b]) { /* held: the gradient passes straight through */                            \
        for (int64_t j = 0; j < H; ++j) dhr[j] += gr[j];                                                             \
        std::memset(dar, 0, H * sizeof(T));                                                                          \
        continue;                                                                                                    \
      }                                                                                                              \
      if (relu) {                                                                                                    \
        for (int64_t j = 0; j < H; ++j) dar[j] = hr[j] > T(0) ? dhr[j] + gr[j] : T(0);                               \
      } else {                                                                                                       \
        for (int64_t j = 0; j < H; ++j) dar[j] = (dhr[j] + gr[j]) * (1 - hr[j] * hr[j]);                             \
      }                                                                                                              \
      std::memset(dhr, 0, H * sizeof(T));                                                                            \
    }                                                                                                                \
  }

}  // namespace rnnzoo
