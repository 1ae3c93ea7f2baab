// GEMM with a pre-packed right-hand side, for the recurrent weights that every step of a sequence
// multiplies: pack once per sequence, multiply T times.
#pragma once

#include <cstddef>

#include "kernels.h"
#include "rnnkit/memory.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {

// op(B) [K, N] packed into panels of an ISA's nr columns (64-byte aligned storage).
class PackedMatrix {
 public:
  // False (and empty) when its storage could not be allocated; reuses the storage when it fits.
  bool pack(const Kernels& kern, Trans trans_b, int k, int n, const float* b, int ldb);
  int rows() const { return k_; }
  int cols() const { return n_; }
  const Kernels& kernels() const { return *kernels_; }
  const float* panel(int col) const;  // the panel holding column col (col is a multiple of nr)

 private:
  const Kernels* kernels_ = nullptr;
  int k_ = 0;
  int n_ = 0;
  Memory storage_;
};

// Floats of workspace sgemm_packed needs for M = m rows of depth k (0 for one row).
size_t sgemm_packed_workspace_floats(const Kernels& kern, int m, int k);

// C[M, n_begin:n_end] (+)= A[M, K] · B[:, n_begin:n_end]. Serial (the caller splits the columns
// across threads, each with its own workspace). n_begin must be a multiple of B.kernels().gemm_nr.
// c points at column 0.
void sgemm_packed(int m, int n_begin, int n_end, const float* a, int lda, const PackedMatrix& b,
                  float* c, int ldc, bool accumulate, float* workspace);

}  // namespace rnnkit
