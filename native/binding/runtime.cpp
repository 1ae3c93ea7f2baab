// Process-wide runtime controls: instruction set, thread count, and a raw sgemm for tests and
// benchmarks. The core's ISA choice and thread pool are shared by every worker_thread; every core
// call reads the ISA once, so changing it never affects a call already running.
#include <climits>
#include <string>
#include <vector>

#include "addon.h"
#include "args.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit_binding {
namespace {

constexpr int kMaxThreads = 1024;

std::vector<std::string> AvailableIsaNames() {
  const char* names[8] = {};
  const int count = rnnkit::available_isas(names);
  return std::vector<std::string>(names, names + count);
}

Napi::Value Isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), rnnkit::active_isa());
}

Napi::Value AvailableIsas(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = AvailableIsaNames();
  Napi::Array array = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); i++) array.Set(static_cast<uint32_t>(i), names[i]);
  return array;
}

// setIsa(name): one of availableIsas().
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  const Args args(info, "setIsa");
  if (!args.Count(1)) return info.Env().Undefined();
  if (!info[0].IsString()) {
    args.TypeError("isa", "a string");
  } else if (!rnnkit::set_isa(info[0].As<Napi::String>().Utf8Value().c_str())) {
    args.RangeError("isa", "one of availableIsas()");
  }
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const Args args(info, "setNumThreads");
  int threads = 0;
  if (args.Count(1) && args.Int(0, "threads", 1, kMaxThreads, &threads)) rnnkit::set_num_threads(threads);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), rnnkit::num_threads());
}

// sgemm(m, n, k, a, b, c, transA, transB, accumulate): c[m,n] (+)= op(a)[m,k] · op(b)[k,n],
// contiguous row-major; a is [k,m] when transA, b is [n,k] when transB.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args args(info, "sgemm");
  int m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false, accumulate = false;
  float *a = nullptr, *b = nullptr, *c = nullptr;
  if (!args.Count(9) || !args.Size(0, "m", &m) || !args.Size(1, "n", &n) || !args.Size(2, "k", &k) ||
      !args.Bool(6, "transA", &trans_a) || !args.Bool(7, "transB", &trans_b) || !args.Bool(8, "accumulate", &accumulate) ||
      !args.Floats(3, "a", rnnkit::checked_product({size_t(m), size_t(k)}), &a) ||
      !args.Floats(4, "b", rnnkit::checked_product({size_t(k), size_t(n)}), &b) ||
      !args.Floats(5, "c", rnnkit::checked_product({size_t(m), size_t(n)}), &c)) {
    return env.Undefined();
  }
  using rnnkit::Trans;
  if (!rnnkit::sgemm(trans_a ? Trans::Yes : Trans::No, trans_b ? Trans::Yes : Trans::No, m, n, k, a, trans_a ? m : k,
                     b, trans_b ? k : n, c, n, accumulate)) {
    ThrowRangeError(env, "sgemm could not allocate its packing memory");
  }
  return env.Undefined();
}

// sgemmBatched(batch, m, n, k, a, b, c, transA, transB, accumulate): `batch` contiguous sgemm
// problems (a [batch][m·k], b [batch][k·n], c [batch][m·n]), each as sgemm lays it out.
Napi::Value SgemmBatched(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args args(info, "sgemmBatched");
  int batch = 0, m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false, accumulate = false;
  float *a = nullptr, *b = nullptr, *c = nullptr;
  if (!args.Count(10) || !args.Size(0, "batch", &batch) || !args.Size(1, "m", &m) || !args.Size(2, "n", &n) ||
      !args.Size(3, "k", &k) || !args.Bool(7, "transA", &trans_a) || !args.Bool(8, "transB", &trans_b) ||
      !args.Bool(9, "accumulate", &accumulate) ||
      !args.Floats(4, "a", rnnkit::checked_product({size_t(batch), size_t(m), size_t(k)}), &a) ||
      !args.Floats(5, "b", rnnkit::checked_product({size_t(batch), size_t(k), size_t(n)}), &b) ||
      !args.Floats(6, "c", rnnkit::checked_product({size_t(batch), size_t(m), size_t(n)}), &c)) {
    return env.Undefined();
  }
  using rnnkit::Trans;
  if (!rnnkit::sgemm_batched(trans_a ? Trans::Yes : Trans::No, trans_b ? Trans::Yes : Trans::No, batch, m, n, k, a, b, c,
                             accumulate)) {
    ThrowRangeError(env, "sgemmBatched could not allocate its packing memory");
  }
  return env.Undefined();
}

// tanh(x, y): y = tanh(x), the same length (y may be x).
Napi::Value Tanh(const Napi::CallbackInfo& info) {
  const Args args(info, "tanh");
  FloatArray x;
  float* y = nullptr;
  if (!args.Count(2) || !args.AnyFloats(0, "x", &x) || !args.Floats(1, "y", x.length, &y)) return info.Env().Undefined();
  rnnkit::tanh_array(y, x.data, x.length);
  return info.Env().Undefined();
}

Napi::Value PendingJobs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), GetAddonData(info.Env()).jobs_in_flight);
}

}  // namespace

void ExportRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  exports.Set("availableIsas", Napi::Function::New(env, AvailableIsas, "availableIsas"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("sgemmBatched", Napi::Function::New(env, SgemmBatched, "sgemmBatched"));
  exports.Set("tanh", Napi::Function::New(env, Tanh, "tanh"));
  exports.Set("pendingJobs", Napi::Function::New(env, PendingJobs, "pendingJobs"));
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("napi", NAPI_VERSION);  // the N-API version this binary was compiled against
#if defined(__clang__)
  versions.Set("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  versions.Set("compiler", "gcc " __VERSION__);
#elif defined(_MSC_VER)
  versions.Set("compiler", "msvc " + std::to_string(_MSC_VER));
#endif
  exports.Set("versions", versions);
}

}  // namespace rnnkit_binding
