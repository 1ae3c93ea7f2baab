// LayerPack (see layer_pack.h) and the public PreparedLayer that owns one.
#include "layer_pack.h"

namespace rnnkit {

LayerPack::LayerPack(const SeqShape& layer, const SeqWeights& w, bool pack_inputs)
    : kernels(&rnnkit::kernels()), cell(layer.cell), input(layer.input), hidden(layer.hidden), proj(layer.proj),
      has_bias(w.b_ih != nullptr), packed_inputs(pack_inputs) {
  const int G = layer.gates(), H = hidden, S = layer.state(), GH = G * H;
  for (int g = 0; g < G; ++g) {
    if (pack_inputs) w_ih_t[g].pack(Trans::Yes, input, H, w.w_ih + static_cast<size_t>(g) * H * input, input);
    w_hh_t[g].pack(Trans::Yes, S, H, w.w_hh + static_cast<size_t>(g) * H * S, S);
  }
  if (proj > 0) w_hr_t.pack(Trans::Yes, H, S, w.w_hr, H);
  bias_x.assign(GH, 0.0f);
  bias_hh.assign(GH, 0.0f);
  if (!has_bias) return;
  const bool gru = cell == Cell::Gru;
  for (int j = 0; j < GH; ++j) {
    bias_x[j] = gru ? w.b_ih[j] : w.b_ih[j] + w.b_hh[j];
    if (gru) bias_hh[j] = w.b_hh[j];
  }
}

PreparedLayer::PreparedLayer(const SeqShape& layer, const SeqWeights& w)
    : pack_(std::make_unique<LayerPack>(layer, w, true)) {}

PreparedLayer::~PreparedLayer() = default;

const char* PreparedLayer::isa() const { return pack_->kernels->name; }

bool PreparedLayer::fits(const SeqShape& shape) const {
  return shape.cell == pack_->cell && shape.input == pack_->input && shape.hidden == pack_->hidden &&
         shape.proj == pack_->proj;
}

}  // namespace rnnkit
