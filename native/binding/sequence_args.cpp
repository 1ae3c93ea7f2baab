// Parsing the arguments the sequence exports share; see sequence_args.h.
#include "sequence_args.h"

#include <climits>
#include <utility>

namespace rnnkit_binding {

using rnnkit::Cell;

bool ParseCell(Napi::Value value, SequenceArgs* args) {
  static const std::vector<std::string> kNames = {"rnn_tanh", "rnn_relu", "lstm", "gru"};
  static const Cell kCells[] = {Cell::RnnTanh, Cell::RnnRelu, Cell::Lstm, Cell::Gru};
  if (!ToChoice(value, "cell", kNames, &args->cell_name)) return false;
  for (size_t i = 0; i < kNames.size(); i++) {
    if (kNames[i] == args->cell_name) args->shape.cell = kCells[i];
  }
  return true;
}

namespace {

bool ParseProjSize(Napi::Value value, SequenceArgs* args) {
  rnnkit::SeqShape& s = args->shape;
  if (s.cell == Cell::Lstm) return ToOptionalIntInRange(value, "projSize", 0, s.hidden - 1, 0, &s.proj);
  s.proj = 0;
  if (value.IsUndefined() || (value.IsNumber() && value.As<Napi::Number>().DoubleValue() == 0)) {
    return true;
  }
  const std::string message = "Expected 0 for projSize because cell is " + args->cell_name +
                              " but received " + Describe(value);
  return value.IsNumber() ? ThrowRangeError(value.Env(), message)
                          : ThrowTypeError(value.Env(), message);
}

bool ParseDims(Napi::Object opts, const std::vector<std::pair<const char*, int*>>& dims) {
  Napi::Value v;
  for (const auto& dim : dims) {
    if (!GetProperty(opts, dim.first, &v) || !ToIntInRange(v, dim.first, 1, INT_MAX, dim.second)) return false;
  }
  return true;
}

bool ParseDirection(Napi::Object opts, SequenceArgs* args) {
  rnnkit::SeqShape& s = args->shape;
  Napi::Value v;
  if (!GetProperty(opts, "reverse", &v) || !ToOptionalBool(v, "reverse", false, &s.reverse)) return false;
  if (!GetProperty(opts, "lengths", &v)) return false;
  s.lengths = nullptr;
  if (IsNullish(v)) return true;
  if (!ToIntList(v, "lengths", s.batch, "batch", 0, s.steps, &args->lengths)) return false;
  s.lengths = args->lengths.data();
  return true;
}

}  // namespace

bool ParseLayerSizes(Napi::Object opts, SequenceArgs* args) {
  rnnkit::SeqShape& s = args->shape;
  Napi::Value v;
  return ParseDims(opts, {{"inputSize", &s.input}, {"hiddenSize", &s.hidden}}) && GetProperty(opts, "projSize", &v) &&
         ParseProjSize(v, args);
}

bool ParseCallSizes(Napi::Object opts, SequenceArgs* args) {
  rnnkit::SeqShape& s = args->shape;
  return ParseDims(opts, {{"steps", &s.steps}, {"batch", &s.batch}}) && ParseDirection(opts, args);
}

bool ParseShape(Napi::Value value, SequenceArgs* args) {
  rnnkit::SeqShape& s = args->shape;
  Napi::Object opts;
  return ToObject(value, "opts", &opts) && ParseDims(opts, {{"steps", &s.steps}, {"batch", &s.batch}}) &&
         ParseLayerSizes(opts, args) && ParseDirection(opts, args);
}

namespace {
const char* StateName(const rnnkit::SeqShape& s) { return s.proj > 0 ? "projSize" : "hiddenSize"; }
}  // namespace
Dims HiddenDims(const rnnkit::SeqShape& s) { return {{"batch", s.batch}, {StateName(s), s.state()}}; }
Dims CellDims(const rnnkit::SeqShape& s) { return {{"batch", s.batch}, {"hiddenSize", s.hidden}}; }
Dims OutputDims(const rnnkit::SeqShape& s) {
  return {{"steps", s.steps}, {"batch", s.batch}, {StateName(s), s.state()}};
}
Dims InputDims(const rnnkit::SeqShape& s) {
  return {{"steps", s.steps}, {"batch", s.batch}, {"inputSize", s.input}};
}

bool GetArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims,
              SequenceArgs* args, const float** out) {
  Napi::Value v;
  FloatView view;
  if (!GetProperty(obj, key, &v) || !ToFloat32(v, name, dims, &view)) {
    return false;
  }
  args->arrays.push_back(v);
  *out = view.data;
  return true;
}

bool GetOptionalArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims,
                      bool allowed, const std::string& reason, SequenceArgs* args,
                      const float** out) {
  Napi::Value v;
  if (!GetProperty(obj, key, &v)) return false;
  *out = nullptr;
  if (!allowed) return ExpectAbsent(v, name, reason);
  if (IsNullish(v)) return true;
  return GetArray(obj, key, name, dims, args, out);
}

namespace {

// Required when `wanted`, else must be null/undefined (then *out = nullptr).
bool GetMaybeArray(Napi::Object obj, const char* key, const std::string& name, const Dims& dims,
                   bool wanted, const std::string& reason, SequenceArgs* args, const float** out) {
  if (wanted) return GetArray(obj, key, name, dims, args, out);
  return GetOptionalArray(obj, key, name, dims, false, reason, args, out);
}

}  // namespace

bool ParseWeightSet(Napi::Object obj, const std::string& prefix, bool has_bias,
                    SequenceArgs* args, WeightPtrs* w) {
  const rnnkit::SeqShape& s = args->shape;
  const long long G = s.gates(), H = s.hidden, I = s.input, P = s.proj, S = s.state();
  const Dims ih_dims = {{"gates", G}, {"hiddenSize", H}, {"inputSize", I}};
  const Dims hh_dims = {{"gates", G}, {"hiddenSize", H}, {StateName(s), S}};
  if (!GetArray(obj, "weightIh", prefix + "weightIh", ih_dims, args, &w->w_ih) ||
      !GetArray(obj, "weightHh", prefix + "weightHh", hh_dims, args, &w->w_hh)) {
    return false;
  }
  const Dims bias_dims = {{"gates", G}, {"hiddenSize", H}};
  const char* no_bias = "the weights have no biases";
  if (!GetMaybeArray(obj, "biasIh", prefix + "biasIh", bias_dims, has_bias, no_bias, args,
                     &w->b_ih) ||
      !GetMaybeArray(obj, "biasHh", prefix + "biasHh", bias_dims, has_bias, no_bias, args,
                     &w->b_hh)) {
    return false;
  }
  const Dims hr_dims = {{"projSize", P}, {"hiddenSize", H}};
  return GetMaybeArray(obj, "weightHr", prefix + "weightHr", hr_dims, P > 0, "projSize is 0", args,
                       &w->w_hr);
}

bool ParseWeights(Napi::Value value, SequenceArgs* args) {
  Napi::Object obj;
  Napi::Value ih, hh;
  if (!ToObject(value, "weights", &obj) || !GetProperty(obj, "biasIh", &ih) ||
      !GetProperty(obj, "biasHh", &hh)) {
    return false;
  }
  if (IsNullish(ih) != IsNullish(hh)) {
    // Checked first so a one-sided bias is reported as such rather than as a bad other array.
    return ThrowTypeError(value.Env(), std::string("Expected biasIh and biasHh both or neither but received only ") +
                                           (IsNullish(ih) ? "biasHh" : "biasIh"));
  }
  args->has_bias = !IsNullish(ih);
  WeightPtrs w;
  if (!ParseWeightSet(obj, "", args->has_bias, args, &w)) return false;
  args->weights = {w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.w_hr};
  return true;
}

Napi::Float32Array NewArray(Napi::Env env, size_t length, float** data) {
  Napi::Float32Array array = Napi::Float32Array::New(env, length);
  *data = env.IsExceptionPending() ? nullptr : array.Data();
  return array;
}

}  // namespace rnnkit_binding
