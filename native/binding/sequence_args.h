// The positional arguments the sequence exports share (sequence.cpp, prepared.cpp): a layer's cell,
// sizes and weights, a call's steps, batch, direction and lengths, and the sizes of their arrays.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "buffers.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit_binding {

// cell, inputSize, hiddenSize, projSize: cell indexes rnnkit::kCells (0 rnn_tanh, 1 rnn_relu, 2 lstm, 3 gru).
constexpr size_t kLayerSizeArgs = 4;
bool ParseLayerSizes(const Args& args, size_t first, rnnkit::SeqShape* shape);

// steps, batch, reverse, lengths (an Int32Array of batch values in [0, steps], or null).
constexpr size_t kCallSizeArgs = 4;
bool ParseCallSizes(const Args& args, size_t first, rnnkit::SeqShape* shape, std::vector<int>* lengths);

// Whether the core can run the shape (products that index with int fit): RangeError if not.
bool CheckShape(const Args& args, const rnnkit::SeqShape& shape);

// weightIh, weightHh, biasIh, biasHh (both or neither), weightHr (iff projSize > 0); prefix names
// them in errors ("" or "grad"). Registered with `borrowed` as read-only.
constexpr size_t kWeightArgs = 5;
bool ParseWeights(const Args& args, size_t first, const rnnkit::SeqShape& shape, rnnkit::SeqWeights* w,
                  Borrowed* borrowed);

// inputMask [B, I], recurrentMask [B, S]: Float32Arrays or null (variational dropout), into
// shape->input_mask / recurrent_mask. Registered with `borrowed` as read-only.
constexpr size_t kMaskArgs = 2;
bool ParseMasks(const Args& args, size_t first, rnnkit::SeqShape* shape, Borrowed* borrowed);

// Float counts of the arrays of one call.
size_t InputFloats(const rnnkit::SeqShape& s);   // [T, B, I]
size_t OutputFloats(const rnnkit::SeqShape& s);  // [T, B, S]
size_t HiddenFloats(const rnnkit::SeqShape& s);  // [B, S]
size_t CellFloats(const rnnkit::SeqShape& s);    // [B, H]
size_t WeightFloats(const rnnkit::SeqShape& s, int which);  // 0 weightIh … 4 weightHr (0 if absent)

// "lstm forward (steps 5, batch 4, inputSize 3, hiddenSize 8)", for memory errors.
std::string Describe(const rnnkit::SeqShape& s, const char* pass);

}  // namespace rnnkit_binding
