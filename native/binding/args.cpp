// Argument validation for the binding; the wording matches src/validate.ts word for word.
#include "args.h"

#include <cmath>
#include <cstdint>

namespace rnnkit_binding {
namespace {

const char* TypedArrayName(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

// "an Int32Array", "a Float32Array", "a Uint8Array" (U sounds like "you").
std::string WithArticle(const std::string& noun) {
  const char first = noun.empty() ? 'x' : noun[0];
  const bool vowel = std::string("AEIOaeio").find(first) != std::string::npos;
  return (vowel ? "an " : "a ") + noun;
}

const char* PrimitiveTypeName(napi_valuetype type) {
  switch (type) {
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_bigint: return "bigint";
    default: return "symbol";
  }
}

}  // namespace

std::string Describe(Napi::Value value) {
  const napi_valuetype type = value.Type();
  switch (type) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_symbol: return "a value of type symbol";
    case napi_function: return "a function";
    case napi_boolean:
    case napi_number:
    case napi_string:
    case napi_bigint: {
      // JS String(value): the same text validate.ts prints (1.5, 1e+21, NaN, -Infinity).
      const Napi::String text = value.ToString();
      return text.Utf8Value() + " of type " + PrimitiveTypeName(type);
    }
    default: break;
  }
  if (value.IsArray()) {
    return "an Array of length " + std::to_string(value.As<Napi::Array>().Length());
  }
  if (value.IsTypedArray()) {
    const Napi::TypedArray array = value.As<Napi::TypedArray>();
    return WithArticle(TypedArrayName(array.TypedArrayType())) + " of length " +
           std::to_string(array.ElementLength());
  }
  if (value.IsArrayBuffer()) return "an ArrayBuffer";
  if (value.IsDataView()) return "a DataView";
  return "an object";
}

bool ThrowTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool ThrowRangeError(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool IsNullish(Napi::Value value) { return value.IsUndefined() || value.IsNull(); }

bool CheckArgCount(const Napi::CallbackInfo& info, size_t min, size_t max, const char* function) {
  if (info.Length() >= min && info.Length() <= max) return true;
  const std::string expected =
      min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
  const char* plural = max == 1 ? "" : "s";
  return ThrowTypeError(info.Env(), "Expected " + expected + " argument" + plural + " for " +
                                        function + " but received " + std::to_string(info.Length()));
}

bool GetProperty(Napi::Object obj, const char* key, Napi::Value* out) {
  *out = obj.Get(key);
  return !obj.Env().IsExceptionPending();
}

bool ToObject(Napi::Value value, const std::string& name, Napi::Object* out) {
  if (value.Type() != napi_object) {
    return ThrowTypeError(value.Env(),
                          "Expected object for " + name + " but received " + Describe(value));
  }
  *out = value.As<Napi::Object>();
  return true;
}

bool ToOptionalObject(Napi::Value value, const std::string& name, Napi::Object* out) {
  if (IsNullish(value)) {
    *out = Napi::Object::New(value.Env());
    return true;
  }
  return ToObject(value, name, out);
}

bool ToIntInRange(Napi::Value value, const std::string& name, int lo, int hi, int* out) {
  const bool is_number = value.IsNumber();
  const double number = is_number ? value.As<Napi::Number>().DoubleValue() : 0;
  if (is_number && std::floor(number) == number && number >= lo && number <= hi) {
    *out = static_cast<int>(number);
    return true;
  }
  // Messages are built only on failure: Describe() calls back into the engine.
  const std::string expected =
      lo == 1 && hi == INT_MAX
          ? "positive integer"
          : "integer between " + std::to_string(lo) + " and " + std::to_string(hi);
  const std::string message =
      "Expected " + expected + " for " + name + " but received " + Describe(value);
  return is_number ? ThrowRangeError(value.Env(), message) : ThrowTypeError(value.Env(), message);
}

bool ToOptionalIntInRange(Napi::Value value, const std::string& name, int lo, int hi, int fallback,
                          int* out) {
  if (value.IsUndefined()) {
    *out = fallback;
    return true;
  }
  return ToIntInRange(value, name, lo, hi, out);
}

bool ToOptionalBool(Napi::Value value, const std::string& name, bool fallback, bool* out) {
  if (value.IsUndefined()) {
    *out = fallback;
    return true;
  }
  if (!value.IsBoolean()) {
    return ThrowTypeError(value.Env(),
                          "Expected boolean for " + name + " but received " + Describe(value));
  }
  *out = value.As<Napi::Boolean>().Value();
  return true;
}

bool ToChoice(Napi::Value value, const std::string& name, const std::vector<std::string>& choices,
              std::string* out) {
  if (value.IsString()) {
    const std::string text = value.As<Napi::String>().Utf8Value();
    for (const std::string& choice : choices) {
      if (text == choice) {
        *out = text;
        return true;
      }
    }
  }
  std::string list;
  for (const std::string& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  const std::string message =
      "Expected one of " + list + " for " + name + " but received " + Describe(value);
  return value.IsString() ? ThrowRangeError(value.Env(), message)
                          : ThrowTypeError(value.Env(), message);
}

namespace {

// Type check only; *out gets the actual length.
bool ToAnyFloat32(Napi::Value value, const std::string& name, FloatView* out) {
  if (!value.IsTypedArray() ||
      value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    return ThrowTypeError(value.Env(),
                          "Expected Float32Array for " + name + " but received " + Describe(value));
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  // Data() already includes byteOffset; a Float32Array's offset is a multiple of 4, so `float*` is
  // properly aligned (but not to 16/32/64 bytes: the core uses unaligned loads on user memory).
  out->data = array.Data();
  out->length = array.ElementLength();
  return true;
}

bool ThrowLengthError(Napi::Value value, const std::string& name, size_t expected,
                      const std::string& why, size_t actual) {
  return ThrowRangeError(value.Env(), "Expected Float32Array of length " + std::to_string(expected) +
                                          " for " + name + " (" + why + ") but received length " +
                                          std::to_string(actual));
}

}  // namespace

bool ToFloat32(Napi::Value value, const std::string& name, size_t expected, const char* why,
               FloatView* out) {
  if (!ToAnyFloat32(value, name, out)) return false;
  return out->length == expected || ThrowLengthError(value, name, expected, why, out->length);
}

bool ToFloat32(Napi::Value value, const std::string& name, const Dims& dims, FloatView* out) {
  if (!ToAnyFloat32(value, name, out)) return false;
  const size_t expected = Count(dims);
  return out->length == expected ||
         ThrowLengthError(value, name, expected, Formula(dims), out->length);
}

bool ExpectAbsent(Napi::Value value, const std::string& name, const std::string& reason) {
  if (IsNullish(value)) return true;
  return ThrowTypeError(value.Env(), "Expected no " + name + " because " + reason +
                                         " but received " + Describe(value));
}

bool ToIntList(Napi::Value value, const std::string& name, size_t count, const std::string& count_name,
               int lo, int hi, std::vector<int>* out) {
  const bool typed = value.IsTypedArray();
  if (!value.IsArray() && !typed) {
    return ThrowTypeError(value.Env(), "Expected array of integers for " + name +
                                           " but received " + Describe(value));
  }
  const size_t length = typed ? value.As<Napi::TypedArray>().ElementLength()
                              : value.As<Napi::Array>().Length();
  if (length != count) {
    return ThrowRangeError(value.Env(), "Expected array of length " + std::to_string(count) +
                                            " for " + name + " (" + count_name + " = " +
                                            std::to_string(count) + ") but received length " +
                                            std::to_string(length));
  }
  Napi::Object list = value.As<Napi::Object>();
  out->resize(count);
  for (size_t i = 0; i < count; i++) {
    Napi::Value item = list.Get(static_cast<uint32_t>(i));
    if (value.Env().IsExceptionPending()) return false;
    if (!ToIntInRange(item, name + "[" + std::to_string(i) + "]", lo, hi, &(*out)[i])) return false;
  }
  return true;
}

size_t Count(const Dims& dims) {
  size_t count = 1;
  for (const auto& factor : dims) {
    const size_t n = static_cast<size_t>(factor.second);
    if (n != 0 && count > SIZE_MAX / n) return SIZE_MAX;
    count *= n;
  }
  return count;
}

std::string Formula(const Dims& dims) {
  std::string names;
  std::string values;
  for (const auto& factor : dims) {
    names += (names.empty() ? "" : "·") + std::string(factor.first);
    values += (values.empty() ? "" : "·") + std::to_string(factor.second);
  }
  return names + " = " + values;
}

}  // namespace rnnkit_binding
