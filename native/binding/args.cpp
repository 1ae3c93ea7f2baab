// The binding's terse argument checks; see args.h.
#include "args.h"

#include <cmath>

namespace rnnkit_binding {

bool ThrowTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool ThrowRangeError(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool IsNullish(Napi::Value value) { return value.IsUndefined() || value.IsNull(); }

bool AsFloatArray(Napi::Value value, FloatArray* out) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!value.IsTypedArray() ||
      napi_get_typedarray_info(value.Env(), value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array) {
    return false;
  }
  out->data = data ? static_cast<float*>(data) : nullptr;
  out->length = data ? length : 0;  // a detached array has no memory: treat it as empty
  return true;
}

bool Args::TypeError(const std::string& name, const std::string& expected) const {
  return ThrowTypeError(Env(), std::string(fn_) + ": " + name + " must be " + expected);
}

bool Args::RangeError(const std::string& name, const std::string& expected) const {
  return ThrowRangeError(Env(), std::string(fn_) + ": " + name + " must be " + expected);
}

bool Args::Count(size_t count) const {
  if (info_.Length() == count) return true;
  return ThrowTypeError(Env(), std::string(fn_) + ": expected " + std::to_string(count) + " arguments, received " +
                                   std::to_string(info_.Length()));
}

bool Args::Int(size_t i, const char* name, long long lo, long long hi, int* out) const {
  const Napi::Value v = info_[i];
  const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!v.IsNumber()) return TypeError(name, range);
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!(x >= static_cast<double>(lo) && x <= static_cast<double>(hi)) || std::floor(x) != x) return RangeError(name, range);
  *out = static_cast<int>(x);
  return true;
}

bool Args::Bool(size_t i, const char* name, bool* out) const {
  const Napi::Value v = info_[i];
  if (!v.IsBoolean()) return TypeError(name, "a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool Args::Number(size_t i, const char* name, double* out) const {
  const Napi::Value v = info_[i];
  if (!v.IsNumber()) return TypeError(name, "a number");
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

bool Args::AnyFloats(size_t i, const char* name, FloatArray* out) const {
  if (!AsFloatArray(info_[i], out)) return TypeError(name, "a Float32Array");
  return true;
}

bool Args::Floats(size_t i, const char* name, size_t length, float** out) const {
  FloatArray array;
  if (!AnyFloats(i, name, &array)) return false;
  if (array.length != length) {
    return RangeError(name, "a Float32Array of " + std::to_string(length) + " floats (received " +
                                std::to_string(array.length) + ")");
  }
  *out = array.data;
  return true;
}

bool Args::OptionalFloats(size_t i, const char* name, size_t length, bool allowed, float** out) const {
  *out = nullptr;
  if (IsNullish(info_[i])) return true;
  if (!allowed) return TypeError(name, "null here");
  return Floats(i, name, length, out);
}

bool Args::Ints(size_t i, const char* name, size_t count, int lo, int hi, std::vector<int>* out) const {
  const Napi::Value v = info_[i];
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  const std::string expected = "an Int32Array of " + std::to_string(count) + " integers in [" + std::to_string(lo) +
                               ", " + std::to_string(hi) + "]";
  if (!v.IsTypedArray() || napi_get_typedarray_info(Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array) {
    return TypeError(name, expected);
  }
  if (!data || length != count) return RangeError(name, expected);
  const int* values = static_cast<const int*>(data);
  out->assign(values, values + count);
  for (int x : *out) {
    if (x < lo || x > hi) return RangeError(name, expected);
  }
  return true;
}

}  // namespace rnnkit_binding
