// A float64 reference of one sequence layer (forward only), written as plainly as possible: each
// batch item on its own, PyTorch's formulas, packed-sequence semantics, the shape's variational
// dropout masks (x ⊙ input mask; h ⊙ recurrent mask where W_hh reads it). Tests get gradients from
// it by central finite differences.
#pragma once

#include <vector>

#include "rnnkit/rnnkit.h"

namespace rnnkit_test {

using Doubles = std::vector<double>;

struct RefParams {
  Doubles w_ih, w_hh, b_ih, b_hh, w_hr;  // PyTorch shapes; biases empty when bias=False
};

struct RefOutput {
  Doubles y;    // [T, B, S]
  Doubles h_n;  // [B, S]
  Doubles c_n;  // [B, H]
};

RefOutput reference_forward(const rnnkit::SeqShape& shape, const RefParams& p, const Doubles& x,
                            const Doubles& h0, const Doubles& c0);

}  // namespace rnnkit_test
