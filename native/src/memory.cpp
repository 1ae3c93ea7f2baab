// The block cache behind allocate_memory (see memory.h).
#include "rnnkit/memory.h"

#include <algorithm>
#include <mutex>
#include <new>
#include <vector>

namespace rnnkit {
namespace {

constexpr std::align_val_t kAlignment{64};
constexpr size_t kMaxBytes = SIZE_MAX >> 2;
// Idle blocks kept for reuse at most (beyond it, released blocks are freed at once).
constexpr size_t kIdleLimitBytes = size_t(1) << 30;

// Sizes are rounded so that nearly equal requests share blocks: to 64 bytes, and to whole pages
// from 64 KiB on (what the system allocator maps separately anyway).
size_t rounded_size(size_t bytes) {
  const size_t unit = bytes >= (size_t(64) << 10) ? 4096 : 64;
  if (bytes > SIZE_MAX - unit) return SIZE_MAX;
  return std::max(unit, (bytes + unit - 1) / unit * unit);
}

class BlockCache {
 public:
  Memory take(size_t bytes) {
    // No system has this much; and libstdc++'s aligned operator new rounds sizes near SIZE_MAX up
    // to 0 and returns a tiny block instead of failing.
    if (bytes > kMaxBytes) return nullptr;
    bytes = rounded_size(bytes);
    if (Block* block = reuse(bytes)) return own(block);
    float* data = static_cast<float*>(::operator new(bytes, kAlignment, std::nothrow));
    if (!data) {
      release_idle();
      data = static_cast<float*>(::operator new(bytes, kAlignment, std::nothrow));
      if (!data) return nullptr;
    }
    return own(new Block{data, bytes});
  }

  void give_back(Block* block) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_bytes_ + block->bytes <= kIdleLimitBytes) {
        idle_.push_back(block);
        idle_bytes_ += block->bytes;
        return;
      }
    }
    destroy(block);
  }

  size_t idle_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return idle_bytes_;
  }

  void release_idle() {
    std::vector<Block*> idle;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle.swap(idle_);
      idle_bytes_ = 0;
    }
    for (Block* block : idle) destroy(block);
  }

 private:
  // The smallest idle block that fits without wasting more than a quarter of it.
  Block* reuse(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto best = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      const size_t size = (*it)->bytes;
      if (size >= bytes && size - bytes <= size / 4 && (best == idle_.end() || size < (*best)->bytes)) best = it;
    }
    if (best == idle_.end()) return nullptr;
    Block* block = *best;
    idle_.erase(best);
    idle_bytes_ -= block->bytes;
    return block;
  }

  Memory own(Block* block) {
    return Memory(block, [this](const Block* b) { give_back(const_cast<Block*>(b)); });
  }

  static void destroy(Block* block) {
    ::operator delete(block->data, kAlignment);
    delete block;
  }

  std::mutex mutex_;
  std::vector<Block*> idle_;
  size_t idle_bytes_ = 0;
};

BlockCache& cache() {
  // Never destroyed: blocks may come back from finalizers and threads that run at process exit.
  static BlockCache* const instance = new BlockCache();
  return *instance;
}

}  // namespace

Memory allocate_memory(size_t bytes) { return cache().take(bytes); }

size_t idle_memory_bytes() { return cache().idle_bytes(); }

void release_idle_memory() { cache().release_idle(); }

size_t checked_product(std::initializer_list<size_t> factors) {
  size_t product = 1;
  for (size_t f : factors) {
    if (f != 0 && product > SIZE_MAX / f) return SIZE_MAX;
    product *= f;
  }
  return product;
}

size_t checked_sum(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

float* Carver::take(size_t floats) {
  float* slice = base_ ? base_ + used_ : nullptr;
  const size_t aligned = floats > SIZE_MAX - 15 ? SIZE_MAX : (floats + 15) / 16 * 16;  // 64 bytes
  used_ = checked_sum(used_, aligned);
  return slice;
}

}  // namespace rnnkit
