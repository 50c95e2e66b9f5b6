// Helpers shared by the C++ time loops (peephole.cpp, gru.cpp): the run-time choice of the float kernels'
// instruction set, MKL's packed GEMM for the per-step matmuls, the pointwise passes' row grain, per-step
// gradient slices and the mask's canonical form.
#pragma once

#include <dlfcn.h>

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define RNNZOO_HAS_MXCSR 1
#endif

#include "pointwise.h"

namespace rnnzoo {

// The float kernels' instruction set for this CPU: AVX-512, AVX2+FMA or plain SSE2. Like PyTorch,
// ATEN_CPU_CAPABILITY (default / avx2 / avx512) caps the choice (used by the tests to check every variant).
enum class Isa { kDefault, kAvx2, kAvx512 };

inline Isa cpu_isa() {
#ifdef RNNZOO_ISA_VARIANTS
  const char* cap_env = std::getenv("ATEN_CPU_CAPABILITY");
  const std::string cap = cap_env != nullptr ? cap_env : "";
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
  if (avx512 && (cap.empty() || cap == "avx512")) return Isa::kAvx512;
  if (avx2 && (cap.empty() || cap == "avx512" || cap == "avx2")) return Isa::kAvx2;
#endif
  return Isa::kDefault;
}

// ---------------------------------------------------------------------------------------------------------
// MKL packed GEMM, looked up at load time (libtorch_cpu exports MKL's symbols on x86-64 builds). Row-major
// C (m x n) = A (m x k) · op(B) + beta C with B packed once. LP64 interface (int indices).
using pack_get_size_fn = size_t (*)(int identifier, int m, int n, int k);
using pack_fn = void (*)(int layout, int identifier, int trans, int m, int n, int k, float alpha,
                         const float* src, int ld, float* dest);
using compute_fn = void (*)(int layout, int transa, int transb, int m, int n, int k, const float* a, int lda,
                            const float* b, int ldb, float beta, float* c, int ldc);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112, kPacked = 151, kBMatrix = 162;

struct PackedGemm {
  pack_get_size_fn get_size = nullptr;
  pack_fn pack = nullptr;
  compute_fn compute = nullptr;
  PackedGemm() {
    const char* off = std::getenv("RNNZOO_NO_PACKED_GEMM");  // for measurements: force at::addmm_
    if (off != nullptr && off[0] == '1') return;
    void* lib = dlopen("libtorch_cpu.so", RTLD_LAZY | RTLD_NOLOAD);
    void* scope = lib != nullptr ? lib : RTLD_DEFAULT;
    get_size = reinterpret_cast<pack_get_size_fn>(dlsym(scope, "cblas_sgemm_pack_get_size"));
    pack = reinterpret_cast<pack_fn>(dlsym(scope, "cblas_sgemm_pack"));
    compute = reinterpret_cast<compute_fn>(dlsym(scope, "cblas_sgemm_compute"));
    if (get_size == nullptr || pack == nullptr || compute == nullptr || !self_test()) get_size = nullptr;
  }
  // A 2x3 times 3x2 product against the known answer, so that an MKL with another interface is never used.
  bool self_test() const {
    const float a[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, -1, 2, 0.5f, -3, 4};  // w (n=2 x k=3), used transposed
    const size_t bytes = get_size(kBMatrix, 2, 2, 3);
    if (bytes == 0 || bytes > (size_t(1) << 30)) return false;
    std::vector<float> buf(bytes / sizeof(float) + 16);
    pack(kRowMajor, kBMatrix, kTrans, 2, 2, 3, 1.f, w, 3, buf.data());
    float c[4] = {1, 1, 1, 1};
    compute(kRowMajor, kNoTrans, kPacked, 2, 2, 3, a, 3, buf.data(), 2, 1.f, c, 2);
    const float expect[4] = {6, 7.5f, 12, 12};  // 1 + a wᵀ
    for (int i = 0; i < 4; ++i) {
      if (c[i] != expect[i]) return false;
    }
    return true;
  }
  bool available() const { return get_size != nullptr; }
};

inline const PackedGemm& packed_gemm() {
  static const PackedGemm instance;
  return instance;
}

// out (m x n, row-major, ld n) = [beta ·out +] a (m x k) · op(w), op(w) = wᵀ if w_transposed, with w (n x k)
// or (k x n) row-major. Float32 with packed MKL when it fits in int; otherwise ATen.
template <typename T>
struct StepGemm {
  at::Tensor w_op;  // op(w) as an ATen view (fallback path)
  at::Tensor packed;
  int m = 0, n = 0, k = 0;

  StepGemm(const at::Tensor& w, bool w_transposed, int64_t m_, int64_t n_, int64_t k_)
      : w_op(w_transposed ? w.t() : w), m(int(m_)), n(int(n_)), k(int(k_)) {
    const PackedGemm& mkl = packed_gemm();
    if constexpr (std::is_same_v<T, float>) {
      if (mkl.available() && m_ > 0 && n_ > 0 && k_ > 0 && m_ < (1 << 30) && n_ < (1 << 30) && k_ < (1 << 30)) {
        const size_t bytes = mkl.get_size(kBMatrix, m, n, k);
        packed = at::empty({int64_t(bytes / sizeof(float) + 16)}, w.options());
        // ld of w as stored: w (n x k) if transposed, (k x n) otherwise.
        mkl.pack(kRowMajor, kBMatrix, w_transposed ? kTrans : kNoTrans, m, n, k, 1.f, w.const_data_ptr<float>(),
                 w_transposed ? k : n, packed.mutable_data_ptr<float>());
      }
    }
  }

  // out = beta·out + a · op(w); a_t, out_t are the ATen views of the same memory (for the fallback).
  void run(const at::Tensor& a_t, at::Tensor& out_t, bool accumulate) {
    if (packed.defined()) {
      packed_gemm().compute(kRowMajor, kNoTrans, kPacked, m, n, k, a_t.const_data_ptr<float>(), k,
                            packed.const_data_ptr<float>(), n, accumulate ? 1.f : 0.f,
                            out_t.mutable_data_ptr<float>(), n);
    } else if (accumulate) {
      out_t.addmm_(a_t, w_op);
    } else {
      at::mm_out(out_t, a_t, w_op);
    }
  }
};

// Rows per task of the pointwise passes: at::parallel_for splits a step's batch only when each task gets at
// least this many elements (measured: splitting B*H = 8192 per step over 2 threads did not pay; at H=512 it is
// neutral to slightly positive).
constexpr int64_t kMinElemsPerTask = 16384;
inline int64_t row_grain(int64_t H) { return std::max<int64_t>(1, kMinElemsPerTask / std::max<int64_t>(H, 1)); }

// Contiguous (B, H) data of one step's slice of a gradient that may have any strides. A contiguous slice is
// used in place; otherwise it is copied, and the copy is reused while the next slices are the same memory with
// the same strides (an expanded scalar such as the gradient of .sum(), or a missing gradient passed as a
// broadcast zero, is thus copied once instead of being materialised as a (T, B, H) tensor).
template <typename T>
struct StepSlices {
  at::Tensor copy;
  const void* src = nullptr;
  std::vector<int64_t> strides;
  const T* at(const at::Tensor& slice) {
    if (slice.is_contiguous()) return slice.const_data_ptr<T>();
    if (!copy.defined() || slice.const_data_ptr() != src || slice.strides() != at::IntArrayRef(strides)) {
      copy = slice.contiguous();
      src = slice.const_data_ptr();
      strides = slice.strides().vec();
    }
    return copy.const_data_ptr<T>();
  }
};

// Flushes float32/float64 subnormals (|x| < 1.2e-38 / 2.2e-308) to zero for the life of the guard, on this
// thread, and restores the caller's mode afterwards. x86 handles a subnormal operand or result with a microcode
// assist of ~100 cycles: saturated gates (σ(a) for a < -87 is subnormal in float32) made a peephole language
// model trained on PTB at lr 20 slow down from 45 to 340 ms per step within 1,200 steps, the scan spending its
// time on values that round to zero against any other term (benchmarks/denormals.py). This is the mode that
// torch.set_flush_denormal(True) sets process-wide; the guard keeps it local to the scans. Subnormal inputs
// (DAZ) are read as 0 and subnormal results (FTZ) written as 0, so results differ from IEEE by < 1.2e-38.
class FlushDenormals {
 public:
#ifdef RNNZOO_HAS_MXCSR
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { _mm_setcsr(saved_); }
#endif
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
#ifdef RNNZOO_HAS_MXCSR
  static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  unsigned saved_;
#endif
};

inline at::Tensor mask_of(const std::optional<at::Tensor>& mask) {
  if (!mask.has_value() || !mask->defined()) return at::Tensor();
  return mask->to(at::kBool).contiguous();
}

}  // namespace rnnzoo
