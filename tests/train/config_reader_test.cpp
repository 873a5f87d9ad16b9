#include "heed/train/config_reader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace heed {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The full message of the ConfigError that `body` throws, or a marker if it throws none.
template <typename F>
std::string error_of(F&& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

// A fresh, empty directory for files a test writes.
fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("heed_config_reader_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// ---- typed getters

TEST(ConfigReader, ReadsTypedValues) {
  json j = json::parse(R"({
    "n": 7, "big": 5000000000, "x": 0.25, "whole": 3, "flag": true, "name": "adam",
    "sizes": [1, 2, 3], "langs": ["de", "en"], "extra": {"k": [1]}, "as_float": 1e4
  })");
  ConfigReader r(j, "train");
  EXPECT_EQ(r.get<int>("n"), 7);
  EXPECT_EQ(r.get<std::int64_t>("big"), 5000000000);
  EXPECT_DOUBLE_EQ(r.get<double>("x"), 0.25);
  EXPECT_FLOAT_EQ(r.get<float>("whole"), 3.f);  // an integer is a valid real
  EXPECT_TRUE(r.get<bool>("flag"));
  EXPECT_EQ(r.get<std::string>("name"), "adam");
  EXPECT_EQ(r.get<std::vector<int>>("sizes"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(r.get<std::vector<std::string>>("langs"), (std::vector<std::string>{"de", "en"}));
  EXPECT_EQ(r.get<json>("extra"), json::parse(R"({"k": [1]})"));
  EXPECT_EQ(r.get<int>("as_float"), 10000);  // 1e4 parses as a float but is an exact integer
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReader, KeyPaths) {
  json j = json::parse(R"({"model": {"encoder": {}}})");
  ConfigReader top(j, "");
  EXPECT_EQ(top.key_path("model"), "model");
  ConfigReader encoder = top.section("model").section("encoder");
  EXPECT_EQ(encoder.path(), "model.encoder");
  EXPECT_EQ(encoder.key_path("n_layers"), "model.encoder.n_layers");
}

TEST(ConfigReader, RequiredKeyMissing) {
  json j = json::parse(R"({"lr": 0.001})");
  ConfigReader r(j, "train");
  EXPECT_EQ(error_of([&] { r.get<int>("batch_tokens"); }),
            "train.batch_tokens: required key is missing");
  EXPECT_EQ(error_of([&] { r.section("optimizer"); }), "train.optimizer: required key is missing");
}

TEST(ConfigReader, RequiredKeyMissingPointsAtATypo) {
  json j = json::parse(R"({"n_layer": 6})");
  ConfigReader r(j, "model.encoder");
  EXPECT_EQ(error_of([&] { r.get<int>("n_layers"); }),
            "model.encoder.n_layers: required key is missing (found \"n_layer\": a typo?)");
}

TEST(ConfigReader, WrongTypeNamesExpectedTypeAndValue) {
  json j = json::parse(R"({
    "batch_tokens": "abc", "half": 2.5, "flag": "yes", "name": 3, "rate": true,
    "sizes": [1, "x"], "list": {"a": 1}, "nothing": null
  })");
  ConfigReader r(j, "train");
  EXPECT_EQ(error_of([&] { r.get<int>("batch_tokens"); }),
            "train.batch_tokens: expected an integer (got \"abc\")");
  EXPECT_EQ(error_of([&] { r.get_int("half"); }), "train.half: expected an integer (got 2.5)");
  EXPECT_EQ(error_of([&] { r.get<bool>("flag"); }), "train.flag: expected a boolean (got \"yes\")");
  EXPECT_EQ(error_of([&] { r.get<std::string>("name"); }), "train.name: expected a string (got 3)");
  EXPECT_EQ(error_of([&] { r.get_float("rate"); }), "train.rate: expected a number (got true)");
  EXPECT_EQ(error_of([&] { r.get<std::vector<int>>("sizes"); }),
            "train.sizes[1]: expected an integer (got \"x\")");
  EXPECT_EQ(error_of([&] { r.get<std::vector<int>>("list"); }),
            "train.list: expected an array (got {\"a\":1})");
  EXPECT_EQ(error_of([&] { r.get<int>("nothing"); }),
            "train.nothing: expected an integer (got null)");
  EXPECT_EQ(error_of([&] { r.section("half"); }), "train.half: expected an object (got 2.5)");
}

TEST(ConfigReader, LongValuesAreCutInMessages) {
  json j = {{"name", std::string(100, 'a')}};
  ConfigReader r(j, "m");
  EXPECT_EQ(error_of([&] { r.get<int>("name"); }),
            "m.name: expected an integer (got \"" + std::string(56, 'a') + "...)");
}

TEST(ConfigReader, IntegerTypeLimits) {
  json j = json::parse(R"({"big": 3000000000, "negative": -1, "huge": 18446744073709551615})");
  ConfigReader r(j, "data");
  EXPECT_EQ(error_of([&] { r.get<int>("big"); }),
            "data.big: must be in [-2147483648, 2147483647] (got 3000000000)");
  EXPECT_EQ(error_of([&] { r.get<std::uint32_t>("negative"); }),
            "data.negative: must be in [0, 4294967295] (got -1)");
  EXPECT_EQ(error_of([&] { r.get<std::int64_t>("huge"); }),
            "data.huge: expected an integer that fits in 64 bits (got 18446744073709551615)");
}

TEST(ConfigReader, IntegerRanges) {
  json j = json::parse(R"({"zero": 0, "nine": 9, "four": 4})");
  ConfigReader r(j, "model");
  EXPECT_EQ(r.get_int<int>("four", {.min = 1, .max = 8}), 4);
  EXPECT_EQ(error_of([&] { r.get_int("zero", {.min = 1}); }), "model.zero: must be >= 1 (got 0)");
  EXPECT_EQ(error_of([&] { r.get_int("nine", {.max = 8}); }), "model.nine: must be <= 8 (got 9)");
  EXPECT_EQ(error_of([&] { r.get_int("nine", {.min = 1, .max = 8}); }),
            "model.nine: must be in [1, 8] (got 9)");
  // The rule is reported before the type's own limits.
  json negative = {{"n", -1}};
  ConfigReader r2(negative, "model");
  EXPECT_EQ(error_of([&] { r2.get_int<std::uint32_t>("n", {.min = 1}); }),
            "model.n: must be >= 1 (got -1)");
}

TEST(ConfigReader, FloatRanges) {
  json j = json::parse(R"({"label_smoothing": 1.5, "zero": 0, "one": 1, "ok": 0.1, "tiny": 1e-9})");
  ConfigReader r(j, "train");
  EXPECT_DOUBLE_EQ(r.get_float("ok", {.min = 0, .max = 1, .max_exclusive = true}), 0.1);
  EXPECT_EQ(error_of([&] {
              r.get_float("label_smoothing", {.min = 0, .max = 1, .max_exclusive = true});
            }),
            "train.label_smoothing: must be in [0, 1) (got 1.5)");
  EXPECT_EQ(error_of([&] { r.get_float("zero", {.min = 0, .max = 1, .min_exclusive = true}); }),
            "train.zero: must be in (0, 1] (got 0)");
  EXPECT_EQ(error_of([&] { r.get_float("zero", {.min = 0, .min_exclusive = true}); }),
            "train.zero: must be > 0 (got 0)");
  EXPECT_EQ(error_of([&] { r.get_float("one", {.max = 1, .max_exclusive = true}); }),
            "train.one: must be < 1 (got 1)");
  EXPECT_EQ(error_of([&] { r.get_float("one", {.max = 0.5}); }),
            "train.one: must be <= 0.5 (got 1)");
  EXPECT_EQ(error_of([&] { r.get_float("tiny", {.min = 1e-8}); }),
            "train.tiny: must be >= 1e-08 (got 1e-09)");
  json overflow = {{"x", 1e300}};
  ConfigReader r2(overflow, "t");
  EXPECT_EQ(error_of([&] { r2.get<float>("x"); }),
            "t.x: must be in [-3.4028234663852886e+38, 3.4028234663852886e+38] (got 1e+300)");
}

TEST(ConfigReader, RangeChecksForValidate) {
  EXPECT_NO_THROW(check_int_range("train.warmup", 5, {.min = 0, .max = 10}));
  EXPECT_EQ(error_of([] { check_int_range("train.warmup", 11, {.max = 10}); }),
            "train.warmup: must be <= 10 (got 11)");
  EXPECT_EQ(error_of([] { check_float_range("train.lr", 0.0, {.min = 0, .min_exclusive = true}); }),
            "train.lr: must be > 0 (got 0)");
}

TEST(ConfigReader, OptionalKeys) {
  json j = json::parse(R"({"present": 5, "unset": null, "bad": "x"})");
  ConfigReader r(j, "train");
  EXPECT_EQ(r.get_or("present", 1), 5);
  EXPECT_EQ(r.get_or("absent", 1), 1);
  EXPECT_EQ(r.get_or("unset", 2), 2);  // null means "use the default"
  EXPECT_EQ(r.get_or("absent_name", "adam"), "adam");
  EXPECT_EQ(r.get_optional<int>("present"), 5);
  EXPECT_EQ(r.get_optional<int>("absent"), std::nullopt);
  EXPECT_EQ(r.get_int_or("absent", 3, {.min = 1}), 3);
  EXPECT_DOUBLE_EQ(r.get_float_or("absent", 0.5, {.min = 0}), 0.5);
  EXPECT_EQ(r.get_enum_or("absent_type", "rnn", {"transformer", "rnn"}), "rnn");
  EXPECT_EQ(r.get_path_or("absent_path", "x.txt"), fs::path("x.txt"));
  EXPECT_EQ(error_of([&] { r.get_or("bad", 1); }), "train.bad: expected an integer (got \"x\")");
  EXPECT_EQ(error_of([&] { r.get_int_or("present", 1, {.max = 4}); }),
            "train.present: must be <= 4 (got 5)");
  EXPECT_TRUE(r.contains("present"));
  EXPECT_FALSE(r.contains("unset"));
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReader, Enums) {
  json j = json::parse(R"({"type": "rnn", "bad": "lstm", "typo": "transfomer", "number": 1})");
  ConfigReader r(j, "model");
  EXPECT_EQ(r.get_enum("type", {"transformer", "rnn"}), "rnn");
  EXPECT_EQ(error_of([&] {
              r.get_enum("bad", {"transformer", "rnn"});
            }),
            "model.bad: must be one of \"transformer\", \"rnn\" (got \"lstm\")");
  EXPECT_EQ(error_of([&] {
              r.get_enum("typo", {"transformer", "rnn"});
            }),
            "model.typo: must be one of \"transformer\", \"rnn\" (got \"transfomer\"; did you mean "
            "\"transformer\"?)");
  EXPECT_EQ(error_of([&] { r.get_enum("number", {"a"}); }),
            "model.number: expected a string (got 1)");
}

TEST(ConfigReader, Paths) {
  fs::path dir = temp_dir("paths");
  write_file(dir / "train.src", "x\n");
  json j = {{"file", (dir / "train.src").string()},
            {"dir", dir.string()},
            {"missing", (dir / "nope.src").string()},
            {"relative", "no/such/relative.txt"},
            {"empty", ""}};
  ConfigReader r(j, "data");
  EXPECT_EQ(r.get_path("file", {.must_exist = true, .kind = PathKind::kFile}), dir / "train.src");
  EXPECT_EQ(r.get_path("dir", {.must_exist = true, .kind = PathKind::kDirectory}), dir);
  EXPECT_EQ(r.get_path("missing"), dir / "nope.src");  // existence not required by default
  EXPECT_EQ(error_of([&] { r.get_path("missing", {.must_exist = true}); }),
            "data.missing: no such file or directory: " + (dir / "nope.src").string());
  EXPECT_EQ(error_of([&] { r.get_path("relative", {.must_exist = true}); }),
            "data.relative: no such file or directory: no/such/relative.txt (relative to " +
                fs::current_path().string() + ")");
  EXPECT_EQ(error_of([&] { r.get_path("file", {.kind = PathKind::kDirectory}); }),
            "data.file: expected a directory, but " + (dir / "train.src").string() + " is a file");
  EXPECT_EQ(error_of([&] { r.get_path("dir", {.kind = PathKind::kFile}); }),
            "data.dir: expected a file, but " + dir.string() + " is a directory or special file");
  EXPECT_EQ(error_of([&] { r.get_path("empty"); }),
            "data.empty: expected a non-empty path (got \"\")");
}

TEST(ConfigReader, TopLevelMustBeAnObject) {
  json array = json::array({1});
  EXPECT_EQ(error_of([&] { ConfigReader r(array, ""); }), "expected an object (got [1])");
  json number = 3;
  EXPECT_EQ(error_of([&] { ConfigReader r(number, "model"); }),
            "model: expected an object (got 3)");
}

// ---- unknown keys

TEST(ConfigReader, UnknownKeyWithSuggestionInNestedSection) {
  json j = json::parse(R"({"model": {"d_model": 64, "encoder": {"n_layer": 6, "n_heads": 4}}})");
  ConfigReader top(j, "");
  ConfigReader model = top.section("model");
  model.get_int("d_model");
  ConfigReader encoder = model.section("encoder");
  encoder.get_int_or("n_layers", 6);
  encoder.get_int("n_heads");
  const std::string expected = "model.encoder.n_layer: unknown key (did you mean \"n_layers\"?)";
  EXPECT_EQ(error_of([&] { encoder.finish(); }), expected);
  EXPECT_EQ(error_of([&] { top.finish(); }), expected);  // the parent checks its sections too
}

TEST(ConfigReader, UnknownKeysAllReportedOnePerLine) {
  json j = json::parse(R"({"d_modle": 1, "colour_scheme": "dark", "Dropout": 0.1, "ok": 1})");
  ConfigReader r(j, "model");
  r.get_int_or("d_model", 64);
  r.get_float_or("dropout", 0.1);
  r.get_int("ok");
  EXPECT_EQ(error_of([&] { r.finish(); }),
            "model.Dropout: unknown key (did you mean \"dropout\"?)\n"
            "model.colour_scheme: unknown key\n"
            "model.d_modle: unknown key (did you mean \"d_model\"?)");
}

TEST(ConfigReader, UnknownKeyAtTopLevel) {
  json j = json::parse(R"({"modle": {}, "train": {}})");
  ConfigReader r(j, "");
  r.optional_section("model");
  r.optional_section("train");
  EXPECT_EQ(error_of([&] { r.finish(); }), "modle: unknown key (did you mean \"model\"?)");
}

TEST(ConfigReader, IgnoredAndSectionedKeysAreNotUnknown) {
  json j = json::parse(R"({"comment": "x", "optimizer": {"lr": 1}, "sub": {"a": 1}})");
  ConfigReader r(j, "train");
  r.ignore("comment");
  r.section("optimizer").get_float("lr");
  r.section("optimizer");            // opening twice shares the record of read keys
  const json& sub = r.value("sub");  // handed to another from_json, which checks it
  EXPECT_EQ(sub.at("a"), 1);
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReader, OptionalSectionDefaults) {
  json j = json::parse(R"({"train": {}})");
  ConfigReader r(j, "");
  ConfigReader eval = r.optional_section("eval");
  EXPECT_EQ(eval.path(), "eval");
  EXPECT_EQ(eval.get_int_or("beam", 4), 4);
  r.section("train");
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReader, FailNamesTheKey) {
  json j = json::object();
  ConfigReader r(j, "train");
  EXPECT_EQ(error_of([&] { r.fail("warmup_steps", "must be <= train.max_steps (got 10 > 5)"); }),
            "train.warmup_steps: must be <= train.max_steps (got 10 > 5)");
}

// ---- suggestions

TEST(ConfigSuggestions, EditDistance) {
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", "abc"), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("n_layer", "n_layers"), 1u);
  EXPECT_EQ(edit_distance("d_modle", "d_model"), 1u);  // one transposition
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // optimal string alignment, not full Damerau (2)
}

TEST(ConfigSuggestions, ClosestMatch) {
  std::vector<std::string> keys = {"n_layers", "n_heads", "d_model", "dropout"};
  EXPECT_EQ(closest_match("n_layer", keys), "n_layers");
  EXPECT_EQ(closest_match("n_head", keys), "n_heads");
  EXPECT_EQ(closest_match("DROPOUT", keys), "dropout");
  EXPECT_EQ(closest_match("hidden_size", keys), std::nullopt);
  EXPECT_EQ(closest_match("x", {}), std::nullopt);
  EXPECT_EQ(closest_match("lm", {"lr", "lx"}), "lr");  // ties go to the first candidate
}

// ---- overrides

TEST(ConfigOverrides, ParsesValuesAsJsonElseString) {
  EXPECT_EQ(parse_override("train.lr=3e-4").value, json(3e-4));
  EXPECT_EQ(parse_override("train.steps=100").value, json(100));
  EXPECT_EQ(parse_override("train.shuffle=false").value, json(false));
  EXPECT_EQ(parse_override("train.max_steps=null").value, json(nullptr));
  EXPECT_EQ(parse_override("model.sizes=[1, 2]").value, json::parse("[1, 2]"));
  EXPECT_EQ(parse_override("model.opts={\"a\": 1}").value, json::parse(R"({"a": 1})"));
  EXPECT_EQ(parse_override("data.name=\"123\"").value, json("123"));
  EXPECT_EQ(parse_override("model.type=transformer").value, json("transformer"));
  EXPECT_EQ(parse_override("data.train=data/dates/train.src").value, json("data/dates/train.src"));
  EXPECT_EQ(parse_override("data.expr=a=b").value, json("a=b"));  // split at the first '='
  EXPECT_EQ(parse_override("data.empty=").value, json(""));
  ConfigOverride o = parse_override("model.encoder.n_layers=6");
  EXPECT_EQ(o.key_path, (std::vector<std::string>{"model", "encoder", "n_layers"}));
  EXPECT_EQ(o.text, "model.encoder.n_layers=6");
}

TEST(ConfigOverrides, BadSyntax) {
  EXPECT_EQ(error_of([] { parse_override("train.lr"); }),
            "--set train.lr: expected key.path=value");
  EXPECT_EQ(error_of([] { parse_override("train..lr=1"); }),
            "--set train..lr=1: empty key in key path \"train..lr\"");
  EXPECT_EQ(error_of([] { parse_override("=1"); }), "--set =1: empty key in key path \"\"");
}

TEST(ConfigOverrides, AppliesToDocument) {
  json doc = json::parse(R"({"train": {"lr": 0.001, "steps": 10}, "model": {"type": "rnn"}})");
  apply_overrides(doc, {"train.lr=3e-4", "model.type=transformer", "model.encoder.n_layers=6",
                        "eval.beam=5", "train.steps=null"});
  EXPECT_EQ(doc, json::parse(R"({
    "train": {"lr": 0.0003, "steps": null},
    "model": {"type": "transformer", "encoder": {"n_layers": 6}},
    "eval": {"beam": 5}
  })"));
}

TEST(ConfigOverrides, PathThroughNonObjectIsAnError) {
  json doc = json::parse(R"({"train": {"lr": 0.001}, "data": [1]})");
  EXPECT_EQ(error_of([&] { apply_overrides(doc, {"train.lr.x=1"}); }),
            "--set train.lr.x=1: train.lr is not an object (got 0.001)");
  EXPECT_EQ(error_of([&] { apply_overrides(doc, {"data.x=1"}); }),
            "--set data.x=1: data is not an object (got [1])");
}

TEST(ConfigOverrides, OverriddenValuesPassTheSameChecks) {
  json doc = json::parse(R"({"train": {"batch_tokens": 4096}})");
  apply_overrides(doc, {"train.batch_tokens=abc", "train.n_step=5"});
  ConfigReader r(doc, "");
  ConfigReader train = r.section("train");
  EXPECT_EQ(error_of([&] { train.get_int("batch_tokens", {.min = 1}); }),
            "train.batch_tokens: expected an integer (got \"abc\")");
  train.get_int_or("n_steps", 100);
  EXPECT_EQ(error_of([&] { r.finish(); }), "train.n_step: unknown key (did you mean \"n_steps\"?)");
}

// ---- loading documents

TEST(ConfigDocument, ParsesWithComments) {
  json j = parse_config_text("{\n  // the model\n  \"d\": 1, /* inline */ \"e\": [2]\n}", "c.json");
  EXPECT_EQ(j, json::parse(R"({"d": 1, "e": [2]})"));
}

TEST(ConfigDocument, SyntaxErrorsReportLineAndColumn) {
  // A bad literal: points at its last character, not at the newline after it.
  std::string bad_literal = "{\n  \"a\": 1,\n  \"b\": tru\n}";
  EXPECT_EQ(error_of([&] { parse_config_text(bad_literal, "cfg.json"); }),
            "cfg.json:3:10: invalid JSON: syntax error while parsing value - invalid literal; "
            "last read: '\"b\": tru<U+000A>'");
  // A trailing comma: points at the closing brace.
  EXPECT_EQ(error_of([&] { parse_config_text("{\"a\": 1,}", "cfg.json"); }),
            "cfg.json:1:9: invalid JSON: syntax error while parsing object key - unexpected '}'; "
            "expected string literal");
  // Unterminated: points at the last character there is.
  std::string unterminated = "{\n  \"a\": 1\n\n";
  std::string message = error_of([&] { parse_config_text(unterminated, "cfg.json"); });
  EXPECT_EQ(message.substr(0, message.find(" - ")),
            "cfg.json:2:8: invalid JSON: syntax error while parsing object");
  // Text after the document.
  message = error_of([&] { parse_config_text("{}\n\n  x", "cfg.json"); });
  EXPECT_EQ(message.substr(0, message.find(" - ")),
            "cfg.json:3:3: invalid JSON: syntax error while parsing value");
  // Empty input.
  message = error_of([&] { parse_config_text("", "cfg.json"); });
  EXPECT_EQ(message.substr(0, message.find(" - ")),
            "cfg.json:1:1: invalid JSON: syntax error while parsing value");
}

TEST(ConfigDocument, DuplicateKeysAreErrors) {
  EXPECT_EQ(error_of([] { parse_config_text(R"({"train": {"lr": 1, "lr": 2}})", "cfg.json"); }),
            "cfg.json: duplicate key \"train.lr\"");
  EXPECT_EQ(error_of([] {
              parse_config_text(R"({"data": {"files": [{"name": 1}, 7, {"name": 2, "name": 3}]}})",
                                "cfg.json");
            }),
            "cfg.json: duplicate key \"data.files[2].name\"");
  // The same key in different objects is fine.
  EXPECT_NO_THROW(parse_config_text(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})",
                                    "cfg.json"));
}

TEST(ConfigDocument, LoadsFilesAndNamesThemInErrors) {
  fs::path dir = temp_dir("load");
  write_file(dir / "ok.json", R"({"model": {"type": "rnn"}})");
  write_file(dir / "bad.json", "{\n  \"model\": {\"type\": \"rnn\",}\n}\n");
  EXPECT_EQ(load_config_file(dir / "ok.json"), json::parse(R"({"model": {"type": "rnn"}})"));
  std::string message = error_of([&] { load_config_file(dir / "bad.json"); });
  EXPECT_EQ(
      message.substr(0, message.find(" - ")),
      (dir / "bad.json").string() + ":2:27: invalid JSON: syntax error while parsing object key");
  EXPECT_EQ(error_of([&] { load_config_file(dir / "missing.json"); }),
            (dir / "missing.json").string() + ": cannot open file");
}

// ---- fingerprints

TEST(ConfigHash, KnownValues) {
  // FNV-1a 64 of the compact dump; the empty-string value is the FNV offset basis.
  EXPECT_EQ(config_hash(json::parse(R"({"a":1,"b":[true,null,"x"],"c":{"d":0.5}})")),
            0x95ef3604123dc1d0ull);
  EXPECT_EQ(config_hash_hex(json::object()), "08f44b07b5901a25");
  EXPECT_EQ(config_hash_hex(json("")), "07cc7607b4949e25");  // the dump is the two quotes
  EXPECT_EQ(config_hash_hex(json::parse("[1, 2.5, \"x\"]")), "91ac0b94432642d1");
}

TEST(ConfigHash, IgnoresFormattingAndKeyOrder) {
  json a = parse_config_text(R"({"model": {"d": 64, "type": "rnn"}, "train": {"lr": 0.001}})", "a");
  json b = parse_config_text(
      "{\n  \"train\": {\"lr\": 1e-3},\n  // comment\n  \"model\": "
      "{\"type\": \"rnn\", \"d\": 64}\n}",
      "b");
  EXPECT_EQ(config_hash(a), config_hash(b));
  EXPECT_EQ(config_hash(a), config_hash(json::parse(a.dump(2))));  // survives a save/load
}

TEST(ConfigHash, ChangesWithAnyValue) {
  json a = json::parse(R"({"model": {"d": 64}, "train": {"lr": 0.001}})");
  json b = a;
  b["train"]["lr"] = 0.0011;
  json c = a;
  c["model"]["d"] = 65;
  json d = a;
  d["model"]["extra"] = nullptr;
  EXPECT_NE(config_hash(a), config_hash(b));
  EXPECT_NE(config_hash(a), config_hash(c));
  EXPECT_NE(config_hash(a), config_hash(d));
  EXPECT_EQ(config_hash_hex(a).size(), 16u);
}

}  // namespace
}  // namespace heed
