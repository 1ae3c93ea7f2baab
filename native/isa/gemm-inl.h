// The SGEMM micro-kernel, written once over the Vec interface and included INSIDE each ISA's
// namespace (each ISA gets a private copy). Needs in the enclosing namespace: Vec, kGemmMR (rows of
// the tile) and kGemmNV (vectors per tile row; nr = kGemmNV · Vec::width); the including file
// includes ../src/compiler.h (RNNKIT_UNROLL, RNNKIT_PREFETCH) at global scope.
//
// The tile's kGemmMR × kGemmNV accumulators live in registers for the whole k loop (the loops over
// them are fully unrolled, so the compiler can scalarize the array): per k step, kGemmNV vectors of
// B are loaded once and each of the kGemmMR values of A is broadcast once.

// Whether Vec can broadcast one lane of a register (NEON: FMLA by element). Then each k step loads
// the kGemmMR values of A as whole vectors instead of kGemmMR scalars, which keeps the 8 × 12 NEON
// tile (24 accumulators + 3 B + 2 A vectors) within the 32 registers; scalar A loads spilled.
template <class V>
static constexpr auto has_broadcast_lane(int) -> decltype(V::broadcast_lane(V::set1(0.0f), 0), true) {
  return true;
}
template <class V>
static constexpr bool has_broadcast_lane(...) {
  return false;
}
static constexpr bool kGemmLaneBroadcast = has_broadcast_lane<Vec>(0) && kGemmMR % Vec::width == 0;

// The value of A for row i at this k step, broadcast to a vector (a_vecs: the row's A values
// loaded as vectors when kGemmLaneBroadcast).
template <class V>
static inline typename V::T broadcast_a(const float* a_k, const typename V::T* a_vecs, int i) {
  if constexpr (kGemmLaneBroadcast) {
    return V::broadcast_lane(a_vecs[i / V::width], i % V::width);
  } else {
    (void)a_vecs;
    return V::set1(a_k[i]);
  }
}

constexpr int kFloatsPerLine = 16;  // 64-byte cache lines
constexpr int kBPrefetchSteps = 8;  // 4 and 16 measured the same; without: ~10% slower at 1024-2048

// c [nr] = acc, or c + acc: the only rounding after a tile's FMA chains.
static inline void store_row(float* c, const typename Vec::T* acc, bool accumulate) {
  RNNKIT_UNROLL(8)
  for (int v = 0; v < kGemmNV; ++v) {
    float* dst = c + v * Vec::width;
    Vec::store(dst, accumulate ? Vec::add(Vec::load(dst), acc[v]) : acc[v]);
  }
}

// C [Rows, nr] (+)= a_panel [k][kGemmMR] · b_panel [k][nr] for the first Rows ≤ kGemmMR rows of a
// tile. Each element's sum is the same FMA sequence whatever Rows is, so results never depend on
// where the tile boundaries fall; a short tile (small batch: B = 1 streaming, B = 16) does only its
// own rows' work instead of a whole kGemmMR-row tile.
template <int Rows>
static inline void gemm_tile(int k, const float* a_panel, const float* b_panel, float* c, int ldc,
                             bool accumulate) {
  using T = typename Vec::T;
  constexpr int kNR = kGemmNV * Vec::width;
  T acc[Rows][kGemmNV];
  RNNKIT_UNROLL(32)
  for (int i = 0; i < Rows; ++i) {
    RNNKIT_PREFETCH(c + static_cast<long long>(i) * ldc, 1, 3);
    RNNKIT_PREFETCH(c + static_cast<long long>(i) * ldc + kNR - 1, 1, 3);
    RNNKIT_UNROLL(8)
    for (int v = 0; v < kGemmNV; ++v) acc[i][v] = Vec::set1(0.0f);
  }
  for (int p = 0; p < k; ++p) {
    // B streams from L2 (the A panel is the one reused from L1): fetch it a few k steps ahead.
    RNNKIT_UNROLL(8)
    for (int line = 0; line < kNR; line += kFloatsPerLine) {
      RNNKIT_PREFETCH(b_panel + kBPrefetchSteps * kNR + line, 0, 3);
    }
    T b[kGemmNV];
    RNNKIT_UNROLL(8)
    for (int v = 0; v < kGemmNV; ++v) b[v] = Vec::load(b_panel + v * Vec::width);
    constexpr int kAVecs = kGemmLaneBroadcast ? kGemmMR / Vec::width : 1;
    T a_vecs[kAVecs];
    if constexpr (kGemmLaneBroadcast) {
      RNNKIT_UNROLL(8)
      for (int q = 0; q < kAVecs; ++q) a_vecs[q] = Vec::load(a_panel + q * Vec::width);
    }
    RNNKIT_UNROLL(32)
    for (int i = 0; i < Rows; ++i) {
      const T a = broadcast_a<Vec>(a_panel, a_vecs, i);
      RNNKIT_UNROLL(8)
      for (int v = 0; v < kGemmNV; ++v) acc[i][v] = Vec::mul_add(a, b[v], acc[i][v]);
    }
    a_panel += kGemmMR;
    b_panel += kNR;
  }
  RNNKIT_UNROLL(32)
  for (int i = 0; i < Rows; ++i) store_row(c + static_cast<long long>(i) * ldc, acc[i], accumulate);
}

// gemm_tile<rows> for a run-time rows in [1, Rows].
template <int Rows>
static inline void gemm_rows(int rows, int k, const float* a_panel, const float* b_panel, float* c, int ldc,
                             bool accumulate) {
  if constexpr (Rows > 1) {
    if (rows < Rows) {
      gemm_rows<Rows - 1>(rows, k, a_panel, b_panel, c, ldc, accumulate);
      return;
    }
  }
  gemm_tile<Rows>(k, a_panel, b_panel, c, ldc, accumulate);
}

// C [m, n] (+)= (a_panel · b_panel)[0:m, 0:n], m ≤ kGemmMR, n ≤ nr. Only the m rows are computed; a
// tile narrower than nr is computed into a local tile (the packed B panel is zero padded) and its
// valid columns copied. With accumulate == false, C is never read.
static void gemm_micro(int k, const float* a_panel, const float* b_panel, float* c, int ldc, int m, int n,
                       bool accumulate) {
  constexpr int kNR = kGemmNV * Vec::width;
  if (n == kNR) {
    gemm_rows<kGemmMR>(m, k, a_panel, b_panel, c, ldc, accumulate);
    return;
  }
  alignas(64) float tile[kGemmMR * kNR];
  gemm_rows<kGemmMR>(m, k, a_panel, b_panel, tile, kNR, false);
  for (int i = 0; i < m; ++i) {
    float* dst = c + static_cast<long long>(i) * ldc;
    const float* src = tile + i * kNR;
    if (accumulate) {
      for (int j = 0; j < n; ++j) dst[j] += src[j];
    } else {
      for (int j = 0; j < n; ++j) dst[j] = src[j];
    }
  }
}

// ---- One row: C [1, n] (+)= a [k] · B ------------------------------------------------------------
// A single row (batch 1: streaming, one sequence) gives gemm_tile<1> only kGemmNV independent FMA
// chains, so it waits on FMA latency. gemv_tile works on Panels consecutive panels at once instead
// (≥ 8 accumulators) and reads A unpacked; each element's sum is still the FMA sequence of
// gemm_tile (from 0 over p = 0…k−1, then C + sum), so it gives gemm_micro's result bit for bit.
constexpr int kGemvPanels = (8 + kGemmNV - 1) / kGemmNV;

template <int Panels>
static inline void gemv_tile(int k, const float* a, const float* b, size_t panel_stride, float* c, bool accumulate) {
  using T = typename Vec::T;
  constexpr int kNR = kGemmNV * Vec::width;
  T acc[Panels][kGemmNV];
  RNNKIT_UNROLL(8)
  for (int q = 0; q < Panels; ++q) {
    RNNKIT_UNROLL(8)
    for (int v = 0; v < kGemmNV; ++v) acc[q][v] = Vec::set1(0.0f);
  }
  for (int p = 0; p < k; ++p) {
    const T a_p = Vec::set1(a[p]);
    const float* b_p = b + static_cast<size_t>(p) * kNR;
    RNNKIT_UNROLL(8)
    for (int q = 0; q < Panels; ++q) {
      const float* b_q = b_p + q * panel_stride;
      RNNKIT_UNROLL(8)
      for (int v = 0; v < kGemmNV; ++v) acc[q][v] = Vec::mul_add(a_p, Vec::load(b_q + v * Vec::width), acc[q][v]);
    }
  }
  RNNKIT_UNROLL(8)
  for (int q = 0; q < Panels; ++q) store_row(c + q * kNR, acc[q], accumulate);
}

// gemv_tile<panels> for a run-time panels in [1, Panels].
template <int Panels>
static inline void gemv_panels(int panels, int k, const float* a, const float* b, size_t panel_stride, float* c,
                               bool accumulate) {
  if constexpr (Panels > 1) {
    if (panels < Panels) {
      gemv_panels<Panels - 1>(panels, k, a, b, panel_stride, c, accumulate);
      return;
    }
  }
  gemv_tile<Panels>(k, a, b, panel_stride, c, accumulate);
}

// c [n] (+)= a [k] · B [k, n], B packed as consecutive panels [k][nr] starting at b, panel_stride
// floats apart (zero-padded columns). With accumulate == false, c is never read.
static void gemv(int k, const float* a, const float* b, size_t panel_stride, float* c, int n, bool accumulate) {
  constexpr int kNR = kGemmNV * Vec::width;
  const int whole = n / kNR;
  for (int panel = 0; panel < whole; panel += kGemvPanels) {
    gemv_panels<kGemvPanels>(whole - panel < kGemvPanels ? whole - panel : kGemvPanels, k, a, b + panel * panel_stride, panel_stride,
                             c + panel * kNR, accumulate);
  }
  const int tail = n - whole * kNR;
  if (tail == 0) return;
  alignas(64) float tile[kNR];
  gemv_tile<1>(k, a, b + whole * panel_stride, panel_stride, tile, false);
  float* dst = c + whole * kNR;
  for (int j = 0; j < tail; ++j) dst[j] = accumulate ? dst[j] + tile[j] : tile[j];
}
