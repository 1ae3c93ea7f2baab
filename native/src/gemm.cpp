// SGEMM, BLIS style. op(B) is packed into nr-column panels that run over the whole K ([K][nr]
// each, the PackedMatrix layout), op(A) into mr-row panels one [mc × kc] block at a time, and the
// active ISA's register-blocked micro-kernel multiplies one mr × nr tile at a time:
//
//   for jc in N step nc:            pack op(B)[:, jc:jc+nc] → panels [K][nr]   (L3)
//     for ic in M step mc:          (threads take chunks of rows here)
//       for pc in K step kc:        pack op(A)[ic:, pc:] → panels [kc][mr]     (L2)
//         for run in nc step nb:    B slice [kc][nb] stays in L2 ...
//           for ir in mc step mr:   ... one A panel stays in L1 ...
//             for jr in run step nr:  ... while the B panels of the run stream from L2
//               micro-kernel
//
// Threads: for tall problems the pool packs B once and then takes chunks of C's rows (each thread
// packs only its own rows of A); for short ones (few row panels), each thread owns a range of
// columns. K is never split, so every element of C is summed in the same order whatever the thread
// count: results are bitwise reproducible.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "gemm_pack.h"
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
int ceil_div(int x, int d) { return (x + d - 1) / d; }

// Cache blocking, sizes in floats, for a 48 KiB L1 / 2 MiB L2 core (measured on Sapphire Rapids;
// the macro-kernel order follows BLIS: the panel of the broadcast operand is reused across a run
// of vector-operand panels that stays in L2).
//   kc: one A panel [kc][mr] (28 KiB for mr = 14) is reused from L1 across the B panels of a run,
//       and C is loaded and stored once per kc (fewer passes over C than kc = 256; measured best).
//   nb: columns in a run: a B slice [kc][nb] (512 KiB) stays in L2 while the A panels go by.
//   mc: the packed A block [mc][kc] (1 MiB), re-read from L2 once per run.
//   nc: the packed B [K][nc] stays under 8 MiB (L3); huge N is done in column blocks.
struct Blocking {
  int mc;
  int kc;
  int nb;
  int nc;
};
Blocking blocking_for(const Kernels& kern, int k) {
  constexpr int kKc = 512;
  constexpr int kABlockFloats = 256 * 1024;
  constexpr int kBRunFloats = 128 * 1024;
  constexpr int kBFloats = 2 * 1024 * 1024;
  const int mr = kern.gemm_mr, nr = kern.gemm_nr;
  return {std::max(mr, kABlockFloats / kKc / mr * mr), kKc, std::max(nr, kBRunFloats / kKc / nr * nr),
          std::max(nr, kBFloats / std::max(k, 1) / nr * nr)};
}

// C [mc, nc] (+)= packed A block [kc] · B panel slices (b_panels, one panel per nr columns, panel
// stride b_panel_stride), in runs of nb columns.
void macro_kernel(const Kernels& kern, const Blocking& blk, int mc, int nc, int kc, const float* a_panels,
                  const float* b_panels, size_t b_panel_stride, float* c, int ldc, bool accumulate) {
  const int mr = kern.gemm_mr, nr = kern.gemm_nr;
  for (int run = 0; run < nc; run += blk.nb) {
    const int run_end = std::min(nc, run + blk.nb);
    for (int i = 0; i < mc; i += mr) {
      const float* a_panel = a_panels + static_cast<size_t>(i / mr) * kc * mr;
      for (int j = run; j < run_end; j += nr) {
        const float* b_panel = b_panels + static_cast<size_t>(j / nr) * b_panel_stride;
        kern.gemm_micro(kc, a_panel, b_panel, c + static_cast<size_t>(i) * ldc + j, ldc, std::min(mr, mc - i),
                        std::min(nr, nc - j), accumulate);
      }
    }
  }
}

// B packed as panels [k][nr] (panel_stride = k·nr floats apart), covering `cols` columns of C.
struct PanelsOfB {
  const float* data;
  int k;
  int cols;
  size_t panel_stride;
};

// C[rows, 0 : b.cols] (+)= op(A)[rows, :] · B, on the calling thread (c points at C's column 0 of
// these panels). Packs A one [mc × kc] block at a time into a_buffer.
void multiply_rows(const Kernels& kern, const Blocking& blk, const Operand& a, int row_begin, int row_end,
                   const PanelsOfB& b, float* c, int ldc, bool accumulate, float* a_buffer) {
  // Equal blocks of whole panels (no thin last block that would reload B for a few rows).
  const int blocks = ceil_div(row_end - row_begin, blk.mc);
  const int block_rows = round_up(ceil_div(row_end - row_begin, blocks), kern.gemm_mr);
  for (int ic = row_begin; ic < row_end; ic += block_rows) {
    const int mc = std::min(block_rows, row_end - ic);
    for (int pc = 0; pc < b.k; pc += blk.kc) {
      const int kc = std::min(blk.kc, b.k - pc);
      pack_a(a, ic, pc, mc, kc, kern.gemm_mr, a_buffer);
      macro_kernel(kern, blk, mc, b.cols, kc, a_buffer, b.data + static_cast<size_t>(pc) * kern.gemm_nr, b.panel_stride,
                   c + static_cast<size_t>(ic) * ldc, ldc, accumulate || pc > 0);
    }
  }
}

float* reserve_a_block(const Kernels& kern, const Blocking& blk, int rows, int k) {
  return thread_pack_buffers().a.reserve(static_cast<size_t>(round_up(std::min(blk.mc, rows), kern.gemm_mr)) *
                                         std::min(blk.kc, k));
}
float* reserve_b_panels(const Kernels& kern, const Blocking& blk, int cols, int k) {
  return thread_pack_buffers().b.reserve(static_cast<size_t>(round_up(std::min(blk.nc, cols), kern.gemm_nr)) * k);
}

// C[M, N] (+)= op(A) · op(B).
struct GemmProblem {
  const Kernels* kern;
  Operand a;
  Operand b;
  float* c;
  int ldc;
  int m, n, k;
  bool accumulate;
};

// The columns [col_begin, col_end) of C, on the calling thread alone.
void gemm_columns(const GemmProblem& g, int col_begin, int col_end) {
  const Kernels& kern = *g.kern;
  const Blocking blk = blocking_for(kern, g.k);
  float* a_buffer = reserve_a_block(kern, blk, g.m, g.k);
  float* b_buffer = reserve_b_panels(kern, blk, col_end - col_begin, g.k);
  for (int jc = col_begin; jc < col_end; jc += blk.nc) {
    const int nc = std::min(blk.nc, col_end - jc);
    pack_b(g.b, 0, jc, g.k, nc, kern.gemm_nr, b_buffer);
    const PanelsOfB b{b_buffer, g.k, nc, static_cast<size_t>(g.k) * kern.gemm_nr};
    multiply_rows(kern, blk, g.a, 0, g.m, b, g.c + jc, g.ldc, g.accumulate, a_buffer);
  }
}

// [begin, end) of `extent` for part `part` of `parts`, cut at multiples of `unit`.
void split_range(int extent, int unit, int part, int parts, int* begin, int* end) {
  const long long units = ceil_div(extent, unit);
  *begin = static_cast<int>(std::min<long long>(extent, units * part / parts * unit));
  *end = static_cast<int>(std::min<long long>(extent, units * (part + 1) / parts * unit));
}

// Few row panels: each task owns a range of whole nr-column panels (packing all of the short A).
void gemm_split_columns(const GemmProblem& g, int tasks) {
  parallel_for(tasks, [&](int task) {
    int begin, end;
    split_range(g.n, g.kern->gemm_nr, task, tasks, &begin, &end);
    if (begin < end) gemm_columns(g, begin, end);
  });
}

// Many row panels: the pool packs each column block of op(B) once into the caller's buffer (tasks
// split its panels), then tasks take chunks of C's rows, each packing only its own rows of op(A).
// More chunks than threads, claimed dynamically, so a thread slowed by another process does not
// hold the others up as much.
void gemm_split_rows(const GemmProblem& g, int threads) {
  const Kernels& kern = *g.kern;
  const Blocking blk = blocking_for(kern, g.k);
  // About two chunks per thread, of whole panels, equal in size (long rows make packing a
  // transposed A stream better than many thin chunks would).
  const int target_rows = std::min(blk.mc, std::max(4 * kern.gemm_mr, ceil_div(g.m, 2 * threads)));
  const int chunks = ceil_div(g.m, target_rows);
  const int chunk_rows = round_up(ceil_div(g.m, chunks), kern.gemm_mr);
  float* b_buffer = reserve_b_panels(kern, blk, g.n, g.k);
  for (int jc = 0; jc < g.n; jc += blk.nc) {
    const int nc = std::min(blk.nc, g.n - jc);
    const int pack_tasks = std::min(threads, ceil_div(nc, kern.gemm_nr));
    parallel_for(pack_tasks, [&](int task) {
      int begin, end;
      split_range(nc, kern.gemm_nr, task, pack_tasks, &begin, &end);
      if (begin < end) pack_b(g.b, 0, jc + begin, g.k, end - begin, kern.gemm_nr, b_buffer + static_cast<size_t>(begin) * g.k);
    });
    const PanelsOfB b{b_buffer, g.k, nc, static_cast<size_t>(g.k) * kern.gemm_nr};
    parallel_for(chunks, [&](int chunk) {
      const int row_begin = chunk * chunk_rows;
      const int row_end = std::min(g.m, row_begin + chunk_rows);
      float* a_buffer = reserve_a_block(kern, blk, chunk_rows, g.k);
      multiply_rows(kern, blk, g.a, row_begin, row_end, b, g.c + jc, g.ldc, g.accumulate, a_buffer);
    });
  }
}

void zero_rows(float* c, int ldc, int m, int n) {
  for (int i = 0; i < m; ++i) std::memset(c + static_cast<size_t>(i) * ldc, 0, sizeof(float) * n);
}

// Below this many multiply-adds per thread, waking the pool costs more than it saves.
constexpr double kMinMultiplyAddsPerThread = 64.0 * 64.0 * 64.0;

void gemm(const GemmProblem& g) {
  const double work = static_cast<double>(g.m) * g.n * g.k;
  int threads = in_parallel_region() ? 1 : num_threads();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(work / kMinMultiplyAddsPerThread)));
  if (threads > 1 && ceil_div(g.m, g.kern->gemm_mr) >= 4 * threads) {  // ≥ 2 chunks of ≥ 2 panels each
    gemm_split_rows(g, threads);
  } else if (threads > 1 && ceil_div(g.n, g.kern->gemm_nr) >= threads) {
    gemm_split_columns(g, threads);
  } else {
    gemm_columns(g, 0, g.n);
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
  gemm({&kernels(), {a, lda, trans_a == Trans::Yes}, {b, ldb, trans_b == Trans::Yes}, c, ldc, m, n, k, accumulate});
}

// ---- PackedMatrix -------------------------------------------------------------------------------
// Layout: ceil(N / nr) panels, each [K][nr] (columns past N zero), the layout sgemm packs B into.

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
  const Blocking blk = blocking_for(kern, k);
  if (m == 1) {  // one row (batch 1): the gemv kernel, with the same kc blocks, gives the same sums
    const size_t panel_stride = static_cast<size_t>(k) * kern.gemm_nr;
    for (int pc = 0; pc < k; pc += blk.kc) {
      kern.gemv(std::min(blk.kc, k - pc), a + pc, b.panel(n_begin) + static_cast<size_t>(pc) * kern.gemm_nr,
                panel_stride, c + n_begin, n_end - n_begin, accumulate || pc > 0);
    }
    return;
  }
  const PanelsOfB panels{b.panel(n_begin), k, n_end - n_begin, static_cast<size_t>(k) * kern.gemm_nr};
  multiply_rows(kern, blk, Operand{a, lda, false}, 0, m, panels, c + n_begin, ldc, accumulate,
                reserve_a_block(kern, blk, m, k));
}

}  // namespace rnnkit
