// The floor under a streaming step: one B = 1 step of a prepared layer against the time to read its
// packed weights once (every weight is used once per step, so a step can not beat that read).
//
//   bench_stream [input hidden]     default: LSTM 128 → 256 (the §8 stream configuration)
//
// Prints µs per step and per read (min and median of 200 samples of 200 calls, on one thread, the
// two interleaved) and the bandwidth the read reaches.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "rnnkit/rnnkit.h"

namespace {

struct Stats {
  std::vector<double> samples;  // µs per call
  double min() const { return *std::min_element(samples.begin(), samples.end()); }
  double median() {
    std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
    return samples[samples.size() / 2];
  }
};

template <class F>
void sample(Stats& stats, int calls, F&& call) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) call();
  stats.samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / calls);
}

// A pure read of n floats (n a multiple of 64): four independent accumulators of 64-byte loads.
// Written for AVX-512 only (the machine this bench was made on); elsewhere the floor is not printed.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) float read_avx512(const float* p, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i));
    s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + i + 48));
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  float sum = 0;
  for (float lane : lanes) sum += lane;
  return sum;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const int I = argc > 2 ? std::atoi(argv[1]) : 128, H = argc > 2 ? std::atoi(argv[2]) : 256, G = 4;
  rnnkit::set_num_threads(1);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-0.0625f, 0.0625f);
  std::vector<float> w_ih(size_t(G) * H * I), w_hh(size_t(G) * H * H), b_ih(G * H), b_hh(G * H), x(I), h(H), c(H);
  for (auto* v : {&w_ih, &w_hh, &b_ih, &b_hh, &x}) std::generate(v->begin(), v->end(), [&] { return uniform(rng); });
  rnnkit::SeqShape shape;
  shape.cell = rnnkit::Cell::Lstm;
  shape.steps = shape.batch = 1;
  shape.input = I;
  shape.hidden = H;
  const rnnkit::PreparedLayer layer(shape, {w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data(), nullptr});
  // The bytes a step reads, contiguous and 64-byte aligned like the packed panels (a misaligned
  // read would touch two cache lines per vector and halve the rate).
  const size_t count = (w_ih.size() + w_hh.size() + 63) / 64 * 64;
  std::unique_ptr<float, decltype(&std::free)> weights(static_cast<float*>(std::aligned_alloc(64, count * sizeof(float))), &std::free);
  std::fill_n(weights.get(), count, 0.0f);
  std::copy(w_hh.begin(), w_hh.end(), std::copy(w_ih.begin(), w_ih.end(), weights.get()));
#if defined(__x86_64__)
  const bool can_read = std::string(layer.isa()) == "avx512";
#else
  const bool can_read = false;
#endif
  volatile float sink = 0;
  Stats step, read;
  for (int s = 0; s < 200; ++s) {
    sample(step, 200, [&] { rnnkit::sequence_forward(shape, layer, nullptr, h.data(), c.data(), x.data(), h.data(), c.data()); });
#if defined(__x86_64__)
    if (can_read) sample(read, 200, [&] { sink = sink + read_avx512(weights.get(), count); });
#endif
  }
  const double megabytes = count * sizeof(float) / 1e6;
  std::printf("LSTM %d -> %d, B = 1, %s, 1 thread: weights %.2f MB\n", I, H, layer.isa(), megabytes);
  std::printf("step            %7.2f us min  %7.2f us median\n", step.min(), step.median());
  if (!can_read) {
    std::printf("read weights    (measured with AVX-512 only)\n");
    return 0;
  }
  std::printf("read weights    %7.2f us min  %7.2f us median  (%.0f GB/s at the min)\n", read.min(), read.median(),
              megabytes * 1e3 / read.min());
  std::printf("step / read     %7.2f at the min\n", step.min() / read.min());
  return 0;
}
