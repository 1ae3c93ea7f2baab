// Running a Call now or on the libuv pool (one Napi::AsyncWorker for every async export).
#include "addon.h"

#include <utility>

#include "args.h"

namespace rnnkit_binding {
namespace {

class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, std::shared_ptr<Call> call)
      : Napi::AsyncWorker(env, "rnnkit"), call_(std::move(call)), deferred_(Napi::Promise::Deferred::New(env)) {
    GetAddonData(env).jobs_in_flight++;
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  // Pool thread: no JavaScript; only memory the call owns (its copies and results).
  void Execute() override { ran_ = call_->Run(); }

  void OnOK() override {
    Napi::Env env = Env();
    GetAddonData(env).jobs_in_flight--;
    std::string error;
    if (!ran_) {
      deferred_.Reject(OutOfMemory(env, call_->what, call_->bytes).Value());
    } else if (!call_->borrowed.WriteBack(&error)) {
      deferred_.Reject(Napi::Error::New(env, call_->what + ": " + error).Value());
    } else {
      Napi::Value result = call_->Result(env);
      if (env.IsExceptionPending()) {
        deferred_.Reject(env.GetAndClearPendingException().Value());
      } else {
        deferred_.Resolve(result);
      }
    }
  }

  void OnError(const Napi::Error& error) override {
    GetAddonData(Env()).jobs_in_flight--;
    deferred_.Reject(error.Value());
  }

 private:
  std::shared_ptr<Call> call_;
  Napi::Promise::Deferred deferred_;
  bool ran_ = false;
};

}  // namespace

Napi::Value RunNow(Napi::Env env, Call& call) {
  if (!call.Run()) {
    OutOfMemory(env, call.what, call.bytes).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return call.Result(env);
}

Napi::Value RunLater(Napi::Env env, std::shared_ptr<Call> call) {
  if (!call->borrowed.Own()) {
    OutOfMemory(env, call->what, call->borrowed.Bytes()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Job* job = new Job(env, std::move(call));  // deletes itself after OnOK/OnError
  Napi::Promise promise = job->Promise();
  job->Queue();
  return promise;
}

}  // namespace rnnkit_binding
