// heed bench train: training throughput of the reference models on synthetic batches of fixed
// shape — the same models, sizes, optimizer and loss as the PyTorch peer
// (../shared/bench/peer_torch.py), so that scripts/bench.sh can run both side by side.
// Prints one JSON line with the same field names as the peer.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "heed/autograd/engine.h"
#include "heed/models/classifiers.h"
#include "heed/models/rnn_seq2seq.h"
#include "heed/models/transformer.h"
#include "heed/ops/loss.h"
#include "heed/ops/flop_counter.h"
#include "heed/ops/precision.h"
#include "heed/optim/adam.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

// Counts every C++ heap allocation of the process, so the benchmark can report how many a
// steady-state training step makes (the buffer pool serves all tensor memory; what remains are
// graph nodes, closures and small bookkeeping).
namespace {
std::atomic<std::uint64_t> g_new_calls{0};
}
// GCC pairs the malloc inside operator new with the free inside operator delete and warns that
// they mismatch; here they are the same allocator by construction.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace heed::cli {
namespace {

struct BenchOptions {
  std::string model = "small";
  int threads = 0;
  int steps = 20;
  int warmup = 3;
  int batch = 0;    // default 128 (sentiment 64)
  int src_len = 0;  // default 32 (sentiment 256)
  int tgt_len = 32;
  int vocab = 0;    // default 8000 (sentiment 20000)
  std::string precision = "fp32";
  std::uint64_t seed = 0;
  double peak_gflops_per_core = 116.5;  // 32 FLOP/cycle × 3.64 GHz, as the peer assumes
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

// One model behind a uniform "loss of batch i" interface.
struct BenchModel {
  std::shared_ptr<Module> module;
  std::function<Tensor(int batch_index)> loss;
  Index units_per_step = 0;  // target tokens (or examples) per step
  bool examples = false;
};

IntTensor random_ids(const Shape& shape, Rng& rng, int lo, int hi) {
  IntTensor t(shape);
  for (Index i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<std::int32_t>(rng.randint(lo, hi));
  return t;
}

// Four fixed translation batches, cycled; every position a real token (as a length-bucketed
// batcher makes them), BOS-prefixed targets.
std::shared_ptr<std::vector<Seq2SeqBatch>> translation_batches(const BenchOptions& o, Index B,
                                                                 Index S, Index T, Index V) {
  Rng rng(o.seed + 1);
  auto batches = std::make_shared<std::vector<Seq2SeqBatch>>();
  for (int i = 0; i < 4; ++i) {
    Seq2SeqBatch b;
    b.src = random_ids(Shape{B, S}, rng, 4, static_cast<int>(V));
    b.src_lengths = IntTensor(Shape{B}, static_cast<std::int32_t>(S));
    IntTensor tgt = random_ids(Shape{B, T + 1}, rng, 4, static_cast<int>(V));
    b.tgt_in = IntTensor(Shape{B, T});
    b.tgt_out = IntTensor(Shape{B, T});
    for (Index r = 0; r < B; ++r)
      for (Index t = 0; t < T; ++t) {
        b.tgt_in.data()[r * T + t] = t == 0 ? kBosId : tgt.data()[r * (T + 1) + t];
        b.tgt_out.data()[r * T + t] = tgt.data()[r * (T + 1) + t + 1];
      }
    b.tgt_lengths = IntTensor(Shape{B}, static_cast<std::int32_t>(T));
    batches->push_back(b);
  }
  return batches;
}

BenchModel seq2seq_bench(std::shared_ptr<Seq2SeqModel> model,
                         std::shared_ptr<std::vector<Seq2SeqBatch>> batches, Index units) {
  BenchModel bm;
  bm.units_per_step = units;
  bm.loss = [model, batches](int i) {
    Seq2SeqLossOptions lo;
    lo.label_smoothing = 0.1f;
    return model->forward((*batches)[i % batches->size()], lo).loss;
  };
  bm.module = model;
  return bm;
}

// The peer's `gru-fast`: Bahdanau attention, embedding 256, bi-GRU encoder 256 per direction,
// GRU decoder 512, output Linear([s; context; emb] -> V), separate 8000 vocabularies.
BenchModel make_gru(const BenchOptions& o) {
  const Index B = o.batch ? o.batch : 128, S = o.src_len ? o.src_len : 32, T = o.tgt_len;
  const Index V = o.vocab ? o.vocab : 8000;
  RnnSeq2SeqOptions mo;
  mo.src_vocab = mo.tgt_vocab = V;
  mo.embedding_dim = 256;
  mo.encoder_hidden = 256;
  mo.decoder_hidden = 512;
  mo.attention = RnnAttentionKind::kBahdanau;
  mo.dropout = 0.1f;
  return seq2seq_bench(std::make_shared<RnnSeq2Seq>(mo, o.seed),
                       translation_batches(o, B, S, T, V), B * T);
}

BenchModel make_transformer(const BenchOptions& o, bool base) {
  const Index B = o.batch ? o.batch : 128, S = o.src_len ? o.src_len : 32, T = o.tgt_len;
  const Index V = o.vocab ? o.vocab : 8000;
  TransformerSeq2SeqOptions mo;
  mo.src_vocab = mo.tgt_vocab = V;
  mo.shared_vocab = true;
  mo.tie_output = true;
  mo.d_model = base ? 512 : 256;
  mo.num_heads = 8;
  mo.encoder_layers = mo.decoder_layers = base ? 6 : 3;
  mo.dim_feedforward = base ? 2048 : 512;
  mo.dropout = 0.1f;
  return seq2seq_bench(std::make_shared<TransformerSeq2Seq>(mo, o.seed),
                       translation_batches(o, B, S, T, V), B * T);
}

// The peer's `sentiment` model: embedding 128 + 2 encoder layers (d 128, 4 heads, FFN 256) +
// masked mean pooling + Linear(128 -> 2); batch 64 x 256; vocab 20000; plain cross-entropy.
BenchModel make_sentiment(const BenchOptions& o) {
  const Index B = o.batch ? o.batch : 64, T = o.src_len ? o.src_len : 256;
  const Index V = o.vocab ? o.vocab : 20000;
  TransformerClassifierOptions mo;
  mo.vocab = V;
  mo.d_model = 128;
  mo.num_heads = 4;
  mo.num_layers = 2;
  mo.dim_feedforward = 256;
  mo.dropout = 0.1f;
  mo.pooling = ClassifierPooling::kMean;
  mo.num_classes = 2;
  mo.max_len = std::max<Index>(512, T);
  auto model = std::make_shared<TransformerClassifier>(mo, o.seed);
  Rng rng(o.seed + 1);
  auto batches = std::make_shared<std::vector<ClassifierBatch>>();
  for (int i = 0; i < 4; ++i) {
    ClassifierBatch b;
    b.ids = random_ids(Shape{B, T}, rng, 4, static_cast<int>(V));
    b.lengths = IntTensor(Shape{B}, static_cast<std::int32_t>(T));
    b.labels = random_ids(Shape{B}, rng, 0, 2);
    batches->push_back(b);
  }
  BenchModel bm;
  bm.units_per_step = B;
  bm.examples = true;
  bm.loss = [model, batches](int i) {
    const ClassifierBatch& b = (*batches)[i % batches->size()];
    return cross_entropy(model->forward(b, false).logits, b.labels);
  };
  bm.module = model;
  return bm;
}

BenchModel make_bench_model(const BenchOptions& o) {
  if (o.model == "small") return make_transformer(o, false);
  if (o.model == "base") return make_transformer(o, true);
  if (o.model == "gru") return make_gru(o);
  if (o.model == "sentiment") return make_sentiment(o);
  throw Error(
      str("bench train: unknown model '", o.model, "' (choose small, base, gru, sentiment)"));
}

void run_bench_train(const BenchOptions& o) {
  set_num_threads(o.threads);
  CHECK(o.precision == "fp32" || o.precision == "bf16", "bench train: --precision must be fp32 "
        "or bf16 (got ", o.precision, ")");
  if (o.precision == "bf16") {
    CHECK(cpu_has_bf16(), "bench train: this CPU has no avx512_bf16");
    set_matmul_precision(MatmulPrecision::kBf16);
  }
  BenchModel bm = make_bench_model(o);
  bm.module->train();
  AdamOptions ao;
  ao.lr = 1e-4f;
  ao.beta1 = 0.9;
  ao.beta2 = 0.98;
  ao.eps = 1e-9;
  Adam optimizer(bm.module->named_parameters(), ao);

  // Matmul FLOPs of one forward pass, ×3 for forward + backward (the peer's convention).
  reset_matmul_flops();
  { bm.loss(0); }
  const double flops_per_step = 3.0 * matmul_flops();

  auto train_step = [&](int i) {
    optimizer.zero_grad();
    Tensor loss = bm.loss(i);
    backward(loss);
    optimizer.step();
    return loss.item();
  };
  for (int i = 0; i < o.warmup; ++i) train_step(i);

  const PoolStats pool0 = BufferPool::instance().stats();
  const long faults0 = minor_faults();
  const std::uint64_t news0 = g_new_calls.load();
  std::vector<double> times;
  float last_loss = 0.f;
  for (int i = 0; i < o.steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    last_loss = train_step(i);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const PoolStats pool1 = BufferPool::instance().stats();
  const double step = median(times);
  const double peak = o.peak_gflops_per_core * num_threads();
  nlohmann::json r;
  r["bench"] = "train";
  r["framework"] = "heed";
  r["model"] = o.model;
  r["threads"] = num_threads();
  r["precision"] = o.precision;
  r["params_m"] = std::round(bm.module->parameter_count() / 1e4) / 100.0;
  r["steps"] = o.steps;
  r["warmup"] = o.warmup;
  r["step_s_median"] = step;
  r["step_s_min"] = *std::min_element(times.begin(), times.end());
  r["gflop_per_step"] = flops_per_step / 1e9;
  r["achieved_gflops"] = flops_per_step / step / 1e9;
  r["peak_fraction"] = flops_per_step / step / 1e9 / peak;
  r["peak_rss_mb"] = peak_rss_mb();
  r["minor_faults_per_step"] = static_cast<double>(minor_faults() - faults0) / o.steps;
  r["pool_fresh_allocs_per_step"] = static_cast<double>(pool1.fresh - pool0.fresh) / o.steps;
  r["pool_fresh_mb_per_step"] = (pool1.bytes_fresh - pool0.bytes_fresh) / 1048576.0 / o.steps;
  r["heap_allocs_per_step"] = static_cast<double>(g_new_calls.load() - news0) / o.steps;
  r["loss_last"] = last_loss;
  r["step_times"] = times;
  if (bm.examples) {
    r["examples_per_s"] = bm.units_per_step / step;
  } else {
    r["tgt_tokens_per_s"] = bm.units_per_step / step;
  }
  std::cout << r.dump() << std::endl;
}

}  // namespace

void add_bench_train_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "train", "Training steps/s of a reference model on synthetic batches (JSON line)");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("--model", o->model, "small | base | gru | sentiment (the PyTorch peer's reference models)");
  cmd->add_option("--threads", o->threads, "Threads (default: all cores)");
  cmd->add_option("--steps", o->steps, "Timed steps")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o->warmup, "Untimed steps first");
  cmd->add_option("--batch", o->batch, "Sentences per batch (default 128; sentiment 64)");
  cmd->add_option("--src-len", o->src_len, "Source length (default 32; sentiment 256)");
  cmd->add_option("--tgt-len", o->tgt_len, "Target length");
  cmd->add_option("--vocab", o->vocab, "Vocabulary (default 8000; sentiment 20000)");
  cmd->add_option("--precision", o->precision, "fp32 | bf16 (bf16 matmuls, fp32 master weights)");
  cmd->add_option("--seed", o->seed, "Seed for weights and data");
  cmd->callback([o] { run_bench_train(*o); });
}

}  // namespace heed::cli
