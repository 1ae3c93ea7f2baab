// Optimizer updates and gradient-clipping helpers (rnnkit/optim.h), synchronous: one call updates
// one parameter in place through zero-copy Float32Array views. src/optim validates the options with
// PyTorch's messages; this layer re-checks types and lengths so no call can touch memory outside
// the arrays it was given.
#include <cmath>
#include <string>

#include "addon.h"
#include "args.h"
#include "rnnkit/optim.h"

namespace rnnkit_binding {
namespace {

// The parameter array: any length.
bool ToParam(Napi::Value value, FloatView* out) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    return ThrowTypeError(value.Env(), "Expected Float32Array for param but received " + Describe(value));
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  out->data = array.Data();
  out->length = array.ElementLength();
  return true;
}

// An array of the parameter's length (gradient or optimizer state).
bool ToLike(Napi::Value value, const char* name, const FloatView& param, FloatView* out) {
  return ToFloat32(value, name, param.length, "length of param", out);
}

// Same, but only when `needed` (null/undefined accepted otherwise).
bool ToLikeIf(bool needed, Napi::Value value, const char* name, const FloatView& param, FloatView* out) {
  if (!needed && IsNullish(value)) return true;
  return ToLike(value, name, param, out);
}

// opts[key] as a number: "Expected number for lr but received undefined".
bool GetNumber(Napi::Object opts, const char* key, double* out) {
  Napi::Value v;
  if (!GetProperty(opts, key, &v)) return false;
  if (!v.IsNumber()) {
    return ThrowTypeError(opts.Env(), std::string("Expected number for ") + key + " but received " + Describe(v));
  }
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

bool GetBool(Napi::Object opts, const char* key, bool* out) {
  Napi::Value v;
  return GetProperty(opts, key, &v) && ToOptionalBool(v, key, false, out);
}

// opts.step: the step count after the increment (a positive integer).
bool GetStep(Napi::Object opts, double* out) {
  Napi::Value v;
  if (!GetProperty(opts, "step", &v)) return false;
  const double step = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.0;
  if (v.IsNumber() && step >= 1 && std::floor(step) == step && step <= 9007199254740991.0) {
    *out = step;
    return true;
  }
  const std::string message = "Expected positive integer for step but received " + Describe(v);
  return v.IsNumber() ? ThrowRangeError(opts.Env(), message) : ThrowTypeError(opts.Env(), message);
}

// sgdStep(param, grad, momentumBuffer | null, {lr, momentum, dampening, weightDecay, nesterov,
// maximize, firstStep})
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts;
  rnnkit::SgdOptions o;
  bool first_step = false;
  FloatView param, grad, buffer;
  if (!CheckArgCount(info, 4, 4, "sgdStep") || !ToObject(info[3], "options", &opts) ||
      !GetNumber(opts, "lr", &o.lr) || !GetNumber(opts, "momentum", &o.momentum) ||
      !GetNumber(opts, "dampening", &o.dampening) || !GetNumber(opts, "weightDecay", &o.weight_decay) ||
      !GetBool(opts, "nesterov", &o.nesterov) || !GetBool(opts, "maximize", &o.maximize) ||
      !GetBool(opts, "firstStep", &first_step) || !ToParam(info[0], &param) ||
      !ToLike(info[1], "grad", param, &grad) ||
      !ToLikeIf(o.momentum != 0.0, info[2], "momentumBuffer", param, &buffer)) {
    return env.Undefined();
  }
  rnnkit::sgd_step(param.data, grad.data, buffer.data, param.length, o, first_step);
  return env.Undefined();
}

// adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq | null, {lr, beta1, beta2, eps, weightDecay,
// amsgrad, maximize, decoupledWeightDecay, step})
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts;
  rnnkit::AdamOptions o;
  double step = 0;
  FloatView param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq;
  if (!CheckArgCount(info, 6, 6, "adamStep") || !ToObject(info[5], "options", &opts) ||
      !GetNumber(opts, "lr", &o.lr) || !GetNumber(opts, "beta1", &o.beta1) || !GetNumber(opts, "beta2", &o.beta2) ||
      !GetNumber(opts, "eps", &o.eps) || !GetNumber(opts, "weightDecay", &o.weight_decay) ||
      !GetBool(opts, "amsgrad", &o.amsgrad) || !GetBool(opts, "maximize", &o.maximize) ||
      !GetBool(opts, "decoupledWeightDecay", &o.decoupled_weight_decay) || !GetStep(opts, &step) ||
      !ToParam(info[0], &param) || !ToLike(info[1], "grad", param, &grad) ||
      !ToLike(info[2], "expAvg", param, &exp_avg) || !ToLike(info[3], "expAvgSq", param, &exp_avg_sq) ||
      !ToLikeIf(o.amsgrad, info[4], "maxExpAvgSq", param, &max_exp_avg_sq)) {
    return env.Undefined();
  }
  rnnkit::adam_step(param.data, grad.data, exp_avg.data, exp_avg_sq.data, max_exp_avg_sq.data, param.length, o, step);
  return env.Undefined();
}

// rmspropStep(param, grad, squareAvg, gradAvg | null, momentumBuffer | null, {lr, alpha, eps,
// weightDecay, momentum, centered, maximize})
Napi::Value RmspropStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts;
  rnnkit::RmspropOptions o;
  FloatView param, grad, square_avg, grad_avg, buffer;
  if (!CheckArgCount(info, 6, 6, "rmspropStep") || !ToObject(info[5], "options", &opts) ||
      !GetNumber(opts, "lr", &o.lr) || !GetNumber(opts, "alpha", &o.alpha) || !GetNumber(opts, "eps", &o.eps) ||
      !GetNumber(opts, "weightDecay", &o.weight_decay) || !GetNumber(opts, "momentum", &o.momentum) ||
      !GetBool(opts, "centered", &o.centered) || !GetBool(opts, "maximize", &o.maximize) ||
      !ToParam(info[0], &param) || !ToLike(info[1], "grad", param, &grad) ||
      !ToLike(info[2], "squareAvg", param, &square_avg) ||
      !ToLikeIf(o.centered, info[3], "gradAvg", param, &grad_avg) ||
      !ToLikeIf(o.momentum > 0.0, info[4], "momentumBuffer", param, &buffer)) {
    return env.Undefined();
  }
  rnnkit::rmsprop_step(param.data, grad.data, square_avg.data, grad_avg.data, buffer.data, param.length, o);
  return env.Undefined();
}

// adagradStep(param, grad, sum, {lr, lrDecay, weightDecay, eps, maximize, step})
Napi::Value AdagradStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object opts;
  rnnkit::AdagradOptions o;
  double step = 0;
  FloatView param, grad, sum;
  if (!CheckArgCount(info, 4, 4, "adagradStep") || !ToObject(info[3], "options", &opts) ||
      !GetNumber(opts, "lr", &o.lr) || !GetNumber(opts, "lrDecay", &o.lr_decay) ||
      !GetNumber(opts, "weightDecay", &o.weight_decay) || !GetNumber(opts, "eps", &o.eps) ||
      !GetBool(opts, "maximize", &o.maximize) || !GetStep(opts, &step) || !ToParam(info[0], &param) ||
      !ToLike(info[1], "grad", param, &grad) || !ToLike(info[2], "sum", param, &sum)) {
    return env.Undefined();
  }
  rnnkit::adagrad_step(param.data, grad.data, sum.data, param.length, o, step);
  return env.Undefined();
}

// Number argument i of `function`: "Expected number for maxNorm but received …".
bool ToNumberArg(Napi::Value value, const char* name, double* out) {
  if (!value.IsNumber()) {
    return ThrowTypeError(value.Env(), std::string("Expected number for ") + name + " but received " + Describe(value));
  }
  *out = value.As<Napi::Number>().DoubleValue();
  return true;
}

// normPowerSum(x, p) → Σ|x|^p (p finite ≥ 0) or max|x| (p = Infinity), in double.
Napi::Value NormPowerSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FloatView x;
  double p = 0;
  if (!CheckArgCount(info, 2, 2, "normPowerSum") || !ToParam(info[0], &x) || !ToNumberArg(info[1], "normType", &p)) {
    return env.Undefined();
  }
  if (!(p >= 0)) {
    ThrowRangeError(env, "Expected non-negative number or Infinity for normType but received " + Describe(info[1]));
    return env.Undefined();
  }
  return Napi::Number::New(env, rnnkit::norm_power_sum(x.data, x.length, p));
}

// scaleInPlace(x, factor): x *= float(factor).
Napi::Value ScaleInPlace(const Napi::CallbackInfo& info) {
  FloatView x;
  double factor = 0;
  if (CheckArgCount(info, 2, 2, "scaleInPlace") && ToParam(info[0], &x) && ToNumberArg(info[1], "factor", &factor)) {
    rnnkit::scale(x.data, x.length, static_cast<float>(factor));
  }
  return info.Env().Undefined();
}

// clampInPlace(x, lo, hi): x = min(max(x, float(lo)), float(hi)).
Napi::Value ClampInPlace(const Napi::CallbackInfo& info) {
  FloatView x;
  double lo = 0, hi = 0;
  if (CheckArgCount(info, 3, 3, "clampInPlace") && ToParam(info[0], &x) && ToNumberArg(info[1], "min", &lo) &&
      ToNumberArg(info[2], "max", &hi)) {
    rnnkit::clamp(x.data, x.length, static_cast<float>(lo), static_cast<float>(hi));
  }
  return info.Env().Undefined();
}

}  // namespace

void ExportOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("rmspropStep", Napi::Function::New(env, RmspropStep, "rmspropStep"));
  exports.Set("adagradStep", Napi::Function::New(env, AdagradStep, "adagradStep"));
  exports.Set("normPowerSum", Napi::Function::New(env, NormPowerSum, "normPowerSum"));
  exports.Set("scaleInPlace", Napi::Function::New(env, ScaleInPlace, "scaleInPlace"));
  exports.Set("clampInPlace", Napi::Function::New(env, ClampInPlace, "clampInPlace"));
}

}  // namespace rnnkit_binding
