#include "heed/train/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "heed/train/atomic_file.h"
#include "heed/util/check.h"

namespace heed {
namespace {

using nlohmann::json;

// The step of a metrics line, or nullopt if the line is not a JSON object with an integer step.
std::optional<std::int64_t> step_of_line(std::string_view line) {
  const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return std::nullopt;
  auto step = record.find("step");
  if (step == record.end() || !step->is_number_integer()) return std::nullopt;
  return step->get<std::int64_t>();
}

std::FILE* open_for_append(const std::filesystem::path& path, const char* mode) {
  std::FILE* file = std::fopen(path.c_str(), mode);
  CHECK(file != nullptr, path.string(), ": cannot open metrics log (", std::strerror(errno), ")");
  return file;
}

}  // namespace

MetricsLog::MetricsLog(std::filesystem::path path, std::FILE* file, std::int64_t removed_lines)
    : path_(std::move(path)), file_(file), removed_lines_(removed_lines) {}

MetricsLog MetricsLog::start(const std::filesystem::path& path) {
  return MetricsLog(path, open_for_append(path, "wb"), 0);
}

MetricsLog MetricsLog::resume(const std::filesystem::path& path, std::int64_t checkpoint_step) {
  const std::int64_t removed = truncate_metrics_after(path, checkpoint_step);
  return MetricsLog(path, open_for_append(path, "ab"), removed);
}

MetricsLog::MetricsLog(MetricsLog&& other) noexcept
    : path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      removed_lines_(other.removed_lines_) {}

MetricsLog& MetricsLog::operator=(MetricsLog&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    removed_lines_ = other.removed_lines_;
  }
  return *this;
}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsLog::write(const json& record) {
  CHECK(file_ != nullptr, path_.string(), ": metrics log is closed");
  CHECK(record.is_object(), path_.string(), ": a metrics record must be a JSON object (got ",
        record.dump(), ")");
  auto step = record.find("step");
  CHECK(step != record.end() && step->is_number_integer() && step->get<std::int64_t>() >= 0,
        path_.string(), ": a metrics record needs an integer \"step\" >= 0 (got ", record.dump(),
        ")");
  // NaN/inf (a diverged loss) are written as null; invalid UTF-8 in a string is replaced rather
  // than thrown: the log must not stop the run.
  const std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  CHECK(std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0,
        path_.string(), ": cannot write metrics (", std::strerror(errno), ")");
}

std::int64_t truncate_metrics_after(const std::filesystem::path& path, std::int64_t step) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return 0;
  const std::string text = read_file(path);
  std::string kept;
  kept.reserve(text.size());
  std::int64_t dropped = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    const bool complete = end != std::string::npos;  // a last line without '\n' was cut short
    if (!complete) end = text.size();
    const std::string_view line(text.data() + begin, end - begin);
    if (!line.empty()) {
      const std::optional<std::int64_t> line_step = step_of_line(line);
      if (complete && line_step && *line_step <= step) {
        kept.append(line).push_back('\n');
      } else {
        ++dropped;
      }
    }
    begin = end + 1;
  }
  if (dropped > 0) write_file_atomically(path, kept);
  return dropped;
}

std::vector<json> read_metrics(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  std::vector<json> records;
  std::size_t begin = 0;
  for (int line_number = 1; begin < text.size(); ++line_number) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + begin, end - begin);
    if (!line.empty()) {
      json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
      CHECK(record.is_object(), path.string(), ":", line_number,
            ": not a JSON object: ", line.substr(0, 80));
      records.push_back(std::move(record));
    }
    begin = end + 1;
  }
  return records;
}

}  // namespace heed
