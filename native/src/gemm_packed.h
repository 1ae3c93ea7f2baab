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

// A [M, K] in the form sgemm_packed multiplies: packed once into the micro-kernel's row panels, for
// several products of the same rows (every gate of a step multiplies h_prev). One row stays as it
// is (the gemv kernel reads it unpacked).
struct PackedRows {
  const float* data;
  int m, k;
};
// Floats pack_rows writes for m rows of depth k (0 for one row).
size_t packed_rows_floats(const Kernels& kern, int m, int k);
// Packs a [m, k] (row stride lda) into `workspace` (packed_rows_floats floats) for kernels `kern`.
PackedRows pack_rows(const Kernels& kern, int m, int k, const float* a, int lda, float* workspace);
// Packs only the columns [k0, k1) of a, into the same places pack_rows would: threads that each
// produce some columns of A can pack them into one shared layout (nothing to do for one row).
void pack_rows_columns(const Kernels& kern, int m, int k, const float* a, int lda, int k0, int k1, float* workspace);

// C[M, n_begin:n_end] (+)= A[M, K] · B[:, n_begin:n_end], A packed for B's kernels and K. Serial
// (the caller splits the columns across threads). n_begin must be a multiple of
// B.kernels().gemm_nr. c points at column 0.
void sgemm_packed(int n_begin, int n_end, const PackedRows& a, const PackedMatrix& b, float* c, int ldc, bool accumulate);
// The same for A [m, K] as stored (row stride lda), packed into `workspace` first.
void sgemm_packed(int m, int n_begin, int n_end, const float* a, int lda, const PackedMatrix& b,
                  float* c, int ldc, bool accumulate, float* workspace);

}  // namespace rnnkit
