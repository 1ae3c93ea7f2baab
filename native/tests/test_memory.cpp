// The core's memory rules: sizes saturate instead of wrapping, carving gives the same layout when
// sizing and when slicing, released blocks are reused, and a call whose working memory can not be
// allocated returns false before reading its inputs or writing anything.
#include <climits>
#include <cstring>
#include <limits>

#include "harness.h"

using namespace rnnkit;
using namespace rnnkit_test;

namespace {

constexpr float kSentinel = 12345.0f;

// An LSTM whose inference workspace (T·B·G·H floats of gates: 2^30 · 32 floats = 128 GiB) no
// machine here can allocate, while its weights are tiny: nothing may read x or the cache.
SeqShape huge_lstm() {
  SeqShape s;
  s.cell = Cell::Lstm;
  s.steps = 1 << 20;
  s.batch = 1 << 10;
  s.input = 3;
  s.hidden = 8;
  return s;
}

}  // namespace

TEST(sizes_saturate_instead_of_wrapping) {
  CHECK(checked_product({size_t(1) << 40, size_t(1) << 40}) == SIZE_MAX);
  CHECK(checked_product({SIZE_MAX, 0}) == 0);
  CHECK(checked_product({3, 5, 7}) == 105);
  CHECK(checked_sum(SIZE_MAX - 1, 2) == SIZE_MAX);
  SeqShape s = huge_lstm();
  s.hidden = INT_MAX / 4;  // G·H fits, T·B·G·H·4 bytes does not fit 64 bits as a product with more
  s.steps = INT_MAX / s.batch;
  CHECK(shape_fits(s));
  CHECK(cache_size(s) > (size_t(1) << 60));
  s.steps = INT_MAX;
  CHECK(!shape_fits(s));  // steps·batch > INT_MAX
}

TEST(carving_sizes_and_slices_agree) {
  const auto carve = [](Carver& c, float** a, float** b, float** d) {
    *a = c.take(3);
    *b = c.take(100);
    *d = c.take(0);
  };
  Carver sizing;
  float *a = nullptr, *b = nullptr, *d = nullptr;
  carve(sizing, &a, &b, &d);
  CHECK(a == nullptr && b == nullptr);
  CHECK(sizing.floats() == 16 + 112);  // each slice padded to 64 bytes
  std::vector<float> memory(sizing.floats() + 16);
  Carver slices(memory.data());
  carve(slices, &a, &b, &d);
  CHECK(a == memory.data() && b == memory.data() + 16 && d == memory.data() + 128);
  CHECK(slices.floats() == sizing.floats());
}

TEST(released_blocks_are_reused_and_failures_return_null) {
  release_idle_memory();
  const float* first = nullptr;
  {
    Memory m = allocate_memory(3 << 20);
    CHECK(m != nullptr && m->bytes >= (3u << 20));
    CHECK(reinterpret_cast<uintptr_t>(m->data) % 64 == 0);
    first = m->data;
  }
  CHECK(idle_memory_bytes() >= (3u << 20));
  Memory again = allocate_memory(3 << 20);
  CHECK(again->data == first);
  CHECK(allocate_memory(SIZE_MAX) == nullptr);
  CHECK(allocate_memory(size_t(1) << 52) == nullptr);  // 4 PiB
  again.reset();
  release_idle_memory();
  CHECK(idle_memory_bytes() == 0);
}

TEST(a_forward_that_can_not_allocate_returns_false_and_writes_nothing) {
  const SeqShape s = huge_lstm();
  const std::vector<float> w_ih = random_vector(32 * 3, 1), w_hh = random_vector(32 * 8, 2);
  std::vector<float> y(16, kSentinel), h_n(16, kSentinel), c_n(16, kSentinel);
  const SeqWeights w{w_ih.data(), w_hh.data(), nullptr, nullptr, nullptr};
  CHECK(forward_memory_bytes(s, false) > (size_t(100) << 30));
  CHECK(!sequence_forward(s, w, y.data(), h_n.data(), c_n.data(), nullptr, nullptr, nullptr, nullptr));
  CHECK(!sequence_backward(s, w, SeqGrads{}, nullptr, h_n.data(), c_n.data(), nullptr, nullptr, nullptr, nullptr, nullptr));
  for (const auto* v : {&y, &h_n, &c_n}) {
    for (float f : *v) CHECK(f == kSentinel);
  }
}

TEST(an_sgemm_that_can_not_allocate_returns_false_and_leaves_c) {
  std::vector<float> c(16 * 16, kSentinel);
  // k = INT_MAX: B panels of 16 columns × k rows, 128 GiB; a and b are never read.
  CHECK(!sgemm(Trans::No, Trans::No, 16, 16, INT_MAX, nullptr, INT_MAX, nullptr, 16, c.data(), 16, false));
  for (float f : c) CHECK(f == kSentinel);
}
