// safetensors: byte-exact output against the reference implementation's own test vectors, round
// trips of F32/I32/metadata, and every validation rule of the reader (errors name the file).
#include "heed/train/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "heed/train/atomic_file.h"
#include "testing/gradcheck.h"
#include "testing/temp_dir.h"

namespace heed {
namespace {

using testing::TempDir;

std::string u64_le(std::uint64_t n) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return bytes;
}

std::string float_bytes(const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void write_raw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

// The vectors of test_serialization, test_serialization_forced_alignement and test_empty in the
// reference implementation (safetensors/src/tensor.rs), written here as text + float bytes.
TEST(Safetensors, MatchesReferenceBytesForOneTensor) {
  TempDir dir;
  SafetensorsContent content;
  content.f32.emplace_back("attn.0", Tensor::from_vector(Shape{1, 2, 3}, {0, 1, 2, 3, 4, 5}));
  write_safetensors(dir / "a.safetensors", content);
  const std::string expected =
      u64_le(64) + R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})" +
      float_bytes({0, 1, 2, 3, 4, 5});
  EXPECT_EQ(read_file(dir / "a.safetensors"), expected);
}

TEST(Safetensors, PadsTheHeaderWithSpacesToEightBytes) {
  TempDir dir;
  SafetensorsContent content;
  content.f32.emplace_back("attn0", Tensor::from_vector(Shape{1, 1, 2, 3}, {0, 1, 2, 3, 4, 5}));
  write_safetensors(dir / "a.safetensors", content);
  const std::string expected =
      u64_le(72) + R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" +
      "       " + float_bytes({0, 1, 2, 3, 4, 5});
  EXPECT_EQ(read_file(dir / "a.safetensors"), expected);
}

TEST(Safetensors, MatchesReferenceBytesWithoutTensors) {
  TempDir dir;
  write_safetensors(dir / "empty.safetensors", {});
  EXPECT_EQ(read_file(dir / "empty.safetensors"), u64_le(8) + "{}      ");

  SafetensorsContent content;
  content.metadata["framework"] = "pt";
  write_safetensors(dir / "meta.safetensors", content);
  EXPECT_EQ(read_file(dir / "meta.safetensors"),
            u64_le(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST(Safetensors, OrdersTensorsLikeTheReferenceWriter) {
  // F32 before I32 (descending dtype), then by name; the metadata comes first in the header.
  SafetensorsContent content;
  content.i32.emplace_back("count", IntTensor::from_vector(Shape{1}, {7}));
  content.f32.emplace_back("b", Tensor::from_vector(Shape{1}, {2}));
  content.f32.emplace_back("a", Tensor::from_vector(Shape{2}, {0, 1}));
  content.metadata["k"] = "v";
  EXPECT_EQ(safetensors_header(content),
            R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
            R"("count":{"dtype":"I32","shape":[1],"data_offsets":[12,16]}})");  // 192 bytes
}

TEST(Safetensors, RoundTripsF32I32AndMetadataBitForBit) {
  TempDir dir;
  Rng rng(7);
  SafetensorsContent content;
  const float tiny = std::numeric_limits<float>::denorm_min();
  content.f32.emplace_back("encoder.weight", Tensor::normal(Shape{3, 5}, rng));
  content.f32.emplace_back("special",
                           Tensor::from_vector(Shape{5}, {-0.f, tiny, 3.4e38f, INFINITY, NAN}));
  content.f32.emplace_back("scalar", Tensor::scalar(3.25f));
  content.f32.emplace_back("empty", Tensor::zeros(Shape{0, 4}));
  content.i32.emplace_back(
      "counts", IntTensor::from_vector(Shape{2, 2}, {0, -1, 2147483647, -2147483647 - 1}));
  content.metadata["note"] = "h\xC3\xA9llo \"quoted\" \\ {json: [1]}\n";
  content.metadata["empty"] = "";
  const auto path = dir / "round.safetensors";
  write_safetensors(path, content);

  const SafetensorsFile file = read_safetensors(path);
  EXPECT_EQ(file.content.metadata, content.metadata);
  ASSERT_EQ(file.content.f32.size(), 4u);
  // Data-section order: F32 by name, then I32.
  EXPECT_EQ(file.content.f32[0].first, "empty");
  EXPECT_EQ(file.content.f32[1].first, "encoder.weight");
  EXPECT_EQ(file.content.f32[2].first, "scalar");
  EXPECT_EQ(file.content.f32[3].first, "special");
  for (const auto& [name, tensor] : content.f32) {
    const Tensor* loaded = file.content.find_f32(name);
    ASSERT_NE(loaded, nullptr) << name;
    EXPECT_TRUE(same_bits(*loaded, tensor)) << name;
  }
  EXPECT_EQ(file.content.find_f32("scalar")->shape(), Shape{});
  EXPECT_EQ(file.content.find_f32("empty")->shape(), (Shape{0, 4}));
  ASSERT_EQ(file.content.i32.size(), 1u);
  EXPECT_EQ(file.content.i32[0].first, "counts");
  EXPECT_EQ(file.content.i32[0].second.shape(), (Shape{2, 2}));
  EXPECT_EQ(file.content.i32[0].second.values(),
            (std::vector<std::int32_t>{0, -1, 2147483647, -2147483647 - 1}));
  EXPECT_EQ(file.content.find_i32("encoder.weight"), nullptr);
  // The CRC computed while reading equals the one computed from memory before writing.
  EXPECT_EQ(file.data_crc32, safetensors_data_crc32(content));
  EXPECT_NE(file.data_crc32, 0u);
}

TEST(Safetensors, ReadsTheHeaderAlone) {
  TempDir dir;
  SafetensorsContent content;
  content.f32.emplace_back("w", Tensor::zeros(Shape{2, 3}));
  content.i32.emplace_back("n", IntTensor(Shape{5}));
  content.metadata["a"] = "b";
  write_safetensors(dir / "h.safetensors", content);
  const SafetensorsHeader header = read_safetensors_header(dir / "h.safetensors");
  ASSERT_EQ(header.entries.size(), 2u);
  EXPECT_EQ(header.entries[0].name, "w");
  EXPECT_EQ(header.entries[0].dtype, DType::kF32);
  EXPECT_EQ(header.entries[0].shape, (Shape{2, 3}));
  EXPECT_EQ(header.entries[0].begin, 0u);
  EXPECT_EQ(header.entries[0].end, 24u);
  EXPECT_EQ(header.entries[1].name, "n");
  EXPECT_EQ(header.entries[1].dtype, DType::kI32);
  EXPECT_EQ(header.entries[1].begin, 24u);
  EXPECT_EQ(header.entries[1].end, 44u);
  EXPECT_EQ(header.data_bytes, 44u);
  EXPECT_EQ(header.header_bytes % 8, 0u);
  EXPECT_EQ(header.metadata.at("a"), "b");
  EXPECT_EQ(std::filesystem::file_size(dir / "h.safetensors"), header.data_start() + 44);
}

TEST(Safetensors, ReadsForeignOffsetOrderAndUnpaddedHeaders) {
  // Another writer may list tensors in any order and not pad; offsets decide the layout.
  TempDir dir;
  const std::string header = R"({"second":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                             R"("first":{"shape":[1],"data_offsets":[0,4],"dtype":"I32"}})";
  std::int32_t first = -5;
  std::string data(reinterpret_cast<const char*>(&first), 4);
  data += float_bytes({1.5f});
  write_raw(dir / "f.safetensors", u64_le(header.size()) + header + data);
  const SafetensorsFile file = read_safetensors(dir / "f.safetensors");
  ASSERT_EQ(file.content.i32.size(), 1u);
  EXPECT_EQ(file.content.i32[0].second.values(), std::vector<std::int32_t>{-5});
  ASSERT_EQ(file.content.f32.size(), 1u);
  EXPECT_EQ(file.content.f32[0].second.item(), 1.5f);
}

TEST(Safetensors, WriterRejectsBadNames) {
  TempDir dir;
  SafetensorsContent twice;
  twice.f32.emplace_back("x", Tensor::zeros(Shape{1}));
  twice.i32.emplace_back("x", IntTensor(Shape{1}));
  EXPECT_THROW_MSG(write_safetensors(dir / "t.safetensors", twice), "\"x\" appears twice");
  SafetensorsContent reserved;
  reserved.f32.emplace_back("__metadata__", Tensor::zeros(Shape{1}));
  EXPECT_THROW_MSG(write_safetensors(dir / "t.safetensors", reserved), "__metadata__");
  SafetensorsContent undefined;
  undefined.f32.emplace_back("u", Tensor());
  EXPECT_THROW_MSG(write_safetensors(dir / "t.safetensors", undefined), "\"u\" is undefined");
  // Nothing was left behind: no file, no .tmp.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// ---- validation of the header, rule by rule

void expect_header_error(const std::string& header, std::uint64_t data_bytes,
                         const std::string& message) {
  EXPECT_THROW_MSG(parse_safetensors_header(header, data_bytes, "x.safetensors"),
                   "safetensors x.safetensors");
  EXPECT_THROW_MSG(parse_safetensors_header(header, data_bytes, "x.safetensors"), message);
}

TEST(SafetensorsValidation, RejectsBadJson) {
  expect_header_error(R"({"a": )", 0, "not valid JSON");
  expect_header_error(R"([1, 2])", 0, "not a JSON object");
  expect_header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      8, "names \"a\" twice");
}

TEST(SafetensorsValidation, RejectsBadMetadata) {
  expect_header_error(R"({"__metadata__":{"step":3}})", 0,
                      "metadata value of \"step\" must be a string (got 3)");
  expect_header_error(R"({"__metadata__":["x"]})", 0, "must be an object of strings");
}

TEST(SafetensorsValidation, RejectsBadEntries) {
  expect_header_error(R"({"w":[0,4]})", 4, "tensor \"w\": entry must be an object");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1]}})", 4, "needs \"dtype\", \"shape\"");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4,
                      "unknown key \"x\"");
  expect_header_error(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4,
                      "dtype BF16 is not supported (heed reads F32 and I32)");
  expect_header_error(R"({"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", 4,
                      "unknown dtype \"F31\"");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4,
                      "shape must hold non-negative integers (got [-1])");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4,
                      "non-negative integers");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})",
                      4, "more than 8 dimensions");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4,
                      "data_offsets must be [begin, end]");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8,
                      "end before they begin");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20,
                      "hold 20 bytes but F32 [2,3] needs 24");
  expect_header_error(
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4,
      "is too large");
}

TEST(SafetensorsValidation, RequiresOffsetsToTileTheDataSection) {
  const std::string a = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  expect_header_error("{" + a + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12,
                      "tensor \"b\" data_offsets [8, 12] should begin at 4 (gap before it)");
  expect_header_error("{" + a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8,
                      "should begin at");
  expect_header_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8,
                      "should begin at 0 (gap before it)");
  expect_header_error("{" + a + "}", 12,
                      "the tensors cover 4 bytes of data but the file holds 12 after the header "
                      "(trailing bytes)");
  expect_header_error("{" + a + "}", 2, "(truncated?)");
  // And a valid one passes.
  EXPECT_EQ(parse_safetensors_header("{" + a + "}", 4, "x").entries.size(), 1u);
}

TEST(SafetensorsValidation, FileLevelErrorsNameTheFile) {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  const std::string name = path.string();

  write_raw(path, "abc");
  EXPECT_THROW_MSG(read_safetensors(path), "safetensors " + name + ": file is 3 bytes, too short");

  write_raw(path, u64_le(200'000'000) + "{}");
  EXPECT_THROW_MSG(read_safetensors(path),
                   "header length 200000000 is larger than the format's "
                   "limit");

  write_raw(path, u64_le(64) + "{}");
  EXPECT_THROW_MSG(read_safetensors_header(path), "header length 64 runs past the end of the file");

  EXPECT_THROW_MSG(read_safetensors(dir / "missing.safetensors"), "cannot open file");
}

TEST(SafetensorsValidation, DetectsATruncatedFile) {
  TempDir dir;
  const auto path = dir / "t.safetensors";
  SafetensorsContent content;
  content.f32.emplace_back("w", Tensor::ones(Shape{64}));
  write_safetensors(path, content);
  const std::string whole = read_file(path);
  write_raw(path, whole.substr(0, whole.size() - 10));
  EXPECT_THROW_MSG(read_safetensors(path),
                   "the tensors cover 256 bytes of data but the file "
                   "holds 246 after the header (truncated?)");
  EXPECT_THROW_MSG(read_safetensors_header(path), path.string());
}

// Writes the file that scripts/check_safetensors.py reads with Python (struct + json + torch) to
// verify heed's files independently of heed's reader. The values here and in the script agree.
TEST(Safetensors, WritesTheInteropFileForThePythonCheck) {
  const std::filesystem::path path =
      std::filesystem::path(HEED_BINARY_DIR) / "safetensors_interop.safetensors";
  SafetensorsContent content;
  std::vector<float> weight(6);
  for (int i = 0; i < 6; ++i) weight[i] = 0.5f * static_cast<float>(i) - 1.f;
  content.f32.emplace_back("layer.weight", Tensor::from_vector(Shape{2, 3}, weight));
  content.f32.emplace_back("layer.bias", Tensor::from_vector(Shape{3}, {1e-8f, -0.f, 3.4e38f}));
  content.f32.emplace_back("scalar", Tensor::scalar(3.14159274f));
  content.f32.emplace_back("empty", Tensor::zeros(Shape{0, 4}));
  content.i32.emplace_back("steps",
                           IntTensor::from_vector(Shape{4}, {0, -1, 2147483647, -2147483647 - 1}));
  content.metadata["format"] = "pt";
  content.metadata["note"] = "h\xC3\xA9llo \"quoted\"";
  write_safetensors(path, content);
  const SafetensorsFile file = read_safetensors(path);
  EXPECT_EQ(file.content.metadata, content.metadata);
  EXPECT_EQ(file.content.find_f32("layer.weight")->to_vector(), weight);
  EXPECT_EQ(file.content.i32.at(0).second.values()[2], 2147483647);
}

}  // namespace
}  // namespace heed
