// The core's SGEMM with the ISA, thread count and working memory given by the caller (the public
// rnnkit::sgemm picks them itself). A sequence pass sizes every GEMM it will run before it starts,
// allocates once, and so can fail before writing anything; and one call uses one ISA throughout.
#pragma once

#include <cstddef>

#include "kernels.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit {

// Floats of workspace sgemm needs for this problem on up to `threads` threads.
size_t sgemm_workspace_floats(const Kernels& kern, int threads, int m, int n, int k);

// C[M,N] = op(A)[M,K] · op(B)[K,N] (+ C when accumulate), as rnnkit::sgemm, with `workspace` of
// sgemm_workspace_floats(kern, threads, m, n, k) floats (64-byte aligned for speed).
void sgemm(const Kernels& kern, int threads, float* workspace, Trans trans_a, Trans trans_b, int m, int n, int k,
           const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate);

}  // namespace rnnkit
