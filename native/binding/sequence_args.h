// Parsing the arguments the sequence exports share (sequence.cpp, prepared.cpp): cell names,
// sizes, weights and arrays, in the order and words of src/sequence.ts.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "addon.h"

#include "args.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit_binding {

// What the core reads, plus the JS arrays behind the pointers (for async jobs to pin).
struct SequenceArgs {
  rnnkit::SeqShape shape;
  std::vector<int> lengths;  // owned copy; shape.lengths points here
  rnnkit::SeqWeights weights;
  bool has_bias = false;
  std::string cell_name;
  const float* input = nullptr;
  std::vector<Napi::Value> arrays;
};

// cell: "rnn_tanh" | "rnn_relu" | "lstm" | "gru".
bool ParseCell(Napi::Value value, SequenceArgs* args);
// opts: {steps, batch, inputSize, hiddenSize, projSize?, reverse?, lengths?}
bool ParseShape(Napi::Value value, SequenceArgs* args);
// opts: {inputSize, hiddenSize, projSize?} (a layer's sizes, for prepareLayer)
bool ParseLayerSizes(Napi::Object opts, SequenceArgs* args);
// opts: {steps, batch, reverse?, lengths?} (a call's sizes, the layer's come from elsewhere)
bool ParseCallSizes(Napi::Object opts, SequenceArgs* args);
// weights: {weightIh, weightHh, biasIh?, biasHh? (both or neither), weightHr? (iff projSize > 0)}
bool ParseWeights(Napi::Value value, SequenceArgs* args);

// Weights (prefix "") or their gradients (prefix "grads.") share names and shapes.
struct WeightPtrs {
  const float* w_ih = nullptr;
  const float* w_hh = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* w_hr = nullptr;
};
bool ParseWeightSet(Napi::Object obj, const std::string& prefix, bool has_bias, SequenceArgs* args, WeightPtrs* w);

// Shapes of the state and sequence arrays, named as in the error messages.
Dims HiddenDims(const rnnkit::SeqShape& s);
Dims CellDims(const rnnkit::SeqShape& s);
Dims OutputDims(const rnnkit::SeqShape& s);
Dims InputDims(const rnnkit::SeqShape& s);

// Reads obj[key] as a Float32Array of `dims` (required) into *out and pins it.
bool GetArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims, SequenceArgs* args,
              const float** out);
// Like GetArray, but null/undefined give nullptr; when !allowed, a present value is an error.
bool GetOptionalArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims, bool allowed,
                      const std::string& reason, SequenceArgs* args, const float** out);

// A new Float32Array of `length` floats; *data = its memory (nullptr if allocation threw).
Napi::Float32Array NewArray(Napi::Env env, size_t length, float** data);

// Sync and async exports of one operation differ only in where Run() happens.
// Call has `args` (SequenceArgs: the arrays to pin) and Run(); Prepare parses info into it and
// builds the result object.
template <class Call, bool (*Prepare)(const Napi::CallbackInfo&, const char*, Call*, Napi::Object*)>
Napi::Value Export(const Napi::CallbackInfo& info, const char* name, bool async) {
  auto call = std::make_shared<Call>();
  Napi::Object result;
  if (!Prepare(info, name, call.get(), &result)) return info.Env().Undefined();
  if (!async) {
    call->Run();
    return result;
  }
  std::vector<Napi::Value> arrays = call->args.arrays;
  return QueueJob(info.Env(), [call] { call->Run(); }, result, arrays);
}


}  // namespace rnnkit_binding
