// safetensors reading and writing (format described in include/heed/train/safetensors.h).
//
// Writing: the tensors are laid out in the reference writer's order, the header is built with
// nlohmann::ordered_json (insertion order kept, compact dump, as serde_json writes it) and padded
// with spaces to 8 bytes, then header and data go through an AtomicFileWriter straight from the
// tensors' memory (no staging copy).
//
// Reading: the header is parsed and validated first (every rule of the format, with the file in
// each message); then each tensor's bytes are read straight into a new tensor, in data-section
// order, updating a CRC-32 on the way.
#include "heed/train/safetensors.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "heed/train/atomic_file.h"
#include "heed/util/check.h"

namespace heed {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; heed writes memory as is");

using OrderedJson = nlohmann::ordered_json;

// The reference implementation refuses larger headers (MAX_HEADER_SIZE in tensor.rs).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";

// Every dtype name of the format, to tell "unsupported" from "not a dtype".
const std::set<std::string>& format_dtypes() {
  static const std::set<std::string> names = {"BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3",
                                              "I16",  "U16", "F16", "BF16",    "I32",
                                              "U32",  "F32", "F64", "I64",     "U64"};
  return names;
}

// One tensor as the writer lays it out.
struct Piece {
  const std::string* name;
  DType dtype;
  Shape shape;
  const void* data;
  std::uint64_t bytes;
};

// The tensors of `content` in the reference writer's order: descending dtype alignment (both of
// heed's dtypes are 4 bytes; the reference then puts F32 before I32), then name (byte order).
std::vector<Piece> layout(const SafetensorsContent& content) {
  std::vector<Piece> pieces;
  std::set<std::string_view> names;
  auto add = [&](const std::string& name, DType dtype, const Shape& shape, const void* data) {
    CHECK(!name.empty(), "safetensors: empty tensor name");
    CHECK(name != kMetadataKey, "safetensors: a tensor cannot be named \"", kMetadataKey, "\"");
    CHECK(names.insert(name).second, "safetensors: tensor name \"", name, "\" appears twice");
    pieces.push_back({&name, dtype, shape, data, static_cast<std::uint64_t>(shape.numel()) * 4});
  };
  for (const auto& [name, tensor] : content.f32) {
    CHECK(tensor.defined(), "safetensors: tensor \"", name, "\" is undefined");
    add(name, DType::kF32, tensor.shape(), tensor.data());
  }
  for (const auto& [name, tensor] : content.i32) {
    CHECK(tensor.defined(), "safetensors: tensor \"", name, "\" is undefined");
    add(name, DType::kI32, tensor.shape(), tensor.data());
  }
  std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
    if (a.dtype != b.dtype) return a.dtype == DType::kF32;
    return *a.name < *b.name;
  });
  return pieces;
}

std::string header_for(const std::vector<Piece>& pieces,
                       const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson meta = OrderedJson::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }
  std::uint64_t offset = 0;
  for (const Piece& piece : pieces) {
    OrderedJson shape = OrderedJson::array();
    for (Index d : piece.shape) shape.push_back(static_cast<std::uint64_t>(d));
    OrderedJson info = OrderedJson::object();
    info["dtype"] = dtype_name(piece.dtype);
    info["shape"] = std::move(shape);
    info["data_offsets"] = OrderedJson::array({offset, offset + piece.bytes});
    header[*piece.name] = std::move(info);
    offset += piece.bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  return text;
}

// zlib's crc32_z with a null buffer returns the initial value, so empty tensors are skipped.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::uint64_t bytes) {
  if (bytes == 0) return crc;
  return static_cast<std::uint32_t>(
      ::crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(bytes)));
}

// fopen/fread with errors that name the file.
class InputFile {
 public:
  explicit InputFile(const std::filesystem::path& path) : path_(path.string()) {
    file_ = std::fopen(path.c_str(), "rb");
    CHECK(file_ != nullptr, "safetensors ", path_, ": cannot open file (", std::strerror(errno),
          ")");
    std::error_code error;
    size_ = std::filesystem::file_size(path, error);
    CHECK(!error, "safetensors ", path_, ": cannot get the file size (", error.message(), ")");
  }
  ~InputFile() { std::fclose(file_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return size_; }
  void read(void* out, std::uint64_t bytes, const char* what) {
    if (bytes == 0) return;
    CHECK(std::fread(out, 1, bytes, file_) == bytes, "safetensors ", path_, ": cannot read ", what,
          " (", std::ferror(file_) ? std::strerror(errno) : "unexpected end of file", ")");
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
};

// Reads N and the header bytes; checks N against the limit and the file size.
std::string read_header_bytes(InputFile& in, const std::string& source, std::uint64_t* n_out) {
  CHECK(in.size() >= 8, "safetensors ", source, ": file is ", in.size(),
        " bytes, too short for the 8-byte header length (truncated or not a safetensors file)");
  unsigned char prefix[8];
  in.read(prefix, 8, "the header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | prefix[i];
  CHECK(n <= kMaxHeaderBytes, "safetensors ", source, ": header length ", n,
        " is larger than the format's limit of ", kMaxHeaderBytes,
        " bytes (corrupt, or not a safetensors file)");
  CHECK(8 + n <= in.size(), "safetensors ", source, ": header length ", n, " runs past the end of ",
        "the file (", in.size(), " bytes; truncated?)");
  std::string header(n, '\0');
  in.read(header.data(), n, "the header");
  *n_out = n;
  return header;
}

std::uint64_t checked_numel_bytes(const std::vector<std::uint64_t>& dims, std::uint64_t element,
                                  bool* overflow) {
  std::uint64_t count = 1;
  *overflow = false;
  for (std::uint64_t d : dims) *overflow |= __builtin_mul_overflow(count, d, &count);
  *overflow |= __builtin_mul_overflow(count, element, &count);
  return count;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kI32:
      return "I32";
  }
  return "?";
}

const Tensor* SafetensorsContent::find_f32(const std::string& name) const {
  for (const auto& [key, tensor] : f32) {
    if (key == name) return &tensor;
  }
  return nullptr;
}

const IntTensor* SafetensorsContent::find_i32(const std::string& name) const {
  for (const auto& [key, tensor] : i32) {
    if (key == name) return &tensor;
  }
  return nullptr;
}

std::string safetensors_header(const SafetensorsContent& content) {
  return header_for(layout(content), content.metadata);
}

void write_safetensors(const std::filesystem::path& path, const SafetensorsContent& content) {
  const std::vector<Piece> pieces = layout(content);
  const std::string header = header_for(pieces, content.metadata);
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(header.size() >> (8 * i));
  AtomicFileWriter out(path);
  out.write(prefix, 8);
  out.write(header);
  for (const Piece& piece : pieces) out.write(piece.data, piece.bytes);
  out.commit();
}

std::uint32_t safetensors_data_crc32(const SafetensorsContent& content) {
  std::uint32_t crc = 0;  // zlib's initial CRC-32 value
  for (const Piece& piece : layout(content)) crc = crc32_update(crc, piece.data, piece.bytes);
  return crc;
}

SafetensorsHeader parse_safetensors_header(const std::string& header_json, std::uint64_t data_bytes,
                                           const std::string& source) {
  const std::string where = "safetensors " + source;
  // Parse, refusing duplicate names at the top level (nlohmann would keep the last silently).
  std::set<std::string> top_keys;
  std::string duplicate;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
        !top_keys.insert(parsed.get<std::string>()).second && duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_json, on_event);
  } catch (const nlohmann::json::exception& e) {
    CHECK(false, where, ": header is not valid JSON (", e.what(), ")");
  }
  CHECK(duplicate.empty(), where, ": header names \"", duplicate, "\" twice");
  CHECK(header.is_object(), where, ": header is not a JSON object");

  SafetensorsHeader out;
  out.header_bytes = header_json.size();
  out.data_bytes = data_bytes;
  struct Offsets {
    std::uint64_t begin, end;
    size_t entry;
  };
  std::vector<Offsets> offsets;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      CHECK(value.is_object(), where, ": \"__metadata__\" must be an object of strings");
      for (const auto& [key, text] : value.items()) {
        CHECK(text.is_string(), where, ": metadata value of \"", key, "\" must be a string (got ",
              text.dump(), ")");
        out.metadata[key] = text.get<std::string>();
      }
      continue;
    }
    const std::string tensor = where + ": tensor \"" + name + "\"";
    CHECK(value.is_object(), tensor, ": entry must be an object (got ", value.dump(), ")");
    for (const auto& [key, ignored] : value.items()) {
      CHECK(key == "dtype" || key == "shape" || key == "data_offsets", tensor, ": unknown key \"",
            key, "\"");
    }
    CHECK(value.contains("dtype") && value.contains("shape") && value.contains("data_offsets"),
          tensor, ": entry needs \"dtype\", \"shape\" and \"data_offsets\" (got ", value.dump(),
          ")");
    const nlohmann::json& dtype = value["dtype"];
    CHECK(dtype.is_string(), tensor, ": dtype must be a string (got ", dtype.dump(), ")");
    const std::string dtype_text = dtype.get<std::string>();
    SafetensorsEntry entry;
    entry.name = name;
    if (dtype_text == "F32") {
      entry.dtype = DType::kF32;
    } else if (dtype_text == "I32") {
      entry.dtype = DType::kI32;
    } else {
      CHECK(!format_dtypes().count(dtype_text), tensor, ": dtype ", dtype_text,
            " is not supported (heed reads F32 and I32)");
      CHECK(false, tensor, ": unknown dtype \"", dtype_text, "\"");
    }
    const nlohmann::json& shape = value["shape"];
    CHECK(shape.is_array(), tensor, ": shape must be an array (got ", shape.dump(), ")");
    std::vector<std::uint64_t> dims;
    for (const nlohmann::json& d : shape) {
      CHECK(d.is_number_unsigned(), tensor, ": shape must hold non-negative integers (got ",
            shape.dump(), ")");
      dims.push_back(d.get<std::uint64_t>());
    }
    CHECK(dims.size() <= static_cast<size_t>(Shape::kMaxDims), tensor, ": shape ", shape.dump(),
          " has more than ", Shape::kMaxDims, " dimensions");
    const nlohmann::json& range = value["data_offsets"];
    CHECK(range.is_array() && range.size() == 2 && range[0].is_number_unsigned() &&
              range[1].is_number_unsigned(),
          tensor, ": data_offsets must be [begin, end] (got ", range.dump(), ")");
    entry.begin = range[0].get<std::uint64_t>();
    entry.end = range[1].get<std::uint64_t>();
    CHECK(entry.begin <= entry.end, tensor, ": data_offsets [", entry.begin, ", ", entry.end,
          "] end before they begin");
    bool overflow = false;
    const std::uint64_t bytes = checked_numel_bytes(dims, 4, &overflow);
    CHECK(!overflow && static_cast<std::int64_t>(bytes) >= 0, tensor, ": shape ", shape.dump(),
          " is too large");
    CHECK(entry.end - entry.begin == bytes, tensor, ": data_offsets [", entry.begin, ", ",
          entry.end, "] hold ", entry.end - entry.begin, " bytes but ", dtype_text, " ",
          shape.dump(), " needs ", bytes);
    std::vector<Index> signed_dims(dims.begin(), dims.end());
    entry.shape = Shape(signed_dims);
    offsets.push_back({entry.begin, entry.end, out.entries.size()});
    out.entries.push_back(std::move(entry));
  }

  // Sorted by offsets, the tensors must tile [0, data_bytes) exactly.
  std::sort(offsets.begin(), offsets.end(), [](const Offsets& a, const Offsets& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t expected = 0;
  std::vector<SafetensorsEntry> ordered;
  for (const Offsets& o : offsets) {
    const SafetensorsEntry& entry = out.entries[o.entry];
    CHECK(o.begin == expected, where, ": tensor \"", entry.name, "\" data_offsets [", o.begin, ", ",
          o.end, "] should begin at ", expected,
          o.begin < expected ? " (overlaps the previous tensor)" : " (gap before it)");
    expected = o.end;
    ordered.push_back(entry);
  }
  CHECK(expected == data_bytes, where, ": the tensors cover ", expected,
        " bytes of data but the file holds ", data_bytes, " after the header",
        expected > data_bytes ? " (truncated?)" : " (trailing bytes)");
  out.entries = std::move(ordered);
  return out;
}

SafetensorsHeader read_safetensors_header(const std::filesystem::path& path) {
  InputFile in(path);
  std::uint64_t n = 0;
  const std::string header = read_header_bytes(in, path.string(), &n);
  return parse_safetensors_header(header, in.size() - 8 - n, path.string());
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  InputFile in(path);
  std::uint64_t n = 0;
  const std::string header_json = read_header_bytes(in, path.string(), &n);
  const SafetensorsHeader header =
      parse_safetensors_header(header_json, in.size() - 8 - n, path.string());
  SafetensorsFile file;
  file.content.metadata = header.metadata;
  std::uint32_t crc = 0;  // zlib's initial CRC-32 value
  for (const SafetensorsEntry& entry : header.entries) {
    const std::uint64_t bytes = entry.end - entry.begin;
    void* destination = nullptr;
    if (entry.dtype == DType::kF32) {
      file.content.f32.emplace_back(entry.name, Tensor::empty(entry.shape));
      destination = file.content.f32.back().second.data();
    } else {
      file.content.i32.emplace_back(entry.name, IntTensor(entry.shape));
      destination = file.content.i32.back().second.data();
    }
    in.read(destination, bytes, ("the data of tensor \"" + entry.name + "\"").c_str());
    crc = crc32_update(crc, destination, bytes);
  }
  file.data_crc32 = crc;
  return file;
}

}  // namespace heed
