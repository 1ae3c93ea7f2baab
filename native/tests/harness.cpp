#include "harness.h"

#include <cstring>

namespace rnnkit_test {
namespace {

struct Registered {
  const char* name;
  TestFn fn;
};

std::vector<Registered>& registry() {
  static std::vector<Registered> tests;
  return tests;
}

const rnnkit::Kernels* g_isa = nullptr;
int g_failures = 0;

}  // namespace

int register_test(const char* name, TestFn fn) {
  registry().push_back({name, fn});
  return static_cast<int>(registry().size());
}

const rnnkit::Kernels& isa() { return *g_isa; }
const rnnkit::Kernels& reference() { return *rnnkit::kernels_by_name("scalar"); }

IsaScope::IsaScope(const char* name) : previous_(rnnkit::active_isa()) { rnnkit::set_isa(name); }
IsaScope::~IsaScope() { rnnkit::set_isa(previous_); }

std::vector<float> random_vector(size_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> v(n);
  uint64_t state = 0x9e3779b97f4a7c15ull ^ (static_cast<uint64_t>(seed) * 0xbf58476d1ce4e5b9ull);
  for (float& x : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
    x = static_cast<float>(lo + (hi - lo) * u);
  }
  return v;
}

void fail(const char* file, int line, const char* what) {
  ++g_failures;
  std::printf("  FAILED %s:%d: %s\n", file, line, what);
}

bool all_close(const float* a, const float* b, size_t n, double atol, double rtol, const char* what) {
  size_t worst = n;
  double worst_excess = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      if (std::isnan(a[i]) != std::isnan(b[i])) { worst = i; worst_excess = INFINITY; break; }
      continue;
    }
    if (a[i] == b[i]) continue;  // also equal infinities
    const double diff = std::fabs(static_cast<double>(a[i]) - b[i]);
    const double excess = diff - (atol + rtol * std::fabs(static_cast<double>(b[i])));
    if (excess > worst_excess) { worst_excess = excess; worst = i; }
  }
  if (worst == n) return true;
  std::printf("  %s: index %zu of %zu: %.9g vs %.9g (atol %g, rtol %g)\n", what, worst, n,
              static_cast<double>(a[worst]), static_cast<double>(b[worst]), atol, rtol);
  return false;
}

}  // namespace rnnkit_test

int main(int argc, char** argv) {
  using namespace rnnkit_test;
  const char* name = argc > 1 ? argv[1] : "scalar";
  if (!rnnkit::kernels_by_name(name)) {
    std::printf("unknown ISA %s\n", name);
    return 2;
  }
  if (!rnnkit::set_isa(name)) {
    std::printf("SKIPPED: this CPU cannot run %s\n", name);
    return 77;
  }
  g_isa = rnnkit::kernels_by_name(name);
  for (const Registered& t : registry()) {
    const int before = g_failures;
    t.fn();
    std::printf("[%s] %s %s\n", name, t.name, g_failures == before ? "ok" : "FAILED");
  }
  std::printf("%s: %zu tests, %d failures\n", name, registry().size(), g_failures);
  return g_failures == 0 ? 0 : 1;
}
