// prepareLayer / preparedForward(Async) / preparedStep: a layer's weights packed once
// (rnnkit::PreparedLayer) behind a type-tagged External, for streaming inference one step per call.
// Checks in the order and words of src/sequence.ts (PreparedLayer).
#include <climits>
#include <memory>
#include <string>

#include "addon.h"
#include "args.h"
#include "rnnkit/rnnkit.h"
#include "sequence_args.h"

namespace rnnkit_binding {
namespace {

using rnnkit::Cell;

// Marks Externals made by prepareLayer, so preparedForward never trusts another External.
constexpr napi_type_tag kPreparedLayerTag = {0x8f3c2a71d54e4b09ULL, 0xa1b6e07c93d2f458ULL};

struct PreparedHandle {
  rnnkit::SeqShape sizes;  // cell, input, hidden, proj
  std::string cell_name;
  std::unique_ptr<rnnkit::PreparedLayer> layer;
  int64_t bytes;  // reported to V8 as external memory while the handle lives
};

int64_t WeightBytes(const rnnkit::SeqShape& s) {
  const int64_t GH = int64_t(s.gates()) * s.hidden;
  return int64_t(sizeof(float)) * (GH * (s.input + s.state() + 2) + int64_t(s.proj) * s.hidden);
}

// prepareLayer(cell, opts: {inputSize, hiddenSize, projSize?}, weights) → an opaque handle.
Napi::Value PrepareLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SequenceArgs a;
  Napi::Object opts;
  if (!CheckArgCount(info, 3, 3, "prepareLayer") || !ParseCell(info[0], &a) || !ToObject(info[1], "opts", &opts) ||
      !ParseLayerSizes(opts, &a) || !ParseWeights(info[2], &a)) {
    return env.Undefined();
  }
  auto* handle = new PreparedHandle{a.shape, a.cell_name, std::make_unique<rnnkit::PreparedLayer>(a.shape, a.weights),
                                    WeightBytes(a.shape)};
  Napi::External<PreparedHandle> external =
      Napi::External<PreparedHandle>::New(env, handle, [](Napi::Env finalizer_env, PreparedHandle* h) {
        Napi::MemoryManagement::AdjustExternalMemory(finalizer_env, -h->bytes);
        delete h;
      });
  if (napi_type_tag_object(env, external, &kPreparedLayerTag) != napi_ok) return env.Undefined();
  Napi::MemoryManagement::AdjustExternalMemory(env, handle->bytes);
  return external;
}

bool ToPreparedLayer(Napi::Value value, PreparedHandle** out) {
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(value.Env(), value, &kPreparedLayerTag, &tagged);
  if (!tagged) return ThrowTypeError(value.Env(), "Expected prepared layer for layer but received " + Describe(value));
  *out = value.As<Napi::External<PreparedHandle>>().Data();
  return true;
}

// out[key]: undefined → a new array (set on result); null → not computed; a Float32Array of the
// right length → written in place.
bool GetOutArray(Napi::Object out, const char* key, const Dims& dims, bool allowed, const std::string& reason,
                 Napi::Object result, float** data) {
  Napi::Value v;
  if (!GetProperty(out, key, &v)) return false;
  *data = nullptr;
  if (!allowed) return ExpectAbsent(v, std::string("out.") + key, reason);
  if (v.IsUndefined()) {
    result.Set(key, NewArray(out.Env(), Count(dims), data));
    return !out.Env().IsExceptionPending();
  }
  result.Set(key, v);
  if (v.IsNull()) return true;
  FloatView view;
  if (!ToFloat32(v, std::string("out.") + key, dims, &view)) return false;
  *data = view.data;
  return true;
}

struct PreparedCall {
  SequenceArgs args;  // the call's shape and the arrays (and the layer) async jobs pin
  const rnnkit::PreparedLayer* layer = nullptr;
  const float *x = nullptr, *h0 = nullptr, *c0 = nullptr;
  float *y = nullptr, *h_n = nullptr, *c_n = nullptr;
  void Run() const { rnnkit::sequence_forward(args.shape, *layer, y, h_n, c_n, x, h0, c0); }
};

// preparedForward(layer, opts: {steps, batch, reverse?, lengths?}, input, state?: {h0?, c0?},
//                 out?: {output?, hN?, cN?}) → {output, hN, cN? (LSTM)}; the async twin resolves with
// the same object once the libuv pool has run it.
bool PrepareForwardCall(const Napi::CallbackInfo& info, const char* name, PreparedCall* call, Napi::Object* result) {
  Napi::Env env = info.Env();
  PreparedHandle* handle = nullptr;
  SequenceArgs& a = call->args;
  Napi::Object opts, state, out;
  if (!CheckArgCount(info, 3, 5, name) || !ToPreparedLayer(info[0], &handle) || !ToObject(info[1], "opts", &opts)) {
    return false;
  }
  a.arrays.push_back(info[0]);
  call->layer = handle->layer.get();
  a.shape = handle->sizes;
  a.cell_name = handle->cell_name;
  const rnnkit::SeqShape& s = a.shape;
  FloatView input;
  if (!ParseCallSizes(opts, &a) || !ToFloat32(info[2], "input", InputDims(s), &input) ||
      !ToOptionalObject(info[3], "state", &state) || !ToOptionalObject(info[4], "out", &out)) {
    return false;
  }
  a.arrays.push_back(info[2]);
  call->x = input.data;
  const bool lstm = s.cell == Cell::Lstm;
  const std::string not_lstm = "cell is " + a.cell_name;
  if (!GetOptionalArray(state, "h0", "h0", HiddenDims(s), true, "", &a, &call->h0) ||
      !GetOptionalArray(state, "c0", "c0", CellDims(s), lstm, not_lstm, &a, &call->c0)) {
    return false;
  }
  *result = Napi::Object::New(env);
  return GetOutArray(out, "output", OutputDims(s), true, "", *result, &call->y) &&
         GetOutArray(out, "hN", HiddenDims(s), true, "", *result, &call->h_n) &&
         GetOutArray(out, "cN", CellDims(s), lstm, not_lstm, *result, &call->c_n);
}

Napi::Value PreparedForward(const Napi::CallbackInfo& info) {
  return Export<PreparedCall, PrepareForwardCall>(info, "preparedForward", false);
}
Napi::Value PreparedForwardAsync(const Napi::CallbackInfo& info) {
  return Export<PreparedCall, PrepareForwardCall>(info, "preparedForwardAsync", true);
}

// preparedStep(layer, batch, input [B, I], h [B, S], c [B, H] (LSTM) | null): one time step with the
// state updated in place — a stream's hot path: no option objects to read, nothing allocated.
Napi::Value PreparedStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PreparedHandle* handle = nullptr;
  if (!CheckArgCount(info, 5, 5, "preparedStep") || !ToPreparedLayer(info[0], &handle)) return env.Undefined();
  rnnkit::SeqShape s = handle->sizes;
  s.steps = 1;
  FloatView input, h, c;
  const bool lstm = s.cell == Cell::Lstm;
  if (!ToIntInRange(info[1], "batch", 1, INT_MAX, &s.batch) || !ToFloat32(info[2], "input", InputDims(s), &input) ||
      !ToFloat32(info[3], "h", HiddenDims(s), &h) ||
      !(lstm ? ToFloat32(info[4], "c", CellDims(s), &c) : ExpectAbsent(info[4], "c", "cell is " + handle->cell_name))) {
    return env.Undefined();
  }
  rnnkit::sequence_forward(s, *handle->layer, nullptr, h.data, c.data, input.data, h.data, c.data);
  return env.Undefined();
}

}  // namespace

void ExportPrepared(Napi::Env env, Napi::Object exports) {
  exports.Set("prepareLayer", Napi::Function::New(env, PrepareLayer, "prepareLayer"));
  exports.Set("preparedForward", Napi::Function::New(env, PreparedForward, "preparedForward"));
  exports.Set("preparedForwardAsync", Napi::Function::New(env, PreparedForwardAsync, "preparedForwardAsync"));
  exports.Set("preparedStep", Napi::Function::New(env, PreparedStep, "preparedStep"));
}

}  // namespace rnnkit_binding
