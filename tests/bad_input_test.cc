// Bad input through the real command: broken checkpoints, configs and arguments given to `longcat logits`.
// Each must end with exactly one `error: <what> (<where>)` line naming the file, tensor or field at fault, exit
// status 1 (runtime) or 2 (usage), never a crash (status >= 128 is a signal, e.g. SIGSEGV or an ASan abort),
// and no output file. Every case starts from a fresh copy of the tiny fixture and corrupts one thing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace longcat {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using testing::CommandResult;
using testing::model_path;
using testing::run_longcat;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
  return s;
}

// A safetensors file split into its editable header and its data section.
struct Parts {
  ordered_json header;
  std::string data;
};

Parts load_parts(const fs::path& p) {
  std::string b = read_bytes(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(b[i]);
  return {ordered_json::parse(b.substr(8, n)), b.substr(8 + n)};
}

// `odd_header` pads the header to an odd length so every tensor starts at an unaligned address.
void save_parts(const fs::path& p, const Parts& parts, bool odd_header = false) {
  std::string h = parts.header.dump();
  while (h.size() % 8 != (odd_header ? 1 : 0)) h.push_back(' ');
  write_bytes(p, le64(h.size()) + h + parts.data);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  return lines;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override { copy_model("tiny"); }
  void TearDown() override { fs::remove_all(root_); }

  void copy_model(const std::string& name) {
    if (!root_.empty()) fs::remove_all(root_);
    root_ = fs::path(::testing::TempDir()) /
            ("longcat_bad_" + std::to_string(getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_);
    dir_ = root_ / "model";
    fs::copy(model_path(name), dir_, fs::copy_options::recursive);
    fs::remove(dir_ / "expected.safetensors");  // not part of a model folder
    out_ = (root_ / "out.safetensors").string();
  }

  fs::path weights() const { return dir_ / "model.safetensors"; }

  CommandResult logits(const std::string& ids = "1,5,9,200") {
    return run_longcat("logits --model " + dir_.string() + " --ids " + ids + " --out " + out_ + " --threads 2");
  }

  // The failure contract of docs/cli.md; `names` must all appear in the error line.
  void expect_error(const CommandResult& r, int status, const std::vector<std::string>& names) {
    EXPECT_EQ(r.status, status) << "stderr:\n" << r.err;
    EXPECT_LT(r.status, 128) << "crashed:\n" << r.err;
    std::vector<std::string> lines = lines_of(r.err);
    int error_lines = 0;
    for (const auto& l : lines) error_lines += l.rfind("error: ", 0) == 0;
    EXPECT_EQ(error_lines, 1) << "stderr:\n" << r.err;
    ASSERT_FALSE(lines.empty());
    const std::string& e = lines.back();
    EXPECT_EQ(e.rfind("error: ", 0), 0u) << "the error must be the last line:\n" << r.err;
    EXPECT_EQ(e.back(), ')') << "error line must end with (<file/tensor/field>): " << e;
    for (const auto& n : names) EXPECT_NE(e.find(n), std::string::npos) << "'" << n << "' not named in: " << e;
    for (const char* crash : {"terminate called", "Sanitizer", "runtime error", "Segmentation", "Aborted"})
      EXPECT_EQ(r.err.find(crash), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(out_)) << "a failed run must not leave an output file";
  }

  void edit_config(const std::function<void(nlohmann::json&)>& edit, const std::string& file = "config.json") {
    nlohmann::json j = nlohmann::json::parse(read_bytes(dir_ / file));
    edit(j);
    write_bytes(dir_ / file, j.dump(2));
  }

  void edit_header(const std::function<void(Parts&)>& edit, const fs::path& file = {}) {
    const fs::path p = file.empty() ? weights() : file;
    Parts parts = load_parts(p);
    edit(parts);
    save_parts(p, parts);
  }

  fs::path root_, dir_;
  std::string out_;
};

TEST_F(BadInput, GoodCopyRuns) {
  CommandResult r = logits();
  ASSERT_EQ(r.status, 0) << r.err;
  SafetensorsFile f(out_);
  EXPECT_EQ(f.tensor("logits").shape, (std::vector<int64_t>{4, 512}));
}

TEST_F(BadInput, TruncatedFile) {
  const std::string b = read_bytes(weights());
  write_bytes(weights(), b.substr(0, b.size() / 2));  // data section cut: the last tensors run past the end
  expect_error(logits(), 1, {"model.safetensors: tensor ", "past the end"});
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(b[i]);
  write_bytes(weights(), b.substr(0, 8 + n / 2));  // cut inside the header
  expect_error(logits(), 1, {weights().string(), "header length"});
  write_bytes(weights(), b.substr(0, 5));  // not even the length prefix
  expect_error(logits(), 1, {weights().string(), "too short"});
  write_bytes(weights(), "");
  expect_error(logits(), 1, {weights().string(), "too short"});
}

TEST_F(BadInput, HeaderLengthPastTheEnd) {
  std::string b = read_bytes(weights());
  write_bytes(weights(), le64(b.size()) + b.substr(8));
  expect_error(logits(), 1, {weights().string(), "runs past the end"});
  write_bytes(weights(), le64(~0ull) + b.substr(8));
  expect_error(logits(), 1, {weights().string(), "100 MB"});
}

TEST_F(BadInput, MalformedHeaderJson) {
  std::string b = read_bytes(weights());
  b[8] = 'x';  // the opening brace
  write_bytes(weights(), b);
  expect_error(logits(), 1, {weights().string(), "not valid JSON"});
  b = read_bytes(model_path("tiny") + "/model.safetensors");
  b[8 + 20] = '\x01';  // a control character inside the first key
  write_bytes(weights(), b);
  expect_error(logits(), 1, {weights().string(), "not valid JSON"});
  // Valid JSON but not an object.
  write_bytes(weights(), le64(8) + "[1,2,3] ");
  expect_error(logits(), 1, {weights().string(), "not an object"});
}

TEST_F(BadInput, UnknownDtype) {
  edit_header([](Parts& p) { p.header["model.norm.weight"]["dtype"] = "F4_E2M1"; });
  expect_error(logits(), 1, {"model.safetensors: tensor model.norm.weight", "unknown dtype 'F4_E2M1'"});
}

TEST_F(BadInput, ShapeDisagreesWithByteSize) {
  edit_header([](Parts& p) { p.header["model.norm.weight"]["shape"] = {65}; });
  expect_error(logits(), 1, {"tensor model.norm.weight", "needs 130 bytes but data_offsets span 128"});
}

TEST_F(BadInput, OverlappingOffsets) {
  edit_header([](Parts& p) {
    uint64_t b = p.header["lm_head.weight"]["data_offsets"][0].get<uint64_t>() + 2;
    p.header["model.norm.weight"]["data_offsets"] = {b, b + 128};
  });
  expect_error(logits(), 1, {"overlaps tensor lm_head.weight", "model.safetensors: tensor model.norm.weight"});
}

TEST_F(BadInput, OutOfRangeOffsets) {
  edit_header([](Parts& p) {
    uint64_t end = p.data.size();
    p.header["model.norm.weight"]["data_offsets"] = {end, end + 128};
  });
  expect_error(logits(), 1, {"tensor model.norm.weight", "run past the end"});
  // Offsets near 2^64: no wrap-around may make them look in range.
  edit_header([](Parts& p) {
    p.header["model.norm.weight"]["data_offsets"] = {~0ull - 127, ~0ull};
    p.header["model.norm.weight"]["shape"] = {63};
  });
  expect_error(logits(), 1, {"tensor model.norm.weight"});
}

TEST_F(BadInput, MissingTensor) {
  edit_header([](Parts& p) { p.header.erase("model.layers.1.mlps.0.up_proj.weight"); });
  expect_error(logits(), 1, {"tensor not found", "model.layers.1.mlps.0.up_proj.weight"});
  copy_model("tiny");
  edit_header([](Parts& p) { p.header.erase("model.norm.weight"); });
  expect_error(logits(), 1, {"model.norm.weight"});
}

TEST_F(BadInput, TensorShapeDisagreesWithConfig) {
  // Same bytes, transposed shape: only the config can tell.
  edit_header([](Parts& p) { p.header["model.layers.0.self_attn.1.q_a_proj.weight"]["shape"] = {64, 32}; });
  expect_error(logits(), 1, {"model.layers.0.self_attn.1.q_a_proj.weight", "[64, 32]", "[32, 64]"});
  // The config disagrees with every tensor; the first one bound is named.
  copy_model("tiny");
  edit_config([](nlohmann::json& j) { j["hidden_size"] = 32; });
  expect_error(logits(), 1, {"model.embed_tokens.weight", "[512, 64]", "[512, 32]"});
  copy_model("tiny");
  edit_config([](nlohmann::json& j) { j["n_routed_experts"] = 9; });
  expect_error(logits(), 1, {"model.layers.0.mlp.router.classifier.weight", "[12, 64]", "[13, 64]"});
}

TEST_F(BadInput, WrongDtypeForAWeight) {
  // I16 has the byte size of BF16, so the header is self-consistent; the model must still refuse it.
  edit_header([](Parts& p) { p.header["model.layers.0.self_attn.0.q_a_proj.weight"]["dtype"] = "I16"; });
  expect_error(logits(), 1, {"model.layers.0.self_attn.0.q_a_proj.weight", "I16"});
  copy_model("tiny");
  edit_header([](Parts& p) { p.header["model.norm.weight"]["dtype"] = "I16"; });
  expect_error(logits(), 1, {"model.norm.weight", "I16"});
}

TEST_F(BadInput, MissingConfigField) {
  edit_config([](nlohmann::json& j) { j.erase("hidden_size"); });
  expect_error(logits(), 1, {"missing field", "config.json: hidden_size"});
  copy_model("tiny");
  edit_config([](nlohmann::json& j) { j.erase("num_layers"); });
  expect_error(logits(), 1, {"missing field", "config.json: num_layers"});
}

TEST_F(BadInput, InvalidConfigField) {
  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"num_attention_heads", 0},     {"qk_rope_head_dim", 7},        {"rope_theta", "1e7"},
      {"vocab_size", -512},           {"moe_topk", 13},               {"rms_norm_eps", 0},
      {"zero_expert_num", 1.5},       {"num_nextn_predict_layers", 3}, {"hidden_size", nlohmann::json::array()},
  };
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field + " = " + value.dump());
    copy_model("tiny");
    edit_config([&](nlohmann::json& j) { j[field] = value; });
    expect_error(logits(), 1, {"config.json: " + field});
  }
  copy_model("tiny");
  write_bytes(dir_ / "config.json", "{\"hidden_size\": 64,,}");
  expect_error(logits(), 1, {"config.json", "not valid JSON"});
  copy_model("tiny");
  edit_config([](nlohmann::json& j) { j["eos_token_id"] = "</s>"; }, "generation_config.json");
  expect_error(logits(), 1, {"generation_config.json: eos_token_id"});
}

TEST_F(BadInput, IdsOutOfVocabulary) {
  expect_error(logits("1,512"), 1, {"token id 512", "vocabulary", "--ids"});
  expect_error(logits("2147483647"), 1, {"token id 2147483647", "--ids"});
}

TEST_F(BadInput, MalformedIds) {
  for (std::string ids : {"1,x,3", "1,,3", "-1", "''", "1.5", "99999999999", "3,", "0x10"}) {
    SCOPED_TRACE(ids);
    expect_error(logits(ids), 2, {"--ids"});
  }
}

TEST_F(BadInput, UsageErrors) {
  auto r = run_longcat("logits --model " + dir_.string() + " --ids 1,2");  // no --out
  expect_error(r, 2, {"--out"});
  r = run_longcat("logits --model " + dir_.string() + " --ids 1,2 --out " + out_ + " --bogus");
  expect_error(r, 2, {"--bogus"});
  r = run_longcat("logits --model " + dir_.string() + " --ids 1,2 --out " + out_ + " --threads 0");
  expect_error(r, 2, {"--threads"});
}

TEST_F(BadInput, MissingModelFolder) {
  const std::string missing = (root_ / "no-such-model").string();
  auto r = run_longcat("logits --model " + missing + " --ids 1,2 --out " + out_);
  expect_error(r, 1, {missing});
}

TEST_F(BadInput, FolderWithoutWeights) {
  fs::remove(weights());
  expect_error(logits(), 1, {dir_.string(), "model.safetensors"});
  fs::create_directory(weights());  // a folder where the file should be
  expect_error(logits(), 1, {weights().string(), "not a regular file"});
}

TEST_F(BadInput, UnwritableOutput) {
  auto r = run_longcat("logits --model " + dir_.string() + " --ids 1,2 --out " + (root_ / "no/dir/x.safetensors").string());
  expect_error(r, 1, {"no/dir/x.safetensors"});
}

TEST_F(BadInput, ShardedIndexNamesAMissingShard) {
  copy_model("tiny-fp8");
  const fs::path index = dir_ / "model.safetensors.index.json";
  edit_config([](nlohmann::json& j) { j["weight_map"]["model.norm.weight"] = "model-00003-of-00003.safetensors"; },
              "model.safetensors.index.json");
  expect_error(logits(), 1, {"model-00003-of-00003.safetensors"});
  // The shard the index names is deleted.
  copy_model("tiny-fp8");
  fs::remove(dir_ / "model-00002-of-00002.safetensors");
  expect_error(logits(), 1, {"model-00002-of-00002.safetensors"});
}

TEST_F(BadInput, ShardedIndexNamesAMissingTensor) {
  copy_model("tiny-fp8");
  edit_config([](nlohmann::json& j) { j["weight_map"]["model.layers.0.extra.weight"] = "model-00001-of-00002.safetensors"; },
              "model.safetensors.index.json");
  expect_error(logits(), 1, {"model.safetensors.index.json: model.layers.0.extra.weight", "missing"});
  // The index puts a tensor in the wrong shard.
  copy_model("tiny-fp8");
  std::string moved;
  edit_config(
      [&](nlohmann::json& j) {
        for (auto& [k, v] : j["weight_map"].items())
          if (v == "model-00002-of-00002.safetensors") {
            moved = k;
            v = "model-00001-of-00002.safetensors";
            break;
          }
      },
      "model.safetensors.index.json");
  ASSERT_FALSE(moved.empty());
  expect_error(logits(), 1, {"model.safetensors.index.json: " + moved});
}

TEST_F(BadInput, ShardedIndexMalformed) {
  copy_model("tiny-fp8");
  const fs::path index = dir_ / "model.safetensors.index.json";
  write_bytes(index, "{\"weight_map\": {");
  expect_error(logits(), 1, {index.string(), "not valid JSON"});
  write_bytes(index, "{\"metadata\": {}}");
  expect_error(logits(), 1, {index.string(), "weight_map"});
  write_bytes(index, "{\"weight_map\": {\"lm_head.weight\": \"../../etc/passwd\"}}");
  expect_error(logits(), 1, {index.string(), "lm_head.weight"});
  write_bytes(index, "{\"weight_map\": {\"lm_head.weight\": 7}}");
  expect_error(logits(), 1, {index.string(), "lm_head.weight"});
}

TEST_F(BadInput, Fp8WeightWithoutItsScales) {
  copy_model("tiny-fp8");
  nlohmann::json index = nlohmann::json::parse(read_bytes(dir_ / "model.safetensors.index.json"));
  std::string scale;
  for (auto& [k, v] : index["weight_map"].items())
    if (k.size() > 10 && k.substr(k.size() - 10) == "_scale_inv") scale = k;  // the last one listed
  ASSERT_FALSE(scale.empty()) << "tiny-fp8 has block scales";
  const std::string shard = index["weight_map"][scale];
  index["weight_map"].erase(scale);
  write_bytes(dir_ / "model.safetensors.index.json", index.dump());
  edit_header([&](Parts& p) { p.header.erase(scale); }, dir_ / shard);
  expect_error(logits(), 1, {scale, "not found"});
  // Scales of the wrong block grid.
  copy_model("tiny-fp8");
  edit_config([](nlohmann::json& j) { j["quantization_config"]["weight_block_size"] = {32, 32}; });
  expect_error(logits(), 1, {"_scale_inv"});
}

// Not an error: safetensors promises only byte offsets, so tensors may sit at odd addresses. The engine must
// still load them (copying to aligned memory) and produce the same logits.
TEST_F(BadInput, UnalignedTensorsStillLoad) {
  CommandResult good = logits();
  ASSERT_EQ(good.status, 0) << good.err;
  std::vector<float> expected = testing::read_f32(SafetensorsFile(out_), "logits");
  fs::remove(out_);
  Parts p = load_parts(weights());
  save_parts(weights(), p, /*odd_header=*/true);
  CommandResult r = logits();
  ASSERT_EQ(r.status, 0) << r.err;
  // BF16 -> F32 conversion is exact, so only the kernels' summation order may differ.
  testing::expect_close_rms(testing::read_f32(SafetensorsFile(out_), "logits"), expected, 1e-5, "unaligned logits");
}

// After all the corruption above (each on its own copy), the pristine fixture still works.
TEST(BadInputSanity, PristineFixtureStillWorks) {
  const std::string out = ::testing::TempDir() + "longcat_bad_sanity_" + std::to_string(getpid()) + ".safetensors";
  CommandResult r = run_longcat("logits --model " + model_path("tiny") + " --ids 1,5,9,200 --out " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(SafetensorsFile(out).tensor("logits").shape, (std::vector<int64_t>{4, 512}));
  fs::remove(out);
}

}  // namespace
}  // namespace longcat
