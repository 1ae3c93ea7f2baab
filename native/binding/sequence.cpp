// sequenceForward / sequenceBackward (sync and async) and cacheSize: argument checks in the same
// order and words as src/validate.ts, zero-copy Float32Array views, outputs allocated here.
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit_binding {
namespace {

using rnnkit::Cell;

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

bool ParseCell(Napi::Value value, SequenceArgs* args) {
  static const std::vector<std::string> kNames = {"rnn_tanh", "rnn_relu", "lstm", "gru"};
  static const Cell kCells[] = {Cell::RnnTanh, Cell::RnnRelu, Cell::Lstm, Cell::Gru};
  if (!ToChoice(value, "cell", kNames, &args->cell_name)) return false;
  for (size_t i = 0; i < kNames.size(); i++) {
    if (kNames[i] == args->cell_name) args->shape.cell = kCells[i];
  }
  return true;
}

bool ParseProjSize(Napi::Value value, SequenceArgs* args) {
  rnnkit::SeqShape& s = args->shape;
  if (s.cell == Cell::Lstm) return ToOptionalIntInRange(value, "projSize", 0, s.hidden - 1, 0, &s.proj);
  s.proj = 0;
  if (value.IsUndefined() || (value.IsNumber() && value.As<Napi::Number>().DoubleValue() == 0)) {
    return true;
  }
  const std::string message = "Expected 0 for projSize because cell is " + args->cell_name +
                              " but received " + Describe(value);
  return value.IsNumber() ? ThrowRangeError(value.Env(), message)
                          : ThrowTypeError(value.Env(), message);
}

// opts: {steps, batch, inputSize, hiddenSize, projSize?, reverse?, lengths?}
bool ParseShape(Napi::Value value, SequenceArgs* args) {
  Napi::Object opts;
  if (!ToObject(value, "opts", &opts)) return false;
  rnnkit::SeqShape& s = args->shape;
  const std::pair<const char*, int*> dims[] = {
      {"steps", &s.steps}, {"batch", &s.batch}, {"inputSize", &s.input}, {"hiddenSize", &s.hidden}};
  Napi::Value v;
  for (const auto& dim : dims) {
    if (!GetProperty(opts, dim.first, &v) || !ToIntInRange(v, dim.first, 1, INT_MAX, dim.second)) {
      return false;
    }
  }
  if (!GetProperty(opts, "projSize", &v) || !ParseProjSize(v, args)) return false;
  if (!GetProperty(opts, "reverse", &v) || !ToOptionalBool(v, "reverse", false, &s.reverse)) {
    return false;
  }
  if (!GetProperty(opts, "lengths", &v)) return false;
  s.lengths = nullptr;
  if (IsNullish(v)) return true;
  if (!ToIntList(v, "lengths", s.batch, "batch", 0, s.steps, &args->lengths)) return false;
  s.lengths = args->lengths.data();
  return true;
}

const char* StateName(const rnnkit::SeqShape& s) { return s.proj > 0 ? "projSize" : "hiddenSize"; }
// Shapes of the state and sequence arrays, named as in the error messages.
Dims HiddenDims(const rnnkit::SeqShape& s) { return {{"batch", s.batch}, {StateName(s), s.state()}}; }
Dims CellDims(const rnnkit::SeqShape& s) { return {{"batch", s.batch}, {"hiddenSize", s.hidden}}; }
Dims OutputDims(const rnnkit::SeqShape& s) {
  return {{"steps", s.steps}, {"batch", s.batch}, {StateName(s), s.state()}};
}
Dims InputDims(const rnnkit::SeqShape& s) {
  return {{"steps", s.steps}, {"batch", s.batch}, {"inputSize", s.input}};
}

// Reads obj[key] as a Float32Array of `dims` (required) into *out and pins it.
bool GetArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims,
              SequenceArgs* args, const float** out) {
  Napi::Value v;
  FloatView view;
  if (!GetProperty(obj, key, &v) || !ToFloat32(v, name, dims, &view)) {
    return false;
  }
  args->arrays.push_back(v);
  *out = view.data;
  return true;
}

// Like GetArray, but null/undefined give nullptr; when !allowed, a present value is an error.
bool GetOptionalArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims,
                      bool allowed, const std::string& reason, SequenceArgs* args,
                      const float** out) {
  Napi::Value v;
  if (!GetProperty(obj, key, &v)) return false;
  *out = nullptr;
  if (!allowed) return ExpectAbsent(v, name, reason);
  if (IsNullish(v)) return true;
  return GetArray(obj, key, name, dims, args, out);
}

// Required when `wanted`, else must be null/undefined (then *out = nullptr).
bool GetMaybeArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims,
                   bool wanted, const std::string& reason, SequenceArgs* args, const float** out) {
  if (wanted) return GetArray(obj, key, name, dims, args, out);
  return GetOptionalArray(obj, key, name, dims, false, reason, args, out);
}

// Weights (prefix "") or their gradients (prefix "grads.") share names and shapes.
struct WeightPtrs {
  const float* w_ih = nullptr;
  const float* w_hh = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* w_hr = nullptr;
};

bool ParseWeightSet(Napi::Object obj, const std::string& prefix, bool has_bias,
                    SequenceArgs* args, WeightPtrs* w) {
  const rnnkit::SeqShape& s = args->shape;
  const long long G = s.gates(), H = s.hidden, I = s.input, P = s.proj, S = s.state();
  const Dims ih_dims = {{"gates", G}, {"hiddenSize", H}, {"inputSize", I}};
  const Dims hh_dims = {{"gates", G}, {"hiddenSize", H}, {StateName(s), S}};
  if (!GetArray(obj, "weightIh", prefix + "weightIh", ih_dims, args, &w->w_ih) ||
      !GetArray(obj, "weightHh", prefix + "weightHh", hh_dims, args, &w->w_hh)) {
    return false;
  }
  const Dims bias_dims = {{"gates", G}, {"hiddenSize", H}};
  const char* no_bias = "the weights have no biases";
  if (!GetMaybeArray(obj, "biasIh", prefix + "biasIh", bias_dims, has_bias, no_bias, args,
                     &w->b_ih) ||
      !GetMaybeArray(obj, "biasHh", prefix + "biasHh", bias_dims, has_bias, no_bias, args,
                     &w->b_hh)) {
    return false;
  }
  const Dims hr_dims = {{"projSize", P}, {"hiddenSize", H}};
  return GetMaybeArray(obj, "weightHr", prefix + "weightHr", hr_dims, P > 0, "projSize is 0", args,
                       &w->w_hr);
}

// weights: {weightIh, weightHh, biasIh?, biasHh? (both or neither), weightHr? (iff projSize > 0)}
bool ParseWeights(Napi::Value value, SequenceArgs* args) {
  Napi::Object obj;
  Napi::Value ih, hh;
  if (!ToObject(value, "weights", &obj) || !GetProperty(obj, "biasIh", &ih) ||
      !GetProperty(obj, "biasHh", &hh)) {
    return false;
  }
  if (IsNullish(ih) != IsNullish(hh)) {
    // Checked first so a one-sided bias is reported as such rather than as a bad other array.
    return ThrowTypeError(value.Env(), std::string("Expected biasIh and biasHh both or neither but received only ") +
                                           (IsNullish(ih) ? "biasHh" : "biasIh"));
  }
  args->has_bias = !IsNullish(ih);
  WeightPtrs w;
  if (!ParseWeightSet(obj, "", args->has_bias, args, &w)) return false;
  args->weights = {w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.w_hr};
  return true;
}

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

Napi::Float32Array NewArray(Napi::Env env, size_t length, float** data) {
  Napi::Float32Array array = Napi::Float32Array::New(env, length);
  *data = env.IsExceptionPending() ? nullptr : array.Data();
  return array;
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

// Sync and async exports of one operation differ only in where Run() happens.
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
