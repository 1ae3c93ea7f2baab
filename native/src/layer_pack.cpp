// LayerPack (see layer_pack.h) and the public PreparedLayer that owns one.
#include "layer_pack.h"

#include <algorithm>

namespace rnnkit {
namespace {

size_t packed_floats(const Kernels& kern, int k, int n) {
  return checked_product({static_cast<size_t>((n + kern.gemm_nr - 1) / kern.gemm_nr * kern.gemm_nr),
                          static_cast<size_t>(std::max(k, 1))});
}

}  // namespace

LayerPack::LayerPack(const Kernels& kern, const SeqShape& layer, bool pack_inputs)
    : kernels(&kern), cell(layer.cell), input(layer.input), hidden(layer.hidden), proj(layer.proj),
      packed_inputs(pack_inputs) {}

size_t LayerPack::bytes() const {
  const SeqShape s{cell, 0, 0, input, hidden, proj};
  const size_t G = s.gates();
  size_t floats = checked_product({G, packed_floats(*kernels, s.state(), hidden)});
  if (packed_inputs) floats = checked_sum(floats, checked_product({G, packed_floats(*kernels, input, hidden)}));
  if (proj > 0) floats = checked_sum(floats, packed_floats(*kernels, hidden, proj));
  floats = checked_sum(floats, checked_product({2, G, static_cast<size_t>(hidden)}));
  return checked_product({floats, sizeof(float)});
}

bool LayerPack::pack(const SeqWeights& w) {
  const SeqShape s{cell, 0, 0, input, hidden, proj};
  const int G = s.gates(), H = hidden, S = s.state(), GH = G * H;
  for (int g = 0; g < G; ++g) {
    if (packed_inputs &&
        !w_ih_t[g].pack(*kernels, Trans::Yes, input, H, w.w_ih + static_cast<size_t>(g) * H * input, input)) {
      return false;
    }
    if (!w_hh_t[g].pack(*kernels, Trans::Yes, S, H, w.w_hh + static_cast<size_t>(g) * H * S, S)) return false;
  }
  if (proj > 0 && !w_hr_t.pack(*kernels, Trans::Yes, H, S, w.w_hr, H)) return false;
  biases_ = allocate_memory(checked_product({2, static_cast<size_t>(GH), sizeof(float)}));
  if (!biases_) return false;
  float* bx = biases_->data;
  float* bhh = bx + GH;
  std::fill_n(bx, 2 * static_cast<size_t>(GH), 0.0f);
  bias_x = bx;
  bias_hh = bhh;
  has_bias = w.b_ih != nullptr;
  if (!has_bias) return true;
  const bool split = cell_traits(cell).split_recurrent;
  for (int j = 0; j < GH; ++j) {
    bx[j] = split ? w.b_ih[j] : w.b_ih[j] + w.b_hh[j];
    if (split) bhh[j] = w.b_hh[j];
  }
  return true;
}

std::unique_ptr<PreparedLayer> PreparedLayer::create(const SeqShape& layer, const SeqWeights& w) {
  std::unique_ptr<LayerPack> pack(new (std::nothrow) LayerPack(kernels(), layer, true));
  if (!pack || !pack->pack(w)) return nullptr;
  return std::unique_ptr<PreparedLayer>(new PreparedLayer(std::move(pack)));
}

size_t PreparedLayer::bytes(const SeqShape& layer) { return LayerPack(kernels(), layer, true).bytes(); }

PreparedLayer::PreparedLayer(std::unique_ptr<LayerPack> pack) : pack_(std::move(pack)) {}

PreparedLayer::~PreparedLayer() = default;

const char* PreparedLayer::isa() const { return pack_->kernels->name; }

bool PreparedLayer::fits(const SeqShape& shape) const {
  return shape.cell == pack_->cell && shape.input == pack_->input && shape.hidden == pack_->hidden &&
         shape.proj == pack_->proj;
}

}  // namespace rnnkit
