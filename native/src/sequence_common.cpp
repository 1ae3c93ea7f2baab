#include "sequence_common.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "threads.h"

namespace rnnkit {

int gate_count(Cell cell) {
  switch (cell) {
    case Cell::Lstm: return 4;
    case Cell::Gru: return 3;
    case Cell::RnnTanh:
    case Cell::RnnRelu: return 1;
  }
  return 1;
}

CacheLayout cache_layout(const SeqShape& shape) {
  const size_t T = shape.steps, B = shape.batch, H = shape.hidden, S = shape.state();
  const bool lstm = shape.cell == Cell::Lstm;
  CacheLayout layout{};
  size_t at = 0;
  layout.gates = at;
  at += T * B * shape.gates() * H;
  layout.h_all = at;
  at += (T + 1) * B * S;
  layout.c_all = at;
  if (lstm) at += (T + 1) * B * H;
  layout.hn = at;
  if (shape.cell == Cell::Gru) at += T * B * H;
  layout.h_pre = at;
  if (lstm && shape.proj > 0) at += T * B * H;
  layout.total = at;
  return layout;
}

size_t cache_size(const SeqShape& shape) { return cache_layout(shape).total; }

ColumnSplit split_columns(int count, int align, double work) {
  // ~5 µs of single-core work per extra thread (measured: S-config steps ran 2× slower on 2 threads).
  const double min_work_per_part = 512.0 * 1024.0;
  const int blocks = (count + align - 1) / align;
  const int by_work = static_cast<int>(std::min(work / min_work_per_part, 1e6));
  return ColumnSplit{count, align, std::max(1, std::min({blocks, num_threads(), by_work}))};
}

int ColumnSplit::begin(int part) const {
  const int blocks = (count + align - 1) / align;
  return std::min(count, static_cast<int>(static_cast<long long>(blocks) * part / parts) * align);
}

float* scratch(size_t floats) {
  // ::operator new with an alignment, not std::aligned_alloc (MSVC and MinGW have none).
  struct AlignedDeleter {
    void operator()(float* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  thread_local std::unique_ptr<float, AlignedDeleter> buffer;
  thread_local size_t capacity = 0;
  if (floats > capacity) {
    const size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    buffer.reset(static_cast<float*>(::operator new(bytes, std::align_val_t{64}, std::nothrow)));
    capacity = buffer ? bytes / sizeof(float) : 0;
  }
  return buffer.get();
}

void add_column_sums(float* out, const float* m, int rows, int cols) {
  const ColumnSplit split = split_columns(cols, 64, double(rows) * cols);
  parallel_for(split.parts, [&](int part) {
    const int c0 = split.begin(part), c1 = split.end(part);
    float sums[64];
    for (int block = c0; block < c1; block += 64) {
      const int width = std::min(64, c1 - block);
      std::fill_n(sums, width, 0.0f);
      for (int r = 0; r < rows; ++r) {
        const float* row = m + static_cast<size_t>(r) * cols + block;
        for (int j = 0; j < width; ++j) sums[j] += row[j];
      }
      for (int j = 0; j < width; ++j) out[block + j] += sums[j];
    }
  });
}

}  // namespace rnnkit
