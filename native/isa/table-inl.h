// The ISA's kernel table (kernels.h), filled field by field: with a positional initializer, two
// entries of the same signature swapped would still compile. Included last INSIDE each ISA's
// namespace, after the kernels it names; the ISA file then defines
//   extern const Kernels table = make_table("<isa>");
static constexpr Kernels make_table(const char* name) {
  Kernels k{};
  k.name = name;
  k.gemm_mr = kGemmMR;
  k.gemm_nr = kGemmNV * Vec::width;
  k.gemm_micro = gemm_micro;
  k.gemv = gemv;
  k.sigmoid = sigmoid_array;
  k.tanh = tanh_array;
  set_cell_kernels(k);
  k.sgd_step = sgd_step;
  k.adam_step = adam_step;
  k.rmsprop_step = rmsprop_step;
  k.adagrad_step = adagrad_step;
  k.sum_squares = sum_squares;
  k.sum_abs = sum_abs;
  k.abs_max = abs_max;
  k.scale = scale_array;
  k.clamp = clamp_array;
  return k;
}

static constexpr bool has_every_cell(const Kernels& k) {
  for (const CellKernels& cell : k.cells) {
    if (cell.forward == nullptr || cell.backward == nullptr) return false;
  }
  return true;
}
static_assert(has_every_cell(make_table("")), "every rnnkit::Cell needs its kernels in set_cell_kernels (pointwise-inl.h)");
