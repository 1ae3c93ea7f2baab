#include "reference.h"

#include <cmath>

namespace rnnkit_test {
namespace {

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// out[r] = Σ_c m[r, c] · v[c]  for r in [r0, r0 + n)
void matvec(double* out, const Doubles& m, int r0, int n, int cols, const double* v) {
  for (int r = 0; r < n; ++r) {
    double sum = 0.0;
    for (int c = 0; c < cols; ++c) sum += m[size_t(r0 + r) * cols + c] * v[c];
    out[r] = sum;
  }
}

// x ⊙ mask (mask nullptr: x).
Doubles masked(const double* x, const float* mask, int n) {
  Doubles out(x, x + n);
  if (mask)
    for (int j = 0; j < n; ++j) out[j] *= mask[j];
  return out;
}

// One step of one item: updates h [S] and c [H] from input x [I]; masks [I] and [S] (variational
// dropout: on the input, and on h where W_hh reads it) or nullptr.
void cell_step(const rnnkit::SeqShape& s, const RefParams& p, const double* x, Doubles& h, Doubles& c,
               const float* x_mask, const float* h_mask) {
  const int H = s.hidden, S = s.state(), I = s.input, GH = s.gates() * H;
  Doubles wx(GH), wh(GH);
  matvec(wx.data(), p.w_ih, 0, GH, I, masked(x, x_mask, I).data());
  matvec(wh.data(), p.w_hh, 0, GH, S, masked(h.data(), h_mask, S).data());
  const bool bias = !p.b_ih.empty();
  for (int j = 0; j < GH; ++j) {
    wx[j] += bias ? p.b_ih[j] : 0.0;
    wh[j] += bias ? p.b_hh[j] : 0.0;
  }
  switch (s.cell) {
    case rnnkit::Cell::RnnTanh:
      for (int j = 0; j < H; ++j) h[j] = std::tanh(wx[j] + wh[j]);
      break;
    case rnnkit::Cell::RnnRelu:
      for (int j = 0; j < H; ++j) h[j] = std::fmax(0.0, wx[j] + wh[j]);
      break;
    case rnnkit::Cell::Gru:
      for (int j = 0; j < H; ++j) {
        const double r = sigmoid(wx[j] + wh[j]);
        const double z = sigmoid(wx[H + j] + wh[H + j]);
        const double n = std::tanh(wx[2 * H + j] + r * wh[2 * H + j]);
        h[j] = (1.0 - z) * n + z * h[j];
      }
      break;
    case rnnkit::Cell::Lstm: {
      Doubles h_pre(H);
      for (int j = 0; j < H; ++j) {
        const double i = sigmoid(wx[j] + wh[j]);
        const double f = sigmoid(wx[H + j] + wh[H + j]);
        const double g = std::tanh(wx[2 * H + j] + wh[2 * H + j]);
        const double o = sigmoid(wx[3 * H + j] + wh[3 * H + j]);
        c[j] = f * c[j] + i * g;
        h_pre[j] = o * std::tanh(c[j]);
      }
      if (s.proj > 0) matvec(h.data(), p.w_hr, 0, S, H, h_pre.data());
      else h = h_pre;
      break;
    }
  }
}

}  // namespace

RefOutput reference_forward(const rnnkit::SeqShape& s, const RefParams& p, const Doubles& x,
                            const Doubles& h0, const Doubles& c0) {
  const int T = s.steps, B = s.batch, H = s.hidden, S = s.state(), I = s.input;
  RefOutput out{Doubles(size_t(T) * B * S, 0.0), Doubles(size_t(B) * S), Doubles(size_t(B) * H)};
  for (int b = 0; b < B; ++b) {
    Doubles h(h0.begin() + size_t(b) * S, h0.begin() + size_t(b + 1) * S);
    Doubles c(c0.begin() + size_t(b) * H, c0.begin() + size_t(b + 1) * H);
    const int length = s.lengths ? s.lengths[b] : T;
    for (int step = 0; step < length; ++step) {
      const int t = s.reverse ? length - 1 - step : step;
      cell_step(s, p, x.data() + (size_t(t) * B + b) * I, h, c, s.input_mask ? s.input_mask + size_t(b) * I : nullptr,
                s.recurrent_mask ? s.recurrent_mask + size_t(b) * S : nullptr);
      for (int j = 0; j < S; ++j) out.y[(size_t(t) * B + b) * S + j] = h[j];
    }
    for (int j = 0; j < S; ++j) out.h_n[size_t(b) * S + j] = h[j];
    for (int j = 0; j < H; ++j) out.c_n[size_t(b) * H + j] = c[j];
  }
  return out;
}

}  // namespace rnnkit_test
