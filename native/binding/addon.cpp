// Module entry: per-environment instance data and the exports. NODE_API_MODULE registers a
// context-aware module, so the addon loads in every worker_thread, each with its own AddonData.
#include "addon.h"

namespace rnnkit_binding {

AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace rnnkit_binding

static Napi::Object InitRnnkit(Napi::Env env, Napi::Object exports) {
  using namespace rnnkit_binding;
  env.SetInstanceData(new AddonData());  // deleted by node-addon-api when the environment exits
  ExportSequence(env, exports);
  ExportRuntime(env, exports);
  ExportOptim(env, exports);
  ExportPrepared(env, exports);
  ExportMemory(env, exports);
  return exports;
}

NODE_API_MODULE(rnnkit, InitRnnkit)
