// sequenceForward / sequenceBackward (sync and async) and cacheSize: argument checks in the same
// order and words as src/validate.ts, zero-copy Float32Array views, outputs allocated here.
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "rnnkit/rnnkit.h"
#include "sequence_args.h"

namespace rnnkit_binding {
namespace {

using rnnkit::Cell;

// (cell, opts, weights, input): the arguments every sequence export starts with.
bool ParseCommon(const Napi::CallbackInfo& info, SequenceArgs* args) {
  const rnnkit::SeqShape& s = args->shape;
  if (!ParseCell(info[0], args) || !ParseShape(info[1], args) || !ParseWeights(info[2], args)) return false;
  FloatView input;
  if (!ToFloat32(info[3], "input", InputDims(s), &input)) return false;
  args->arrays.push_back(info[3]);
  args->input = input.data;
  return true;
}

struct ForwardCall {
  SequenceArgs args;
  const float *h0 = nullptr, *c0 = nullptr;
  float *y = nullptr, *h_n = nullptr, *c_n = nullptr, *cache = nullptr;
  void Run() const {
    rnnkit::sequence_forward(args.shape, args.weights, y, h_n, c_n, args.input, h0, c0, cache);
  }
};

// sequenceForward(cell, opts, weights, input, state?: {h0?, c0?, training?})
// → {output [T,B,S], hN [B,S], cN? [B,H] (LSTM), cache: Float32Array | null}
bool PrepareForward(const Napi::CallbackInfo& info, const char* name, ForwardCall* call,
                    Napi::Object* result) {
  Napi::Env env = info.Env();
  SequenceArgs& a = call->args;
  Napi::Object state;
  Napi::Value v;
  bool training = false;
  if (!CheckArgCount(info, 4, 5, name) || !ParseCommon(info, &a) ||
      !ToOptionalObject(info[4], "state", &state)) {
    return false;
  }
  const rnnkit::SeqShape& s = a.shape;
  const bool lstm = s.cell == Cell::Lstm;
  const std::string not_lstm = "cell is " + a.cell_name;
  if (!GetOptionalArray(state, "h0", "h0", HiddenDims(s), true, "", &a, &call->h0) ||
      !GetOptionalArray(state, "c0", "c0", CellDims(s), lstm, not_lstm, &a, &call->c0) ||
      !GetProperty(state, "training", &v) || !ToOptionalBool(v, "training", false, &training)) {
    return false;
  }
  *result = Napi::Object::New(env);
  result->Set("output", NewArray(env, Count(OutputDims(s)), &call->y));
  result->Set("hN", NewArray(env, Count(HiddenDims(s)), &call->h_n));
  if (lstm) result->Set("cN", NewArray(env, Count(CellDims(s)), &call->c_n));
  if (training) {
    result->Set("cache", NewArray(env, rnnkit::cache_size(s), &call->cache));
  } else {
    result->Set("cache", env.Null());
  }
  return !env.IsExceptionPending();
}

struct BackwardCall {
  SequenceArgs args;
  const float* cache = nullptr;
  rnnkit::SeqGrads grads;
  const float *dy = nullptr, *dh_n = nullptr, *dc_n = nullptr;
  float *dx = nullptr, *dh0 = nullptr, *dc0 = nullptr;
  void Run() const {
    rnnkit::sequence_backward(args.shape, args.weights, grads, dx, dh0, dc0, dy, dh_n, dc_n,
                              args.input, cache);
  }
};

// Gradients are written by the core; the views are const only because WeightPtrs is shared.
rnnkit::SeqGrads Writable(const WeightPtrs& g) {
  return {const_cast<float*>(g.w_ih), const_cast<float*>(g.w_hh), const_cast<float*>(g.b_ih),
          const_cast<float*>(g.b_hh), const_cast<float*>(g.w_hr)};
}

// sequenceBackward(cell, opts, weights, input, cache, grads, upstream?: {dOutput?, dhN?, dcN?, inputGrad?})
// → {dInput [T,B,I] (null when inputGrad is false), dh0 [B,S], dc0? [B,H] (LSTM)}; grads accumulated (+=).
bool PrepareBackward(const Napi::CallbackInfo& info, const char* name, BackwardCall* call,
                     Napi::Object* result) {
  Napi::Env env = info.Env();
  SequenceArgs& a = call->args;
  if (!CheckArgCount(info, 6, 7, name) || !ParseCommon(info, &a)) return false;
  const rnnkit::SeqShape& s = a.shape;
  const size_t cache_floats = rnnkit::cache_size(s);
  FloatView cache;
  if (!ToFloat32(info[4], "cache", cache_floats, "cacheSize for these options", &cache)) return false;
  a.arrays.push_back(info[4]);
  call->cache = cache.data;
  Napi::Object grads, upstream;
  WeightPtrs g;
  if (!ToObject(info[5], "grads", &grads) || !ParseWeightSet(grads, "grads.", a.has_bias, &a, &g) ||
      !ToOptionalObject(info[6], "upstream", &upstream)) {
    return false;
  }
  call->grads = Writable(g);
  const bool lstm = s.cell == Cell::Lstm;
  const std::string not_lstm = "cell is " + a.cell_name;
  if (!GetOptionalArray(upstream, "dOutput", "dOutput", OutputDims(s), true, "", &a, &call->dy) ||
      !GetOptionalArray(upstream, "dhN", "dhN", HiddenDims(s), true, "", &a, &call->dh_n) ||
      !GetOptionalArray(upstream, "dcN", "dcN", CellDims(s), lstm, not_lstm, &a, &call->dc_n)) {
    return false;
  }
  bool input_grad = true;
  if (!ToOptionalBool(upstream.Get("inputGrad"), "inputGrad", true, &input_grad)) return false;
  *result = Napi::Object::New(env);
  result->Set("dInput", input_grad ? NewArray(env, Count(InputDims(s)), &call->dx) : env.Null());
  result->Set("dh0", NewArray(env, Count(HiddenDims(s)), &call->dh0));
  if (lstm) result->Set("dc0", NewArray(env, Count(CellDims(s)), &call->dc0));
  return !env.IsExceptionPending();
}

Napi::Value SequenceForward(const Napi::CallbackInfo& info) {
  return Export<ForwardCall, PrepareForward>(info, "sequenceForward", false);
}
Napi::Value SequenceForwardAsync(const Napi::CallbackInfo& info) {
  return Export<ForwardCall, PrepareForward>(info, "sequenceForwardAsync", true);
}
Napi::Value SequenceBackward(const Napi::CallbackInfo& info) {
  return Export<BackwardCall, PrepareBackward>(info, "sequenceBackward", false);
}
Napi::Value SequenceBackwardAsync(const Napi::CallbackInfo& info) {
  return Export<BackwardCall, PrepareBackward>(info, "sequenceBackwardAsync", true);
}

// cacheSize(cell, opts) → floats of the training cache.
Napi::Value CacheSize(const Napi::CallbackInfo& info) {
  SequenceArgs args;
  if (!CheckArgCount(info, 2, 2, "cacheSize") || !ParseCell(info[0], &args) ||
      !ParseShape(info[1], &args)) {
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), static_cast<double>(rnnkit::cache_size(args.shape)));
}

}  // namespace

void ExportSequence(Napi::Env env, Napi::Object exports) {
  exports.Set("sequenceForward", Napi::Function::New(env, SequenceForward, "sequenceForward"));
  exports.Set("sequenceForwardAsync", Napi::Function::New(env, SequenceForwardAsync, "sequenceForwardAsync"));
  exports.Set("sequenceBackward", Napi::Function::New(env, SequenceBackward, "sequenceBackward"));
  exports.Set("sequenceBackwardAsync", Napi::Function::New(env, SequenceBackwardAsync, "sequenceBackwardAsync"));
  exports.Set("cacheSize", Napi::Function::New(env, CacheSize, "cacheSize"));
}

}  // namespace rnnkit_binding
