// Our sgemm against OpenBLAS's cblas_sgemm, same thread count, same run (this machine is shared
// and noisy: the ratio is what holds). Best of several repetitions, the two libraries interleaved.
//
//   bench_gemm [threads...]     default: 1 and every core this process may use
//
// One line per shape: `shape ours_gflops openblas_gflops ratio`.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#if defined(__linux__)
#include <unistd.h>
#endif

#include "cpu.h"
#include "gemm_packed.h"
#include "rnnkit/rnnkit.h"
#include "threads.h"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_corename(void);

namespace {

using rnnkit::Trans;

struct Shape {
  const char* name;
  Trans ta, tb;
  int m, n, k;
  bool accumulate;
};

// The sizes recurrent layers really use (ARCHITECTURE.md §8, config M: I=128, H=256, LSTM G·H=1024,
// T·B=6400) and square references.
const Shape kShapes[] = {
    {"square_256", Trans::No, Trans::No, 256, 256, 256, false},
    {"square_1024", Trans::No, Trans::No, 1024, 1024, 1024, false},
    {"square_2048", Trans::No, Trans::No, 2048, 2048, 2048, false},
    {"input_proj_6400x1024x128", Trans::No, Trans::Yes, 6400, 1024, 128, false},  // X · W_ihᵀ
    {"recurrent_64x1024x256", Trans::No, Trans::Yes, 64, 1024, 256, false},       // h · W_hhᵀ
    {"weight_grad_1024x128x6400", Trans::Yes, Trans::No, 1024, 128, 6400, true},  // dGᵀ · X
    {"dx_6400x128x1024", Trans::No, Trans::No, 6400, 128, 1024, false},           // dG · W_ih
};

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::vector<float> v(n);
  unsigned state = seed;
  for (float& x : v) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Operands of one shape, stored as the transposes say.
struct Operands {
  explicit Operands(const Shape& s)
      : lda(s.ta == Trans::No ? s.k : s.m),
        ldb(s.tb == Trans::No ? s.n : s.k),
        a(random_floats(static_cast<size_t>(s.m) * s.k, 1)),
        b(random_floats(static_cast<size_t>(s.k) * s.n, 2)),
        c(static_cast<size_t>(s.m) * s.n, 0.0f) {}
  int lda, ldb;
  std::vector<float> a, b, c;
};

void run_ours(const Shape& s, Operands& o) {
  rnnkit::sgemm(s.ta, s.tb, s.m, s.n, s.k, o.a.data(), o.lda, o.b.data(), o.ldb, o.c.data(), s.n, s.accumulate);
}

void run_openblas(const Shape& s, Operands& o) {
  cblas_sgemm(CblasRowMajor, s.ta == Trans::No ? CblasNoTrans : CblasTrans,
              s.tb == Trans::No ? CblasNoTrans : CblasTrans, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(),
              o.ldb, s.accumulate ? 1.0f : 0.0f, o.c.data(), s.n);
}

// The recurrent step as the sequence drivers run it: W_hhᵀ packed once, columns split over the pool.
struct PackedRecurrent {
  explicit PackedRecurrent(const Shape& s, Operands& o) {
    packed.pack(rnnkit::kernels(), s.tb, s.k, s.n, o.b.data(), o.ldb);
  }
  void run(const Shape& s, Operands& o) {
    const int tasks = rnnkit::num_threads();
    const int panels = (s.n + packed.kernels().gemm_nr - 1) / packed.kernels().gemm_nr;
    const size_t stride = rnnkit::packed_rows_floats(packed.kernels(), s.m, s.k);
    workspace.resize(stride * tasks);
    rnnkit::parallel_for(tasks, [&](int t) {
      const int begin = panels * t / tasks * packed.kernels().gemm_nr;
      const int end = std::min(s.n, panels * (t + 1) / tasks * packed.kernels().gemm_nr);
      rnnkit::sgemm_packed(s.m, begin, end, o.a.data(), o.lda, packed, o.c.data(), s.n, s.accumulate,
                           workspace.data() + stride * t);
    });
  }
  rnnkit::PackedMatrix packed;
  std::vector<float> workspace;
};

// Best single-call time of `run` (seconds) over calls lasting about budget seconds (at least 2).
template <class Run>
double best_time(Run&& run, double budget) {
  double best = 1e30, total = 0.0;
  for (int rep = 0; rep < 2 || total < budget; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const double t = seconds_since(start);
    best = std::min(best, t);
    total += t;
  }
  return best;
}

// Rounds alternate the contenders in short bursts, so a noisy neighbour hits both alike and the
// best calls of each come from equally quiet moments.
constexpr int kRounds = 10;
constexpr double kBurstSeconds = 0.03;

void bench_threads(int threads) {
  rnnkit::set_num_threads(threads);
  openblas_set_num_threads(threads);
  std::printf("# threads %d, ours: isa %s, OpenBLAS: %s kernels\n", threads, rnnkit::active_isa(),
              openblas_get_corename());
  std::printf("%-28s %12s %15s %7s\n", "shape", "ours_gflops", "openblas_gflops", "ratio");
  for (const Shape& s : kShapes) {
    Operands o(s);
    const double flops = 2.0 * s.m * s.n * s.k;
    double ours = 1e30, theirs = 1e30;
    run_ours(s, o);  // warm-up: page faults, packing buffers, pool wake-up
    run_openblas(s, o);
    for (int round = 0; round < kRounds; ++round) {
      ours = std::min(ours, best_time([&] { run_ours(s, o); }, kBurstSeconds));
      theirs = std::min(theirs, best_time([&] { run_openblas(s, o); }, kBurstSeconds));
    }
    std::printf("%-28s %12.1f %15.1f %7.3f\n", s.name, flops / ours * 1e-9, flops / theirs * 1e-9, theirs / ours);
    if (s.m == 64) {  // the recurrent step again, the way the drivers run it
      PackedRecurrent packed(s, o);
      double t = 1e30;
      for (int round = 0; round < kRounds; ++round) t = std::min(t, best_time([&] { packed.run(s, o); }, kBurstSeconds));
      std::printf("%-28s %12.1f %15.1f %7.3f\n", "recurrent_packed_64x1024x256", flops / t * 1e-9,
                  flops / theirs * 1e-9, theirs / t);
    }
  }
  std::fflush(stdout);
}

}  // namespace

// Debian's OpenBLAS 0.3.21 does not know newer Xeons (e.g. family 6 model 207) and falls back to
// its generic "Prescott" SSE kernels, 5x slower than it can be. OpenBLAS picks its kernels when the
// library loads, so the only fix is OPENBLAS_CORETYPE in the environment: set it and run again.
void ensure_fair_openblas_kernels(char** argv) {
#if defined(__linux__)
  const std::string core = openblas_get_corename();
  const rnnkit::CpuFeatures& cpu = rnnkit::cpu_features();
  const char* better = cpu.avx512f ? "SkylakeX" : cpu.avx2_fma ? "Haswell" : nullptr;
  if (core != "Prescott" || !better || std::getenv("OPENBLAS_CORETYPE")) return;
  std::fprintf(stderr, "OpenBLAS chose %s kernels for this CPU; rerunning with OPENBLAS_CORETYPE=%s\n",
               core.c_str(), better);
  setenv("OPENBLAS_CORETYPE", better, 1);
  execv("/proc/self/exe", argv);
#else
  (void)argv;
#endif
}

int main(int argc, char** argv) {
  ensure_fair_openblas_kernels(argv);
  std::vector<int> thread_counts;
  for (int i = 1; i < argc; ++i) thread_counts.push_back(std::max(1, std::atoi(argv[i])));
  if (thread_counts.empty()) {
    thread_counts.push_back(1);
    if (rnnkit::available_cores() > 1) thread_counts.push_back(rnnkit::available_cores());
  }
  for (int threads : thread_counts) bench_threads(threads);
  return 0;
}
