// The training loop, written once for every task (see trainer.h for what it does and task.h for
// what a task supplies).
#include "heed/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>

#include "heed/autograd/grad_mode.h"
#include "heed/ops/precision.h"
#include "heed/optim/adam.h"
#include "heed/optim/lr_schedule.h"
#include "heed/optim/sgd.h"
#include "heed/train/checkpoint.h"
#include "heed/train/metrics_log.h"
#include "heed/train/progress.h"
#include "heed/train/run_dir.h"
#include "heed/train/signals.h"
#include "heed/train/task.h"
#include "heed/util/parallel.h"
#include "train/config_detail.h"

namespace heed {

using nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The run's log: every message goes to RUN_DIR/log.txt (appended, time-stamped) and to the
// progress stream, through the status line once there is one.
class RunLog {
 public:
  RunLog(const std::filesystem::path& path, std::ostream& out)
      : file_(path, std::ios::app), out_(out) {
    CHECK(file_.good(), path.string(), ": cannot open for appending");
  }

  void set_progress(TrainProgress* progress) { progress_ = progress; }

  void operator()(const std::string& message) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", std::localtime(&now));
    file_ << stamp << "  " << message << '\n';
    file_.flush();
    if (progress_) {
      progress_->message(message);
    } else {
      out_ << message << '\n';
    }
  }

 private:
  std::ofstream file_;
  std::ostream& out_;
  TrainProgress* progress_ = nullptr;
};

// Sums over the steps since the last "train" line of metrics.jsonl. They are checkpointed (the
// "trainer" metadata), so the first line after a resume averages the same steps as it would
// have without the interruption.
struct LogWindow {
  std::int64_t steps = 0;
  double loss_sum = 0;  // Σ loss · units
  std::int64_t units = 0;
  double grad_norm_sum = 0;
  std::int64_t tokens = 0;
  std::int64_t slots = 0;
  double seconds = 0;  // time spent in training steps (not validation)

  json to_json() const {
    return {{"steps", steps},    {"loss_sum", loss_sum},
            {"units", units},    {"grad_norm_sum", grad_norm_sum},
            {"tokens", tokens},  {"slots", slots},
            {"seconds", seconds}};
  }
  static LogWindow from_json(const json& j, const std::string& where) {
    LogWindow w;
    if (j.empty()) return w;  // a checkpoint written at a log step, or by an older heed
    try {
      w.steps = j.at("steps").get<std::int64_t>();
      w.loss_sum = j.at("loss_sum").get<double>();
      w.units = j.at("units").get<std::int64_t>();
      w.grad_norm_sum = j.at("grad_norm_sum").get<double>();
      w.tokens = j.at("tokens").get<std::int64_t>();
      w.slots = j.at("slots").get<std::int64_t>();
      w.seconds = j.at("seconds").get<double>();
    } catch (const json::exception& e) {
      CHECK(false, where, ": metadata \"trainer\" is malformed (", e.what(), ")");
    }
    return w;
  }
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& c, const Module& model) {
  const NamedParameters parameters = model.named_parameters();
  const auto lr = static_cast<float>(c.lr);
  std::vector<std::string> lazy_rows;
  if (c.lazy_embeddings) lazy_rows = model.embedding_table_names();
  switch (c.type) {
    case OptimizerKind::kAdam:
      return std::make_unique<Adam>(parameters, AdamOptions{.lr = lr,
                                                            .beta1 = c.beta1,
                                                            .beta2 = c.beta2,
                                                            .eps = c.eps,
                                                            .weight_decay = c.weight_decay,
                                                            .lazy_rows = lazy_rows});
    case OptimizerKind::kAdamW:
      return std::make_unique<AdamW>(parameters, AdamWOptions{.lr = lr,
                                                              .beta1 = c.beta1,
                                                              .beta2 = c.beta2,
                                                              .eps = c.eps,
                                                              .weight_decay = c.weight_decay,
                                                            .lazy_rows = lazy_rows});
    case OptimizerKind::kSgd:
      return std::make_unique<Sgd>(parameters, SgdOptions{.lr = lr,
                                                          .momentum = c.momentum,
                                                          .weight_decay = c.weight_decay,
                                                          .nesterov = c.nesterov});
  }
  CHECK(false, "unknown optimizer");
  return nullptr;
}

std::string format_metric(const std::string& name, double value) {
  char buffer[64];
  // Scores in percent (BLEU, chrF) with two decimals; fractions and losses with four.
  const bool percent = name == "bleu" || name == "chrf";
  std::snprintf(buffer, sizeof(buffer), percent ? "%.2f" : "%.4f", value);
  return name + " " + buffer;
}

// One training session: from start_run to the end of the loop.
class Session {
 public:
  Session(Config config, json resolved, const TrainOptions& options)
      : config_(std::move(config)),
        resolved_(std::move(resolved)),
        run_(config_.run_dir),
        out_(options.progress ? *options.progress : std::cerr) {
    const RunStart start = start_run(run_, resolved_, options.resume);
    log_ = std::make_unique<RunLog>(run_.log_path(), out_);
    RunLog& log = *log_;
    log(str(start.resume_from ? "resuming " : "starting ", run_.root().string(), " (heed ",
            HEED_VERSION, ", ", num_threads(), " threads, ",
            config_.train.precision == PrecisionKind::kBf16 ? "bf16" : "fp32", " matmuls)"));
    for (const std::string& note : start.notes) log(note);

    task_ = make_task(config_, run_, start.resume_from.has_value(),
                      [this](const std::string& message) { (*log_)(message); });
    optimizer_ = make_optimizer(config_.train.optimizer, task_->model());
    total_steps_ = planned_steps();
    LrScheduleOptions schedule{.kind = config_.train.schedule.type,
                               .peak_lr = static_cast<float>(config_.train.optimizer.lr),
                               .warmup_steps = config_.train.schedule.warmup_steps,
                               .total_steps = 0,
                               .min_lr = 0};
    if (schedule.kind == LrScheduleKind::kCosine) {
      schedule.total_steps = config_.train.schedule.total_steps.value_or(total_steps_);
      schedule.min_lr = static_cast<float>(config_.train.schedule.min_lr);
      CHECK(schedule.total_steps > schedule.warmup_steps,
            "train.schedule.total_steps: the run has ", schedule.total_steps,
            " steps, not more than warmup_steps (", schedule.warmup_steps,
            "); set train.schedule.total_steps or train.max_steps");
    }
    scheduler_ = std::make_unique<LrScheduler>(schedule);

    state_.config = resolved_;
    state_.config_hash = config_hash_hex(resolved_);
    if (start.resume_from) {
      restore(start.resume_from->path);
      metrics_ = std::make_unique<MetricsLog>(
          MetricsLog::resume(run_.metrics_path(), state_.counters.step));
      log(str("resumed from ", start.resume_from->path.string(), " at step ", state_.counters.step,
              " (epoch ", state_.counters.epoch + 1, ")"));
    } else {
      metrics_ = std::make_unique<MetricsLog>(MetricsLog::start(run_.metrics_path()));
    }
    log(str("model: ", to_string(config_.model.type), ", ", task_->model().parameter_count(),
            " parameters; ", task_->batches_in_epochs(1), " batches per epoch; training for ",
            planned_length()));
  }

  TrainResult run() {
    StopSignalHandler stop_on_signals;
    const auto session_start = std::chrono::steady_clock::now();
    const double elapsed_before = state_.counters.elapsed_seconds;
    ProgressOptions progress_options;
    progress_options.out = &out_;
    TrainProgress progress(std::max<std::int64_t>(total_steps_, 1), progress_options);
    if (time_budget_minutes()) progress.set_time_budget(*time_budget_minutes() * 60 - elapsed_before);
    log_->set_progress(&progress);

    TrainResult result;
    result.run_dir = run_.root();
    std::int64_t& step = state_.counters.step;
    EarlyStoppingState& stopping = state_.early_stopping;
    const TrainConfig& t = config_.train;
    const int patience = t.validates() ? t.early_stopping.patience : 0;
    if (patience > 0 && stopping.evals_without_improvement >= patience) {
      (*log_)(str("this run already stopped early (no improvement of ", t.early_stopping.metric,
                  " in ", patience, " validations); nothing to do"));
      result.outcome = TrainOutcome::kEarlyStopped;
    } else if (done()) {
      (*log_)(str("this run already reached its end (step ", step,
                  "); raise train.max_steps, train.max_epochs or train.max_minutes with --set to continue"));
    }

    const std::int64_t first_step = step;
    const float clip = t.clip_norm > 0 ? static_cast<float>(t.clip_norm)
                                       : std::numeric_limits<float>::max();  // norm only
    while (result.outcome == TrainOutcome::kFinished && !done()) {
      const TrainStatus status = train_step(clip);
      progress.update(status);
      if (step % t.log_every == 0) log_training(status.lr);
      bool improved = false;
      {
        const TrainProgress::Pause pause(progress);  // not training speed
        if (t.validates() && step % t.valid_every == 0) improved = validate();
        state_.counters.elapsed_seconds = elapsed_before + seconds_since(session_start);
        // Without validation the newest model is the best one there is.
        if (step % t.checkpoint_every == 0 || improved) save(improved || !t.validates());
      }
      if (stop_requested()) {
        result.outcome = TrainOutcome::kInterrupted;
        result.signal = stop_signal();
      } else if (patience > 0 && stopping.evals_without_improvement >= patience) {
        result.outcome = TrainOutcome::kEarlyStopped;
      }
    }

    // The final model gets a validation score too (once: not again when a finished run is
    // resumed with nothing left to do).
    if (t.validates() && result.outcome == TrainOutcome::kFinished && step > first_step &&
        last_validated_ != step) {
      if (validate()) save(true);
    }
    state_.counters.elapsed_seconds = elapsed_before + seconds_since(session_start);
    if (step > 0 && last_saved_ != step) save(!t.validates());
    progress.finish();
    log_->set_progress(nullptr);

    report_end(result);
    result.step = step;
    result.best_score = stopping.best_score;
    result.best_step = stopping.best_step;
    return result;
  }

 private:
  // One optimizer step on the next batch.
  TrainStatus train_step(float clip) {
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t step = ++state_.counters.step;
    optimizer_->zero_grad();
    const float lr = scheduler_->advance(*optimizer_);
    const TrainStep s = task_->forward_backward(static_cast<float>(config_.train.label_smoothing));
    const float grad_norm = optimizer_->clip_grad_norm(clip);
    CHECK(std::isfinite(s.loss) && std::isfinite(grad_norm), "training diverged at step ", step,
          ": loss ", s.loss, ", gradient norm ", grad_norm,
          " (lower train.optimizer.lr, use a warmup, or set train.clip_norm); the last "
          "checkpoint is unchanged");
    optimizer_->step();

    state_.counters.epoch = task_->data_state().epoch;
    state_.counters.tokens_seen += s.tokens;
    window_.steps += 1;
    window_.loss_sum += s.loss * static_cast<double>(s.units);
    window_.units += s.units;
    window_.grad_norm_sum += grad_norm;
    window_.tokens += s.tokens;
    window_.slots += s.slots;
    window_.seconds += seconds_since(start);
    return {.step = step,
            .epoch = state_.counters.epoch + 1,
            .loss = s.loss,
            .lr = lr,
            .tokens_seen = state_.counters.tokens_seen};
  }

  void report_end(const TrainResult& result) {
    const std::int64_t step = state_.counters.step;
    const EarlyStoppingConfig& e = config_.train.early_stopping;
    switch (result.outcome) {
      case TrainOutcome::kFinished:
        (*log_)(str("finished at step ", step, " (",
                    format_duration(state_.counters.elapsed_seconds), " of training)"));
        break;
      case TrainOutcome::kEarlyStopped:
        (*log_)(str("stopped early at step ", step, ": ", e.metric, " did not improve in ",
                    e.patience, " validations"));
        break;
      case TrainOutcome::kInterrupted:
        (*log_)(str("stopped by ", stop_signal_name(result.signal), " at step ", step,
                    "; checkpoint saved. Continue with: heed train ... --resume"));
        break;
    }
    const EarlyStoppingState& best = state_.early_stopping;
    if (!config_.train.validates() && step > 0) {
      (*log_)(str("no validation: the model of step ", step, ", the latest, is ",
                  run_.best_checkpoint_path().string()));
    } else if (best.best_score) {
      (*log_)(str("best ", format_metric(e.metric, *best.best_score), " at step ", best.best_step,
                  ": ", run_.best_checkpoint_path().string()));
    }
  }

  // The step count the run ends at: max_steps, or the batches of max_epochs epochs, whichever
  // comes first (used for the progress bar and the cosine schedule).
  std::int64_t planned_steps() const {
    const TrainConfig& t = config_.train;
    std::int64_t steps = std::numeric_limits<std::int64_t>::max();
    if (t.max_steps) steps = *t.max_steps;
    if (t.max_epochs) steps = std::min(steps, task_->batches_in_epochs(*t.max_epochs));
    return steps;
  }

  const std::optional<double>& time_budget_minutes() const { return config_.train.max_minutes; }

  // "3000 steps", "60 minutes", "3000 steps or 60 minutes".
  std::string planned_length() const {
    const std::optional<double>& minutes = config_.train.max_minutes;
    const bool steps = total_steps_ != std::numeric_limits<std::int64_t>::max();
    std::string out = steps ? str(total_steps_, " steps") : "";
    if (minutes) out += str(steps ? " or " : "", *minutes, " minutes");
    return out;
  }

  bool done() const {
    const TrainConfig& t = config_.train;
    return (t.max_steps && state_.counters.step >= *t.max_steps) ||
           (t.max_epochs && task_->completed_epochs() >= *t.max_epochs) ||
           (t.max_minutes && state_.counters.elapsed_seconds >= *t.max_minutes * 60);
  }

  void log_training(float lr) {
    const LogWindow& w = window_;
    json record = {
        {"step", state_.counters.step},
        {"split", "train"},
        {"epoch", state_.counters.epoch + 1},
        {"loss", w.units > 0 ? w.loss_sum / static_cast<double>(w.units) : 0.0},
        {"lr", config_detail::float_for_json(lr)},
        {"tokens_per_s", w.seconds > 0 ? static_cast<double>(w.tokens) / w.seconds : 0.0},
        {"grad_norm", w.grad_norm_sum / static_cast<double>(std::max<std::int64_t>(w.steps, 1))},
        {"padding",
         w.slots > 0 ? 1.0 - static_cast<double>(w.tokens) / static_cast<double>(w.slots) : 0.0}};
    metrics_->write(record);
    window_ = LogWindow{};
  }

  // Runs a validation, logs it and updates the early-stopping state; true if it improved.
  bool validate() {
    const auto start = std::chrono::steady_clock::now();
    Validation v = task_->validate();
    const std::int64_t step = state_.counters.step;
    last_validated_ = step;
    const EarlyStoppingConfig& e = config_.train.early_stopping;
    const double score = v.metrics.at(e.metric);
    EarlyStoppingState& s = state_.early_stopping;
    const bool improved = std::isfinite(score) &&
                          (!s.best_score || (e.mode == MetricMode::kMax ? score > *s.best_score
                                                                        : score < *s.best_score));
    if (improved) {
      s.best_score = score;
      s.best_step = step;
      s.evals_without_improvement = 0;
    } else {
      ++s.evals_without_improvement;
    }

    json record = {{"step", step}, {"split", "valid"}};
    std::string line = str("validation at step ", step, ":");
    for (const std::string& name : task_metrics(config_.task)) {
      record[name] = v.metrics.at(name);
      line += str(" ", format_metric(name, v.metrics.at(name)), ",");
    }
    record["seconds"] = seconds_since(start);
    metrics_->write(record);
    line.pop_back();
    if (improved) {
      line += str(" (new best ", e.metric, ")");
    } else if (s.best_score) {
      line += str(" (best ", format_metric(e.metric, *s.best_score), " at step ", s.best_step, ")");
    }
    (*log_)(line);
    for (const std::string& sample : v.samples) (*log_)("  " + sample);
    // What the model attends to on a few validation inputs: RUN_DIR/attention/step_<N>.html. A
    // page that cannot be written is reported, and training goes on.
    try {
      task_->write_attention(run_.attention_dir() / str("step_", step, ".html"),
                             str("attention at step ", step));
    } catch (const Error& e) {
      (*log_)(str("attention page not written: ", e.what()));
    }
    return improved;
  }

  void save(bool best) {
    const std::int64_t step = state_.counters.step;
    if (last_saved_ != step) {
      state_.lr_scheduler = scheduler_->state();
      state_.data = task_->data_state();
      state_.rngs.clear();
      for (const auto& [name, rng] : task_->model_rngs()) state_.rngs[name] = rng->state();
      state_.trainer = window_.to_json();
      save_checkpoint(run_.checkpoint_path(step), task_->model(), *optimizer_, state_);
      last_saved_ = step;
    }
    if (best) run_.mark_best(step);
    run_.prune_checkpoints(config_.train.keep_checkpoints);
  }

  void restore(const std::filesystem::path& path) {
    const json config = state_.config;
    const std::string hash = state_.config_hash;
    state_ = load_checkpoint(path, task_->model(), *optimizer_);
    state_.config = config;  // the new resolved config (train settings may have changed)
    state_.config_hash = hash;
    const std::string where = "checkpoint " + path.string();
    CHECK(state_.lr_scheduler.step == optimizer_->step_count(), where, ": the schedule's step (",
          state_.lr_scheduler.step, ") differs from the optimizer's (", optimizer_->step_count(),
          ")");
    scheduler_->load_state(state_.lr_scheduler);
    task_->set_data_state(state_.data);
    for (const auto& [name, rng] : task_->model_rngs()) {
      auto it = state_.rngs.find(name);
      CHECK(it != state_.rngs.end(), where, ": no state for the random stream \"", name, "\"");
      rng->set_state(it->second);
    }
    window_ = LogWindow::from_json(state_.trainer, where);
    last_saved_ = state_.counters.step;
    if (config_.train.validates() && state_.counters.step % config_.train.valid_every == 0) {
      last_validated_ = state_.counters.step;
    }
  }

  Config config_;
  json resolved_;
  RunDir run_;
  std::ostream& out_;
  std::unique_ptr<RunLog> log_;
  std::unique_ptr<Task> task_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<LrScheduler> scheduler_;
  std::unique_ptr<MetricsLog> metrics_;
  std::int64_t total_steps_ = 0;
  TrainingState state_;
  LogWindow window_;
  std::int64_t last_saved_ = -1;
  std::int64_t last_validated_ = -1;
};

}  // namespace

TrainResult train(const LoadedConfig& loaded, const TrainOptions& options) {
  Config config = loaded.config;
  json resolved = loaded.resolved;
  set_num_threads(config.train.threads);
  if (config.train.precision == PrecisionKind::kBf16) {
    CHECK(cpu_has_bf16(),
          "train.precision: \"bf16\" needs a CPU with AVX512-BF16 (this one has "
          "none; bf16 would be emulated and slower than fp32): use \"fp32\"");
    set_matmul_precision(MatmulPrecision::kBf16);
  } else {
    set_matmul_precision(MatmulPrecision::kF32);
  }
  if (config.task == TaskKind::kClassification && config.data.classification.labels.empty()) {
    // The class names become part of the resolved config: evaluation and prediction read them
    // from there, and a resumed run checks them.
    config.data.classification.labels = training_labels(config);
    resolved = config.to_json();
  }
  Session session(std::move(config), std::move(resolved), options);
  return session.run();
}

}  // namespace heed
