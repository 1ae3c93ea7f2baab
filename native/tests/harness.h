// A tiny test harness: each test binary runs its TESTs for the ISA named on the command line
// (exit 77 = skipped when this CPU cannot run it), usually comparing against the scalar reference.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "kernels.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit_test {

using TestFn = void (*)();
int register_test(const char* name, TestFn fn);

#define TEST(name)                                                              \
  static void name();                                                           \
  static const int name##_registered = ::rnnkit_test::register_test(#name, name); \
  static void name()

// The ISA under test (its table) and the scalar reference table.
const rnnkit::Kernels& isa();
const rnnkit::Kernels& reference();

// Makes `name` the active ISA for the life of the guard (the ISA under test is active otherwise).
class IsaScope {
 public:
  explicit IsaScope(const char* name);
  ~IsaScope();
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

 private:
  const char* previous_;
};

// Deterministic uniform values in [lo, hi).
std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// Records a failure (does not abort the test) and prints where.
void fail(const char* file, int line, const char* what);
// |a − b| ≤ atol + rtol·|b| elementwise (NaN only matches NaN); prints the worst index on failure.
bool all_close(const float* a, const float* b, size_t n, double atol, double rtol, const char* what);

#define CHECK(cond) \
  do {              \
    if (!(cond)) ::rnnkit_test::fail(__FILE__, __LINE__, #cond); \
  } while (0)
#define CHECK_CLOSE(a, b, n, atol, rtol)                                                        \
  do {                                                                                          \
    if (!::rnnkit_test::all_close((a), (b), (n), (atol), (rtol), #a " vs " #b))                  \
      ::rnnkit_test::fail(__FILE__, __LINE__, "values differ");                                 \
  } while (0)

}  // namespace rnnkit_test
