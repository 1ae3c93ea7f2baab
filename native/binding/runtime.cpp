// Process-wide runtime controls: instruction set, thread count, and a raw sgemm for tests and
// benchmarks. The core's ISA choice and thread pool are shared by every worker_thread.
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
  if (!CheckArgCount(info, 0, 0, "isa")) return info.Env().Undefined();
  return Napi::String::New(info.Env(), rnnkit::active_isa());
}

Napi::Value AvailableIsas(const Napi::CallbackInfo& info) {
  if (!CheckArgCount(info, 0, 0, "availableIsas")) return info.Env().Undefined();
  const std::vector<std::string> names = AvailableIsaNames();
  Napi::Array array = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); i++) array.Set(static_cast<uint32_t>(i), names[i]);
  return array;
}

// setIsa(name): RangeError listing the available ones for an unknown/unsupported name.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  std::string name;
  if (!CheckArgCount(info, 1, 1, "setIsa") || !ToChoice(info[0], "isa", AvailableIsaNames(), &name)) {
    return info.Env().Undefined();
  }
  if (!rnnkit::set_isa(name.c_str())) ThrowRangeError(info.Env(), "Could not select isa " + name);
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int threads = 0;
  if (CheckArgCount(info, 1, 1, "setNumThreads") &&
      ToIntInRange(info[0], "threads", 1, kMaxThreads, &threads)) {
    rnnkit::set_num_threads(threads);
  }
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  if (!CheckArgCount(info, 0, 0, "getNumThreads")) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), rnnkit::num_threads());
}

// Reads opts[key] as a Float32Array holding a rows×cols matrix.
bool GetMatrix(Napi::Object opts, const char* key, std::pair<const char*, int> rows,
               std::pair<const char*, int> cols, FloatView* view) {
  Napi::Value v;
  const Dims dims = {{rows.first, rows.second}, {cols.first, cols.second}};
  return GetProperty(opts, key, &v) && ToFloat32(v, key, dims, view);
}

// sgemm({m, n, k, a, b, c, transA?, transB?, accumulate?}): c[m,n] (+)= op(a)[m,k] · op(b)[k,n],
// contiguous row-major; a is [k,m] when transA, b is [n,k] when transB.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts;
  Napi::Value v;
  int m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false, accumulate = false;
  if (!CheckArgCount(info, 1, 1, "sgemm") || !ToObject(info[0], "opts", &opts) ||
      !GetProperty(opts, "m", &v) || !ToIntInRange(v, "m", 1, INT_MAX, &m) ||
      !GetProperty(opts, "n", &v) || !ToIntInRange(v, "n", 1, INT_MAX, &n) ||
      !GetProperty(opts, "k", &v) || !ToIntInRange(v, "k", 1, INT_MAX, &k) ||
      !GetProperty(opts, "transA", &v) || !ToOptionalBool(v, "transA", false, &trans_a) ||
      !GetProperty(opts, "transB", &v) || !ToOptionalBool(v, "transB", false, &trans_b) ||
      !GetProperty(opts, "accumulate", &v) || !ToOptionalBool(v, "accumulate", false, &accumulate)) {
    return env.Undefined();
  }
  FloatView a, b, c;
  const std::pair<const char*, int> M{"m", m}, N{"n", n}, K{"k", k};
  if (!GetMatrix(opts, "a", trans_a ? K : M, trans_a ? M : K, &a) ||
      !GetMatrix(opts, "b", trans_b ? N : K, trans_b ? K : N, &b) || !GetMatrix(opts, "c", M, N, &c)) {
    return env.Undefined();
  }
  using rnnkit::Trans;
  rnnkit::sgemm(trans_a ? Trans::Yes : Trans::No, trans_b ? Trans::Yes : Trans::No, m, n, k, a.data,
                trans_a ? m : k, b.data, trans_b ? k : n, c.data, n, accumulate);
  return env.Undefined();
}

Napi::Value PendingJobs(const Napi::CallbackInfo& info) {
  if (!CheckArgCount(info, 0, 0, "pendingJobs")) return info.Env().Undefined();
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
