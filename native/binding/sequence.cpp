// sequenceForward / sequenceBackward (sync and async), cacheSize and releaseCache. Arguments are
// positional (see sequence_args.h); results go into arrays the caller allocated; the training cache
// is an opaque handle over core memory, so JavaScript can neither change it nor free it under a
// running backward.
//
//   sequenceForward(<layer: 15 args>, input, h0, c0, output [T,B,S], hN [B,S], cN [B,H] | null, training)
//     → cache handle | null (inference)                                   cN: LSTM only
//   sequenceBackward(<layer: 15 args>, input, cache, <grads: 5 args>, dOutput, dhN, dcN,
//                    dInput [T,B,I] | null, dh0 [B,S], dc0 [B,H] | null, consume)
//     → undefined; grads accumulated in place (+=); dInput null skips its GEMM; consume: the cache
//       is released by this call and its memory serves as working memory
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

// The handle no longer holds the memory (a call that still uses it holds its own reference).
void Release(Napi::Env env, CacheHandle* handle) {
  if (!handle->memory) return;
  handle->memory.reset();
  Napi::MemoryManagement::AdjustExternalMemory(env, -handle->bytes);
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
  float *y = nullptr, *h_n = nullptr, *c_n = nullptr;
  Memory cache;

  bool Run() override { return rnnkit::sequence_forward(shape, weights, y, h_n, c_n, x, h0, c0, cache ? cache->data : nullptr); }

  Napi::Value Result(Napi::Env env) override { return cache ? NewCache(env, shape, cache) : env.Null(); }
};

std::shared_ptr<Call> ParseForward(const Napi::CallbackInfo& info, const char* name, bool async) {
  const Args args(info, name);
  auto call = std::make_shared<ForwardCall>();
  rnnkit::SeqShape& s = call->shape;
  const size_t at = kLayerArgs;  // input, h0, c0, output, hN, cN, training
  bool training = false;
  if (!args.Count(kLayerArgs + 7) || !ParseLayer(args, &s, &call->lengths, &call->weights, &call->borrowed)) return nullptr;
  const bool has_c = s.traits().cell_state;
  float *x = nullptr, *h0 = nullptr, *c0 = nullptr;
  if (!args.Floats(at, "input", InputFloats(s), &x) || !args.OptionalFloats(at + 1, "h0", HiddenFloats(s), true, &h0) ||
      !args.OptionalFloats(at + 2, "c0", CellFloats(s), has_c, &c0) ||
      !args.Floats(at + 3, "output", OutputFloats(s), &call->y) || !args.Floats(at + 4, "hN", HiddenFloats(s), &call->h_n) ||
      !(has_c ? args.Floats(at + 5, "cN", CellFloats(s), &call->c_n) : args.OptionalFloats(at + 5, "cN", 0, false, &call->c_n)) ||
      !args.Bool(at + 6, "training", &training)) {
    return nullptr;
  }
  call->x = x;
  call->h0 = h0;
  call->c0 = c0;
  call->borrowed.In(&call->x, InputFloats(s));
  call->borrowed.In(&call->h0, HiddenFloats(s));
  call->borrowed.In(&call->c0, CellFloats(s));
  call->borrowed.Out("output", &call->y, OutputFloats(s), args[at + 3]);
  call->borrowed.Out("hN", &call->h_n, HiddenFloats(s), args[at + 4]);
  if (has_c) call->borrowed.Out("cN", &call->c_n, CellFloats(s), args[at + 5]);
  const size_t cache_bytes = training ? rnnkit::checked_product({rnnkit::cache_size(s), sizeof(float)}) : 0;
  call->what = Describe(s, "forward");
  call->bytes = rnnkit::forward_memory_bytes(s, training);
  const size_t copies = async ? call->borrowed.Bytes() : 0;
  if (!CheckMemory(info.Env(), call->what, rnnkit::checked_sum(rnnkit::checked_sum(cache_bytes, call->bytes), copies))) {
    return nullptr;
  }
  if (training) {
    call->cache = rnnkit::allocate_memory(cache_bytes);
    if (!call->cache) {
      OutOfMemory(info.Env(), call->what, cache_bytes).ThrowAsJavaScriptException();
      return nullptr;
    }
  }
  return call;
}

class BackwardCall : public Call {
 public:
  rnnkit::SeqShape shape;
  std::vector<int> lengths;
  rnnkit::SeqWeights weights;
  rnnkit::SeqGrads grads;
  const float *x = nullptr, *dy = nullptr, *dh_n = nullptr, *dc_n = nullptr;
  float *dx = nullptr, *dh0 = nullptr, *dc0 = nullptr;
  Memory cache;
  bool consume = false;

  bool Run() override {
    return rnnkit::sequence_backward(shape, weights, grads, dx, dh0, dc0, dy, dh_n, dc_n, x, cache->data, consume);
  }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
};

// The gradient arrays at argument `first`, shaped like the weights, accumulated in place.
bool ParseGrads(const Args& args, size_t first, BackwardCall* call) {
  static const char* const kNames[] = {"gradWeightIh", "gradWeightHh", "gradBiasIh", "gradBiasHh", "gradWeightHr"};
  float** slots[] = {&call->grads.w_ih, &call->grads.w_hh, &call->grads.b_ih, &call->grads.b_hh, &call->grads.w_hr};
  const rnnkit::SeqWeights& w = call->weights;
  const bool present[] = {true, true, w.b_ih != nullptr, w.b_hh != nullptr, w.w_hr != nullptr};
  for (int i = 0; i < int(kWeightArgs); ++i) {
    const size_t floats = WeightFloats(call->shape, i);
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
  // input, cache, grads ×5, dOutput, dhN, dcN, dInput, dh0, dc0
  const size_t at = kLayerArgs;
  CacheHandle* cache = nullptr;
  float *x = nullptr, *dy = nullptr, *dh_n = nullptr, *dc_n = nullptr;
  if (!args.Count(kLayerArgs + 14) || !ParseLayer(args, &s, &call->lengths, &call->weights, &call->borrowed)) return nullptr;
  const bool has_c = s.traits().cell_state;
  if (!args.Floats(at, "input", InputFloats(s), &x) || !ToCache(args, at + 1, s, &cache) || !ParseGrads(args, at + 2, call.get()) ||
      !args.OptionalFloats(at + 7, "dOutput", OutputFloats(s), true, &dy) ||
      !args.OptionalFloats(at + 8, "dhN", HiddenFloats(s), true, &dh_n) ||
      !args.OptionalFloats(at + 9, "dcN", CellFloats(s), has_c, &dc_n) ||
      !args.OptionalFloats(at + 10, "dInput", InputFloats(s), true, &call->dx) ||
      !args.Floats(at + 11, "dh0", HiddenFloats(s), &call->dh0) ||
      !(has_c ? args.Floats(at + 12, "dc0", CellFloats(s), &call->dc0) : args.OptionalFloats(at + 12, "dc0", 0, false, &call->dc0)) ||
      !args.Bool(at + 13, "consume", &call->consume)) {
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
  if (call->dx) call->borrowed.Out("dInput", &call->dx, InputFloats(s), args[at + 10]);
  call->borrowed.Out("dh0", &call->dh0, HiddenFloats(s), args[at + 11]);
  if (has_c) call->borrowed.Out("dc0", &call->dc0, CellFloats(s), args[at + 12]);
  call->what = Describe(s, "backward");
  call->bytes = rnnkit::backward_memory_bytes(s, call->consume);
  const size_t copies = async ? call->borrowed.Bytes() : 0;
  if (!CheckMemory(info.Env(), call->what, rnnkit::checked_sum(call->bytes, copies))) return nullptr;
  if (call->consume) Release(info.Env(), cache);
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

// Only whether there is a mask sizes memory, not its values: a stand-in for "some mask".
const float kSomeMask = 1.0f;

// cell, inputSize, hiddenSize, projSize, steps, batch: the sizes of a call without its arrays.
bool ParseCallShape(const Args& args, rnnkit::SeqShape* s) {
  return ParseLayerSizes(args, 0, s) && args.Size(kLayerSizeArgs, "steps", &s->steps) &&
         args.Size(kLayerSizeArgs + 1, "batch", &s->batch) && CheckShape(args, *s);
}

// A flag argument saying whether a call has a mask (it changes the memory, not its values).
bool ParseMaskFlag(const Args& args, size_t i, const char* name, const float** mask) {
  bool present = false;
  if (!args.Bool(i, name, &present)) return false;
  *mask = present ? &kSomeMask : nullptr;
  return true;
}

// cacheSize(cell, inputSize, hiddenSize, projSize, steps, batch, recurrentMask) → floats of the
// training cache (recurrentMask: boolean, whether the forward has one).
Napi::Value CacheSize(const Napi::CallbackInfo& info) {
  const Args args(info, "cacheSize");
  rnnkit::SeqShape s;
  if (!args.Count(kLayerSizeArgs + 3) || !ParseCallShape(args, &s) ||
      !ParseMaskFlag(args, kLayerSizeArgs + 2, "recurrentMask", &s.recurrent_mask)) {
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), static_cast<double>(rnnkit::cache_size(s)));
}

// checkSequenceMemory(cell, inputSize, hiddenSize, projSize, steps, batch, inputMask, recurrentMask,
// pass, extraBytes): a RangeError when the call `pass` (0 forward, 1 training forward, 2 backward,
// 3 backward consuming the cache), with or without masks, would need with extraBytes more (its
// result arrays, allocated by the caller first) more than the memory limit. Lets src/ refuse
// before it allocates results.
Napi::Value CheckSequenceMemory(const Napi::CallbackInfo& info) {
  const Args args(info, "checkSequenceMemory");
  rnnkit::SeqShape s;
  int pass = 0;
  double extra = 0;
  const size_t at = kLayerSizeArgs + 2;
  if (!args.Count(kLayerSizeArgs + 6) || !ParseCallShape(args, &s) || !ParseMaskFlag(args, at, "inputMask", &s.input_mask) ||
      !ParseMaskFlag(args, at + 1, "recurrentMask", &s.recurrent_mask) || !args.Int(at + 2, "pass", 0, 3, &pass) ||
      !args.Number(at + 3, "extraBytes", &extra)) {
    return info.Env().Undefined();
  }
  const size_t cache_bytes = pass == 1 ? rnnkit::checked_product({rnnkit::cache_size(s), sizeof(float)}) : 0;
  const size_t work = pass < 2 ? rnnkit::forward_memory_bytes(s, pass == 1) : rnnkit::backward_memory_bytes(s, pass == 3);
  const size_t extra_bytes = extra >= 1.8e19 ? SIZE_MAX : extra > 0 ? static_cast<size_t>(extra) : 0;
  CheckMemory(info.Env(), Describe(s, pass < 2 ? "forward" : "backward"),
              rnnkit::checked_sum(rnnkit::checked_sum(cache_bytes, work), extra_bytes));
  return info.Env().Undefined();
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
  Release(info.Env(), info[0].As<Napi::External<CacheHandle>>().Data());
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
  exports.Set("checkSequenceMemory", Napi::Function::New(env, CheckSequenceMemory, "checkSequenceMemory"));
}

}  // namespace rnnkit_binding
