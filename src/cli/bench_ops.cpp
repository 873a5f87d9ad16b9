// heed bench ops: GFLOP/s of heed's matmul op (forward and both backward GEMMs, through the
// autograd engine) beside raw oneDNN (one primitive, memory bound once) in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "heed/autograd/engine.h"
#include "heed/ops/matmul.h"
#include "heed/tensor/tensor.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/dnnl_matmul.h"

namespace heed::cli {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

template <typename Fn>
std::vector<double> time_reps(int warmup, int reps, Fn fn) {
  std::vector<double> times;
  for (int i = 0; i < warmup + reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i >= warmup) times.push_back(dt);
  }
  return times;
}

struct Options {
  int threads = 0;
  int reps = 20;
  int warmup = 3;
  bool bf16 = false;
  std::vector<std::string> shapes{"4096x256x256", "4096x256x1024", "4096x1024x256",
                                  "4096x256x8000"};
};

void run_bench_ops(const Options& opt) {
  set_num_threads(opt.threads);
  if (opt.bf16) kernels::set_matmul_precision(kernels::MatmulPrecision::kBf16);
  std::printf(
      "heed bench ops: %d threads, %s, median of %d reps after %d warm-up, heed and raw "
      "alternating in 5 blocks\n",
      num_threads(), opt.bf16 ? "bf16" : "fp32", opt.reps, opt.warmup);
  std::printf("%-16s %-9s %12s %12s %8s\n", "MxKxN", "gemm", "heed GF/s", "oneDNN GF/s",
              "heed/raw");
  Rng rng(1);
  for (const std::string& spec : opt.shapes) {
    Index M, K, N;
    CHECK(std::sscanf(spec.c_str(), "%ldx%ldx%ld", &M, &K, &N) == 3,
          "bench ops: shape '", spec, "' is not MxKxN");
    const double flop = 2.0 * M * K * N;
    Tensor a = Tensor::uniform(Shape{M, K}, rng, -1, 1);
    Tensor b = Tensor::uniform(Shape{K, N}, rng, -1, 1);
    Tensor dc = Tensor::uniform(Shape{M, N}, rng, -1, 1);

    // heed's op and raw oneDNN alternate in kRounds blocks, so that a change of machine state
    // (the machine is shared) falls on both alike; each figure is the median over all blocks.
    constexpr int kRounds = 5;
    const int block = std::max(1, opt.reps / kRounds);
    std::vector<double> fwd_times, fwd_da_times, fwd_db_times, seed_times, raw_fwd_times,
        raw_da_times, raw_db_times;
    auto append = [](std::vector<double>& to, const std::vector<double>& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    const kernels::MatmulShape fwd{1, M, K, N, false, false, false};
    const kernels::MatmulShape da{1, M, N, K, false, true, false};
    const kernels::MatmulShape db{1, K, M, N, true, false, false};
    for (int round = 0; round < kRounds; ++round) {
      const int warmup = round == 0 ? opt.warmup : 1;
      // Forward C = A·B through the op (records a node, allocates C from the pool).
      a.set_requires_grad(true);
      b.set_requires_grad(true);
      append(fwd_times, time_reps(warmup, block, [&] { matmul(a, b); }));
      // backward(out, dC) starts by copying dC into the graph (a training step seeds a scalar
      // loss instead): timed alone and subtracted, so the backward figures are the GEMMs'.
      append(seed_times, time_reps(warmup, block, [&] { Tensor::empty(dc.shape()).copy_from_(dc); }));
      // Backward dA = dC·Bᵀ alone (only A wants a gradient), then dB = Aᵀ·dC alone; each timed
      // with its forward, which is subtracted below.
      b.set_requires_grad(false);
      append(fwd_da_times, time_reps(warmup, block, [&] {
               Tensor out = matmul(a, b);
               a.zero_grad();
               backward(out, dc);
             }));
      a.set_requires_grad(false);
      b.set_requires_grad(true);
      append(fwd_db_times, time_reps(warmup, block, [&] {
               Tensor out = matmul(a, b);
               b.zero_grad();
               backward(out, dc);
             }));
      append(raw_fwd_times, kernels::time_raw_dnnl_matmul(fwd, warmup, block));
      append(raw_da_times, kernels::time_raw_dnnl_matmul(da, warmup, block));
      append(raw_db_times, kernels::time_raw_dnnl_matmul(db, warmup, block));
    }
    const double heed_fwd = median(fwd_times);
    const double seed = median(seed_times);
    const double heed_da = median(fwd_da_times) - heed_fwd - seed;
    const double heed_db = median(fwd_db_times) - heed_fwd - seed;
    const double raw_fwd = median(raw_fwd_times);
    const double raw_da = median(raw_da_times);
    const double raw_db = median(raw_db_times);
    auto row = [&](const char* name, double heed_s, double raw_s) {
      std::printf("%-16s %-9s %12.1f %12.1f %7.1f%%\n", spec.c_str(), name, flop / heed_s / 1e9,
                  flop / raw_s / 1e9, 100.0 * raw_s / heed_s);
    };
    row("fwd", heed_fwd, raw_fwd);
    row("bwd-dA", heed_da, raw_da);
    row("bwd-dB", heed_db, raw_db);
    std::fflush(stdout);
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: ops (matmul vs raw oneDNN), train (reference models)");
  bench->require_subcommand(1);
  auto* ops = bench->add_subcommand("ops", "GFLOP/s of heed's matmul op beside raw oneDNN");
  auto opt = std::make_shared<Options>();
  ops->add_option("--threads", opt->threads, "Threads (default: all cores)");
  ops->add_option("--reps", opt->reps, "Timed repetitions per GEMM")->check(CLI::PositiveNumber);
  ops->add_option("--warmup", opt->warmup, "Untimed repetitions first");
  ops->add_flag("--bf16", opt->bf16, "bf16 matmuls (avx512_bf16)");
  ops->add_option("--shapes", opt->shapes, "GEMM shapes MxKxN");
  ops->callback([opt] { run_bench_ops(*opt); });
  add_bench_train_command(*bench);
}

}  // namespace heed::cli
