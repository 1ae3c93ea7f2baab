// Memory the binding holds for a call: the memory limit every call is checked against before it
// allocates, and the arrays a call borrows from JavaScript (used in place by sync calls, copied by
// async ones). Result arrays are allocated by the caller in JavaScript, where a failed allocation is
// a catchable RangeError (V8 aborts the process when an ArrayBuffer made from C++ can not be had),
// and garbage collection frees them at once (finalizers of external buffers wait for the event loop).
#pragma once

#include <napi.h>

#include <cstddef>
#include <string>
#include <vector>

#include "rnnkit/memory.h"

namespace rnnkit_binding {

using rnnkit::Memory;

// Bytes a single call may use (results, caches, working memory, copies), checked before anything
// is allocated. Default: the machine's physical memory; src/ lowers it to a container's limit.
size_t MemoryLimit();
void SetMemoryLimit(size_t bytes);

// "12.5 GB (12500000000 bytes)".
std::string FormatBytes(size_t bytes);

// RangeError unless `bytes` ≤ the limit: "<what> needs … of memory but the limit is …".
bool CheckMemory(Napi::Env env, const std::string& what, size_t bytes);
// The RangeError for a failed allocation of `bytes`.
Napi::Error OutOfMemory(Napi::Env env, const std::string& what, size_t bytes);

// The Float32Arrays a call borrows from JavaScript. A sync call uses them in place (no JavaScript
// runs until it returns). An async call copies them into memory of its own before it is queued
// (JavaScript may write, detach, transfer or collect them meanwhile) and, when it settles, writes
// the results back into the JavaScript arrays, if they are still there and the same size.
class Borrowed {
 public:
  // Read by the call.
  void In(const float** data, size_t floats) { entries_.push_back({const_cast<float**>(data), floats, true}); }
  // Read and written (accumulated gradients), or only written (results); `array` is where they go.
  void InOut(const char* name, float** data, size_t floats, Napi::Value array) { Add(name, data, floats, array, true); }
  void Out(const char* name, float** data, size_t floats, Napi::Value array) { Add(name, data, floats, array, false); }
  size_t Bytes() const;  // what Own() copies
  bool Own();            // false when the copy could not be allocated
  // Main thread, after the work: false (with *error naming the array) if a written array was
  // detached or resized meanwhile; then nothing is written back.
  bool WriteBack(std::string* error);

 private:
  struct Entry {
    float** data;
    size_t floats;
    bool read;  // copied in by Own()
  };
  void Add(const char* name, float** data, size_t floats, Napi::Value array, bool read);
  struct InOutArray {
    size_t entry;
    const char* name;
    Napi::Reference<Napi::Value> array;
  };
  std::vector<Entry> entries_;
  std::vector<InOutArray> in_out_arrays_;
  Memory copies_;
};


}  // namespace rnnkit_binding
