// Result arrays, the memory limit and borrowed arrays; see buffers.h.
#include "buffers.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <unistd.h>
#endif

#include "args.h"
#include "rnnkit/memory.h"

namespace rnnkit_binding {
namespace {

size_t PhysicalMemory() {
#if defined(_WIN32)
  MEMORYSTATUSEX status;
  status.dwLength = sizeof status;
  if (GlobalMemoryStatusEx(&status)) return static_cast<size_t>(status.ullTotalPhys);
#else
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return rnnkit::checked_product({size_t(pages), size_t(page)});
#endif
  return SIZE_MAX;
}

// Memory the system could give this process now without swapping (Linux MemAvailable, Windows
// available physical memory); SIZE_MAX where it can not be read.
size_t AvailableMemory() {
#if defined(_WIN32)
  MEMORYSTATUSEX status;
  status.dwLength = sizeof status;
  if (GlobalMemoryStatusEx(&status)) return static_cast<size_t>(status.ullAvailPhys);
#elif defined(__linux__)
  if (std::FILE* meminfo = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, meminfo)) found = std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    std::fclose(meminfo);
    if (found) return rnnkit::checked_product({static_cast<size_t>(kib), 1024});
  }
#endif
  return SIZE_MAX;
}

// Above this, a call is also checked against the memory available now: with overcommit, an
// allocation the system can not back succeeds and the process is killed when it touches the pages.
constexpr size_t kCheckAvailableBytes = size_t(1) << 30;

std::atomic<size_t>& Limit() {
  static std::atomic<size_t> limit{PhysicalMemory()};
  return limit;
}

}  // namespace

size_t MemoryLimit() { return Limit().load(std::memory_order_relaxed); }
void SetMemoryLimit(size_t bytes) { Limit().store(bytes, std::memory_order_relaxed); }

std::string FormatBytes(size_t bytes) {
  char text[64];
  if (bytes == SIZE_MAX) return "more than can be addressed";
  const double value = static_cast<double>(bytes);
  if (value >= 1e9) std::snprintf(text, sizeof text, "%.1f GB", value / 1e9);
  else if (value >= 1e6) std::snprintf(text, sizeof text, "%.1f MB", value / 1e6);
  else std::snprintf(text, sizeof text, "%.1f kB", value / 1e3);
  return std::string(text) + " (" + std::to_string(bytes) + " bytes)";
}

bool CheckMemory(Napi::Env env, const std::string& what, size_t bytes) {
  const size_t limit = MemoryLimit();
  if (bytes > limit) {
    return ThrowRangeError(env, what + " needs " + FormatBytes(bytes) + " of memory, more than the limit of " +
                                    FormatBytes(limit) + " (the machine's memory, or what setMemoryLimit set)");
  }
  if (bytes <= kCheckAvailableBytes) return true;
  const size_t available = AvailableMemory();
  if (bytes <= available) return true;
  return ThrowRangeError(env, what + " needs " + FormatBytes(bytes) + " of memory, but only " + FormatBytes(available) +
                                  " is available now");
}

Napi::Error OutOfMemory(Napi::Env env, const std::string& what, size_t bytes) {
  return Napi::RangeError::New(env, what + " could not allocate " + FormatBytes(bytes) + " of memory");
}

void Borrowed::Add(const char* name, float** data, size_t floats, Napi::Value array, bool read) {
  in_out_arrays_.push_back({entries_.size(), name, Napi::Persistent(array)});
  entries_.push_back({data, floats, read});
}

size_t Borrowed::Bytes() const {
  size_t floats = 0;
  for (const Entry& e : entries_) {
    if (*e.data) floats = rnnkit::checked_sum(floats, (e.floats + 15) / 16 * 16);
  }
  return rnnkit::checked_product({floats, sizeof(float)});
}

bool Borrowed::Own() {
  const size_t bytes = Bytes();
  if (bytes == 0) return true;
  copies_ = rnnkit::allocate_memory(bytes);
  if (!copies_) return false;
  rnnkit::Carver carver(copies_->data);
  for (const Entry& e : entries_) {
    if (!*e.data) continue;
    float* copy = carver.take(e.floats);
    if (e.read) std::memcpy(copy, *e.data, e.floats * sizeof(float));
    *e.data = copy;
  }
  return true;
}

bool Borrowed::WriteBack(std::string* error) {
  std::vector<float*> targets;
  for (InOutArray& a : in_out_arrays_) {
    const Entry& e = entries_[a.entry];
    FloatArray array;
    if (!*e.data) {
      targets.push_back(nullptr);
      continue;
    }
    if (!AsFloatArray(a.array.Value(), &array) || array.length != e.floats) {
      *error = std::string(a.name) + " was detached or resized while the call ran; no result was written";
      return false;
    }
    targets.push_back(array.data);
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    const Entry& e = entries_[in_out_arrays_[i].entry];
    if (targets[i]) std::memcpy(targets[i], *e.data, e.floats * sizeof(float));
  }
  return true;
}

namespace {

// setMemoryLimit(bytes): bytes a single call may use (a positive integer or Infinity).
Napi::Value SetMemoryLimitJs(const Napi::CallbackInfo& info) {
  const Args args(info, "setMemoryLimit");
  double bytes = 0;
  if (!args.Count(1) || !args.Number(0, "bytes", &bytes)) return info.Env().Undefined();
  if (!(bytes >= 1)) {
    args.RangeError("bytes", "a positive number");
    return info.Env().Undefined();
  }
  SetMemoryLimit(bytes >= 1.8e19 ? SIZE_MAX : static_cast<size_t>(bytes));
  return info.Env().Undefined();
}

Napi::Value MemoryLimitJs(const Napi::CallbackInfo& info) {
  const size_t limit = MemoryLimit();
  return Napi::Number::New(info.Env(), limit == SIZE_MAX ? INFINITY : static_cast<double>(limit));
}

Napi::Value IdleMemory(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rnnkit::idle_memory_bytes()));
}

Napi::Value ReleaseIdleMemory(const Napi::CallbackInfo& info) {
  rnnkit::release_idle_memory();
  return info.Env().Undefined();
}

}  // namespace

void ExportMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("setMemoryLimit", Napi::Function::New(env, SetMemoryLimitJs, "setMemoryLimit"));
  exports.Set("memoryLimit", Napi::Function::New(env, MemoryLimitJs, "memoryLimit"));
  exports.Set("idleMemory", Napi::Function::New(env, IdleMemory, "idleMemory"));
  exports.Set("releaseIdleMemory", Napi::Function::New(env, ReleaseIdleMemory, "releaseIdleMemory"));
}

}  // namespace rnnkit_binding
