// safetensors: the tensor file format of Hugging Face (github.com/huggingface/safetensors), so
// that Python loads heed weights with `safetensors.torch.load_file(path)`.
//
// Layout of a file:
//   bytes [0, 8)        N, an unsigned 64-bit little-endian integer: the header's length
//   bytes [8, 8 + N)    the header, UTF-8 JSON, padded with spaces to a multiple of 8 bytes:
//                         {"__metadata__": {"key": "value", ...},            (optional)
//                          "name": {"dtype": "F32", "shape": [2, 3],
//                                   "data_offsets": [begin, end]}, ...}
//   bytes [8 + N, end)  the data section: each tensor's elements, row-major, little-endian, at
//                       [begin, end) relative to the start of the section
// A reader requires (as the reference implementation does) N ≤ 100 MB; offsets that, sorted,
// tile the data section exactly from 0 to its end with no gap or overlap; end − begin =
// numel(shape) × the dtype's size; metadata values that are strings. All of that is checked
// here, and every error names the file.
//
// heed reads and writes F32 (parameters, optimizer moments) and I32 (small integer state); other
// dtypes of the format are reported as unsupported. The writer orders tensors as the reference
// writer does — by dtype alignment, then by name — and writes "__metadata__" first (omitted when
// empty, keys sorted), so its output matches the reference implementation's own test vectors
// byte for byte (tests/train/safetensors_test.cpp). scripts/check_safetensors.py verifies files
// independently with Python and torch.
//
//   SafetensorsContent content;
//   content.f32.emplace_back("encoder.embed.weight", embedding);
//   content.metadata["format"] = "pt";
//   write_safetensors("model.safetensors", content);          // atomic (atomic_file.h)
//   SafetensorsFile file = read_safetensors("model.safetensors");
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "heed/tensor/tensor.h"

namespace heed {

enum class DType { kF32, kI32 };

// The format's names: "F32", "I32".
const char* dtype_name(DType dtype);

// Tensors and metadata of one file. Names are unique across both lists.
struct SafetensorsContent {
  std::vector<std::pair<std::string, Tensor>> f32;
  std::vector<std::pair<std::string, IntTensor>> i32;
  std::map<std::string, std::string> metadata;

  const Tensor* find_f32(const std::string& name) const;
  const IntTensor* find_i32(const std::string& name) const;
};

// Where one tensor lives in a file.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  std::uint64_t begin = 0;  // byte offsets in the data section
  std::uint64_t end = 0;
};

// The parsed and validated header of a file.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in data-section order
  std::map<std::string, std::string> metadata;
  std::uint64_t header_bytes = 0;  // N
  std::uint64_t data_bytes = 0;    // the data section's size
  std::uint64_t data_start() const { return 8 + header_bytes; }
};

// A file read whole.
struct SafetensorsFile {
  SafetensorsContent content;    // each list in data-section order
  std::uint32_t data_crc32 = 0;  // CRC-32 (zlib's) of the data section's bytes as read
};

// The header bytes (length prefix not included, padding included) the writer uses for `content`.
std::string safetensors_header(const SafetensorsContent& content);

// Writes `content` to `path` atomically (through "<path>.tmp"). Throws for a duplicate or empty
// name, a name "__metadata__", or an undefined tensor.
void write_safetensors(const std::filesystem::path& path, const SafetensorsContent& content);

// The CRC-32 of the data section write_safetensors() writes for `content` (equal to
// read_safetensors(path).data_crc32 of that file).
std::uint32_t safetensors_data_crc32(const SafetensorsContent& content);

// Reads and validates only the header (a quick look: the data section's size is checked against
// the file size, its bytes are not read).
SafetensorsHeader read_safetensors_header(const std::filesystem::path& path);

// Reads and validates the whole file.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

// Parses and validates a header given as bytes: `header_json` is the N header bytes and
// `data_bytes` the size of the data section that follows. `source` names the file in errors.
// (read_safetensors_header() in memory; exposed for tests of the validation rules.)
SafetensorsHeader parse_safetensors_header(const std::string& header_json, std::uint64_t data_bytes,
                                           const std::string& source);

}  // namespace heed
