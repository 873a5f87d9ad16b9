// Reading standard input in chunks of lines, for the commands that turn lines into lines
// (translate, classify): large chunks from a pipe or file, so that batches of similar length can
// form; one line at a time from a terminal, so that each answer comes right away.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <iostream>
#include <string>
#include <vector>

namespace heed::cli {

inline constexpr std::size_t kStdinChunkLines = 2000;

// The next chunk of lines (without line ends; a trailing '\r' is dropped); empty at the end.
inline std::vector<std::string> read_stdin_chunk() {
  const std::size_t limit = ::isatty(STDIN_FILENO) ? 1 : kStdinChunkLines;
  std::vector<std::string> lines;
  std::string line;
  while (lines.size() < limit && std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace heed::cli
