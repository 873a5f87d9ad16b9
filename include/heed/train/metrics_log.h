// The metrics log: RUN_DIR/metrics.jsonl, one JSON object per line, append-only.
//
//   {"step":100,"split":"train","loss":4.21,"lr":0.0003,"tokens_per_second":4630}
//   {"step":500,"split":"valid","bleu":12.7,"loss":3.85}
//
// Every record has an integer "step". Each line is written with one fwrite and flushed, so a
// reader (a plotting script, `tail -f`) always sees whole lines, and a crash loses at most the line
// being written.
//
// Resuming: a session that crashed after its last checkpoint has logged steps that the resumed
// session will run (and log) again. resume() therefore first drops every line with step > the
// checkpoint's step — and any unreadable line, such as one cut short by the crash — rewriting the
// file atomically (atomic_file.h), so the log never holds a step twice.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace heed {

class MetricsLog {
 public:
  // A new run: creates the file, or empties one left by an attempt that saved no checkpoint.
  static MetricsLog start(const std::filesystem::path& path);
  // Continuing from a checkpoint at `checkpoint_step`: removes later (and unreadable) lines, then
  // appends. A missing file is created.
  static MetricsLog resume(const std::filesystem::path& path, std::int64_t checkpoint_step);

  MetricsLog(MetricsLog&& other) noexcept;
  MetricsLog& operator=(MetricsLog&& other) noexcept;
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  ~MetricsLog();

  // Appends `record` (a JSON object with an integer "step" >= 0) as one line and flushes.
  void write(const nlohmann::json& record);

  // Lines resume() removed.
  std::int64_t removed_lines() const { return removed_lines_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MetricsLog(std::filesystem::path path, std::FILE* file, std::int64_t removed_lines);

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::int64_t removed_lines_ = 0;
};

// Drops the lines of a metrics file whose step is > `step`, and unreadable lines, by rewriting
// it atomically (untouched when nothing is dropped); returns how many were dropped. A missing
// file is left missing (0).
std::int64_t truncate_metrics_after(const std::filesystem::path& path, std::int64_t step);

// Every record of a metrics file, in order; throws naming the file and line for a bad line.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path);

}  // namespace heed
