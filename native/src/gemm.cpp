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
// Threads: for tall problems the pool packs B once and then takes chunks of C's rows (each chunk
// packs only its own rows of A); for short ones (few row panels), each task owns a range of
// columns. K is never split, so every element of C is summed in the same order whatever the thread
// count: results are bitwise reproducible.
//
// Memory: every packing buffer is a slice of one workspace the caller sizes with
// sgemm_workspace_floats and allocates before the call (nothing is allocated in a parallel region,
// so a failed allocation is reported before any work starts). The ISA and thread count are the
// caller's too: one call never mixes two ISAs' panel layouts, whatever set_isa does meanwhile.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "cache_sizes.h"
#include "gemm.h"
#include "gemm_pack.h"
#include "gemm_packed.h"
#include "kernels.h"
#include "rnnkit/memory.h"
#include "rnnkit/rnnkit.h"
#include "subnormals.h"
#include "threads.h"

namespace rnnkit {
namespace {

int round_up(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }
int ceil_div(int x, int d) { return (x + d - 1) / d; }
// Slices of a workspace are padded to whole 64-byte lines (as Carver does).
size_t line_floats(size_t floats) { return (floats + 15) / 16 * 16; }

// Cache blocking, sizes in floats, from this core's L1 and L2 (cache_sizes.h; on a Sapphire Rapids
// core, 48 KiB / 2 MiB, these are the values measured best there). The macro-kernel order follows
// BLIS: the panel of the broadcast operand is reused across a run of vector-operand panels that
// stays in L2.
//   kc: one A panel [kc][mr] (28 KiB for mr = 14) is reused from L1 across the B panels of a run
//       (≤ 60 % of L1), and C is loaded and stored once per kc (512 measured better than 256).
//   nb: columns in a run: a B slice [kc][nb] (a quarter of L2) stays in L2 while the A panels go by.
//   mc: the packed A block [mc][kc] (half of L2), re-read from L2 once per run.
//   nc: the packed B [K][nc] stays under 8 MiB (L3); huge N is done in column blocks.
struct Blocking {
  int mc;
  int kc;
  int nb;
  int nc;
};
Blocking blocking_for(const Kernels& kern, int k) {
  constexpr int kBFloats = 2 * 1024 * 1024;
  const CacheSizes& cache = cache_sizes();
  const int mr = kern.gemm_mr, nr = kern.gemm_nr;
  const int kc = std::clamp(static_cast<int>(cache.l1d * 6 / 10 / (sizeof(float) * mr)) / 16 * 16, 128, 512);
  const size_t l2_floats = cache.l2 / sizeof(float);
  return {std::max(mr, static_cast<int>(l2_floats / 2 / kc) / mr * mr), kc,
          std::max(nr, static_cast<int>(l2_floats / 4 / kc) / nr * nr), std::max(nr, kBFloats / std::max(k, 1) / nr * nr)};
}

// Floats of one packed A block for `rows` rows of depth k, and of B panels for `cols` columns.
size_t a_block_floats(const Kernels& kern, const Blocking& blk, int rows, int k) {
  return static_cast<size_t>(round_up(std::min(blk.mc, rows), kern.gemm_mr)) * std::min(blk.kc, k);
}
size_t b_panels_floats(const Kernels& kern, const Blocking& blk, int cols, int k) {
  return static_cast<size_t>(round_up(std::min(blk.nc, cols), kern.gemm_nr)) * k;
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
// b.k columns of op(A) from column a_col0 (B holds the matching rows of op(B)).
void multiply_rows(const Kernels& kern, const Blocking& blk, const Operand& a, int row_begin, int row_end,
                   const PanelsOfB& b, float* c, int ldc, bool accumulate, float* a_buffer, int a_col0 = 0) {
  // Equal blocks of whole panels (no thin last block that would reload B for a few rows).
  const int blocks = ceil_div(row_end - row_begin, blk.mc);
  const int block_rows = round_up(ceil_div(row_end - row_begin, blocks), kern.gemm_mr);
  for (int ic = row_begin; ic < row_end; ic += block_rows) {
    const int mc = std::min(block_rows, row_end - ic);
    for (int pc = 0; pc < b.k; pc += blk.kc) {
      const int kc = std::min(blk.kc, b.k - pc);
      pack_a(a, ic, a_col0 + pc, mc, kc, kern.gemm_mr, a_buffer);
      macro_kernel(kern, blk, mc, b.cols, kc, a_buffer, b.data + static_cast<size_t>(pc) * kern.gemm_nr, b.panel_stride,
                   c + static_cast<size_t>(ic) * ldc, ldc, accumulate || pc > 0);
    }
  }
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

// [begin, end) of `extent` for part `part` of `parts`, cut at multiples of `unit`.
void split_range(int extent, int unit, int part, int parts, int* begin, int* end) {
  const long long units = ceil_div(extent, unit);
  *begin = static_cast<int>(std::min<long long>(extent, units * part / parts * unit));
  *end = static_cast<int>(std::min<long long>(extent, units * (part + 1) / parts * unit));
}

// Packed B over the whole K above this many floats (4 MiB) is packed one kc block at a time instead:
// the weight gradients of a sequence (K = steps·batch) would otherwise pack megabytes at once.
constexpr size_t kBPanelsFloats = size_t(1) << 20;

// Below this many multiply-adds per thread, waking the pool costs more than it saves.
constexpr double kMinMultiplyAddsPerThread = 64.0 * 64.0 * 64.0;

// How one problem is split over `threads` threads, and the slices of its workspace:
//   Rows:    shared B panels, then one A block per chunk of rows;
//   Columns: per task, an A block and the B panels of its columns;
//   Whole:   one A block and B panels, on the calling thread.
struct GemmPlan {
  enum class Split { Whole, Rows, Columns } split;
  Blocking blk;
  bool k_blocked;  // Rows: B packed one kc block at a time (its whole K would not fit kBPanelsFloats)
  int threads;     // threads worth using for this size
  int tasks;       // chunks of rows (Rows), column ranges (Columns), 1 (Whole)
  int chunk_rows;  // Rows only
  size_t a_stride;  // floats per A block slice
  size_t b_stride;  // floats per B panels slice

  float* b_buffer(float* workspace, int task) const {
    return split == Split::Rows ? workspace : workspace + static_cast<size_t>(task) * (a_stride + b_stride) + a_stride;
  }
  float* a_buffer(float* workspace, int task) const {
    return split == Split::Rows ? workspace + b_stride + static_cast<size_t>(task) * a_stride
                                : workspace + static_cast<size_t>(task) * (a_stride + b_stride);
  }
  size_t floats() const {
    const size_t per_task = split == Split::Rows ? a_stride : a_stride + b_stride;
    return checked_sum(checked_product({per_task, static_cast<size_t>(tasks)}), split == Split::Rows ? b_stride : 0);
  }
};

GemmPlan plan_gemm(const Kernels& kern, int threads, int m, int n, int k) {
  const Blocking blk = blocking_for(kern, k);
  const double work = static_cast<double>(m) * n * k;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(work / kMinMultiplyAddsPerThread)));
  const int row_panels = ceil_div(m, kern.gemm_mr), column_panels = ceil_div(n, kern.gemm_nr);
  // Few row panels but many column panels (a recurrent step: B·(G·H)): columns balance better.
  const bool prefer_columns = column_panels >= 4 * threads && row_panels < 16 * threads;
  if (threads > 1 && row_panels >= 4 * threads && !prefer_columns) {  // ≥ 2 chunks of ≥ 2 panels each
    // About two chunks per thread, a multiple of the threads (so they get equal shares), of whole
    // panels, equal in size (long rows make packing a transposed A stream better than many thin
    // chunks would).
    const int target_rows = std::min(blk.mc, std::max(4 * kern.gemm_mr, ceil_div(m, 2 * threads)));
    const int chunk_rows = round_up(ceil_div(m, round_up(ceil_div(m, target_rows), threads)), kern.gemm_mr);
    const int chunks = ceil_div(m, chunk_rows);  // rounding the rows to whole panels may leave fewer
    const bool k_blocked = b_panels_floats(kern, blk, n, k) > kBPanelsFloats && k > blk.kc;
    return {GemmPlan::Split::Rows, blk, k_blocked, threads, chunks, chunk_rows,
            line_floats(a_block_floats(kern, blk, chunk_rows, k)), line_floats(b_panels_floats(kern, blk, n, k_blocked ? blk.kc : k))};
  }
  if (threads > 1 && column_panels >= threads) {
    const int widest = ceil_div(ceil_div(n, kern.gemm_nr), threads) * kern.gemm_nr;
    return {GemmPlan::Split::Columns, blk, false, threads, threads, 0, line_floats(a_block_floats(kern, blk, m, k)),
            line_floats(b_panels_floats(kern, blk, std::min(n, widest), k))};
  }
  return {GemmPlan::Split::Whole, blk, false, threads, 1, 0, line_floats(a_block_floats(kern, blk, m, k)),
          line_floats(b_panels_floats(kern, blk, n, k))};
}

// The columns [col_begin, col_end) of C, on the calling thread alone.
void gemm_columns(const GemmProblem& g, const Blocking& blk, int col_begin, int col_end, float* a_buffer,
                  float* b_buffer) {
  const Kernels& kern = *g.kern;
  for (int jc = col_begin; jc < col_end; jc += blk.nc) {
    const int nc = std::min(blk.nc, col_end - jc);
    pack_b(g.b, 0, jc, g.k, nc, kern.gemm_nr, b_buffer);
    const PanelsOfB b{b_buffer, g.k, nc, static_cast<size_t>(g.k) * kern.gemm_nr};
    multiply_rows(kern, blk, g.a, 0, g.m, b, g.c + jc, g.ldc, g.accumulate, a_buffer);
  }
}

// Few row panels: each task owns a range of whole nr-column panels (packing all of the short A).
void gemm_split_columns(const GemmProblem& g, const GemmPlan& plan, float* workspace) {
  parallel_for(plan.tasks, [&](int task) {
    int begin, end;
    split_range(g.n, g.kern->gemm_nr, task, plan.tasks, &begin, &end);
    if (begin < end) {
      gemm_columns(g, plan.blk, begin, end, plan.a_buffer(workspace, task), plan.b_buffer(workspace, task));
    }
  });
}

// Many row panels: the pool packs each column block of op(B) once into the shared buffer (tasks
// split its panels), then tasks take chunks of C's rows, each packing only its own rows of op(A).
// More chunks than threads, claimed dynamically, so a thread slowed by another process does not
// hold the others up as much.
// With k_blocked, one kc block of K at a time (packed B stays small; C is updated once per block,
// in the same order as multiply_rows adds its blocks, so the sums are the same bit for bit).
void gemm_split_rows(const GemmProblem& g, const GemmPlan& plan, float* workspace) {
  const Kernels& kern = *g.kern;
  const Blocking& blk = plan.blk;
  float* b_buffer = plan.b_buffer(workspace, 0);
  const int k_step = plan.k_blocked ? blk.kc : g.k;
  for (int jc = 0; jc < g.n; jc += blk.nc) {
    const int nc = std::min(blk.nc, g.n - jc);
    const int pack_tasks = std::min(plan.threads, ceil_div(nc, kern.gemm_nr));
    for (int k0 = 0; k0 < g.k; k0 += k_step) {
      const int kk = std::min(k_step, g.k - k0);
      parallel_for(pack_tasks, [&](int task) {
        int begin, end;
        split_range(nc, kern.gemm_nr, task, pack_tasks, &begin, &end);
        if (begin < end) pack_b(g.b, k0, jc + begin, kk, end - begin, kern.gemm_nr, b_buffer + static_cast<size_t>(begin) * kk);
      });
      const PanelsOfB b{b_buffer, kk, nc, static_cast<size_t>(kk) * kern.gemm_nr};
      parallel_for(plan.tasks, [&](int chunk) {
        const int row_begin = chunk * plan.chunk_rows;
        const int row_end = std::min(g.m, row_begin + plan.chunk_rows);
        multiply_rows(kern, blk, g.a, row_begin, row_end, b, g.c + jc, g.ldc, g.accumulate || k0 > 0,
                      plan.a_buffer(workspace, chunk), k0);
      });
    }
  }
}

void zero_rows(float* c, int ldc, int m, int n) {
  for (int i = 0; i < m; ++i) std::memset(c + static_cast<size_t>(i) * ldc, 0, sizeof(float) * n);
}

}  // namespace

size_t sgemm_workspace_floats(const Kernels& kern, int threads, int m, int n, int k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  return plan_gemm(kern, threads, m, n, k).floats();
}

void sgemm(const Kernels& kern, int threads, float* workspace, Trans trans_a, Trans trans_b, int m, int n, int k,
           const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) zero_rows(c, ldc, m, n);
    return;
  }
  const GemmProblem g{&kern, {a, lda, trans_a == Trans::Yes}, {b, ldb, trans_b == Trans::Yes}, c, ldc, m, n, k, accumulate};
  const GemmPlan plan = plan_gemm(kern, threads, m, n, k);
  switch (plan.split) {
    case GemmPlan::Split::Rows: gemm_split_rows(g, plan, workspace); break;
    case GemmPlan::Split::Columns: gemm_split_columns(g, plan, workspace); break;
    case GemmPlan::Split::Whole: gemm_columns(g, plan.blk, 0, n, plan.a_buffer(workspace, 0), plan.b_buffer(workspace, 0)); break;
  }
}

bool sgemm(Trans trans_a, Trans trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
           float* c, int ldc, bool accumulate) {
  const FlushSubnormals flush;
  const Kernels& kern = kernels();
  const int threads = in_parallel_region() ? 1 : num_threads();
  const size_t floats = sgemm_workspace_floats(kern, threads, m, n, k);
  Memory workspace;
  if (floats > 0) {
    workspace = allocate_memory(checked_product({floats, sizeof(float)}));
    if (!workspace) return false;
  }
  sgemm(kern, threads, workspace ? workspace->data : nullptr, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc,
        accumulate);
  return true;
}

bool sgemm_batched(Trans trans_a, Trans trans_b, int batch, int m, int n, int k, const float* a, const float* b, float* c,
                   bool accumulate) {
  if (batch <= 0) return true;
  const FlushSubnormals flush;
  const Kernels& kern = kernels();
  const int threads = in_parallel_region() ? 1 : std::min(num_threads(), batch);
  // Each task runs whole items on one thread; a GEMM's bits do not depend on its thread count, so
  // this equals `batch` separate sgemm calls bit for bit, without a pool wake-up per small item.
  const size_t per_task = (sgemm_workspace_floats(kern, 1, m, n, k) + 15) / 16 * 16;  // 64-byte aligned slices
  Memory workspace;
  if (per_task > 0) {
    workspace = allocate_memory(checked_product({per_task, static_cast<size_t>(threads), sizeof(float)}));
    if (!workspace) return false;
  }
  const size_t size_a = static_cast<size_t>(m) * k, size_b = static_cast<size_t>(k) * n, size_c = static_cast<size_t>(m) * n;
  const int lda = trans_a == Trans::Yes ? m : k, ldb = trans_b == Trans::Yes ? k : n;
  auto run = [&](int task) {
    float* ws = workspace ? workspace->data + per_task * task : nullptr;
    const int first = static_cast<int>(static_cast<long long>(batch) * task / threads);
    const int last = static_cast<int>(static_cast<long long>(batch) * (task + 1) / threads);
    for (int i = first; i < last; ++i) {
      sgemm(kern, 1, ws, trans_a, trans_b, m, n, k, a + size_a * i, lda, b + size_b * i, ldb, c + size_c * i, n, accumulate);
    }
  };
  if (threads <= 1) {
    run(0);
  } else {
    parallel_for(threads, [&](int task) { run(task); });
  }
  return true;
}

// ---- PackedMatrix -------------------------------------------------------------------------------
// Layout: ceil(N / nr) panels, each [K][nr] (columns past N zero), the layout sgemm packs B into.

bool PackedMatrix::pack(const Kernels& kern, Trans trans_b, int k, int n, const float* b, int ldb) {
  kernels_ = &kern;
  k_ = std::max(k, 0);
  n_ = std::max(n, 0);
  const size_t count = checked_product({static_cast<size_t>(round_up(n_, kern.gemm_nr)), static_cast<size_t>(k_)});
  if (!storage_ || storage_->bytes / sizeof(float) < count) {
    storage_ = allocate_memory(checked_product({std::max<size_t>(count, 1), sizeof(float)}));
    if (!storage_) {
      k_ = n_ = 0;
      return false;
    }
  }
  if (count > 0) pack_b({b, ldb, trans_b == Trans::Yes}, 0, 0, k_, n_, kern.gemm_nr, storage_->data);
  return true;
}

const float* PackedMatrix::panel(int col) const {
  return storage_->data + static_cast<size_t>(col / kernels_->gemm_nr) * kernels_->gemm_nr * k_;
}

size_t packed_rows_floats(const Kernels& kern, int m, int k) {
  if (m <= 1 || k <= 0) return 0;  // one row goes through the gemv kernel, which reads it unpacked
  return static_cast<size_t>(round_up(m, kern.gemm_mr)) * k;
}

// Layout: per kc block pc of K, the row panels of all M rows ([panel][kc][mr], rows past M zero),
// the blocks one after another: the A blocks multiply_rows would pack, all packed at once.
PackedRows pack_rows(const Kernels& kern, int m, int k, const float* a, int lda, float* workspace) {
  if (m <= 1) return {a, m, k};
  const Blocking blk = blocking_for(kern, k);
  const size_t block_stride = static_cast<size_t>(round_up(m, kern.gemm_mr));
  for (int pc = 0; pc < k; pc += blk.kc) {
    pack_a(Operand{a, lda, false}, 0, pc, m, std::min(blk.kc, k - pc), kern.gemm_mr, workspace + block_stride * pc);
  }
  return {workspace, m, k};
}

void pack_rows_columns(const Kernels& kern, int m, int k, const float* a, int lda, int k0, int k1, float* workspace) {
  if (m <= 1) return;
  const Blocking blk = blocking_for(kern, k);
  const size_t block_stride = static_cast<size_t>(round_up(m, kern.gemm_mr));
  for (int pc = k0 / blk.kc * blk.kc; pc < k1; pc += blk.kc) {
    const int kc = std::min(blk.kc, k - pc), lo = std::max(k0, pc), hi = std::min(k1, pc + kc);
    pack_a(Operand{a, lda, false}, 0, lo, m, hi - lo, kern.gemm_mr,
           workspace + block_stride * pc + static_cast<size_t>(lo - pc) * kern.gemm_mr, static_cast<size_t>(kc) * kern.gemm_mr);
  }
}

void sgemm_packed(int n_begin, int n_end, const PackedRows& a, const PackedMatrix& b, float* c, int ldc, bool accumulate) {
  const int m = a.m, k = b.rows();
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
      kern.gemv(std::min(blk.kc, k - pc), a.data + pc, b.panel(n_begin) + static_cast<size_t>(pc) * kern.gemm_nr,
                panel_stride, c + n_begin, n_end - n_begin, accumulate || pc > 0);
    }
    return;
  }
  // multiply_rows' blocks and order (so the sums are the same), reading A from its packed blocks.
  const int blocks = ceil_div(m, blk.mc);
  const int block_rows = round_up(ceil_div(m, blocks), kern.gemm_mr);
  const size_t block_stride = static_cast<size_t>(round_up(m, kern.gemm_mr));
  const size_t b_panel_stride = static_cast<size_t>(k) * kern.gemm_nr;
  for (int ic = 0; ic < m; ic += block_rows) {
    const int mc = std::min(block_rows, m - ic);
    for (int pc = 0; pc < k; pc += blk.kc) {
      const int kc = std::min(blk.kc, k - pc);
      const float* a_block = a.data + block_stride * pc + static_cast<size_t>(ic) * kc;
      macro_kernel(kern, blk, mc, n_end - n_begin, kc, a_block, b.panel(n_begin) + static_cast<size_t>(pc) * kern.gemm_nr,
                   b_panel_stride, c + static_cast<size_t>(ic) * ldc + n_begin, ldc, accumulate || pc > 0);
    }
  }
}

void sgemm_packed(int m, int n_begin, int n_end, const float* a, int lda, const PackedMatrix& b, float* c,
                  int ldc, bool accumulate, float* workspace) {
  sgemm_packed(n_begin, n_end, pack_rows(b.kernels(), m, b.rows(), a, lda, workspace), b, c, ldc, accumulate);
}

}  // namespace rnnkit
