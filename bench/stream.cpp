// The floor under a streaming step: one B = 1 step of a prepared layer against the time to read its
// packed weights once (every weight is used once per step, so a step can not beat that read).
//
//   bench_stream [input hidden]     default: LSTM 128 → 256 (the §8 stream configuration)
//
// Prints µs per step and per read (min and median of 200 samples of 200 calls, the two interleaved)
// and the bandwidth the read reaches, on 1 thread and on every core this process may use.
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

#include "cpu.h"
#include "rnnkit/rnnkit.h"
#include "threads.h"

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

// Step and read timed interleaved with `threads` threads; the read is split into one contiguous
// share per thread through the same pool (so it pays the same wake-up and barrier as a step).
void measure(int threads, const rnnkit::SeqShape& shape, const rnnkit::PreparedLayer& layer, std::vector<float>& x,
             std::vector<float>& h, std::vector<float>& c, const float* weights, size_t count, bool can_read) {
  rnnkit::set_num_threads(threads);
  volatile float sink = 0;
  Stats step, read;
  for (int s = 0; s < 200; ++s) {
    sample(step, 200, [&] { rnnkit::sequence_forward(shape, layer, nullptr, h.data(), c.data(), x.data(), h.data(), c.data()); });
#if defined(__x86_64__)
    const size_t share = count / 64 / threads * 64;
    if (can_read) {
      sample(read, 200, [&] {
        rnnkit::parallel_for(threads, [&](int t) {
          sink = sink + read_avx512(weights + t * share, t + 1 == threads ? count - t * share : share);
        });
      });
    }
#endif
  }
  std::printf("%7d  %7.2f / %7.2f us", threads, step.min(), step.median());
  if (can_read) {
    std::printf("   %7.2f / %7.2f us (%3.0f GB/s)   %5.2f", read.min(), read.median(), count * sizeof(float) / 1e3 / read.min(),
                step.min() / read.min());
  }
  std::printf("\n");
}

int main(int argc, char** argv) {
  const int I = argc > 2 ? std::atoi(argv[1]) : 128, H = argc > 2 ? std::atoi(argv[2]) : 256, G = 4;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-0.0625f, 0.0625f);
  std::vector<float> w_ih(size_t(G) * H * I), w_hh(size_t(G) * H * H), b_ih(G * H), b_hh(G * H), x(I), h(H), c(H);
  for (auto* v : {&w_ih, &w_hh, &b_ih, &b_hh, &x}) std::generate(v->begin(), v->end(), [&] { return uniform(rng); });
  rnnkit::SeqShape shape;
  shape.cell = rnnkit::Cell::Lstm;
  shape.steps = shape.batch = 1;
  shape.input = I;
  shape.hidden = H;
  const std::unique_ptr<rnnkit::PreparedLayer> prepared =
      rnnkit::PreparedLayer::create(shape, {w_ih.data(), w_hh.data(), b_ih.data(), b_hh.data(), nullptr});
  if (!prepared) return 1;
  const rnnkit::PreparedLayer& layer = *prepared;
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
  std::printf("LSTM %d -> %d, B = 1, %s: weights %.2f MB%s\n", I, H, layer.isa(), count * sizeof(float) / 1e6,
              can_read ? "" : " (the read is measured with AVX-512 only)");
  std::printf("threads  step min / median      read of the weights min / median    step/read\n");
  const int cores = rnnkit::available_cores();
  for (int threads = 1; threads <= cores; threads *= 2) {
    measure(threads, shape, layer, x, h, c, weights.get(), count, can_read);
  }
  return 0;
}
