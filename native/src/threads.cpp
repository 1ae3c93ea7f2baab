// The persistent thread pool behind parallel_for.
//
// One region runs at a time; its caller holds region_mutex_ and takes part in the work. A region is
// published as one 64-bit claim word: generation | task count | next unclaimed task. Workers spin
// briefly on that word, then sleep on a condition variable. A task is claimed with a
// compare-exchange on the whole word, so a claim succeeds only for a real, unclaimed task of the
// region the worker read the function of (a late worker can neither take a task of a newer region
// with an older region's function nor claim past the end of a region). The caller returns once
// every task has completed. Because the caller claims tasks too, a region finishes even if no
// worker ever wakes up. Task 0 is always the caller's: regions repeated with the same split (the
// steps of a sequence, a stream's steps) then give the caller the same share every time, and that
// share of the weights stays in its core's cache (with tasks claimed first-come, a spinning worker
// often took task 0 and the two halves of a batch-1 step swapped cores from step to step).
#include "threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <immintrin.h>
#elif defined(_M_ARM64)
#include <intrin.h>  // __yield
#endif

#include "cpu.h"
#include "rnnkit/rnnkit.h"
#include "subnormals.h"

namespace rnnkit {
namespace {

using TaskFn = void (*)(void* ctx, int task);

// How long an idle worker (or a waiting caller) polls before it blocks. One step of a medium LSTM
// takes tens of microseconds, so a worker that slept through the gap between two steps' regions
// would add a futex wake-up (several microseconds) to every step.
constexpr auto kSpinTime = std::chrono::microseconds(20);

thread_local bool t_in_task = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#elif defined(_M_ARM64)
  __yield();
#endif
}

// The claim word: generation (24 bits) | tasks (20 bits) | next unclaimed task (20 bits).
constexpr int kTaskBits = 20;
constexpr uint32_t kTaskMask = (1u << kTaskBits) - 1;
constexpr int kMaxTasks = static_cast<int>(kTaskMask);
constexpr uint32_t kGenerationMask = (1u << 24) - 1;
inline uint32_t generation_of(uint64_t word) { return static_cast<uint32_t>(word >> (2 * kTaskBits)); }
inline uint32_t tasks_of(uint64_t word) { return static_cast<uint32_t>(word >> kTaskBits) & kTaskMask; }
inline uint32_t next_task_of(uint64_t word) { return static_cast<uint32_t>(word) & kTaskMask; }
inline uint64_t region_word(uint32_t generation, uint32_t tasks) {
  return (static_cast<uint64_t>(generation & kGenerationMask) << (2 * kTaskBits)) |
         (static_cast<uint64_t>(tasks) << kTaskBits);
}

// Polls ready() with a pause instruction for kSpinTime; true once it holds, false on timeout.
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// Marks the current thread as running pool tasks for its lifetime (restores the previous value).
class TaskScope {
 public:
  TaskScope() : previous_(t_in_task) { t_in_task = true; }
  ~TaskScope() { t_in_task = previous_; }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  bool previous_;
};

void run_serially(int tasks, TaskFn fn, void* ctx) {
  TaskScope scope;
  for (int t = 0; t < tasks; ++t) fn(ctx, t);
}

class Pool {
 public:
  explicit Pool(int threads) { start_workers(threads - 1); }

  int size() const { return worker_count_.load(std::memory_order_relaxed) + 1; }

  // tasks in [2, kMaxTasks].
  void run(int tasks, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> region(region_mutex_, std::try_to_lock);
    if (!region.owns_lock() || worker_count_.load(std::memory_order_relaxed) == 0) {
      run_serially(tasks, fn, ctx);
      return;
    }
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint32_t generation = (generation_of(claim_word_.load(std::memory_order_relaxed)) + 1) & kGenerationMask;
    // Published with task 0 already taken: it is the caller's.
    claim_word_.store(region_word(generation, static_cast<uint32_t>(tasks)) + 1, std::memory_order_seq_cst);
    if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_workers_.notify_all();
    }
    {
      TaskScope scope;
      fn(ctx, 0);
      done_.fetch_add(1, std::memory_order_seq_cst);
      work_on(generation);
    }
    wait_until_done(tasks);
  }

  // Replaces the workers with threads - 1 new ones; waits for a running region to finish.
  void resize(int threads) {
    std::lock_guard<std::mutex> region(region_mutex_);
    if (closed_) return;
    stop_workers();
    start_workers(threads - 1);
  }

  // At process exit (static destruction): join the workers so none outlives the code it runs. If a
  // region is still running on another thread, leave them alone (the OS ends them with the process).
  // region_mutex_ stays locked, so any later region runs serially in its caller.
  void close() {
    if (!region_mutex_.try_lock()) return;
    closed_ = true;
    stop_workers();
  }

 private:
  // Claims and runs tasks of region `generation` until none are left or a newer region started.
  // fn_ and ctx_ are read before the claim; a successful claim proves they were this region's: a
  // newer region is only published after all of this one's tasks were claimed and completed, and
  // this worker's reads happen before its own claim and completion.
  void work_on(uint32_t generation) {
    const TaskFn fn = fn_.load(std::memory_order_acquire);
    void* const ctx = ctx_.load(std::memory_order_acquire);
    uint64_t word = claim_word_.load(std::memory_order_acquire);
    for (;;) {
      if (generation_of(word) != generation || next_task_of(word) >= tasks_of(word)) return;
      if (!claim_word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
        continue;
      }
      fn(ctx, static_cast<int>(next_task_of(word)));
      if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == static_cast<int>(tasks_of(word)) &&
          caller_sleeping_.load(std::memory_order_seq_cst)) {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        region_done_.notify_all();
      }
      word = claim_word_.load(std::memory_order_acquire);
    }
  }

  void wait_until_done(int tasks) {
    const auto all_done = [&] { return done_.load(std::memory_order_seq_cst) == tasks; };
    if (spin_until(all_done)) return;
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    region_done_.wait(lock, all_done);
    caller_sleeping_.store(false, std::memory_order_relaxed);
  }

  void worker_loop(uint32_t seen_generation) {
    t_in_task = true;
    flush_subnormals_for_good();  // a worker runs nothing but the core's tasks
    for (;;) {
      const uint32_t generation = wait_for_region(seen_generation);
      if (stop_.load(std::memory_order_acquire)) return;
      work_on(generation);
      seen_generation = generation;
    }
  }

  // Returns the generation of a region newer than `seen` (or anything once stop_ is set).
  uint32_t wait_for_region(uint32_t seen) {
    const auto current = [&] { return generation_of(claim_word_.load(std::memory_order_seq_cst)); };
    const auto woken = [&] { return current() != seen || stop_.load(std::memory_order_acquire); };
    if (!spin_until(woken)) {
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
      wake_workers_.wait(lock, woken);
      sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
    }
    return current();
  }

  // Starts up to `count` workers; when the system refuses a thread, the pool is smaller (the
  // caller takes part in every region, so any size works).
  void start_workers(int count) {
    const uint32_t generation = generation_of(claim_word_.load(std::memory_order_relaxed));
    for (int i = 0; i < count; ++i) {
#if defined(__cpp_exceptions)
      try {
        workers_.emplace_back([this, generation] { worker_loop(generation); });
      } catch (...) {
        break;
      }
#else
      workers_.emplace_back([this, generation] { worker_loop(generation); });
#endif
    }
    worker_count_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_.store(true, std::memory_order_release);
      wake_workers_.notify_all();
    }
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    worker_count_.store(0, std::memory_order_relaxed);
    stop_.store(false, std::memory_order_relaxed);
  }

  std::mutex region_mutex_;  // held by the caller of the running region, and by resize/close
  bool closed_ = false;
  std::vector<std::thread> workers_;
  std::atomic<int> worker_count_{0};

  // The running region: fn_ and ctx_ are written before its word is published in claim_word_.
  std::atomic<TaskFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<uint64_t> claim_word_{0};  // generation | tasks | next unclaimed task
  std::atomic<int> done_{0};             // tasks completed

  std::atomic<bool> stop_{false};
  std::mutex sleep_mutex_;
  std::condition_variable wake_workers_;
  std::condition_variable region_done_;
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

// Closes the pool when static objects are destroyed (exit(), return from main, library unload).
struct PoolCloser {
  Pool* pool;
  ~PoolCloser() { pool->close(); }
};

Pool& pool() {
  // Never deleted: a thread still inside a region at exit may touch it until the OS ends it.
  static Pool* const instance = new Pool(available_cores());
  static PoolCloser closer{instance};
  return *instance;
}

// More tasks than the claim word can count: each pool task runs a contiguous range of them.
struct TaskRanges {
  TaskFn fn;
  void* ctx;
  int tasks;
  int parts;
  static void run(void* self, int part) {
    const TaskRanges& r = *static_cast<const TaskRanges*>(self);
    const int begin = static_cast<int>(static_cast<long long>(r.tasks) * part / r.parts);
    const int end = static_cast<int>(static_cast<long long>(r.tasks) * (part + 1) / r.parts);
    for (int t = begin; t < end; ++t) r.fn(r.ctx, t);
  }
};

}  // namespace

void parallel_for(int tasks, void (*fn)(void* ctx, int task), void* ctx) {
  if (tasks <= 0) return;
  if (tasks == 1) {
    fn(ctx, 0);  // not a region: nested work inside may still use the pool
    return;
  }
  if (t_in_task) {
    run_serially(tasks, fn, ctx);
    return;
  }
  if (tasks > kMaxTasks) {
    TaskRanges ranges{fn, ctx, tasks, kMaxTasks};
    pool().run(kMaxTasks, &TaskRanges::run, &ranges);
    return;
  }
  pool().run(tasks, fn, ctx);
}

bool in_parallel_region() { return t_in_task; }

void set_num_threads(int n) {
  if (n < 1) n = 1;
  if (t_in_task) return;  // resizing waits for the running region: from inside one it would deadlock
  if (n == pool().size()) return;
  pool().resize(n);
}

int num_threads() { return pool().size(); }

}  // namespace rnnkit
