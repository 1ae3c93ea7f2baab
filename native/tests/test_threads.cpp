// The thread pool: every task runs exactly once, nesting and concurrent callers run serially,
// resizing works, dispatch is cheap, and a process using the pool exits without hanging.
// (The pool is ISA-independent; the test still runs once per ISA like every native test.)
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "harness.h"
#include "threads.h"

using namespace rnnkit;
using namespace rnnkit_test;

namespace {

// Runs parallel_for(tasks) and returns how often each task ran (an index out of range, as a late
// worker claiming past the end of a region would produce, makes the result empty).
std::vector<int> run_counts(int tasks) {
  std::vector<std::atomic<int>> counts(tasks);
  for (auto& c : counts) c.store(0);
  std::atomic<bool> out_of_range{false};
  parallel_for(tasks, [&](int task) {
    if (task < 0 || task >= tasks) {
      out_of_range = true;
      return;
    }
    counts[task].fetch_add(1);
  });
  if (out_of_range) return {};
  std::vector<int> result(tasks);
  for (int t = 0; t < tasks; ++t) result[t] = counts[t].load();
  return result;
}

bool each_exactly_once(const std::vector<int>& counts, int tasks) {
  if (static_cast<int>(counts.size()) != tasks) return false;
  for (int c : counts) {
    if (c != 1) return false;
  }
  return true;
}

#if defined(__unix__) || defined(__APPLE__)
// Runs body in a child process that then calls exit(0); true if it exits with 0 within 10 s.
template <class Body>
bool child_exits_cleanly(Body&& body) {
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    body();
    std::exit(0);
  }
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 5) {
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::printf("  child process hung at exit\n");
  return false;
}
#endif

}  // namespace

// Must stay the first test of this file: fork() is only safe while this process has no pool threads.
TEST(process_using_the_pool_exits_cleanly) {
#if defined(__unix__) || defined(__APPLE__)
  // Exit right after a region (workers still spinning) ...
  CHECK(child_exits_cleanly([] {
    set_num_threads(3);
    if (!each_exactly_once(run_counts(64), 64)) std::_Exit(3);
  }));
  // ... and once they have gone to sleep, after a resize.
  CHECK(child_exits_cleanly([] {
    if (!each_exactly_once(run_counts(8), 8)) std::_Exit(3);
    set_num_threads(4);
    if (!each_exactly_once(run_counts(8), 8)) std::_Exit(3);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }));
#endif
}

TEST(every_task_runs_exactly_once) {
  for (int n = 1; n <= 4; ++n) {
    set_num_threads(n);
    CHECK(num_threads() == n);
    for (int tasks : {0, 1, 2, 3, 7, 64, 1000}) CHECK(each_exactly_once(run_counts(tasks), tasks));
  }
  set_num_threads(2);
  // Many back-to-back regions of changing sizes: generations must never mix (a worker late for
  // one region must not claim in the next, which may have more tasks).
  bool ok = true;
  for (int round = 0; round < 50000 && ok; ++round) {
    const int tasks = 2 + (round * 7) % 11;
    ok = each_exactly_once(run_counts(tasks), tasks);
  }
  CHECK(ok);
  // More tasks than one region can count are split into ranges.
  const int many = (1 << 20) + 3;
  CHECK(each_exactly_once(run_counts(many), many));
}

TEST(regions_use_the_workers) {
  set_num_threads(2);
  // Each task waits (up to 10 s) until a second thread has run one: with two threads, the worker
  // must take part. Waiting instead of a fixed task length keeps it true on a loaded machine, where
  // the worker may be descheduled for longer than a few short tasks last.
  std::mutex mutex;
  std::set<std::thread::id> ids;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  parallel_for(8, [&](int) {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ids.insert(std::this_thread::get_id());
        if (ids.size() == 2) break;
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  CHECK(ids.size() == 2);
  CHECK(!in_parallel_region());
}

TEST(nested_regions_run_serially_in_the_task) {
  set_num_threads(3);
  std::atomic<int> wrong_thread{0}, not_flagged{0}, inner_runs{0};
  parallel_for(6, [&](int) {
    if (!in_parallel_region()) not_flagged.fetch_add(1);
    const std::thread::id outer = std::this_thread::get_id();
    parallel_for(5, [&](int) {
      if (std::this_thread::get_id() != outer) wrong_thread.fetch_add(1);
      inner_runs.fetch_add(1);
    });
  });
  CHECK(wrong_thread.load() == 0);
  CHECK(not_flagged.load() == 0);
  CHECK(inner_runs.load() == 30);
  set_num_threads(2);
}

TEST(concurrent_callers_both_complete) {
  set_num_threads(2);
  std::atomic<bool> ok{true};
  auto caller = [&] {
    for (int round = 0; round < 2000; ++round) {
      const int tasks = 3 + round % 4;
      if (!each_exactly_once(run_counts(tasks), tasks)) ok = false;
    }
  };
  std::thread other(caller);
  caller();
  other.join();
  CHECK(ok.load());
}

TEST(dispatch_is_cheap) {
  set_num_threads(2);
  std::atomic<int> sink{0};
  const int rounds = 20000;
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) parallel_for(2, [&](int task) { sink.fetch_add(task); });
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / rounds;
  std::printf("  empty 2-task region: %.2f us\n", us);
  // Generous (emulators and loaded CI machines); a sleeping-worker design would take ~10-50 us.
  CHECK(us < 200.0);
  CHECK(sink.load() == rounds);
}
