// SGEMM, BLIS style: op(B) is packed in [kc × nc] blocks and op(A) in [mc × kc] blocks into
// contiguous, 64-byte aligned panels (transposes are absorbed by the packing), and the active ISA's
// register-blocked micro-kernel multiplies one mr × nr tile at a time:
//
//   for jc in N step nc:            B block [kc, nc] lives in L3 / the far part of L2
//     for pc in K step kc:          pack op(B)[pc:, jc:] → nr-column panels [kc][nr]
//       for ic in M step mc:        pack op(A)[ic:, pc:] → mr-row panels [kc][mr]   (L2)
//         for jr in nc step nr:     one B panel stays in L1 ...
//           for ir in mc step mr:   ... while the A panels stream from L2
//             micro-kernel
//
// Threads split the output into column ranges (rows when M > N, so the duplicated packing is of the
// smaller operand); K is never split, so every element of C is summed in the same order whatever
// the thread count (results are bitwise reproducible).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "gemm_packed.h"
#include "kernels.h"
#include "rnnkit/rnnkit.h"
#include "threads.h"

namespace rnnkit {
namespace {

constexpr std::align_val_t kPackAlignment{64};

float* allocate_aligned(size_t count) {
  return static_cast<float*>(::operator new(count * sizeof(float), kPackAlignment));
}
void free_aligned(float* p) { ::operator delete(p, kPackAlignment); }

// A 64-byte aligned float buffer that only grows (packing buffers are reused across calls).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { free_aligned(data_); }

  float* reserve(size_t count) {
    if (count > capacity_) {
      free_aligned(data_);
      data_ = allocate_aligned(count);
      capacity_ = count;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

// Each thread (pool worker or caller) packs into its own buffers.
struct PackBuffers {
  AlignedBuffer a;
  AlignedBuffer b;
};
PackBuffers& thread_pack_buffers() {
  thread_local PackBuffers buffers;
  return buffers;
}

int round_up(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

// Cache blocking for one micro-kernel shape (sizes in floats). kc: one B panel [kc][nr] plus one
// A panel [kc][mr] stay in the 48 KiB L1. mc: the packed A block [mc][kc] fills about half of a
// 2 MiB L2. nc: the packed B block [kc][nc] (4 MiB at kc = 256) is read from L3 once per ic.
struct Blocking {
  int mc;
  int kc;
  int nc;
};
Blocking blocking_for(const Kernels& kern) {
  constexpr int kKc = 256;
  constexpr int kL2Floats = 256 * 1024;  // 1 MiB
  constexpr int kNc = 4096;
  return {std::max(kern.gemm_mr, kL2Floats / kKc / kern.gemm_mr * kern.gemm_mr), kKc,
          round_up(kNc, kern.gemm_nr)};
}

// op(X) [rows, cols] of a row-major X with row stride ld: element (r, c).
struct Operand {
  const float* data;
  int ld;
  bool transposed;
  const float* row_major_at(int r, int c) const {
    return transposed ? data + static_cast<size_t>(c) * ld + r : data + static_cast<size_t>(r) * ld + c;
  }
};

// op(A)[row0 : row0+mc, col0 : col0+kc] → ceil(mc / mr) panels [kc][mr]; rows past mc are zero.
void pack_a(const Operand& a, int row0, int col0, int mc, int kc, int mr, float* dst) {
  for (int i0 = 0; i0 < mc; i0 += mr, dst += static_cast<size_t>(kc) * mr) {
    const int rows = std::min(mr, mc - i0);
    if (!a.transposed) {
      for (int i = 0; i < rows; ++i) {
        const float* src = a.row_major_at(row0 + i0 + i, col0);  // contiguous along k
        for (int p = 0; p < kc; ++p) dst[p * mr + i] = src[p];
      }
    } else {
      for (int p = 0; p < kc; ++p) {
        const float* src = a.row_major_at(row0 + i0, col0 + p);  // contiguous along rows
        for (int i = 0; i < rows; ++i) dst[p * mr + i] = src[i];
      }
    }
    for (int i = rows; i < mr; ++i) {
      for (int p = 0; p < kc; ++p) dst[p * mr + i] = 0.0f;
    }
  }
}

// op(B)[row0 : row0+kc, col0 : col0+nc] → ceil(nc / nr) panels [kc][nr]; columns past nc are zero.
void pack_b(const Operand& b, int row0, int col0, int kc, int nc, int nr, float* dst) {
  for (int j0 = 0; j0 < nc; j0 += nr, dst += static_cast<size_t>(kc) * nr) {
    const int cols = std::min(nr, nc - j0);
    if (!b.transposed) {
      for (int p = 0; p < kc; ++p) {
        const float* src = b.row_major_at(row0 + p, col0 + j0);  // contiguous along columns
        float* row = dst + static_cast<size_t>(p) * nr;
        for (int j = 0; j < cols; ++j) row[j] = src[j];
        for (int j = cols; j < nr; ++j) row[j] = 0.0f;
      }
    } else {
      for (int j = 0; j < cols; ++j) {
        const float* src = b.row_major_at(row0, col0 + j0 + j);  // contiguous along k
        for (int p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
      }
      for (int p = 0; p < kc; ++p) {
        for (int j = cols; j < nr; ++j) dst[p * nr + j] = 0.0f;
      }
    }
  }
}

// C [mc, nc] (+)= packed A block · packed B block (B panels start at b_panels, one per nr columns).
void macro_kernel(const Kernels& kern, int mc, int nc, int kc, const float* a_panels, const float* b_panels,
                  size_t b_panel_stride, float* c, int ldc, bool accumulate) {
  const int mr = kern.gemm_mr, nr = kern.gemm_nr;
  for (int j = 0; j < nc; j += nr) {
    const float* b_panel = b_panels + static_cast<size_t>(j / nr) * b_panel_stride;
    for (int i = 0; i < mc; i += mr) {
      const float* a_panel = a_panels + static_cast<size_t>(i / mr) * kc * mr;
      kern.gemm_micro(kc, a_panel, b_panel, c + static_cast<size_t>(i) * ldc + j, ldc, std::min(mr, mc - i),
                      std::min(nr, nc - j), accumulate);
    }
  }
}

// C[M, N] (+)= op(A) · op(B), with all operands at their origin.
struct GemmProblem {
  const Kernels* kern;
  Operand a;
  Operand b;
  float* c;
  int ldc;
  int m, n, k;
  bool accumulate;
};

// C[rows, jc : jc+nc] (+)= op(A)[rows, pc : pc+kc] · the packed B block, packing A by mc rows.
void multiply_rows(const GemmProblem& g, const Blocking& blk, int row_begin, int row_end, int pc, int kc, int jc,
                   int nc, const float* b_packed, float* a_packed) {
  const Kernels& kern = *g.kern;
  for (int ic = row_begin; ic < row_end; ic += blk.mc) {
    const int mc = std::min(blk.mc, row_end - ic);
    pack_a(g.a, ic, pc, mc, kc, kern.gemm_mr, a_packed);
    macro_kernel(kern, mc, nc, kc, a_packed, b_packed, static_cast<size_t>(kc) * kern.gemm_nr,
                 g.c + static_cast<size_t>(ic) * g.ldc + jc, g.ldc, g.accumulate || pc > 0);
  }
}

float* reserve_a_block(AlignedBuffer& buffer, const Kernels& kern, const Blocking& blk, int rows, int k) {
  return buffer.reserve(static_cast<size_t>(round_up(std::min(blk.mc, rows), kern.gemm_mr)) * std::min(blk.kc, k));
}
float* reserve_b_block(AlignedBuffer& buffer, const Kernels& kern, const Blocking& blk, int cols, int k) {
  return buffer.reserve(static_cast<size_t>(round_up(std::min(blk.nc, cols), kern.gemm_nr)) * std::min(blk.kc, k));
}

// The rows [row_begin, row_end) × columns [col_begin, col_end) of C, on the calling thread alone.
void gemm_block(const GemmProblem& g, int row_begin, int row_end, int col_begin, int col_end) {
  const Kernels& kern = *g.kern;
  const Blocking blk = blocking_for(kern);
  PackBuffers& buffers = thread_pack_buffers();
  float* a_packed = reserve_a_block(buffers.a, kern, blk, row_end - row_begin, g.k);
  float* b_packed = reserve_b_block(buffers.b, kern, blk, col_end - col_begin, g.k);
  for (int jc = col_begin; jc < col_end; jc += blk.nc) {
    const int nc = std::min(blk.nc, col_end - jc);
    for (int pc = 0; pc < g.k; pc += blk.kc) {
      const int kc = std::min(blk.kc, g.k - pc);
      pack_b(g.b, pc, jc, kc, nc, kern.gemm_nr, b_packed);
      multiply_rows(g, blk, row_begin, row_end, pc, kc, jc, nc, b_packed, a_packed);
    }
  }
}

// [begin, end) of `extent` for part `part` of `parts`, cut at multiples of `unit`.
void split_range(int extent, int unit, int part, int parts, int* begin, int* end) {
  const long long units = (extent + unit - 1) / unit;
  *begin = std::min<long long>(extent, units * part / parts * unit);
  *end = std::min<long long>(extent, units * (part + 1) / parts * unit);
}

// Few rows (M small next to the thread count): each task owns a range of whole nr-column panels
// and packs its own B columns and all of (the small) op(A).
void gemm_split_columns(const GemmProblem& g, int tasks) {
  parallel_for(tasks, [&](int task) {
    int begin, end;
    split_range(g.n, g.kern->gemm_nr, task, tasks, &begin, &end);
    if (begin < end) gemm_block(g, 0, g.m, begin, end);
  });
}

// Many rows: for each [kc × nc] block of op(B), the pool packs it once into the caller's buffer
// (tasks split its panels), then tasks take chunks of C's rows, each packing its own rows of op(A)
// into its own buffer (nothing is packed twice). More chunks than threads, claimed dynamically, so
// a thread slowed by another process does not hold everyone up.
void gemm_shared_b(const GemmProblem& g, int threads) {
  const Kernels& kern = *g.kern;
  const Blocking blk = blocking_for(kern);
  const int chunk_rows = std::min(blk.mc, std::max(4 * kern.gemm_mr, round_up((g.m + 4 * threads - 1) / (4 * threads), kern.gemm_mr)));
  const int chunks = (g.m + chunk_rows - 1) / chunk_rows;
  float* b_packed = reserve_b_block(thread_pack_buffers().b, kern, blk, g.n, g.k);
  for (int jc = 0; jc < g.n; jc += blk.nc) {
    const int nc = std::min(blk.nc, g.n - jc);
    const int panels = (nc + kern.gemm_nr - 1) / kern.gemm_nr;
    for (int pc = 0; pc < g.k; pc += blk.kc) {
      const int kc = std::min(blk.kc, g.k - pc);
      const int pack_tasks = std::min(threads, panels);
      parallel_for(pack_tasks, [&](int task) {
        int begin, end;
        split_range(nc, kern.gemm_nr, task, pack_tasks, &begin, &end);
        if (begin < end) {
          pack_b(g.b, pc, jc + begin, kc, end - begin, kern.gemm_nr,
                 b_packed + static_cast<size_t>(begin / kern.gemm_nr) * kc * kern.gemm_nr);
        }
      });
      parallel_for(chunks, [&](int chunk) {
        const int row_begin = chunk * chunk_rows;
        const int row_end = std::min(g.m, row_begin + chunk_rows);
        float* a_packed = reserve_a_block(thread_pack_buffers().a, kern, blk, chunk_rows, g.k);
        multiply_rows(g, blk, row_begin, row_end, pc, kc, jc, nc, b_packed, a_packed);
      });
    }
  }
}

void zero_rows(float* c, int ldc, int m, int n) {
  for (int i = 0; i < m; ++i) std::memset(c + static_cast<size_t>(i) * ldc, 0, sizeof(float) * n);
}

// Below this many multiply-adds per thread, waking the pool costs more than it saves.
constexpr double kMinMultiplyAddsPerTask = 64.0 * 64.0 * 64.0;

void gemm_parallel(const GemmProblem& g) {
  const double work = static_cast<double>(g.m) * g.n * g.k;
  int threads = in_parallel_region() ? 1 : num_threads();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(work / kMinMultiplyAddsPerTask)));
  const int row_panels = (g.m + g.kern->gemm_mr - 1) / g.kern->gemm_mr;
  const int col_panels = (g.n + g.kern->gemm_nr - 1) / g.kern->gemm_nr;
  if (threads > 1 && row_panels >= 4 * threads) {
    gemm_shared_b(g, threads);
  } else if (threads > 1 && col_panels >= threads) {
    gemm_split_columns(g, threads);
  } else {
    gemm_block(g, 0, g.m, 0, g.n);
  }
}

}  // namespace

void sgemm(Trans trans_a, Trans trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
           float* c, int ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) zero_rows(c, ldc, m, n);
    return;
  }
  const GemmProblem problem{&kernels(), {a, lda, trans_a == Trans::Yes}, {b, ldb, trans_b == Trans::Yes},
                            c, ldc, m, n, k, accumulate};
  gemm_parallel(problem);
}

// ---- PackedMatrix -------------------------------------------------------------------------------
// Layout: ceil(N / nr) panels, each [K][nr] (columns past N zero). Rows pc.. of a panel are
// contiguous, so the multiply can block K without repacking.

void PackedMatrix::pack(Trans trans_b, int k, int n, const float* b, int ldb) {
  kernels_ = &rnnkit::kernels();
  k_ = std::max(k, 0);
  n_ = std::max(n, 0);
  const size_t count = static_cast<size_t>(round_up(n_, kernels_->gemm_nr)) * k_;
  if (count > capacity_ || !data_) {
    data_ = std::unique_ptr<float[], void (*)(float*)>(allocate_aligned(std::max<size_t>(count, 1)), free_aligned);
    capacity_ = std::max<size_t>(count, 1);
  }
  if (count > 0) pack_b({b, ldb, trans_b == Trans::Yes}, 0, 0, k_, n_, kernels_->gemm_nr, data_.get());
}

const float* PackedMatrix::panel(int col) const {
  return data_.get() + static_cast<size_t>(col / kernels_->gemm_nr) * kernels_->gemm_nr * k_;
}

void sgemm_packed(int m, int n_begin, int n_end, const float* a, int lda, const PackedMatrix& b, float* c,
                  int ldc, bool accumulate) {
  const int k = b.rows();
  n_end = std::min(n_end, b.cols());
  if (m <= 0 || n_end <= n_begin) return;
  if (k <= 0) {
    if (!accumulate) zero_rows(c + n_begin, ldc, m, n_end - n_begin);
    return;
  }
  const Kernels& kern = b.kernels();
  const Blocking blk = blocking_for(kern);
  const Operand a_op{a, lda, false};
  const int kc_max = std::min(blk.kc, k);
  float* a_packed = thread_pack_buffers().a.reserve(
      static_cast<size_t>(round_up(std::min(blk.mc, m), kern.gemm_mr)) * kc_max);
  const size_t panel_stride = static_cast<size_t>(k) * kern.gemm_nr;
  for (int pc = 0; pc < k; pc += blk.kc) {
    const int kc = std::min(blk.kc, k - pc);
    for (int ic = 0; ic < m; ic += blk.mc) {
      const int mc = std::min(blk.mc, m - ic);
      pack_a(a_op, ic, pc, mc, kc, kern.gemm_mr, a_packed);
      macro_kernel(kern, mc, n_end - n_begin, kc, a_packed, b.panel(n_begin) + static_cast<size_t>(pc) * kern.gemm_nr,
                   panel_stride, c + static_cast<size_t>(ic) * ldc + n_begin, ldc, accumulate || pc > 0);
    }
  }
}

}  // namespace rnnkit
