// Running the built heed program from tests (fork/exec of HEED_BINARY_DIR "/heed"), with its
// standard streams in files so that nothing can block on a full pipe.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace heed::testing {

inline std::string heed_binary() { return std::string(HEED_BINARY_DIR) + "/heed"; }

struct ProcessResult {
  int status = -1;  // exit status, or -1 if killed by a signal
  int signal = 0;   // the signal that killed it
  std::string out, err;
};

// A running heed process. Its stdin is `input`; stdout and stderr go to files next to it.
class HeedProcess {
 public:
  HeedProcess(const std::vector<std::string>& args, const std::string& input = "") {
    static int counter = 0;
    base_ = std::filesystem::temp_directory_path() /
            ("heed_process_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::ofstream(base_.string() + ".in") << input;
    std::vector<std::string> argv_strings = {heed_binary()};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      redirect((base_.string() + ".in").c_str(), O_RDONLY, STDIN_FILENO);
      redirect((base_.string() + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO);
      redirect((base_.string() + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, STDERR_FILENO);
      std::vector<char*> argv;
      for (std::string& s : argv_strings) argv.push_back(s.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~HeedProcess() {
    if (!waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    for (const char* ext : {".in", ".out", ".err"}) std::filesystem::remove(base_.string() + ext);
  }
  HeedProcess(const HeedProcess&) = delete;
  HeedProcess& operator=(const HeedProcess&) = delete;

  pid_t pid() const { return pid_; }
  void kill(int signal) { ::kill(pid_, signal); }
  // Whether it is still running.
  bool running() {
    if (waited_) return false;
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) finish(status);
    return !waited_;
  }
  ProcessResult wait() {
    if (!waited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      finish(status);
    }
    return result_;
  }

 private:
  static void redirect(const char* path, int flags, int fd) {
    const int file = ::open(path, flags, 0644);
    if (file < 0 || ::dup2(file, fd) < 0) ::_exit(126);
    ::close(file);
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void finish(int status) {
    waited_ = true;
    if (WIFEXITED(status)) result_.status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
    result_.out = slurp(base_.string() + ".out");
    result_.err = slurp(base_.string() + ".err");
  }

  std::filesystem::path base_;
  pid_t pid_ = -1;
  bool waited_ = false;
  ProcessResult result_;
};

// Runs heed to completion.
inline ProcessResult run_heed(const std::vector<std::string>& args, const std::string& input = "") {
  HeedProcess process(args, input);
  return process.wait();
}

// The last non-empty line of a text.
inline std::string last_line(const std::string& text) {
  std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  std::size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace heed::testing
