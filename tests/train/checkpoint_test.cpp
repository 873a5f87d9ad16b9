// Checkpoints: every field round-trips, parameters and optimizer state come back bit for bit,
// N + N steps through a checkpoint equal 2N uninterrupted steps, corruption and truncation are
// detected, and mismatched models or optimizers are rejected by name without changing anything.
#include "heed/train/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "heed/nn/linear.h"
#include "heed/ops/shape_ops.h"
#include "heed/optim/adam.h"
#include "heed/optim/sgd.h"
#include "heed/train/atomic_file.h"
#include "heed/train/safetensors.h"
#include "optim/toy_mlp.h"
#include "testing/gradcheck.h"
#include "testing/temp_dir.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::Mlp;
using testing::TempDir;

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

bool same_parameters(const Module& a, const Module& b) {
  const NamedParameters pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (pa[i].first != pb[i].first || !same_bits(pa[i].second, pb[i].second)) return false;
  }
  return true;
}

bool same_optimizer_state(const Optimizer& a, const Optimizer& b) {
  const OptimizerState sa = a.state(), sb = b.state();
  if (sa.step != sb.step || sa.tensors.size() != sb.tensors.size()) return false;
  for (size_t i = 0; i < sa.tensors.size(); ++i) {
    if (sa.tensors[i].first != sb.tensors[i].first ||
        !same_bits(sa.tensors[i].second, sb.tensors[i].second)) {
      return false;
    }
  }
  return true;
}

// A model with nested names: encoder.weight, encoder.bias, head.weight, head.bias.
class TwoLinear : public Module {
 public:
  TwoLinear(Index hidden, Rng& rng)
      : encoder_({.in_features = 3, .out_features = hidden}, rng),
        head_({.in_features = hidden, .out_features = 2}, rng) {
    register_module("encoder", encoder_);
    register_module("head", head_);
  }
  Linear encoder_, head_;
};

// A spirals-MLP training session: model, AdamW, cosine schedule, fixed data.
struct Session {
  explicit Session(std::uint64_t seed)
      : data_rng(1),
        data(testing::make_spirals(50, data_rng)),
        init_rng(seed),
        model(16, init_rng),
        optimizer(model.named_parameters(), AdamWOptions{.lr = 0.f}),
        scheduler({.kind = LrScheduleKind::kCosine,
                   .peak_lr = 0.02f,
                   .warmup_steps = 3,
                   .total_steps = 20}) {}

  void train(int steps) {
    for (int t = 0; t < steps; ++t) {
      optimizer.zero_grad();
      testing::logistic_backward(model, data);
      scheduler.advance(optimizer);
      optimizer.step();
    }
  }

  Rng data_rng;
  testing::Spirals data;
  Rng init_rng;
  Mlp model;
  AdamW optimizer;
  LrScheduler scheduler;
};

TrainingState full_state() {
  TrainingState state;
  state.counters = {.step = 5, .epoch = 2, .tokens_seen = 123456789012, .elapsed_seconds = 61.25};
  state.lr_scheduler.step = 5;
  state.data = {.epoch = 2, .position = 17, .rng = {.seed = 0xFFFFFFFFFFFFFFFFull, .counter = 42}};
  state.rngs["dropout"] = {.seed = 9, .counter = 1ull << 40};
  state.rngs["data"] = {.seed = 10, .counter = 0};
  state.early_stopping = {.best_score = 27.125, .best_step = 4, .evals_without_improvement = 1};
  state.config = json::parse(R"({"model": {"d_model": 16, "type": "mlp"},
                                 "train": {"lr": 0.02, "steps": [1, 2.5, "x", null]}})");
  state.trainer = json::parse(R"({"loss_sum": 0.1234567890123456789, "window_steps": 3})");
  state.config_hash = "0123456789abcdef";
  return state;
}

void expect_same_state(const TrainingState& a, const TrainingState& b) {
  EXPECT_EQ(a.counters.step, b.counters.step);
  EXPECT_EQ(a.counters.epoch, b.counters.epoch);
  EXPECT_EQ(a.counters.tokens_seen, b.counters.tokens_seen);
  EXPECT_EQ(a.counters.elapsed_seconds, b.counters.elapsed_seconds);
  EXPECT_EQ(a.lr_scheduler.step, b.lr_scheduler.step);
  EXPECT_EQ(a.data.epoch, b.data.epoch);
  EXPECT_EQ(a.data.position, b.data.position);
  EXPECT_EQ(a.data.rng.seed, b.data.rng.seed);
  EXPECT_EQ(a.data.rng.counter, b.data.rng.counter);
  ASSERT_EQ(a.rngs.size(), b.rngs.size());
  for (const auto& [role, rng] : a.rngs) {
    ASSERT_TRUE(b.rngs.count(role)) << role;
    EXPECT_EQ(rng.seed, b.rngs.at(role).seed) << role;
    EXPECT_EQ(rng.counter, b.rngs.at(role).counter) << role;
  }
  EXPECT_EQ(a.early_stopping.best_score, b.early_stopping.best_score);
  EXPECT_EQ(a.early_stopping.best_step, b.early_stopping.best_step);
  EXPECT_EQ(a.early_stopping.evals_without_improvement, b.early_stopping.evals_without_improvement);
  EXPECT_EQ(a.trainer, b.trainer);
  EXPECT_EQ(a.config, b.config);
  EXPECT_EQ(a.config_hash, b.config_hash);
}

TEST(Checkpoint, RoundTripsEveryFieldAndEveryBit) {
  TempDir dir;
  const auto path = dir / "step_5.safetensors";
  Session saved(3);
  saved.train(5);
  const TrainingState state = full_state();
  save_checkpoint(path, saved.model, saved.optimizer, state);

  Session loaded(99);  // other initial weights, fresh optimizer
  ASSERT_FALSE(same_parameters(saved.model, loaded.model));
  const TrainingState restored = load_checkpoint(path, loaded.model, loaded.optimizer);
  EXPECT_TRUE(same_parameters(saved.model, loaded.model));
  EXPECT_TRUE(same_optimizer_state(saved.optimizer, loaded.optimizer));
  EXPECT_EQ(loaded.optimizer.step_count(), 5);
  expect_same_state(state, restored);

  const CheckpointInfo info = read_checkpoint_info(path);
  EXPECT_EQ(info.heed_version, HEED_VERSION);
  EXPECT_EQ(info.optimizer_name, "adamw");
  EXPECT_EQ(info.optimizer_step, 5);
  EXPECT_EQ(info.parameter_count, 4);
  expect_same_state(state, info.state);
}

TEST(Checkpoint, EmptyOptionalFieldsRoundTrip) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Session session(3);
  TrainingState state;  // no best score yet, no rngs, empty config
  save_checkpoint(path, session.model, session.optimizer, state);
  const TrainingState restored = load_checkpoint(path, session.model, session.optimizer);
  EXPECT_FALSE(restored.early_stopping.best_score.has_value());
  EXPECT_TRUE(restored.rngs.empty());
  EXPECT_EQ(restored.config, json::object());
}

TEST(Checkpoint, ResumingMatchesUninterruptedTrainingBitwise) {
  TempDir dir;
  const auto path = dir / "step_6.safetensors";
  Session uninterrupted(5);
  uninterrupted.train(12);

  Session first(5);
  first.train(6);
  TrainingState state;
  state.lr_scheduler = first.scheduler.state();
  save_checkpoint(path, first.model, first.optimizer, state);

  Session second(77);  // a new process: different init, fresh optimizer and scheduler
  const TrainingState restored = load_checkpoint(path, second.model, second.optimizer);
  second.scheduler.load_state(restored.lr_scheduler);
  second.train(6);
  EXPECT_TRUE(same_parameters(uninterrupted.model, second.model));
  EXPECT_TRUE(same_optimizer_state(uninterrupted.optimizer, second.optimizer));
}

TEST(Checkpoint, IsAPlainSafetensorsFile) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Rng rng(1);
  TwoLinear model(4, rng);
  Adam optimizer(model.named_parameters());
  save_checkpoint(path, model, optimizer, full_state());
  const SafetensorsFile file = read_safetensors(path);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : file.content.f32) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "model.encoder.bias", "model.encoder.weight", "model.head.bias",
                "model.head.weight", "optim.encoder.bias.exp_avg", "optim.encoder.bias.exp_avg_sq",
                "optim.encoder.weight.exp_avg", "optim.encoder.weight.exp_avg_sq",
                "optim.head.bias.exp_avg", "optim.head.bias.exp_avg_sq",
                "optim.head.weight.exp_avg", "optim.head.weight.exp_avg_sq"}));
  EXPECT_TRUE(same_bits(*file.content.find_f32("model.encoder.weight"), model.encoder_.weight_));
  EXPECT_TRUE(file.content.i32.empty());
  const auto& meta = file.content.metadata;
  EXPECT_EQ(meta.at("format"), "heed-checkpoint-1");
  EXPECT_EQ(meta.at("heed_version"), HEED_VERSION);
  EXPECT_EQ(json::parse(meta.at("counters")),
            json::parse(R"({"step":5,"epoch":2,"tokens_seen":123456789012,
                            "elapsed_seconds":61.25})"));
  EXPECT_EQ(json::parse(meta.at("optimizer")), json::parse(R"({"name":"adam","step":0})"));
  EXPECT_EQ(
      json::parse(meta.at("data")),
      json::parse(R"({"epoch":2,"position":17,"rng":{"seed":18446744073709551615,"counter":42}})"));
  EXPECT_EQ(json::parse(meta.at("early_stopping")),
            json::parse(R"({"best_score":27.125,"best_step":4,"evals_without_improvement":1})"));
  EXPECT_EQ(meta.at("config_hash"), "0123456789abcdef");
  EXPECT_EQ(meta.at("checksum").substr(0, 6), "crc32:");
  EXPECT_EQ(meta.at("checksum").size(), 14u);
}

// Writes the checkpoint that scripts/check_safetensors.py --checkpoint verifies with Python
// (metadata keys and JSON, and the checksum recomputed with zlib).
TEST(Checkpoint, WritesTheInteropCheckpointForThePythonCheck) {
  const std::filesystem::path path =
      std::filesystem::path(HEED_BINARY_DIR) / "checkpoint_interop.safetensors";
  Session session(3);
  session.train(5);
  save_checkpoint(path, session.model, session.optimizer, full_state());
  Session loaded(4);
  expect_same_state(load_checkpoint(path, loaded.model, loaded.optimizer), full_state());
  EXPECT_TRUE(same_parameters(session.model, loaded.model));
}

// ---- corruption

void flip_byte(const std::filesystem::path& path, std::uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  file.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&c, 1);
}

TEST(Checkpoint, ChecksumCatchesAFlippedBitInTheWeights) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Session session(3);
  session.train(2);
  save_checkpoint(path, session.model, session.optimizer, full_state());
  const SafetensorsHeader header = read_safetensors_header(path);
  flip_byte(path, header.data_start() + header.data_bytes / 2);

  Session other(8);
  std::vector<std::vector<float>> before;
  for (const auto& [name, p] : other.model.named_parameters()) before.push_back(p.to_vector());
  EXPECT_THROW_MSG(load_checkpoint(path, other.model, other.optimizer),
                   "checkpoint " + path.string() + " is corrupt: checksum mismatch");
  EXPECT_THROW_MSG(load_model_weights(path, other.model), "is corrupt: checksum mismatch");
  // Nothing was changed.
  size_t i = 0;
  for (const auto& [name, p] : other.model.named_parameters()) {
    EXPECT_EQ(p.to_vector(), before[i++]);
  }
  EXPECT_EQ(other.optimizer.step_count(), 0);
}

TEST(Checkpoint, ChecksumCatchesAnEditedMetadataValue) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Session session(3);
  save_checkpoint(path, session.model, session.optimizer, full_state());
  SafetensorsFile file = read_safetensors(path);
  json counters = json::parse(file.content.metadata.at("counters"));
  counters["step"] = 6;
  file.content.metadata["counters"] = counters.dump();
  write_safetensors(path, file.content);  // valid safetensors, stale checksum
  EXPECT_THROW_MSG(load_checkpoint(path, session.model, session.optimizer),
                   "is corrupt: checksum mismatch");
}

TEST(Checkpoint, TruncatedFileIsReportedWithItsPath) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Session session(3);
  save_checkpoint(path, session.model, session.optimizer, full_state());
  const std::string whole = read_file(path);
  for (size_t keep : {whole.size() - 1, whole.size() / 2, size_t{12}, size_t{0}}) {
    write_file_atomically(path, whole.substr(0, keep));
    EXPECT_THROW_MSG(load_checkpoint(path, session.model, session.optimizer), path.string());
    EXPECT_THROW_MSG(read_checkpoint_info(path), path.string());
  }
}

TEST(Checkpoint, ALeftoverTemporaryFileIsIgnored) {
  // A save killed mid-write leaves "<path>.tmp" beside the intact previous checkpoint.
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Session session(3);
  TrainingState state = full_state();
  save_checkpoint(path, session.model, session.optimizer, state);
  std::ofstream(temporary_path_for(path), std::ios::binary) << "partial garbage";
  EXPECT_EQ(load_checkpoint(path, session.model, session.optimizer).counters.step, 5);
  // The next save replaces both.
  state.counters.step = 6;
  save_checkpoint(path, session.model, session.optimizer, state);
  EXPECT_FALSE(std::filesystem::exists(temporary_path_for(path)));
  EXPECT_EQ(read_checkpoint_info(path).state.counters.step, 6);
}

TEST(Checkpoint, RejectsAFileThatIsNotACheckpoint) {
  TempDir dir;
  const auto path = dir / "weights.safetensors";
  Session session(3);
  SafetensorsContent content;
  for (const auto& [name, p] : session.model.named_parameters()) content.f32.emplace_back(name, p);
  write_safetensors(path, content);
  EXPECT_THROW_MSG(load_checkpoint(path, session.model, session.optimizer),
                   "checkpoint " + path.string() + ": not a heed checkpoint");
}

// ---- mismatches

TEST(Checkpoint, ShapeMismatchNamesTheParameterAndChangesNothing) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Rng rng(1);
  TwoLinear small(4, rng);
  Adam small_optimizer(small.named_parameters());
  save_checkpoint(path, small, small_optimizer, {});

  TwoLinear large(8, rng);
  Adam large_optimizer(large.named_parameters());
  const std::vector<float> before = large.encoder_.weight_.to_vector();
  EXPECT_THROW_MSG(load_checkpoint(path, large, large_optimizer),
                   "checkpoint " + path.string() +
                       ": parameter \"encoder.weight\" has shape [4, 3] in the checkpoint but "
                       "[8, 3] in the model");
  EXPECT_EQ(large.encoder_.weight_.to_vector(), before);
}

TEST(Checkpoint, MissingAndUnexpectedParametersAreNamed) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Rng rng(1);
  TwoLinear two(4, rng);
  Adam two_optimizer(two.named_parameters());
  save_checkpoint(path, two, two_optimizer, {});

  Mlp mlp(4, rng);
  Adam mlp_optimizer(mlp.named_parameters());
  EXPECT_THROW_MSG(load_checkpoint(path, mlp, mlp_optimizer),
                   "parameter \"w1\" is missing (the model has 4 parameters, the checkpoint 4");

  // A model with a subset of the parameters: the rest are unexpected.
  Linear encoder_only({.in_features = 3, .out_features = 4}, rng);
  struct Wrapper : Module {
    explicit Wrapper(Linear& encoder) { register_module("encoder", encoder); }
  } subset(encoder_only);
  Adam subset_optimizer(subset.named_parameters());
  EXPECT_THROW_MSG(load_checkpoint(path, subset, subset_optimizer),
                   "the model has no parameter \"head.bias\" (and 1 more unknown parameters)");
}

TEST(Checkpoint, OptimizerKindMustMatch) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Rng rng(1);
  TwoLinear model(4, rng);
  Adam adam(model.named_parameters());
  save_checkpoint(path, model, adam, {});
  TwoLinear other(4, rng);
  Sgd sgd(other.named_parameters(), SgdOptions{.lr = 0.1f});
  EXPECT_THROW_MSG(load_checkpoint(path, other, sgd),
                   "optimizer state is for \"adam\" but this run uses \"sgd\"");
}

TEST(Checkpoint, LoadModelWeightsIgnoresTheOptimizer) {
  TempDir dir;
  const auto path = dir / "c.safetensors";
  Session session(3);
  session.train(3);
  save_checkpoint(path, session.model, session.optimizer, full_state());
  Rng rng(50);
  Mlp fresh(16, rng);  // no optimizer at all
  EXPECT_EQ(load_model_weights(path, fresh).counters.step, 5);
  EXPECT_TRUE(same_parameters(session.model, fresh));
}

// ---- the typed JSON helpers

TEST(CheckpointJson, ParsersAreStrictAndNameTheKey) {
  auto counters = [](const char* text) {
    return training_counters_from_json(json::parse(text), "ckpt: metadata \"counters\"");
  };
  EXPECT_THROW_MSG(counters(R"({"step":1,"epoch":0,"tokens_seen":0})"),
                   "ckpt: metadata \"counters\": missing key \"elapsed_seconds\"");
  EXPECT_THROW_MSG(counters(R"({"step":1,"epoch":0,"tokens_seen":0,"elapsed_seconds":1,"x":2})"),
                   "\"counters\": unknown key \"x\"");
  EXPECT_THROW_MSG(counters(R"({"step":-1,"epoch":0,"tokens_seen":0,"elapsed_seconds":1})"),
                   "\"counters\": \"step\" must be >= 0 (got -1)");
  EXPECT_THROW_MSG(counters(R"({"step":"3","epoch":0,"tokens_seen":0,"elapsed_seconds":1})"),
                   "\"counters\": \"step\" must be an integer (got \"3\")");
  EXPECT_THROW_MSG(rng_state_from_json(json::parse(R"({"seed":-3,"counter":0})"), "r"),
                   "r: \"seed\" must be an unsigned integer (got -3)");
  EXPECT_THROW_MSG(
      batcher_state_from_json(json::parse(R"({"epoch":0,"position":1,"rng":{"seed":1}})"), "d"),
      "d.rng: missing key \"counter\"");
  EXPECT_THROW_MSG(early_stopping_from_json(json::parse("[]"), "e"), "e: expected a JSON object");
}

TEST(CheckpointJson, ValuesRoundTrip) {
  const EarlyStoppingState none{};
  EXPECT_EQ(to_json(none), json::parse(R"({"best_score":null,"best_step":0,
                                           "evals_without_improvement":0})"));
  const EarlyStoppingState some{.best_score = -0.1, .best_step = 3, .evals_without_improvement = 2};
  const EarlyStoppingState back = early_stopping_from_json(to_json(some), "e");
  EXPECT_EQ(back.best_score, -0.1);  // doubles survive the JSON text exactly
  EXPECT_EQ(back.best_step, 3);
  EXPECT_EQ(back.evals_without_improvement, 2);
  const Rng::State rng{.seed = ~0ull, .counter = (1ull << 63) + 5};
  const Rng::State rng_back = rng_state_from_json(json::parse(to_json(rng).dump()), "r");
  EXPECT_EQ(rng_back.seed, rng.seed);
  EXPECT_EQ(rng_back.counter, rng.counter);
}

}  // namespace
}  // namespace heed

namespace heed {
namespace {

TEST(CheckpointAverage, ParametersAreTheMeanAndTheResultIsForEvaluationOnly) {
  TempDir dir;
  Session session(3);
  TrainingState state = full_state();
  std::vector<std::filesystem::path> paths;
  std::vector<NamedParameters> snapshots;
  for (int k = 0; k < 3; ++k) {
    session.train(2);
    state.counters.step = 2 * (k + 1);
    paths.push_back(dir / ("step_" + std::to_string(state.counters.step) + ".safetensors"));
    save_checkpoint(paths.back(), session.model, session.optimizer, state);
    NamedParameters copy;
    for (const auto& [name, p] : session.model.named_parameters()) copy.emplace_back(name, clone(p));
    snapshots.push_back(copy);
  }
  const std::filesystem::path average = dir / "average.safetensors";
  average_checkpoints(paths, average);

  Session loaded(99);
  const TrainingState info = load_model_weights(average, loaded.model);
  EXPECT_EQ(info.counters.step, 6);  // the newest input's counters
  const NamedParameters p = loaded.model.named_parameters();
  for (std::size_t i = 0; i < p.size(); ++i) {
    for (Index j = 0; j < p[i].second.numel(); ++j) {
      const double mean = (static_cast<double>(snapshots[0][i].second.data()[j]) +
                           snapshots[1][i].second.data()[j] + snapshots[2][i].second.data()[j]) /
                          3;
      EXPECT_FLOAT_EQ(p[i].second.data()[j], static_cast<float>(mean)) << p[i].first << "[" << j
                                                                        << "]";
    }
  }
  const SafetensorsHeader header = read_safetensors_header(average);
  EXPECT_EQ(header.metadata.at("averaged_from"), "[2,4,6]");
  for (const SafetensorsEntry& e : header.entries) EXPECT_TRUE(e.name.starts_with("model.")) << e.name;
  try {
    load_checkpoint(average, loaded.model, loaded.optimizer);
    ADD_FAILURE() << "resuming from an average must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("an average of checkpoints"), std::string::npos)
        << e.what();
  }
}

TEST(CheckpointAverage, RejectsCheckpointsOfAnotherRun) {
  TempDir dir;
  Session session(3);
  TrainingState state = full_state();
  save_checkpoint(dir / "a.safetensors", session.model, session.optimizer, state);
  state.config_hash = "fedcba9876543210";
  save_checkpoint(dir / "b.safetensors", session.model, session.optimizer, state);
  try {
    average_checkpoints({dir / "a.safetensors", dir / "b.safetensors"}, dir / "avg.safetensors");
    ADD_FAILURE() << "averaging two runs must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.safetensors: from another run"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "avg.safetensors"));
}

}  // namespace
}  // namespace heed
