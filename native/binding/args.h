// Terse argument checks: the binding's memory-safety net. TypeScript (src/) validates every public
// call first and words the errors for people; these checks only make sure that no call, however
// malformed (the binding is reachable through loadBinding()), can touch memory outside what it was
// given. Their messages name the function, the argument and what it must be, nothing more.
//
// Arguments are positional numbers, booleans and typed arrays: reading them runs no JavaScript (no
// getters, no valueOf), so nothing can detach or resize an array between its check and its use.
//
// Convention: a check returns false after throwing (the caller returns at once).
#pragma once

#include <napi.h>

#include <climits>
#include <cstddef>
#include <string>
#include <vector>

namespace rnnkit_binding {

bool ThrowTypeError(Napi::Env env, const std::string& message);   // always false
bool ThrowRangeError(Napi::Env env, const std::string& message);  // always false

// A Float32Array's memory and length, read from its internal slots (not from JS properties).
struct FloatArray {
  float* data = nullptr;
  size_t length = 0;
};
// Whether `value` is a Float32Array; fills *out (a detached one has length 0).
bool AsFloatArray(Napi::Value value, FloatArray* out);

// The arguments of one call of function `fn`.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  Napi::Env Env() const { return info_.Env(); }
  Napi::Value operator[](size_t i) const { return info_[i]; }
  const char* Function() const { return fn_; }

  bool Count(size_t count) const;  // exactly `count` arguments
  bool Int(size_t i, const char* name, long long lo, long long hi, int* out) const;
  bool Size(size_t i, const char* name, int* out) const { return Int(i, name, 1, INT_MAX, out); }
  bool Bool(size_t i, const char* name, bool* out) const;
  bool Number(size_t i, const char* name, double* out) const;
  // A Float32Array of exactly `length` floats.
  bool Floats(size_t i, const char* name, size_t length, float** out) const;
  // The same, or null/undefined (then *out = nullptr); when !allowed it must be null/undefined.
  bool OptionalFloats(size_t i, const char* name, size_t length, bool allowed, float** out) const;
  // A Float32Array of any length.
  bool AnyFloats(size_t i, const char* name, FloatArray* out) const;
  // An Int32Array of `count` values, each in [lo, hi], copied.
  bool Ints(size_t i, const char* name, size_t count, int lo, int hi, std::vector<int>* out) const;

  bool TypeError(const std::string& name, const std::string& expected) const;
  bool RangeError(const std::string& name, const std::string& expected) const;

 private:
  const Napi::CallbackInfo& info_;
  const char* fn_;
};

bool IsNullish(Napi::Value value);

}  // namespace rnnkit_binding
