// Optimizer updates and gradient-clipping helpers (rnnkit/optim.h), synchronous: one call updates
// one parameter in place through zero-copy Float32Array views. src/optim validates the options
// first; these checks only keep every call inside the arrays it was given. Arguments are positional
// (arrays, then the hyperparameters as numbers and booleans): reading them runs no JavaScript.
#include <cmath>
#include <string>

#include "addon.h"
#include "args.h"
#include "rnnkit/optim.h"

namespace rnnkit_binding {
namespace {

// The parameter (any length) and arrays of its length; optional ones only when `needed`.
bool Param(const Args& args, size_t i, FloatArray* param) { return args.AnyFloats(i, "param", param); }
bool Like(const Args& args, size_t i, const char* name, const FloatArray& param, float** out) {
  return args.Floats(i, name, param.length, out);
}
bool LikeIf(bool needed, const Args& args, size_t i, const char* name, const FloatArray& param, float** out) {
  if (!needed && IsNullish(args[i])) {
    *out = nullptr;
    return true;
  }
  return Like(args, i, name, param, out);
}

// The step count after the increment: a positive integer a double holds exactly.
bool Step(const Args& args, size_t i, double* out) {
  if (!args.Number(i, "step", out)) return false;
  if (*out >= 1 && std::floor(*out) == *out && *out <= 9007199254740991.0) return true;
  return args.RangeError("step", "a positive integer");
}

// sgdStep(param, grad, momentumBuffer | null, lr, momentum, dampening, weightDecay, nesterov,
//         maximize, firstStep)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const Args args(info, "sgdStep");
  rnnkit::SgdOptions o;
  bool first_step = false;
  FloatArray param;
  float *grad = nullptr, *buffer = nullptr;
  if (args.Count(10) && args.Number(3, "lr", &o.lr) && args.Number(4, "momentum", &o.momentum) &&
      args.Number(5, "dampening", &o.dampening) && args.Number(6, "weightDecay", &o.weight_decay) &&
      args.Bool(7, "nesterov", &o.nesterov) && args.Bool(8, "maximize", &o.maximize) &&
      args.Bool(9, "firstStep", &first_step) && Param(args, 0, &param) && Like(args, 1, "grad", param, &grad) &&
      LikeIf(o.momentum != 0.0, args, 2, "momentumBuffer", param, &buffer)) {
    rnnkit::sgd_step(param.data, grad, buffer, param.length, o, first_step);
  }
  return info.Env().Undefined();
}

// adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq | null, lr, beta1, beta2, eps, weightDecay,
//          amsgrad, maximize, decoupledWeightDecay, step)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const Args args(info, "adamStep");
  rnnkit::AdamOptions o;
  double step = 0;
  FloatArray param;
  float *grad = nullptr, *exp_avg = nullptr, *exp_avg_sq = nullptr, *max_exp_avg_sq = nullptr;
  if (args.Count(14) && args.Number(5, "lr", &o.lr) && args.Number(6, "beta1", &o.beta1) &&
      args.Number(7, "beta2", &o.beta2) && args.Number(8, "eps", &o.eps) && args.Number(9, "weightDecay", &o.weight_decay) &&
      args.Bool(10, "amsgrad", &o.amsgrad) && args.Bool(11, "maximize", &o.maximize) &&
      args.Bool(12, "decoupledWeightDecay", &o.decoupled_weight_decay) && Step(args, 13, &step) &&
      Param(args, 0, &param) && Like(args, 1, "grad", param, &grad) && Like(args, 2, "expAvg", param, &exp_avg) &&
      Like(args, 3, "expAvgSq", param, &exp_avg_sq) && LikeIf(o.amsgrad, args, 4, "maxExpAvgSq", param, &max_exp_avg_sq)) {
    rnnkit::adam_step(param.data, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, param.length, o, step);
  }
  return info.Env().Undefined();
}

// rmspropStep(param, grad, squareAvg, gradAvg | null, momentumBuffer | null, lr, alpha, eps,
//             weightDecay, momentum, centered, maximize)
Napi::Value RmspropStep(const Napi::CallbackInfo& info) {
  const Args args(info, "rmspropStep");
  rnnkit::RmspropOptions o;
  FloatArray param;
  float *grad = nullptr, *square_avg = nullptr, *grad_avg = nullptr, *buffer = nullptr;
  if (args.Count(12) && args.Number(5, "lr", &o.lr) && args.Number(6, "alpha", &o.alpha) && args.Number(7, "eps", &o.eps) &&
      args.Number(8, "weightDecay", &o.weight_decay) && args.Number(9, "momentum", &o.momentum) &&
      args.Bool(10, "centered", &o.centered) && args.Bool(11, "maximize", &o.maximize) && Param(args, 0, &param) &&
      Like(args, 1, "grad", param, &grad) && Like(args, 2, "squareAvg", param, &square_avg) &&
      LikeIf(o.centered, args, 3, "gradAvg", param, &grad_avg) &&
      LikeIf(o.momentum > 0.0, args, 4, "momentumBuffer", param, &buffer)) {
    rnnkit::rmsprop_step(param.data, grad, square_avg, grad_avg, buffer, param.length, o);
  }
  return info.Env().Undefined();
}

// adagradStep(param, grad, sum, lr, lrDecay, weightDecay, eps, maximize, step)
Napi::Value AdagradStep(const Napi::CallbackInfo& info) {
  const Args args(info, "adagradStep");
  rnnkit::AdagradOptions o;
  double step = 0;
  FloatArray param;
  float *grad = nullptr, *sum = nullptr;
  if (args.Count(9) && args.Number(3, "lr", &o.lr) && args.Number(4, "lrDecay", &o.lr_decay) &&
      args.Number(5, "weightDecay", &o.weight_decay) && args.Number(6, "eps", &o.eps) &&
      args.Bool(7, "maximize", &o.maximize) && Step(args, 8, &step) && Param(args, 0, &param) &&
      Like(args, 1, "grad", param, &grad) && Like(args, 2, "sum", param, &sum)) {
    rnnkit::adagrad_step(param.data, grad, sum, param.length, o, step);
  }
  return info.Env().Undefined();
}

// normPowerSum(x, p) → Σ|x|^p (p finite ≥ 0) or max|x| (p = Infinity), in double.
Napi::Value NormPowerSum(const Napi::CallbackInfo& info) {
  const Args args(info, "normPowerSum");
  FloatArray x;
  double p = 0;
  if (!args.Count(2) || !args.Number(1, "normType", &p) || !args.AnyFloats(0, "x", &x)) return info.Env().Undefined();
  if (!(p >= 0)) {
    args.RangeError("normType", "a non-negative number or Infinity");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), rnnkit::norm_power_sum(x.data, x.length, p));
}

// scaleInPlace(x, factor): x *= float(factor).
Napi::Value ScaleInPlace(const Napi::CallbackInfo& info) {
  const Args args(info, "scaleInPlace");
  FloatArray x;
  double factor = 0;
  if (args.Count(2) && args.Number(1, "factor", &factor) && args.AnyFloats(0, "x", &x)) {
    rnnkit::scale(x.data, x.length, static_cast<float>(factor));
  }
  return info.Env().Undefined();
}

// clampInPlace(x, lo, hi): x = min(max(x, float(lo)), float(hi)).
Napi::Value ClampInPlace(const Napi::CallbackInfo& info) {
  const Args args(info, "clampInPlace");
  FloatArray x;
  double lo = 0, hi = 0;
  if (args.Count(3) && args.Number(1, "min", &lo) && args.Number(2, "max", &hi) && args.AnyFloats(0, "x", &x)) {
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
