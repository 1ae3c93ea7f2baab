// GEMM with a pre-packed right-hand side, for the recurrent weights that every step of a sequence
// multiplies: pack once per sequence, multiply T times.
#pragma once

#include <cstddef>
#include <memory>

#include "kernels.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {

// op(B) [K, N] packed into panels of the active ISA's nr columns (64-byte aligned storage).
class PackedMatrix {
 public:
  void pack(Trans trans_b, int k, int n, const float* b, int ldb);
  int rows() const { return k_; }
  int cols() const { return n_; }
  const Kernels& kernels() const { return *kernels_; }
  const float* panel(int col) const;  // the panel holding column col (col is a multiple of nr)

 private:
  const Kernels* kernels_ = nullptr;
  int k_ = 0;
  int n_ = 0;
  std::unique_ptr<float[], void (*)(float*)> data_{nullptr, nullptr};
  size_t capacity_ = 0;
};

// C[M, n_begin:n_end] (+)= A[M, K] · B[:, n_begin:n_end]. Serial (the caller splits the columns
// across threads). n_begin must be a multiple of B.kernels().gemm_nr. c points at column 0.
void sgemm_packed(int m, int n_begin, int n_end, const float* a, int lda, const PackedMatrix& b,
                  float* c, int ldc, bool accumulate);

}  // namespace rnnkit
