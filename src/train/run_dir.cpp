#include "heed/train/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

#include "heed/train/atomic_file.h"
#include "heed/train/checkpoint.h"
#include "heed/train/config.h"
#include "heed/util/check.h"

namespace heed {
namespace {

using nlohmann::json;

constexpr const char* kCheckpointPrefix = "step_";
constexpr const char* kCheckpointSuffix = ".safetensors";
constexpr std::size_t kMaxShownValue = 60;

// "step_1200.safetensors" -> 1200; anything else (best.safetensors, step_x.safetensors,
// step_1200.safetensors.tmp) -> nullopt.
std::optional<std::int64_t> step_of(const std::string& file_name) {
  const std::string prefix = kCheckpointPrefix, suffix = kCheckpointSuffix;
  if (file_name.size() <= prefix.size() + suffix.size()) return std::nullopt;
  if (file_name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  if (file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  const std::string digits =
      file_name.substr(prefix.size(), file_name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
    return std::nullopt;
  }
  return std::stoll(digits);
}

std::string shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > kMaxShownValue) text = text.substr(0, kMaxShownValue - 3) + "...";
  return text;
}

void collect_differences(const json& before, const json& after, const std::string& path,
                         std::vector<std::string>& out) {
  auto key_path = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (before.is_object() && after.is_object()) {
    std::set<std::string> keys;
    for (const auto& [key, value] : before.items()) keys.insert(key);
    for (const auto& [key, value] : after.items()) keys.insert(key);
    for (const std::string& key : keys) {
      const bool in_before = before.contains(key), in_after = after.contains(key);
      if (in_before && in_after) {
        collect_differences(before[key], after[key], key_path(key), out);
      } else {
        out.push_back(key_path(key) + ": " + (in_before ? shown(before[key]) : "(absent)") +
                      " -> " + (in_after ? shown(after[key]) : "(absent)"));
      }
    }
  } else if (before.is_array() && after.is_array() && before.size() == after.size()) {
    for (std::size_t i = 0; i < before.size(); ++i) {
      collect_differences(before[i], after[i], path + "[" + std::to_string(i) + "]", out);
    }
  } else if (before != after) {
    out.push_back((path.empty() ? std::string("(document)") : path) + ": " + shown(before) +
                  " -> " + shown(after));
  }
}

void fsync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0, path.string(), ": cannot open file (", std::strerror(errno), ")");
  const bool synced = ::fsync(fd) == 0;
  const std::string why = synced ? "" : std::strerror(errno);
  ::close(fd);
  CHECK(synced, path.string(), ": cannot fsync (", why, ")");
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "\n  " + line;
  return text;
}

}  // namespace

RunDir::RunDir(std::filesystem::path root) : root_(std::move(root)) {
  CHECK(!root_.empty(), "run directory: empty path");
}

std::filesystem::path RunDir::checkpoint_path(std::int64_t step) const {
  CHECK(step >= 0, "run directory ", root_.string(), ": checkpoint step must be >= 0 (got ", step,
        ")");
  return checkpoints_dir() / (kCheckpointPrefix + std::to_string(step) + kCheckpointSuffix);
}

std::filesystem::path RunDir::best_checkpoint_path() const {
  return checkpoints_dir() / (std::string("best") + kCheckpointSuffix);
}

void RunDir::create_directories() const {
  for (const auto& directory : {root_, checkpoints_dir(), tokenizer_dir(), attention_dir()}) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    CHECK(!error, directory.string(), ": cannot create directory (", error.message(), ")");
  }
}

std::vector<CheckpointFile> RunDir::checkpoints() const {
  std::vector<CheckpointFile> found;
  std::error_code error;
  if (!std::filesystem::is_directory(checkpoints_dir(), error)) return found;
  for (const auto& entry : std::filesystem::directory_iterator(checkpoints_dir())) {
    if (!entry.is_regular_file()) continue;
    if (auto step = step_of(entry.path().filename().string())) {
      found.push_back({*step, entry.path()});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const CheckpointFile& a, const CheckpointFile& b) { return a.step < b.step; });
  return found;
}

std::optional<CheckpointFile> RunDir::latest_checkpoint() const {
  std::vector<CheckpointFile> all = checkpoints();
  if (all.empty()) return std::nullopt;
  return all.back();
}

int RunDir::remove_temporaries() const {
  int removed = 0;
  for (const auto& directory : {root_, checkpoints_dir()}) {
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      if (entry.is_regular_file() && entry.path().extension() == ".tmp") {
        std::filesystem::remove(entry.path(), error);
        CHECK(!error, entry.path().string(), ": cannot delete (", error.message(), ")");
        ++removed;
      }
    }
  }
  return removed;
}

std::vector<std::filesystem::path> RunDir::prune_checkpoints(int keep_last) const {
  CHECK(keep_last >= 1, "run directory ", root_.string(), ": keep_last must be >= 1 (got ",
        keep_last, ")");
  std::vector<CheckpointFile> all = checkpoints();
  std::vector<std::filesystem::path> deleted;
  for (std::size_t i = 0; i + keep_last < all.size(); ++i) {
    std::error_code error;
    std::filesystem::remove(all[i].path, error);
    CHECK(!error, all[i].path.string(), ": cannot delete old checkpoint (", error.message(), ")");
    deleted.push_back(all[i].path);
  }
  if (!deleted.empty()) fsync_directory(checkpoints_dir());
  return deleted;
}

void RunDir::mark_best(std::int64_t step) const {
  const std::filesystem::path source = checkpoint_path(step);
  const std::filesystem::path best = best_checkpoint_path();
  const std::filesystem::path staging = temporary_path_for(best);
  std::error_code error;
  CHECK(std::filesystem::is_regular_file(source, error), "run directory ", root_.string(),
        ": cannot mark step ", step, " as best: ", source.string(), " does not exist");
  std::filesystem::remove(staging, error);
  // Checkpoint files are never modified in place (each save writes a new file and renames it),
  // so a hard link is as good as a copy, and free.
  std::filesystem::create_hard_link(source, staging, error);
  if (error) {
    error.clear();
    std::filesystem::copy_file(source, staging, std::filesystem::copy_options::overwrite_existing,
                               error);
    CHECK(!error, "cannot copy ", source.string(), " to ", staging.string(), " (", error.message(),
          ")");
    fsync_file(staging);
  }
  std::filesystem::rename(staging, best, error);
  CHECK(!error, "cannot rename ", staging.string(), " to ", best.string(), " (", error.message(),
        ")");
  fsync_directory(checkpoints_dir());
}

void RunDir::write_config(const json& resolved_config) const {
  write_file_atomically(config_path(), resolved_config.dump(2) + "\n");
}

json RunDir::read_config() const {
  const std::string text = read_file(config_path());
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    CHECK(false, config_path().string(), ": invalid JSON (", e.what(), ")");
  }
  return {};
}

std::vector<std::string> json_differences(const json& before, const json& after,
                                          const std::string& path) {
  std::vector<std::string> out;
  collect_differences(before, after, path, out);
  return out;
}

RunStart start_run(const RunDir& run, const json& resolved_config, bool resume) {
  const std::string dir = run.root().string();
  run.create_directories();
  run.remove_temporaries();
  const std::vector<CheckpointFile> checkpoints = run.checkpoints();

  RunStart start;
  if (!resume) {
    CHECK(checkpoints.empty(), "run directory ", dir, " already has checkpoints (latest: step ",
          checkpoints.empty() ? 0 : checkpoints.back().step,
          "); use --resume to continue it, or choose another run directory / delete it");
    run.write_config(resolved_config);
    return start;
  }

  CHECK(!checkpoints.empty(), "run directory ", dir, " has no checkpoint to resume from (no ",
        run.checkpoints_dir().string(), "/step_<N>.safetensors); start it without --resume");
  const CheckpointFile& latest = checkpoints.back();
  CheckpointInfo info;
  try {
    info = read_checkpoint_info(latest.path);
  } catch (const Error& e) {
    const std::string hint = checkpoints.size() > 1
                                 ? str("; delete it to resume from the previous checkpoint (step ",
                                       checkpoints[checkpoints.size() - 2].step, ")")
                                 : std::string("; it is the only checkpoint of this run");
    throw Error(e.what() + hint);
  }

  // The checkpoint's config read again by this version of heed: keys added since it was written
  // take their defaults on both sides instead of counting as changes.
  json saved = info.state.config;
  try {
    saved = config_from_resolved(saved, latest.path.string()).to_json();
  } catch (const std::exception&) {
    // Not readable any more: compare it as written, which names what differs.
  }
  std::vector<std::string> forbidden;
  for (const char* section : {"model", "data"}) {
    const json before = saved.contains(section) ? saved[section] : json(nullptr);
    const json after = resolved_config.contains(section) ? resolved_config[section] : json(nullptr);
    for (std::string& change : json_differences(before, after, section)) {
      forbidden.push_back(std::move(change));
    }
  }
  CHECK(forbidden.empty(), "cannot resume run directory ", dir,
        ": the model or data configuration differs from the one of its checkpoint at step ",
        latest.step, ":", join_lines(forbidden),
        "\nresume with the same model and data settings, or start a new run directory");

  json saved_rest = saved, new_rest = resolved_config;
  for (const char* section : {"model", "data"}) {
    if (saved_rest.is_object()) saved_rest.erase(section);
    if (new_rest.is_object()) new_rest.erase(section);
  }
  for (const std::string& change : json_differences(saved_rest, new_rest)) {
    start.notes.push_back("config changed since the checkpoint at step " +
                          std::to_string(latest.step) + ": " + change);
  }
  run.write_config(resolved_config);
  start.resume_from = latest;
  return start;
}

}  // namespace heed
