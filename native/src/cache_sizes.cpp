// Cache sizes from the OS; see cache_sizes.h.
#include "cache_sizes.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <vector>
#endif

namespace rnnkit {
namespace {

constexpr size_t kDefaultL1d = 32 << 10;
constexpr size_t kDefaultL2 = 512 << 10;

#if defined(__linux__)
// /sys/devices/system/cpu/cpu0/cache/index<i>/{level,type,size}: "48K", "2048K", "1M".
std::string read_line(const std::string& path) {
  char text[64] = {};
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (!file) return {};
  const bool ok = std::fgets(text, sizeof text, file) != nullptr;
  std::fclose(file);
  return ok ? std::string(text) : std::string();
}

size_t parse_size(const std::string& text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return 0;
  if (*end == 'K') return static_cast<size_t>(value) << 10;
  if (*end == 'M') return static_cast<size_t>(value) << 20;
  return static_cast<size_t>(value);
}

void read_os(CacheSizes* sizes) {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    const std::string level = read_line(dir + "level"), type = read_line(dir + "type");
    if (level.empty()) break;
    const size_t size = parse_size(read_line(dir + "size"));
    if (size == 0) continue;
    if (level[0] == '1' && type.rfind("Data", 0) == 0) sizes->l1d = size;
    if (level[0] == '2' && type.rfind("Instruction", 0) != 0) sizes->l2 = size;
  }
}
#elif defined(__APPLE__)
void read_os(CacheSizes* sizes) {
  unsigned long long value = 0;
  size_t length = sizeof value;
  if (sysctlbyname("hw.l1dcachesize", &value, &length, nullptr, 0) == 0 && value > 0) sizes->l1d = value;
  length = sizeof value;
  // The L2 of Apple's cores is shared by a cluster; a share of it is what one core can count on.
  if (sysctlbyname("hw.l2cachesize", &value, &length, nullptr, 0) == 0 && value > 0) sizes->l2 = value / 4;
}
#elif defined(_WIN32)
void read_os(CacheSizes* sizes) {
  DWORD bytes = 0;
  GetLogicalProcessorInformation(nullptr, &bytes);
  std::vector<SYSTEM_LOGICAL_PROCESSOR_INFORMATION> info(bytes / sizeof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION) + 1);
  if (!GetLogicalProcessorInformation(info.data(), &bytes)) return;
  for (const auto& entry : info) {
    if (entry.Relationship != RelationCache) continue;
    if (entry.Cache.Level == 1 && entry.Cache.Type == CacheData) sizes->l1d = entry.Cache.Size;
    if (entry.Cache.Level == 2) sizes->l2 = entry.Cache.Size;
  }
}
#else
void read_os(CacheSizes*) {}
#endif

CacheSizes detect() {
  CacheSizes sizes{kDefaultL1d, kDefaultL2};
  read_os(&sizes);
  if (const char* forced = std::getenv("RNNKIT_L2_BYTES")) {
    const unsigned long long bytes = std::strtoull(forced, nullptr, 10);
    if (bytes >= (64 << 10)) sizes.l2 = static_cast<size_t>(bytes);
  }
  return sizes;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes sizes = detect();
  return sizes;
}

}  // namespace rnnkit
