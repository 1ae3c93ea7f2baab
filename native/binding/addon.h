// Module-wide declarations of the binding: per-environment state and the export groups.
#pragma once

#include <napi.h>

#include <functional>
#include <vector>

namespace rnnkit_binding {

// State of one Node environment (the main thread and each worker_thread get their own; nothing
// JS-related is static). Set with napi_set_instance_data in addon.cpp.
struct AddonData {
  int jobs_in_flight = 0;  // async jobs queued and not yet settled (reported by pendingJobs())
};
AddonData& GetAddonData(Napi::Env env);

// Runs `work` on the libuv pool and returns a Promise that resolves with `result`. `arrays` (every
// typed array `work` reads or writes) and `result` stay referenced until the job settles, so the
// garbage collector can not free memory the core is using.
Napi::Promise QueueJob(Napi::Env env, std::function<void()> work, Napi::Object result,
                       const std::vector<Napi::Value>& arrays);

void ExportSequence(Napi::Env env, Napi::Object exports);  // sequence.cpp
void ExportRuntime(Napi::Env env, Napi::Object exports);   // runtime.cpp
void ExportOptim(Napi::Env env, Napi::Object exports);     // optim.cpp
void ExportPrepared(Napi::Env env, Napi::Object exports);  // prepared.cpp

}  // namespace rnnkit_binding
