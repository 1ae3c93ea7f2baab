// The scalar reference: the same algorithms as the SIMD files, one lane at a time. Kept forever;
// every other ISA is tested against it.
#include <cmath>
#include <cstring>

#include "../src/compiler.h"
#include "../src/kernels.h"

namespace rnnkit {
namespace scalar {

#include "vec_scalar-inl.h"
using Vec = ScalarVec;
constexpr int kGemmMR = 4;
constexpr int kGemmNV = 4;  // nr = kGemmNV * Vec::width

#include "gemm-inl.h"
#include "pointwise-inl.h"
#include "optim-inl.h"
#include "table-inl.h"

extern const Kernels table = make_table("scalar");

}  // namespace scalar
}  // namespace rnnkit
