// sequenceForward / sequenceBackward (sync and async), cacheSize and releaseCache. Arguments are
// positional (see sequence_args.h); the training cache is an opaque handle over core memory, so
// JavaScript can neither change it nor free it under a running backward.
//
//   sequenceForward(<layer: 15 args>, input, h0, c0, training)
//     → {output [T,B,S], hN [B,S], cN [B,H] (LSTM only), cache: handle | null}
//   sequenceBackward(<layer: 15 args>, input, cache, <grads: 5 args | 5 nulls>, dOutput, dhN, dcN, inputGrad)
//     → {dInput [T,B,I] | null, dh0 [B,S], dc0 [B,H] (LSTM only), grads: {weightIh…} | null}
//     given grads are accumulated in place (+=); null grads give fresh ones in the result.
// where <layer> = cell, inputSize, hiddenSize, projSize, steps, batch, reverse, lengths,
//                 weightIh, weightHh, biasIh, biasHh, weightHr, inputMask, recurrentMask
// (the masks: variational dropout, [B, I] and [B, S] or null; backward takes the forward's).
#include <cstring>
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

constexpr size_t kLayerArgs = kLayerSizeArgs + kCallSizeArgs + kWeightArgs + kMaskArgs;

// Marks Externals made by sequenceForward, so sequenceBackward never trusts another External.
constexpr napi_type_tag kCacheTag = {0x3b9e5c0d7a214f66ULL, 0x91c4e2b85f7a0d13ULL};

struct CacheHandle {
  rnnkit::SeqShape shape;  // lengths and masks not kept (they change the numbers, not the memory)
  bool recurrent_masked;   // whether the forward had a recurrent mask (that does change the layout)
  Memory memory;           // null once released
  int64_t bytes;
};

bool SameLayout(const CacheHandle& cache, const rnnkit::SeqShape& b) {
  const rnnkit::SeqShape& a = cache.shape;
  return a.cell == b.cell && a.steps == b.steps && a.batch == b.batch && a.input == b.input &&
         a.hidden == b.hidden && a.proj == b.proj && a.reverse == b.reverse &&
         cache.recurrent_masked == (b.recurrent_mask != nullptr);
}

Napi::Value NewCache(Napi::Env env, const rnnkit::SeqShape& shape, Memory memory) {
  rnnkit::SeqShape kept = shape;
  kept.lengths = nullptr;
  kept.input_mask = kept.recurrent_mask = nullptr;
  auto* handle = new CacheHandle{kept, shape.recurrent_mask != nullptr, std::move(memory), 0};
  handle->bytes = static_cast<int64_t>(handle->memory->bytes);
  Napi::External<CacheHandle> external =
      Napi::External<CacheHandle>::New(env, handle, [](Napi::Env finalizer_env, CacheHandle* h) {
        if (h->memory) Napi::MemoryManagement::AdjustExternalMemory(finalizer_env, -h->bytes);
        delete h;
      });
  if (napi_type_tag_object(env, external, &kCacheTag) != napi_ok) return env.Undefined();
  Napi::MemoryManagement::AdjustExternalMemory(env, handle->bytes);
  return external;
}

// The cache handle at argument i, made by a forward with the same layout; false if not.
bool ToCache(const Args& args, size_t i, const rnnkit::SeqShape& shape, CacheHandle** out) {
  const Napi::Value v = args[i];
  bool tagged = false;
  if (v.IsExternal()) napi_check_object_type_tag(args.Env(), v, &kCacheTag, &tagged);
  if (!tagged) return args.TypeError("cache", "the cache of a training-mode sequenceForward");
  CacheHandle* handle = v.As<Napi::External<CacheHandle>>().Data();
  if (!handle->memory) return args.TypeError("cache", "a cache that was not released");
  if (!SameLayout(*handle, shape)) return args.RangeError("cache", "the cache of a forward with these sizes");
  *out = handle;
  return true;
}

// The layer arguments every sequence export starts with.
bool ParseLayer(const Args& args, rnnkit::SeqShape* s, std::vector<int>* lengths, rnnkit::SeqWeights* w,
                Borrowed* borrowed) {
  if (!ParseLayerSizes(args, 0, s)) return false;
  if (!ParseCallSizes(args, kLayerSizeArgs, s, lengths) || !CheckShape(args, *s)) return false;
  return ParseWeights(args, kLayerSizeArgs + kCallSizeArgs, *s, w, borrowed) &&
         ParseMasks(args, kLayerSizeArgs + kCallSizeArgs + kWeightArgs, s, borrowed);
}

class ForwardCall : public Call {
 public:
  rnnkit::SeqShape shape;
  std::vector<int> lengths;
  rnnkit::SeqWeights weights;
  const float *x = nullptr, *h0 = nullptr, *c0 = nullptr;
  Memory y, h_n, c_n, cache;

  bool Run() override {
    return rnnkit::sequence_forward(shape, weights, y->data, h_n->data, c_n ? c_n->data : nullptr, x, h0, c0,
                                    cache ? cache->data : nullptr);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("output", NewFloat32Array(env, y, OutputFloats(shape)));
    result.Set("hN", NewFloat32Array(env, h_n, HiddenFloats(shape)));
    if (c_n) result.Set("cN", NewFloat32Array(env, c_n, CellFloats(shape)));
    result.Set("cache", cache ? NewCache(env, shape, cache) : env.Null());
    return result;
  }
};

std::shared_ptr<Call> ParseForward(const Napi::CallbackInfo& info, const char* name, bool async) {
  const Args args(info, name);
  auto call = std::make_shared<ForwardCall>();
  rnnkit::SeqShape& s = call->shape;
  bool training = false;
  float *x = nullptr, *h0 = nullptr, *c0 = nullptr;
  if (!args.Count(kLayerArgs + 4) || !ParseLayer(args, &s, &call->lengths, &call->weights, &call->borrowed) ||
      !args.Floats(kLayerArgs, "input", InputFloats(s), &x) ||
      !args.OptionalFloats(kLayerArgs + 1, "h0", HiddenFloats(s), true, &h0) ||
      !args.OptionalFloats(kLayerArgs + 2, "c0", CellFloats(s), s.cell == Cell::Lstm, &c0) ||
      !args.Bool(kLayerArgs + 3, "training", &training)) {
    return nullptr;
  }
  call->x = x;
  call->h0 = h0;
  call->c0 = c0;
  call->borrowed.In(&call->x, InputFloats(s));
  call->borrowed.In(&call->h0, HiddenFloats(s));
  call->borrowed.In(&call->c0, CellFloats(s));
  const bool lstm = s.cell == Cell::Lstm;
  const size_t cache_floats = training ? rnnkit::cache_size(s) : 0;
  call->what = Describe(s, "forward");
  call->bytes = rnnkit::forward_memory_bytes(s, training);
  const size_t results = FloatBytes({OutputFloats(s), HiddenFloats(s), lstm ? CellFloats(s) : 0, cache_floats});
  const size_t copies = async ? call->borrowed.Bytes() : 0;
  if (!CheckMemory(info.Env(), call->what, rnnkit::checked_sum(rnnkit::checked_sum(results, call->bytes), copies))) {
    return nullptr;
  }
  call->y = NewResult(OutputFloats(s));
  call->h_n = NewResult(HiddenFloats(s));
  if (lstm) call->c_n = NewResult(CellFloats(s));
  if (training) call->cache = NewResult(cache_floats);
  if (!call->y || !call->h_n || (lstm && !call->c_n) || (training && !call->cache)) {
    OutOfMemory(info.Env(), call->what, results).ThrowAsJavaScriptException();
    return nullptr;
  }
  return call;
}

class BackwardCall : public Call {
 public:
  rnnkit::SeqShape shape;
  std::vector<int> lengths;
  rnnkit::SeqWeights weights;
  rnnkit::SeqGrads grads;
  Memory fresh_grads[kWeightArgs];  // when the caller passed no grads
  const float *x = nullptr, *dy = nullptr, *dh_n = nullptr, *dc_n = nullptr;
  Memory cache, dx, dh0, dc0;

  bool Run() override {
    for (int i = 0; i < int(kWeightArgs); ++i) {
      if (fresh_grads[i]) std::memset(fresh_grads[i]->data, 0, WeightFloats(shape, i) * sizeof(float));
    }
    return rnnkit::sequence_backward(shape, weights, grads, dx ? dx->data : nullptr, dh0->data,
                                     dc0 ? dc0->data : nullptr, dy, dh_n, dc_n, x, cache->data);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("dInput", dx ? NewFloat32Array(env, dx, InputFloats(shape)) : env.Null());
    result.Set("dh0", NewFloat32Array(env, dh0, HiddenFloats(shape)));
    if (dc0) result.Set("dc0", NewFloat32Array(env, dc0, CellFloats(shape)));
    if (!fresh_grads[0]) {
      result.Set("grads", env.Null());
      return result;
    }
    static const char* const kNames[] = {"weightIh", "weightHh", "biasIh", "biasHh", "weightHr"};
    Napi::Object g = Napi::Object::New(env);
    for (int i = 0; i < int(kWeightArgs); ++i) {
      g.Set(kNames[i], fresh_grads[i] ? NewFloat32Array(env, fresh_grads[i], WeightFloats(shape, i)) : env.Null());
    }
    result.Set("grads", g);
    return result;
  }
};

// The gradient arrays at argument `first`: five arrays shaped like the weights (accumulated in
// place), or five nulls (fresh gradients are returned).
bool ParseGrads(const Args& args, size_t first, BackwardCall* call) {
  static const char* const kNames[] = {"gradWeightIh", "gradWeightHh", "gradBiasIh", "gradBiasHh", "gradWeightHr"};
  float** slots[] = {&call->grads.w_ih, &call->grads.w_hh, &call->grads.b_ih, &call->grads.b_hh, &call->grads.w_hr};
  const rnnkit::SeqWeights& w = call->weights;
  const bool present[] = {true, true, w.b_ih != nullptr, w.b_hh != nullptr, w.w_hr != nullptr};
  const bool fresh = IsNullish(args[first]);
  for (int i = 0; i < int(kWeightArgs); ++i) {
    const size_t floats = WeightFloats(call->shape, i);
    if (fresh) {
      if (!args.OptionalFloats(first + i, kNames[i], 0, false, slots[i])) return false;
      if (!present[i]) continue;
      call->fresh_grads[i] = NewResult(floats);
      if (!call->fresh_grads[i]) {
        OutOfMemory(args.Env(), call->what, floats * sizeof(float)).ThrowAsJavaScriptException();
        return false;
      }
      *slots[i] = call->fresh_grads[i]->data;
      continue;
    }
    const bool ok = present[i] ? args.Floats(first + i, kNames[i], floats, slots[i])
                               : args.OptionalFloats(first + i, kNames[i], 0, false, slots[i]);
    if (!ok) return false;
    if (present[i]) call->borrowed.InOut(kNames[i], slots[i], floats, args[first + i]);
  }
  return true;
}

std::shared_ptr<Call> ParseBackward(const Napi::CallbackInfo& info, const char* name, bool async) {
  const Args args(info, name);
  auto call = std::make_shared<BackwardCall>();
  rnnkit::SeqShape& s = call->shape;
  const size_t at = kLayerArgs;  // input, cache, grads ×5, dOutput, dhN, dcN, inputGrad
  CacheHandle* cache = nullptr;
  float *x = nullptr, *dy = nullptr, *dh_n = nullptr, *dc_n = nullptr;
  bool input_grad = true;
  if (!args.Count(kLayerArgs + 11) || !ParseLayer(args, &s, &call->lengths, &call->weights, &call->borrowed) ||
      !args.Floats(at, "input", InputFloats(s), &x) || !ToCache(args, at + 1, s, &cache) ||
      !args.OptionalFloats(at + 7, "dOutput", OutputFloats(s), true, &dy) ||
      !args.OptionalFloats(at + 8, "dhN", HiddenFloats(s), true, &dh_n) ||
      !args.OptionalFloats(at + 9, "dcN", CellFloats(s), s.cell == Cell::Lstm, &dc_n) ||
      !args.Bool(at + 10, "inputGrad", &input_grad)) {
    return nullptr;
  }
  call->cache = cache->memory;  // the call's own reference: releaseCache meanwhile can not free it
  call->x = x;
  call->dy = dy;
  call->dh_n = dh_n;
  call->dc_n = dc_n;
  call->borrowed.In(&call->x, InputFloats(s));
  call->borrowed.In(&call->dy, OutputFloats(s));
  call->borrowed.In(&call->dh_n, HiddenFloats(s));
  call->borrowed.In(&call->dc_n, CellFloats(s));
  call->what = Describe(s, "backward");
  call->bytes = rnnkit::backward_memory_bytes(s);
  const bool fresh = IsNullish(args[at + 2]);
  size_t grad_floats = 0;
  for (int i = 0; fresh && i < int(kWeightArgs); ++i) grad_floats = rnnkit::checked_sum(grad_floats, WeightFloats(s, i));
  const bool has_c = s.cell == Cell::Lstm;
  const size_t results = FloatBytes({input_grad ? InputFloats(s) : 0, HiddenFloats(s), has_c ? CellFloats(s) : 0, grad_floats});
  // Checked before the gradients are parsed (fresh ones are allocated there); their copies, if
  // async, are counted with the other borrowed arrays (at most the weights' size again).
  const size_t copies = async ? rnnkit::checked_sum(call->borrowed.Bytes(), fresh ? 0 : FloatBytes({grad_floats})) : 0;
  if (!CheckMemory(info.Env(), call->what, rnnkit::checked_sum(rnnkit::checked_sum(results, call->bytes), copies)) ||
      !ParseGrads(args, at + 2, call.get())) {
    return nullptr;
  }
  if (input_grad) call->dx = NewResult(InputFloats(s));
  call->dh0 = NewResult(HiddenFloats(s));
  if (has_c) call->dc0 = NewResult(CellFloats(s));
  if ((input_grad && !call->dx) || !call->dh0 || (has_c && !call->dc0)) {
    OutOfMemory(info.Env(), call->what, results).ThrowAsJavaScriptException();
    return nullptr;
  }
  return call;
}

Napi::Value SequenceForward(const Napi::CallbackInfo& info) {
  return Export<ParseForward>(info, "sequenceForward", false);
}
Napi::Value SequenceForwardAsync(const Napi::CallbackInfo& info) {
  return Export<ParseForward>(info, "sequenceForwardAsync", true);
}
Napi::Value SequenceBackward(const Napi::CallbackInfo& info) {
  return Export<ParseBackward>(info, "sequenceBackward", false);
}
Napi::Value SequenceBackwardAsync(const Napi::CallbackInfo& info) {
  return Export<ParseBackward>(info, "sequenceBackwardAsync", true);
}

// cacheSize(cell, inputSize, hiddenSize, projSize, steps, batch, recurrentMask) → floats of the
// training cache (recurrentMask: boolean, whether the forward has one).
Napi::Value CacheSize(const Napi::CallbackInfo& info) {
  const Args args(info, "cacheSize");
  rnnkit::SeqShape s;
  bool masked = false;
  if (!args.Count(kLayerSizeArgs + 3) || !ParseLayerSizes(args, 0, &s) || !args.Size(kLayerSizeArgs, "steps", &s.steps) ||
      !args.Size(kLayerSizeArgs + 1, "batch", &s.batch) || !args.Bool(kLayerSizeArgs + 2, "recurrentMask", &masked) ||
      !CheckShape(args, s)) {
    return info.Env().Undefined();
  }
  static const float kPresent = 1.0f;  // only whether there is a mask sizes the cache, not its values
  if (masked) s.recurrent_mask = &kPresent;
  return Napi::Number::New(info.Env(), static_cast<double>(rnnkit::cache_size(s)));
}

// releaseCache(cache): its memory goes back to the core's cache now (a running backward keeps its
// own reference); the handle can not be used again.
Napi::Value ReleaseCache(const Napi::CallbackInfo& info) {
  const Args args(info, "releaseCache");
  bool tagged = false;
  if (!args.Count(1)) return info.Env().Undefined();
  if (info[0].IsExternal()) napi_check_object_type_tag(info.Env(), info[0], &kCacheTag, &tagged);
  if (!tagged) {
    args.TypeError("cache", "the cache of a training-mode sequenceForward");
    return info.Env().Undefined();
  }
  CacheHandle* handle = info[0].As<Napi::External<CacheHandle>>().Data();
  if (handle->memory) {
    handle->memory.reset();
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -handle->bytes);
  }
  return info.Env().Undefined();
}

}  // namespace

void ExportSequence(Napi::Env env, Napi::Object exports) {
  exports.Set("sequenceForward", Napi::Function::New(env, SequenceForward, "sequenceForward"));
  exports.Set("sequenceForwardAsync", Napi::Function::New(env, SequenceForwardAsync, "sequenceForwardAsync"));
  exports.Set("sequenceBackward", Napi::Function::New(env, SequenceBackward, "sequenceBackward"));
  exports.Set("sequenceBackwardAsync", Napi::Function::New(env, SequenceBackwardAsync, "sequenceBackwardAsync"));
  exports.Set("cacheSize", Napi::Function::New(env, CacheSize, "cacheSize"));
  exports.Set("releaseCache", Napi::Function::New(env, ReleaseCache, "releaseCache"));
}

}  // namespace rnnkit_binding
