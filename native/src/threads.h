// The persistent thread pool (std::thread). One parallel region at a time: a caller that finds the
// pool busy (another async job) or that is itself a pool task runs the region serially.
#pragma once

namespace rnnkit {

// Runs fn(ctx, task) for every task in [0, tasks); the caller takes part. Returns when all are done.
void parallel_for(int tasks, void (*fn)(void* ctx, int task), void* ctx);

// Convenience for lambdas: parallel_for(tasks, [&](int task) { ... }).
template <class F>
void parallel_for(int tasks, F&& f) {
  parallel_for(tasks, [](void* ctx, int task) { (*static_cast<F*>(ctx))(task); }, &f);
}

// True inside a pool task (nested parallel work then runs serially).
bool in_parallel_region();

}  // namespace rnnkit
