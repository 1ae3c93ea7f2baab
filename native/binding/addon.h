// Module-wide declarations of the binding: per-environment state, one call's life (sync or async),
// and the export groups.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "buffers.h"

namespace rnnkit_binding {

// State of one Node environment (the main thread and each worker_thread get their own; nothing
// JS-related is static). Set with napi_set_instance_data in addon.cpp.
struct AddonData {
  int jobs_in_flight = 0;  // async jobs queued and not yet settled (reported by pendingJobs())
};
AddonData& GetAddonData(Napi::Env env);

// One call of an export, parsed and checked: its memory is allocated (results included) and what
// it borrows from JavaScript is listed. Run() does the work; Result() builds what JavaScript gets.
class Call {
 public:
  virtual ~Call() = default;
  virtual bool Run() = 0;                         // any thread, no JavaScript; false: out of memory
  virtual Napi::Value Result(Napi::Env env) = 0;  // the JavaScript thread, after a successful Run()

  std::string what;   // "lstm forward", for error messages
  size_t bytes = 0;   // working memory Run() allocates, for the out-of-memory message
  Borrowed borrowed;  // the JavaScript arrays Run() reads or writes in place
};

// Runs `call` on this thread and returns its result (undefined with an exception pending on error).
Napi::Value RunNow(Napi::Env env, Call& call);

// Copies what `call` borrows, runs it on the libuv pool and returns a Promise of its result.
// Rejects with a RangeError when memory runs out, or an Error when an in-out array was detached.
Napi::Value RunLater(Napi::Env env, std::shared_ptr<Call> call);

// The sync and async exports of one operation. Parse checks the arguments and the memory the call
// needs (for an async call, with the copies of what it borrows) and builds the call.
template <std::shared_ptr<Call> (*Parse)(const Napi::CallbackInfo&, const char*, bool)>
Napi::Value Export(const Napi::CallbackInfo& info, const char* name, bool async) {
  std::shared_ptr<Call> call = Parse(info, name, async);
  if (!call) return info.Env().Undefined();
  return async ? RunLater(info.Env(), std::move(call)) : RunNow(info.Env(), *call);
}

void ExportSequence(Napi::Env env, Napi::Object exports);  // sequence.cpp
void ExportRuntime(Napi::Env env, Napi::Object exports);   // runtime.cpp
void ExportOptim(Napi::Env env, Napi::Object exports);     // optim.cpp
void ExportPrepared(Napi::Env env, Napi::Object exports);  // prepared.cpp
void ExportMemory(Napi::Env env, Napi::Object exports);    // buffers.cpp

}  // namespace rnnkit_binding
