// SGEMM of the ISA under test against a float64 reference: every transpose combination, awkward
// sizes (SIMD tails, edge tiles), padded leading dimensions, accumulate on and off, cache-block
// boundaries; the pre-packed variant; bitwise reproducibility across thread counts and runs.
//
// Tolerance, per element: |C − C_ref| ≤ (k + 2) · 2⁻²³ · (Σ_p |a_ip · b_pj| + |C0_ij|).
// A float32 dot product of length k (with or without FMA) plus one accumulation into C0 has a
// rigorous error bound of γ_{k+1} · (Σ|a·b| + |C0|) with γ_n ≈ n · 2⁻²⁴ (Higham, §3.1); we allow twice
// that. Any indexing or packing bug shows up as an O(1) error, orders of magnitude above it.
#include <cmath>
#include <cstring>
#include <limits>

#include "gemm_packed.h"
#include "harness.h"
#include "threads.h"

using namespace rnnkit;
using namespace rnnkit_test;

namespace {

const int kSizes[] = {1, 3, 7, 8, 15, 16, 17, 33, 100};
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// One problem C[M,N] (+)= op(A) · op(B) with padded, row-major storage.
struct Problem {
  Trans ta, tb;
  int m, n, k;
  int lda, ldb, ldc;
  std::vector<float> a, b, c0;

  std::vector<double> product;    // [m, n] float64 op(A) · op(B)
  std::vector<double> magnitude;  // [m, n] Σ_p |a_ip · b_pj|

  Problem(Trans ta_, Trans tb_, int m_, int n_, int k_, uint32_t seed)
      : ta(ta_), tb(tb_), m(m_), n(n_), k(k_) {
    const int a_rows = ta == Trans::No ? m : k, a_cols = ta == Trans::No ? k : m;
    const int b_rows = tb == Trans::No ? k : n, b_cols = tb == Trans::No ? n : k;
    lda = a_cols + 3;  // leading dimensions wider than the matrices
    ldb = b_cols + 5;
    ldc = n + 2;
    a = random_vector(static_cast<size_t>(a_rows) * lda, seed);
    b = random_vector(static_cast<size_t>(b_rows) * ldb, seed + 1000);
    c0 = random_vector(static_cast<size_t>(m) * ldc, seed + 2000);
    compute_reference();
  }

  void compute_reference() {
    std::vector<double> op_a(static_cast<size_t>(m) * k), op_b(static_cast<size_t>(k) * n);  // dense
    for (int i = 0; i < m; ++i) {
      for (int p = 0; p < k; ++p) {
        op_a[static_cast<size_t>(i) * k + p] =
            ta == Trans::No ? a[static_cast<size_t>(i) * lda + p] : a[static_cast<size_t>(p) * lda + i];
      }
    }
    for (int p = 0; p < k; ++p) {
      for (int j = 0; j < n; ++j) {
        op_b[static_cast<size_t>(p) * n + j] =
            tb == Trans::No ? b[static_cast<size_t>(p) * ldb + j] : b[static_cast<size_t>(j) * ldb + p];
      }
    }
    product.assign(static_cast<size_t>(m) * n, 0.0);
    magnitude.assign(static_cast<size_t>(m) * n, 0.0);
    for (int i = 0; i < m; ++i) {
      for (int p = 0; p < k; ++p) {
        const double a_ip = op_a[static_cast<size_t>(i) * k + p];
        const double* b_row = &op_b[static_cast<size_t>(p) * n];
        double* prod = &product[static_cast<size_t>(i) * n];
        double* mag = &magnitude[static_cast<size_t>(i) * n];
        for (int j = 0; j < n; ++j) {
          prod[j] += a_ip * b_row[j];
          mag[j] += std::fabs(a_ip * b_row[j]);
        }
      }
    }
  }

  // Runs sgemm; C starts as c0 (accumulate) or NaN (must not be read).
  std::vector<float> run(bool accumulate) const {
    std::vector<float> c = accumulate ? c0 : std::vector<float>(c0.size(), kNaN);
    sgemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate);
    return c;
  }

  // Checks columns [col_begin, col_end) of c against the float64 reference; the padding columns
  // of each row must hold what they held before (c0, or NaN when accumulate is off).
  bool check(const std::vector<float>& c, bool accumulate, int col_begin, int col_end) const {
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < ldc; ++j) {
        const size_t at = static_cast<size_t>(i) * ldc + j;
        const double before = accumulate ? c0[at] : 0.0;
        if (j < col_begin || j >= col_end) {
          const bool untouched = accumulate ? c[at] == c0[at] : std::isnan(c[at]);
          if (!untouched) return report(i, j, c[at], before, 0.0);
          continue;
        }
        const size_t ij = static_cast<size_t>(i) * n + j;
        const double sum = before + product[ij];
        const double tolerance = (k + 2) * std::ldexp(1.0, -23) * (magnitude[ij] + std::fabs(before));
        if (!(std::fabs(c[at] - sum) <= tolerance)) return report(i, j, c[at], sum, tolerance);
      }
    }
    return true;
  }

  bool report(int i, int j, double got, double want, double tolerance) const {
    std::printf("  m=%d n=%d k=%d ta=%d tb=%d: C[%d,%d] = %.9g, want %.9g (tolerance %.3g)\n", m, n, k,
                ta == Trans::Yes, tb == Trans::Yes, i, j, got, want, tolerance);
    return false;
  }
};

const Trans kTrans[] = {Trans::No, Trans::Yes};

bool bitwise_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

// Restores the pool size at the end of a test.
class ThreadCountScope {
 public:
  explicit ThreadCountScope(int n) : previous_(num_threads()) { set_num_threads(n); }
  ~ThreadCountScope() { set_num_threads(previous_); }

 private:
  int previous_;
};

}  // namespace

TEST(micro_kernel_writes_only_the_valid_corner) {
  const Kernels& kern = isa();
  const int mr = kern.gemm_mr, nr = kern.gemm_nr, k = 5, ldc = nr + 4;
  const auto a = random_vector(static_cast<size_t>(k) * mr, 1), b = random_vector(static_cast<size_t>(k) * nr, 2);
  for (int m : {1, mr - 1, mr}) {
    for (int n : {1, nr - 1, nr}) {
      std::vector<float> c((mr + 1) * ldc, 7.0f);
      kern.gemm_micro(k, a.data(), b.data(), c.data(), ldc, m, n, true);
      for (int i = 0; i <= mr; ++i) {
        for (int j = 0; j < ldc; ++j) {
          double want = 7.0;
          if (i < m && j < n) {
            for (int p = 0; p < k; ++p) want += static_cast<double>(a[p * mr + i]) * b[p * nr + j];
          }
          CHECK(std::fabs(c[i * ldc + j] - want) <= 1e-5);
        }
      }
    }
  }
}

TEST(sgemm_matches_float64_on_awkward_sizes_all_transposes) {
  uint32_t seed = 1;
  int failures = 0;
  for (Trans ta : kTrans) {
    for (Trans tb : kTrans) {
      for (int m : kSizes) {
        for (int n : kSizes) {
          for (int k : kSizes) {
            const Problem p(ta, tb, m, n, k, seed++);
            for (bool accumulate : {false, true}) {
              if (!p.check(p.run(accumulate), accumulate, 0, n) && ++failures > 5) {
                CHECK(!"too many failures");
                return;
              }
            }
          }
        }
      }
    }
  }
  CHECK(failures == 0);
}

// Larger than one cache block in each direction (kc = 512, mc ≈ 500, runs of nb = 256 columns,
// nc = 2M / K columns of packed B), and large
// enough to be split across the pool (by columns, and by row chunks with a shared packed B). The
// transpose combinations rotate over the shapes (each shape's float64 reference is expensive
// under emulation).
TEST(sgemm_crosses_cache_blocks_and_thread_splits) {
  struct Shape { int m, n, k; };
  const Shape shapes[] = {{1100, 40, 300}, {5, 4200, 20}, {130, 250, 520}, {64, 1024, 256},
                          {300, 33, 513}, {17, 100, 1000}, {200, 70, 40}, {33, 500, 300}, {9, 2200, 1000}};
  uint32_t seed = 500;
  int combo = 0;
  for (const Shape& s : shapes) {
    for (int repeat = 0; repeat < 2; ++repeat, ++combo) {
      const Problem p(kTrans[combo % 2], kTrans[combo / 2 % 2], s.m, s.n, s.k, seed++);
      CHECK(p.check(p.run(false), false, 0, s.n));
      CHECK(p.check(p.run(true), true, 0, s.n));
    }
  }
}

// sgemm_batched spreads whole items over the threads: each item equals its own sgemm call bit for
// bit, for every transpose, with and without accumulate, on 1 and 2 threads.
TEST(sgemm_batched_equals_one_sgemm_per_item) {
  const int batch = 7, m = 8, n = 9, k = 70;
  const std::vector<float> a = random_vector(size_t(batch) * m * k, 901), b = random_vector(size_t(batch) * k * n, 902);
  const std::vector<float> c0 = random_vector(size_t(batch) * m * n, 903);
  for (int threads : {1, 2}) {
    const ThreadCountScope scope(threads);
    for (int combo = 0; combo < 8; ++combo) {
      const Trans ta = kTrans[combo % 2], tb = kTrans[combo / 2 % 2];
      const bool accumulate = combo >= 4;
      std::vector<float> batched = c0, single = c0;
      CHECK(sgemm_batched(ta, tb, batch, m, n, k, a.data(), b.data(), batched.data(), accumulate));
      for (int i = 0; i < batch; ++i) {
        sgemm(ta, tb, m, n, k, a.data() + size_t(i) * m * k, ta == Trans::Yes ? m : k, b.data() + size_t(i) * k * n,
              tb == Trans::Yes ? k : n, single.data() + size_t(i) * m * n, n, accumulate);
      }
      CHECK(std::memcmp(batched.data(), single.data(), sizeof(float) * batched.size()) == 0);
    }
  }
}

TEST(sgemm_handles_empty_dimensions) {
  std::vector<float> c(12, kNaN);
  const float one = 1.0f;
  sgemm(Trans::No, Trans::No, 3, 4, 0, &one, 1, &one, 4, c.data(), 4, false);  // k = 0: C = 0
  for (float v : c) CHECK(v == 0.0f);
  std::vector<float> d(12, 2.5f);
  sgemm(Trans::No, Trans::No, 3, 4, 0, &one, 1, &one, 4, d.data(), 4, true);  // unchanged
  for (float v : d) CHECK(v == 2.5f);
  sgemm(Trans::No, Trans::No, 0, 4, 5, nullptr, 5, nullptr, 4, nullptr, 4, false);
  sgemm(Trans::No, Trans::No, 3, 0, 5, nullptr, 5, nullptr, 1, nullptr, 1, false);
}

TEST(sgemm_is_bitwise_reproducible_across_thread_counts_and_runs) {
  // Few rows: threads split the columns. Many rows: shared packed B, threads take row chunks; with
  // a long K (a weight gradient: K = steps·batch), B packed one kc block at a time.
  const Problem by_columns(Trans::No, Trans::Yes, 40, 1000, 300, 77);
  const Problem by_rows(Trans::Yes, Trans::No, 700, 40, 300, 78);
  const Problem square(Trans::No, Trans::No, 333, 333, 333, 79);
  const Problem long_k(Trans::Yes, Trans::No, 200, 300, 4100, 80);
  CHECK(long_k.check(long_k.run(true), true, 0, 300));
  // 113 rows: row chunks rounded to whole panels (of 14 on AVX-512) cover them in fewer chunks.
  const Problem odd_rows(Trans::No, Trans::No, 113, 40, 300, 81);
  for (const Problem* p : {&by_columns, &by_rows, &square, &long_k, &odd_rows}) {
    for (bool accumulate : {false, true}) {
      std::vector<float> one_thread, two_threads, again;
      {
        ThreadCountScope threads(1);
        one_thread = p->run(accumulate);
      }
      {
        ThreadCountScope threads(2);
        two_threads = p->run(accumulate);
        again = p->run(accumulate);
      }
      CHECK(bitwise_equal(one_thread, two_threads));
      CHECK(bitwise_equal(two_threads, again));
    }
  }
}

TEST(sgemm_agrees_with_scalar_reference_isa) {
  const Problem p(Trans::No, Trans::No, 100, 100, 300, 99);
  const std::vector<float> ours = p.run(true);
  std::vector<float> scalar;
  {
    IsaScope reference_isa("scalar");
    scalar = p.run(true);
  }
  CHECK(p.check(scalar, true, 0, p.n));
  // Both are within the bound of the exact result, so within twice of each other.
  CHECK_CLOSE(ours.data(), scalar.data(), ours.size(), 2.0 * 302 * std::ldexp(1.0, -23) * 301, 0.0);
}

TEST(sgemm_packed_matches_float64_over_column_ranges) {
  uint32_t seed = 3000;
  for (Trans tb : kTrans) {
    for (int m : {1, 7, 17, 64}) {
      for (int n : {1, 17, 33, 100}) {
        for (int k : {1, 16, 33, 300}) {
          const Problem p(Trans::No, tb, m, n, k, seed++);
          PackedMatrix packed;
          CHECK(packed.pack(kernels(), tb, k, n, p.b.data(), p.ldb));
          CHECK(packed.rows() == k && packed.cols() == n);
          const int nr = packed.kernels().gemm_nr;
          std::vector<float> workspace(packed_rows_floats(kernels(), m, k));
          // The whole width, then a split at the first nr boundary (as two threads would).
          const int split = std::min(n, nr);
          for (bool accumulate : {false, true}) {
            std::vector<float> whole = accumulate ? p.c0 : std::vector<float>(p.c0.size(), kNaN);
            sgemm_packed(m, 0, n, p.a.data(), p.lda, packed, whole.data(), p.ldc, accumulate, workspace.data());
            CHECK(p.check(whole, accumulate, 0, n));
            std::vector<float> right = accumulate ? p.c0 : std::vector<float>(p.c0.size(), kNaN);
            sgemm_packed(m, split, n, p.a.data(), p.lda, packed, right.data(), p.ldc, accumulate, workspace.data());
            CHECK(p.check(right, accumulate, split, n));
            std::vector<float> both = right;
            sgemm_packed(m, 0, split, p.a.data(), p.lda, packed, both.data(), p.ldc, accumulate, workspace.data());
            CHECK(bitwise_equal(both, whole));
          }
        }
      }
    }
  }
}

TEST(sgemm_packed_equals_sgemm_bitwise_and_repacks) {
  PackedMatrix packed;
  for (int n : {300, 40}) {  // the second pack reuses the first one's storage
    const Problem p(Trans::No, Trans::Yes, 64, n, 256, 4000 + n);
    CHECK(packed.pack(kernels(), Trans::Yes, p.k, p.n, p.b.data(), p.ldb));
    std::vector<float> c = p.c0;
    std::vector<float> workspace(packed_rows_floats(kernels(), p.m, p.k));
    sgemm_packed(p.m, 0, p.n, p.a.data(), p.lda, packed, c.data(), p.ldc, true, workspace.data());
    CHECK(bitwise_equal(c, p.run(true)));
  }
}

// One row goes through the gemv kernel (several panels at once): the same sums as the micro-kernel
// gives that row inside a taller product, bit for bit, across kc blocks (k > 512) and column tails.
TEST(sgemm_packed_one_row_equals_sgemm_rows_bitwise) {
  uint32_t seed = 6000;
  for (int n : {1, 17, 100, 300}) {
    for (int k : {1, 33, 300, 700}) {
      const Problem p(Trans::No, Trans::Yes, 3, n, k, seed++);
      PackedMatrix packed;
      CHECK(packed.pack(kernels(), Trans::Yes, k, n, p.b.data(), p.ldb));
      for (bool accumulate : {false, true}) {
        const std::vector<float> rows = p.run(accumulate);
        for (int row = 0; row < 3; ++row) {
          std::vector<float> c = accumulate ? p.c0 : std::vector<float>(p.c0.size(), kNaN);
          sgemm_packed(1, 0, n, p.a.data() + static_cast<size_t>(row) * p.lda, p.lda, packed,
                       c.data() + static_cast<size_t>(row) * p.ldc, p.ldc, accumulate, nullptr);
          CHECK(std::memcmp(c.data() + static_cast<size_t>(row) * p.ldc, rows.data() + static_cast<size_t>(row) * p.ldc,
                            sizeof(float) * n) == 0);
        }
      }
    }
  }
}

TEST(sgemm_runs_serially_inside_a_pool_task) {
  const Problem p(Trans::No, Trans::No, 200, 200, 200, 5000);
  const std::vector<float> want = p.run(false);
  std::vector<std::vector<float>> got(2);
  parallel_for(2, [&](int task) { got[task] = p.run(false); });
  CHECK(bitwise_equal(got[0], want));
  CHECK(bitwise_equal(got[1], want));
}
