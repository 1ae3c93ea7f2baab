// Optimizer updates and gradient-clipping helpers (rnnkit/optim.h), synchronous: one call updates
// one parameter in place through zero-copy Float32Array views. src/optim validates the options
// first; these checks only keep every call inside the arrays it was given. The options object is
// read (its getters may run) before any array is looked at, so no JavaScript runs between an
// array's check and its use.
#include <cmath>
#include <string>

#include "addon.h"
#include "args.h"
#include "rnnkit/optim.h"

namespace rnnkit_binding {
namespace {

// Reads the numbers and flags of an options object argument, all before any array is viewed.
class Options {
 public:
  Options(const Args& args, size_t i) : args_(args) {
    if (!args[i].IsObject()) {
      args.TypeError("options", "an object");
      ok_ = false;
      return;
    }
    object_ = args[i].As<Napi::Object>();
  }
  Options& Number(const char* key, double* out) {
    const Napi::Value v = Get(key);
    if (!ok_) return *this;
    if (!v.IsNumber()) ok_ = args_.TypeError(std::string("options.") + key, "a number");
    else *out = v.As<Napi::Number>().DoubleValue();
    return *this;
  }
  Options& Bool(const char* key, bool* out) {
    const Napi::Value v = Get(key);
    if (!ok_) return *this;
    if (!v.IsBoolean()) ok_ = args_.TypeError(std::string("options.") + key, "a boolean");
    else *out = v.As<Napi::Boolean>().Value();
    return *this;
  }
  // The step count after the increment: a positive integer.
  Options& Step(double* out) {
    Number("step", out);
    if (ok_ && !(*out >= 1 && std::floor(*out) == *out && *out <= 9007199254740991.0)) {
      ok_ = args_.RangeError("options.step", "a positive integer");
    }
    return *this;
  }
  bool ok() const { return ok_; }

 private:
  Napi::Value Get(const char* key) {
    if (!ok_) return Napi::Value();
    Napi::Value v = object_.Get(key);
    if (args_.Env().IsExceptionPending()) ok_ = false;  // a getter threw
    return v;
  }
  const Args& args_;
  Napi::Object object_;
  bool ok_ = true;
};

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

// sgdStep(param, grad, momentumBuffer | null, {lr, momentum, dampening, weightDecay, nesterov,
// maximize, firstStep})
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const Args args(info, "sgdStep");
  rnnkit::SgdOptions o;
  bool first_step = false;
  FloatArray param;
  float *grad = nullptr, *buffer = nullptr;
  if (!args.Count(4)) return info.Env().Undefined();
  Options opts(args, 3);
  opts.Number("lr", &o.lr).Number("momentum", &o.momentum).Number("dampening", &o.dampening)
      .Number("weightDecay", &o.weight_decay).Bool("nesterov", &o.nesterov).Bool("maximize", &o.maximize)
      .Bool("firstStep", &first_step);
  if (opts.ok() && Param(args, 0, &param) && Like(args, 1, "grad", param, &grad) &&
      LikeIf(o.momentum != 0.0, args, 2, "momentumBuffer", param, &buffer)) {
    rnnkit::sgd_step(param.data, grad, buffer, param.length, o, first_step);
  }
  return info.Env().Undefined();
}

// adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq | null, {lr, beta1, beta2, eps, weightDecay,
// amsgrad, maximize, decoupledWeightDecay, step})
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const Args args(info, "adamStep");
  rnnkit::AdamOptions o;
  double step = 0;
  FloatArray param;
  float *grad = nullptr, *exp_avg = nullptr, *exp_avg_sq = nullptr, *max_exp_avg_sq = nullptr;
  if (!args.Count(6)) return info.Env().Undefined();
  Options opts(args, 5);
  opts.Number("lr", &o.lr).Number("beta1", &o.beta1).Number("beta2", &o.beta2).Number("eps", &o.eps)
      .Number("weightDecay", &o.weight_decay).Bool("amsgrad", &o.amsgrad).Bool("maximize", &o.maximize)
      .Bool("decoupledWeightDecay", &o.decoupled_weight_decay).Step(&step);
  if (opts.ok() && Param(args, 0, &param) && Like(args, 1, "grad", param, &grad) &&
      Like(args, 2, "expAvg", param, &exp_avg) && Like(args, 3, "expAvgSq", param, &exp_avg_sq) &&
      LikeIf(o.amsgrad, args, 4, "maxExpAvgSq", param, &max_exp_avg_sq)) {
    rnnkit::adam_step(param.data, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, param.length, o, step);
  }
  return info.Env().Undefined();
}

// rmspropStep(param, grad, squareAvg, gradAvg | null, momentumBuffer | null, {lr, alpha, eps,
// weightDecay, momentum, centered, maximize})
Napi::Value RmspropStep(const Napi::CallbackInfo& info) {
  const Args args(info, "rmspropStep");
  rnnkit::RmspropOptions o;
  FloatArray param;
  float *grad = nullptr, *square_avg = nullptr, *grad_avg = nullptr, *buffer = nullptr;
  if (!args.Count(6)) return info.Env().Undefined();
  Options opts(args, 5);
  opts.Number("lr", &o.lr).Number("alpha", &o.alpha).Number("eps", &o.eps).Number("weightDecay", &o.weight_decay)
      .Number("momentum", &o.momentum).Bool("centered", &o.centered).Bool("maximize", &o.maximize);
  if (opts.ok() && Param(args, 0, &param) && Like(args, 1, "grad", param, &grad) &&
      Like(args, 2, "squareAvg", param, &square_avg) && LikeIf(o.centered, args, 3, "gradAvg", param, &grad_avg) &&
      LikeIf(o.momentum > 0.0, args, 4, "momentumBuffer", param, &buffer)) {
    rnnkit::rmsprop_step(param.data, grad, square_avg, grad_avg, buffer, param.length, o);
  }
  return info.Env().Undefined();
}

// adagradStep(param, grad, sum, {lr, lrDecay, weightDecay, eps, maximize, step})
Napi::Value AdagradStep(const Napi::CallbackInfo& info) {
  const Args args(info, "adagradStep");
  rnnkit::AdagradOptions o;
  double step = 0;
  FloatArray param;
  float *grad = nullptr, *sum = nullptr;
  if (!args.Count(4)) return info.Env().Undefined();
  Options opts(args, 3);
  opts.Number("lr", &o.lr).Number("lrDecay", &o.lr_decay).Number("weightDecay", &o.weight_decay)
      .Number("eps", &o.eps).Bool("maximize", &o.maximize).Step(&step);
  if (opts.ok() && Param(args, 0, &param) && Like(args, 1, "grad", param, &grad) && Like(args, 2, "sum", param, &sum)) {
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
