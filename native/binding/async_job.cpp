// One Napi::AsyncWorker for every async export: run a closure on the libuv pool, settle a Promise.
#include "addon.h"

#include <utility>

namespace rnnkit_binding {
namespace {

class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, std::function<void()> work, Napi::Object result, Napi::Array arrays)
      : Napi::AsyncWorker(env, "rnnkit"),
        work_(std::move(work)),
        deferred_(Napi::Promise::Deferred::New(env)),
        result_(Napi::Persistent(result)),
        arrays_(Napi::Persistent(arrays.As<Napi::Object>())) {
    GetAddonData(env).jobs_in_flight++;
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  // Pool thread: no JS, no napi calls; only the core on memory pinned by arrays_ and result_.
  void Execute() override { work_(); }

  void OnOK() override {
    GetAddonData(Env()).jobs_in_flight--;
    deferred_.Resolve(result_.Value());
  }

  void OnError(const Napi::Error& error) override {
    GetAddonData(Env()).jobs_in_flight--;
    deferred_.Reject(error.Value());
  }

 private:
  std::function<void()> work_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference result_;
  Napi::ObjectReference arrays_;
};

}  // namespace

Napi::Promise QueueJob(Napi::Env env, std::function<void()> work, Napi::Object result,
                       const std::vector<Napi::Value>& arrays) {
  Napi::Array pinned = Napi::Array::New(env, arrays.size());
  for (size_t i = 0; i < arrays.size(); i++) pinned.Set(static_cast<uint32_t>(i), arrays[i]);
  Job* job = new Job(env, std::move(work), result, pinned);  // deletes itself after OnOK/OnError
  Napi::Promise promise = job->Promise();
  job->Queue();
  return promise;
}

}  // namespace rnnkit_binding
