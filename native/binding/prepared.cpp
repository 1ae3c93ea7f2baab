// prepareLayer / preparedForward(Async) / preparedStep: a layer's weights packed once
// (rnnkit::PreparedLayer) behind a type-tagged External, for streaming inference one step per call.
//
//   prepareLayer(cell, inputSize, hiddenSize, projSize, weightIh, weightHh, biasIh, biasHh, weightHr)
//     → an opaque handle
//   preparedForward(layer, steps, batch, reverse, lengths, input, h0, c0, output, hN, cN)
//     → undefined; output/hN/cN: a Float32Array is written, null = not computed (hN and cN may be
//       h0 and c0 themselves; cN must be null except for LSTM)
//   preparedStep(layer, batch, input [B, I], h [B, S], c [B, H] | null): one step, state in place
#include <memory>
#include <string>

#include "addon.h"
#include "args.h"
#include "rnnkit/rnnkit.h"
#include "sequence_args.h"

namespace rnnkit_binding {
namespace {

// Marks Externals made by prepareLayer, so preparedForward never trusts another External.
constexpr napi_type_tag kPreparedLayerTag = {0x8f3c2a71d54e4b09ULL, 0xa1b6e07c93d2f458ULL};

struct PreparedHandle {
  rnnkit::SeqShape sizes;                        // cell, input, hidden, proj
  std::shared_ptr<rnnkit::PreparedLayer> layer;  // shared with async calls still running
  int64_t bytes;                                 // reported to V8 as external memory while the handle lives
};

// prepareLayer(cell, inputSize, hiddenSize, projSize, <5 weights>) → an opaque handle.
Napi::Value PrepareLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args args(info, "prepareLayer");
  rnnkit::SeqShape s;
  rnnkit::SeqWeights w;
  Borrowed unused;  // read now, copied into the pack
  if (!args.Count(kLayerSizeArgs + kWeightArgs) || !ParseLayerSizes(args, 0, &s)) return env.Undefined();
  s.steps = s.batch = 1;
  if (!CheckShape(args, s) || !ParseWeights(args, kLayerSizeArgs, s, &w, &unused)) return env.Undefined();
  const size_t bytes = rnnkit::PreparedLayer::bytes(s);
  const std::string what = Describe({s.cell, 0, 0, s.input, s.hidden, s.proj}, "prepared layer");
  if (!CheckMemory(env, what, bytes)) return env.Undefined();
  std::shared_ptr<rnnkit::PreparedLayer> layer(rnnkit::PreparedLayer::create(s, w));
  if (!layer) {
    OutOfMemory(env, what, bytes).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* handle = new PreparedHandle{s, std::move(layer), static_cast<int64_t>(bytes)};
  Napi::External<PreparedHandle> external =
      Napi::External<PreparedHandle>::New(env, handle, [](Napi::Env finalizer_env, PreparedHandle* h) {
        Napi::MemoryManagement::AdjustExternalMemory(finalizer_env, -h->bytes);
        delete h;
      });
  if (napi_type_tag_object(env, external, &kPreparedLayerTag) != napi_ok) return env.Undefined();
  Napi::MemoryManagement::AdjustExternalMemory(env, handle->bytes);
  return external;
}

bool ToPreparedLayer(const Args& args, size_t i, PreparedHandle** out) {
  bool tagged = false;
  if (args[i].IsExternal()) napi_check_object_type_tag(args.Env(), args[i], &kPreparedLayerTag, &tagged);
  if (!tagged) return args.TypeError("layer", "a handle made by prepareLayer");
  *out = args[i].As<Napi::External<PreparedHandle>>().Data();
  return true;
}

class PreparedCall : public Call {
 public:
  rnnkit::SeqShape shape;
  std::vector<int> lengths;
  std::shared_ptr<rnnkit::PreparedLayer> layer;
  const float *x = nullptr, *h0 = nullptr, *c0 = nullptr;
  float *y = nullptr, *h_n = nullptr, *c_n = nullptr;

  bool Run() override { return rnnkit::sequence_forward(shape, *layer, y, h_n, c_n, x, h0, c0); }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

std::shared_ptr<Call> ParseForward(const Napi::CallbackInfo& info, const char* name, bool async) {
  const Args args(info, name);
  PreparedHandle* handle = nullptr;
  auto call = std::make_shared<PreparedCall>();
  rnnkit::SeqShape& s = call->shape;
  float *x = nullptr, *h0 = nullptr, *c0 = nullptr;
  if (!args.Count(1 + kCallSizeArgs + 6) || !ToPreparedLayer(args, 0, &handle)) return nullptr;
  s = handle->sizes;
  call->layer = handle->layer;
  const size_t at = 1 + kCallSizeArgs;  // input, h0, c0, output, hN, cN
  const bool has_c = s.traits().cell_state;
  if (!ParseCallSizes(args, 1, &s, &call->lengths) || !CheckShape(args, s) ||
      !args.Floats(at, "input", InputFloats(s), &x) || !args.OptionalFloats(at + 1, "h0", HiddenFloats(s), true, &h0) ||
      !args.OptionalFloats(at + 2, "c0", CellFloats(s), has_c, &c0) ||
      !args.OptionalFloats(at + 3, "output", OutputFloats(s), true, &call->y) ||
      !args.OptionalFloats(at + 4, "hN", HiddenFloats(s), true, &call->h_n) ||
      !args.OptionalFloats(at + 5, "cN", CellFloats(s), has_c, &call->c_n)) {
    return nullptr;
  }
  call->x = x;
  call->h0 = h0;
  call->c0 = c0;
  call->borrowed.In(&call->x, InputFloats(s));
  call->borrowed.In(&call->h0, HiddenFloats(s));
  call->borrowed.In(&call->c0, CellFloats(s));
  if (call->y) call->borrowed.Out("output", &call->y, OutputFloats(s), args[at + 3]);
  if (call->h_n) call->borrowed.Out("hN", &call->h_n, HiddenFloats(s), args[at + 4]);
  if (call->c_n) call->borrowed.Out("cN", &call->c_n, CellFloats(s), args[at + 5]);
  call->what = Describe(s, "prepared forward");
  call->bytes = rnnkit::forward_memory_bytes(s, *call->layer);
  const size_t copies = async ? call->borrowed.Bytes() : 0;
  if (!CheckMemory(info.Env(), call->what, rnnkit::checked_sum(call->bytes, copies))) return nullptr;
  return call;
}

// checkPreparedMemory(layer, steps, batch, extraBytes): a RangeError when a preparedForward of
// this size, with extraBytes more (its results), would need more than the memory limit.
Napi::Value CheckPreparedMemory(const Napi::CallbackInfo& info) {
  const Args args(info, "checkPreparedMemory");
  PreparedHandle* handle = nullptr;
  double extra = 0;
  if (!args.Count(4) || !ToPreparedLayer(args, 0, &handle)) return info.Env().Undefined();
  rnnkit::SeqShape s = handle->sizes;
  if (!args.Size(1, "steps", &s.steps) || !args.Size(2, "batch", &s.batch) || !CheckShape(args, s) ||
      !args.Number(3, "extraBytes", &extra)) {
    return info.Env().Undefined();
  }
  const size_t extra_bytes = extra >= 1.8e19 ? SIZE_MAX : extra > 0 ? static_cast<size_t>(extra) : 0;
  CheckMemory(info.Env(), Describe(s, "prepared forward"),
              rnnkit::checked_sum(rnnkit::forward_memory_bytes(s, *handle->layer), extra_bytes));
  return info.Env().Undefined();
}

Napi::Value PreparedForward(const Napi::CallbackInfo& info) {
  return Export<ParseForward>(info, "preparedForward", false);
}
Napi::Value PreparedForwardAsync(const Napi::CallbackInfo& info) {
  return Export<ParseForward>(info, "preparedForwardAsync", true);
}

// preparedStep(layer, batch, input [B, I], h [B, S], c [B, H] (LSTM) | null): one time step with the
// state updated in place — a stream's hot path: no option objects to read, nothing allocated here.
Napi::Value PreparedStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args args(info, "preparedStep");
  PreparedHandle* handle = nullptr;
  if (!args.Count(5) || !ToPreparedLayer(args, 0, &handle)) return env.Undefined();
  rnnkit::SeqShape s = handle->sizes;
  s.steps = 1;
  float *input = nullptr, *h = nullptr, *c = nullptr;
  const bool has_c = s.traits().cell_state;
  if (!args.Size(1, "batch", &s.batch) || !CheckShape(args, s) || !args.Floats(2, "input", InputFloats(s), &input) ||
      !args.Floats(3, "h", HiddenFloats(s), &h) ||
      !(has_c ? args.Floats(4, "c", CellFloats(s), &c) : args.OptionalFloats(4, "c", 0, false, &c))) {
    return env.Undefined();
  }
  const std::string what = Describe(s, "prepared step");
  const size_t bytes = rnnkit::forward_memory_bytes(s, *handle->layer);
  if (CheckMemory(env, what, bytes) && !rnnkit::sequence_forward(s, *handle->layer, nullptr, h, c, input, h, c)) {
    OutOfMemory(env, what, bytes).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace

void ExportPrepared(Napi::Env env, Napi::Object exports) {
  exports.Set("prepareLayer", Napi::Function::New(env, PrepareLayer, "prepareLayer"));
  exports.Set("preparedForward", Napi::Function::New(env, PreparedForward, "preparedForward"));
  exports.Set("preparedForwardAsync", Napi::Function::New(env, PreparedForwardAsync, "preparedForwardAsync"));
  exports.Set("preparedStep", Napi::Function::New(env, PreparedStep, "preparedStep"));
  exports.Set("checkPreparedMemory", Napi::Function::New(env, CheckPreparedMemory, "checkPreparedMemory"));
}

}  // namespace rnnkit_binding
