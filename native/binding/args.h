// Argument validation for the binding. Every message here has a twin in src/validate.ts with the
// same words; test/validation.test.ts runs each bad input through both and compares.
//
// Convention: a getter returns false after throwing (a JS exception is then pending and the caller
// returns immediately). TypeError = wrong JS type or a value present/absent where it must not be;
// RangeError = right type, wrong value (non-integer, out of range, wrong length, unknown name).
#pragma once

#include <napi.h>

#include <climits>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace rnnkit_binding {

// "1.5 of type number", "undefined", "an Array of length 3", "a Float64Array of length 8", ...
std::string Describe(Napi::Value value);

bool ThrowTypeError(Napi::Env env, const std::string& message);   // always returns false
bool ThrowRangeError(Napi::Env env, const std::string& message);  // always returns false

bool IsNullish(Napi::Value value);

// "Expected 4 to 5 arguments for sequenceForward but received 3"
bool CheckArgCount(const Napi::CallbackInfo& info, size_t min, size_t max, const char* function);

// obj[key]; false if a getter threw.
bool GetProperty(Napi::Object obj, const char* key, Napi::Value* out);

// Required object: "Expected object for weights but received null".
bool ToObject(Napi::Value value, const std::string& name, Napi::Object* out);
// Optional object (undefined/null give an empty object).
bool ToOptionalObject(Napi::Value value, const std::string& name, Napi::Object* out);

// Integer in [lo, hi]. "Expected positive integer for steps …" when [1, INT_MAX], otherwise
// "Expected integer between lo and hi for name …". undefined gives `fallback` when allowed.
bool ToIntInRange(Napi::Value value, const std::string& name, int lo, int hi, int* out);
bool ToOptionalIntInRange(Napi::Value value, const std::string& name, int lo, int hi, int fallback,
                          int* out);

// Boolean, undefined = fallback: "Expected boolean for reverse but received 1 of type number".
bool ToOptionalBool(Napi::Value value, const std::string& name, bool fallback, bool* out);

// One of `choices`: TypeError if not a string, RangeError listing them otherwise.
bool ToChoice(Napi::Value value, const std::string& name, const std::vector<std::string>& choices,
              std::string* out);

// A zero-copy view of a Float32Array.
struct FloatView {
  float* data = nullptr;
  size_t length = 0;
};
// Named factors of an array's length, e.g. {{"steps", 5}, {"batch", 4}, {"inputSize", 6}}.
using Dims = std::vector<std::pair<const char*, long long>>;
size_t Count(const Dims& dims);          // saturates at SIZE_MAX (then no array can match)
std::string Formula(const Dims& dims);  // "steps·batch·inputSize = 5·4·6"

// A Float32Array of exactly Count(dims) floats: "Expected Float32Array of length 120 for input
// (steps·batch·inputSize = 5·4·6) but received length 119".
bool ToFloat32(Napi::Value value, const std::string& name, const Dims& dims, FloatView* out);
// The same with the expected length explained in words (`why`).
bool ToFloat32(Napi::Value value, const std::string& name, size_t expected, const char* why,
               FloatView* out);

// "Expected no weightHr because projSize is 0 but received a Float32Array of length 12".
bool ExpectAbsent(Napi::Value value, const std::string& name, const std::string& reason);

// Array or typed array of `count` integers each in [lo, hi], copied.
bool ToIntList(Napi::Value value, const std::string& name, size_t count, const std::string& count_name,
               int lo, int hi, std::vector<int>* out);

}  // namespace rnnkit_binding
