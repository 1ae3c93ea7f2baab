#include "sequence_common.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "threads.h"

namespace rnnkit {

const CellTraits& cell_traits(Cell cell) { return kCells[static_cast<int>(cell)]; }

int gate_count(Cell cell) { return cell_traits(cell).gates; }

CacheLayout cache_layout(const SeqShape& shape) {
  const size_t T = shape.steps, B = shape.batch, G = shape.gates(), H = shape.hidden, S = shape.state();
  const CellTraits& cell = shape.traits();
  CacheLayout layout{};
  size_t at = 0;
  layout.gates = at;
  at = checked_sum(at, checked_product({T, B, G, H}));
  layout.h_all = at;
  at = checked_sum(at, checked_product({T + 1, B, S}));
  layout.c_all = at;
  if (cell.cell_state) at = checked_sum(at, checked_product({T + 1, B, H}));
  layout.hn = at;
  if (cell.split_recurrent) at = checked_sum(at, checked_product({T, B, H}));
  layout.h_pre = at;
  if (shape.proj > 0) at = checked_sum(at, checked_product({T, B, H}));
  layout.h_masked = at;
  if (shape.recurrent_mask) at = checked_sum(at, checked_product({T + 1, B, S}));
  layout.total = at;
  return layout;
}

bool shape_fits(const SeqShape& s) {
  const bool proj_ok = s.traits().projection ? s.proj >= 0 && s.proj < s.hidden : s.proj == 0;
  return s.steps >= 1 && s.batch >= 1 && s.input >= 1 && s.hidden >= 1 && proj_ok &&
         static_cast<long long>(s.steps) * s.batch <= INT_MAX && static_cast<long long>(s.gates()) * s.hidden <= INT_MAX;
}

size_t cache_size(const SeqShape& shape) { return cache_layout(shape).total; }

ColumnSplit split_columns(int count, int align, double work, int threads) {
  // ~5 µs of single-core work per extra thread (measured: S-config steps ran 2× slower on 2 threads).
  const double min_work_per_part = 512.0 * 1024.0;
  const int blocks = (count + align - 1) / align;
  const int by_work = static_cast<int>(std::min(work / min_work_per_part, 1e6));
  return ColumnSplit{count, align, std::max(1, std::min({blocks, threads, by_work}))};
}

int ColumnSplit::begin(int part) const {
  const int blocks = (count + align - 1) / align;
  return std::min(count, static_cast<int>(static_cast<long long>(blocks) * part / parts) * align);
}

void mask_rows(float* out, const float* x, const float* mask, size_t rows, int cols, int mask_rows) {
  for (size_t r = 0; r < rows; ++r) {
    const float* m = mask + (r % size_t(mask_rows)) * cols;
    const float* in = x + r * cols;
    float* o = out + r * cols;
    for (int c = 0; c < cols; ++c) o[c] = in[c] * m[c];
  }
}

void add_column_sums(float* out, const float* m, int rows, int cols, int threads) {
  const ColumnSplit split = split_columns(cols, 64, double(rows) * cols, threads);
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
