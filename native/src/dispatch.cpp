// Best-first ISA table, chosen once (RNNKIT_ISA may force another available one), changeable
// through set_isa for tests and benchmarks.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "kernels.h"
#include "rnnkit/rnnkit.h"
#include "subnormals.h"

namespace rnnkit {
namespace {

struct Candidate {
  const Kernels* table;
  bool (*supported)();
};

// Best first.
const Candidate kCandidates[] = {
#if RNNKIT_HAVE_AVX512
    {&avx512::table, [] { return cpu_features().avx512f; }},
#endif
#if RNNKIT_HAVE_AVX2
    {&avx2::table, [] { return cpu_features().avx2_fma; }},
#endif
#if RNNKIT_HAVE_NEON
    {&neon::table, [] { return cpu_features().neon; }},
#endif
    {&scalar::table, [] { return true; }},
};

const Kernels* supported_by_name(const char* name) {
  for (const Candidate& c : kCandidates) {
    if (std::strcmp(c.table->name, name) == 0) return c.supported() ? c.table : nullptr;
  }
  return nullptr;
}

const Kernels* initial_choice() {
  if (const char* forced = std::getenv("RNNKIT_ISA")) {
    if (const Kernels* k = supported_by_name(forced)) return k;
  }
  for (const Candidate& c : kCandidates) {
    if (c.supported()) return c.table;
  }
  return &scalar::table;
}

std::atomic<const Kernels*>& active() {
  static std::atomic<const Kernels*> table{initial_choice()};
  return table;
}

}  // namespace

const Kernels& kernels() { return *active().load(std::memory_order_acquire); }

void tanh_array(float* y, const float* x, size_t n) {
  const FlushSubnormals flush;
  const Kernels& kern = kernels();
  constexpr size_t kChunk = size_t{1} << 30;  // the kernels count in int
  for (size_t done = 0; done < n; done += kChunk) {
    kern.tanh(y + done, x + done, static_cast<int>(n - done < kChunk ? n - done : kChunk));
  }
}

const Kernels* kernels_by_name(const char* name) {
  for (const Candidate& c : kCandidates) {
    if (std::strcmp(c.table->name, name) == 0) return c.table;
  }
  return nullptr;
}

const char* active_isa() { return kernels().name; }

bool set_isa(const char* name) {
  const Kernels* k = supported_by_name(name);
  if (!k) return false;
  active().store(k, std::memory_order_release);
  return true;
}

int available_isas(const char** names) {
  int count = 0;
  for (const Candidate& c : kCandidates) {
    if (c.supported()) names[count++] = c.table->name;
  }
  return count;
}

}  // namespace rnnkit
