// The positional arguments the sequence exports share; see sequence_args.h.
#include "sequence_args.h"

#include <climits>

namespace rnnkit_binding {

using rnnkit::kCells;

// The binding's cell codes are the cells' order in rnnkit::kCells (src/cell-table.ts repeats them).
bool ParseLayerSizes(const Args& args, size_t first, rnnkit::SeqShape* s) {
  int cell = 0;
  if (!args.Int(first, "cell", 0, rnnkit::kCellCount - 1, &cell) || !args.Size(first + 1, "inputSize", &s->input) ||
      !args.Size(first + 2, "hiddenSize", &s->hidden)) {
    return false;
  }
  s->cell = kCells[cell].cell;
  const int max_proj = kCells[cell].projection ? s->hidden - 1 : 0;
  return args.Int(first + 3, "projSize", 0, max_proj, &s->proj);
}

bool ParseCallSizes(const Args& args, size_t first, rnnkit::SeqShape* s, std::vector<int>* lengths) {
  if (!args.Size(first, "steps", &s->steps) || !args.Size(first + 1, "batch", &s->batch) ||
      !args.Bool(first + 2, "reverse", &s->reverse)) {
    return false;
  }
  s->lengths = nullptr;
  if (IsNullish(args[first + 3])) return true;
  if (!args.Ints(first + 3, "lengths", static_cast<size_t>(s->batch), 0, s->steps, lengths)) return false;
  s->lengths = lengths->data();
  return true;
}

bool CheckShape(const Args& args, const rnnkit::SeqShape& s) {
  if (rnnkit::shape_fits(s)) return true;
  return args.RangeError("the sizes", "such that steps·batch and gates·hiddenSize are at most " + std::to_string(INT_MAX));
}

size_t InputFloats(const rnnkit::SeqShape& s) { return rnnkit::checked_product({size_t(s.steps), size_t(s.batch), size_t(s.input)}); }
size_t OutputFloats(const rnnkit::SeqShape& s) { return rnnkit::checked_product({size_t(s.steps), size_t(s.batch), size_t(s.state())}); }
size_t HiddenFloats(const rnnkit::SeqShape& s) { return rnnkit::checked_product({size_t(s.batch), size_t(s.state())}); }
size_t CellFloats(const rnnkit::SeqShape& s) { return rnnkit::checked_product({size_t(s.batch), size_t(s.hidden)}); }

size_t WeightFloats(const rnnkit::SeqShape& s, int which) {
  const size_t GH = rnnkit::checked_product({size_t(s.gates()), size_t(s.hidden)});
  switch (which) {
    case 0: return rnnkit::checked_product({GH, size_t(s.input)});
    case 1: return rnnkit::checked_product({GH, size_t(s.state())});
    case 2:
    case 3: return GH;
    default: return rnnkit::checked_product({size_t(s.proj), size_t(s.hidden)});
  }
}

bool ParseWeights(const Args& args, size_t first, const rnnkit::SeqShape& s, rnnkit::SeqWeights* w,
                  Borrowed* borrowed) {
  static const char* const kNames[] = {"weightIh", "weightHh", "biasIh", "biasHh", "weightHr"};
  const float** slots[] = {&w->w_ih, &w->w_hh, &w->b_ih, &w->b_hh, &w->w_hr};
  const bool has_bias = !IsNullish(args[first + 2]);
  for (int i = 0; i < 5; ++i) {
    const bool wanted = i < 2 || (i < 4 ? has_bias : s.proj > 0);
    float* data = nullptr;
    const bool ok = wanted ? args.Floats(first + i, kNames[i], WeightFloats(s, i), &data)
                           : args.OptionalFloats(first + i, kNames[i], 0, false, &data);
    if (!ok) return false;
    *slots[i] = data;
    borrowed->In(slots[i], WeightFloats(s, i));
  }
  return true;
}

bool ParseMasks(const Args& args, size_t first, rnnkit::SeqShape* s, Borrowed* borrowed) {
  const size_t input_floats = rnnkit::checked_product({size_t(s->batch), size_t(s->input)});  // [B, I]
  float *input = nullptr, *recurrent = nullptr;
  if (!args.OptionalFloats(first, "inputMask", input_floats, true, &input) ||
      !args.OptionalFloats(first + 1, "recurrentMask", HiddenFloats(*s), true, &recurrent)) {
    return false;
  }
  s->input_mask = input;
  s->recurrent_mask = recurrent;
  borrowed->In(&s->input_mask, input_floats);
  borrowed->In(&s->recurrent_mask, HiddenFloats(*s));
  return true;
}

std::string Describe(const rnnkit::SeqShape& s, const char* pass) {
  std::string text = std::string(s.traits().name) + " " + pass + " (";
  if (s.steps > 0) text += "steps " + std::to_string(s.steps) + ", batch " + std::to_string(s.batch) + ", ";
  text += "inputSize " + std::to_string(s.input) + ", hiddenSize " + std::to_string(s.hidden);
  if (s.proj > 0) text += ", projSize " + std::to_string(s.proj);
  return text + ")";
}

}  // namespace rnnkit_binding
