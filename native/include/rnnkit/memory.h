// rnnkit — memory: large memory of the core and of its callers (working memory, packed weights,
// training caches, result arrays): 64-byte aligned blocks from a process-wide cache that keeps released blocks for
// reuse. A training loop asks for the same sizes every step, so after the first step it faults in
// no fresh pages. Nothing here throws: a failed allocation frees the cache's idle blocks, tries
// once more, and then returns nullptr for the caller to report.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>

namespace rnnkit {

// One aligned block; back to the cache when the last Memory owning it is dropped.
struct Block {
  float* data;
  size_t bytes;  // usable size (at least what was asked for)
};
using Memory = std::shared_ptr<const Block>;

// At least `bytes` (64-byte aligned), or nullptr. The contents are not cleared.
Memory allocate_memory(size_t bytes);

// Bytes in released blocks the cache keeps for reuse, and freeing them.
size_t idle_memory_bytes();
void release_idle_memory();

// a·b·…, saturating at SIZE_MAX (a size no allocation can satisfy) instead of wrapping.
size_t checked_product(std::initializer_list<size_t> factors);
// a + b, saturating at SIZE_MAX.
size_t checked_sum(size_t a, size_t b);

// Carves one allocation into 64-byte aligned slices. Run the same carving code twice: first on a
// Carver without memory to learn the size, then on one over a block of that size. Both passes take
// the same slices, so the layout can never disagree with the size.
class Carver {
 public:
  Carver() = default;
  explicit Carver(float* base) : base_(base) {}
  float* take(size_t floats);          // nullptr while sizing
  size_t floats() const { return used_; }
  size_t bytes() const { return checked_product({used_, sizeof(float)}); }

 private:
  float* base_ = nullptr;
  size_t used_ = 0;
};

}  // namespace rnnkit
