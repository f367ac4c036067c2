// The safetensors reader and writer: a write/read round trip, and every validation branch of
// parse_safetensors_header on in-memory buffers (each rejected header must name the file and, where one is at
// fault, the tensor).
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/error.h"

namespace longcat {
namespace {

// A safetensors file image: 8-byte little-endian length, the header text, then `data_bytes` data bytes.
std::vector<uint8_t> image(const std::string& header, size_t data_bytes, uint64_t claimed_length = UINT64_MAX) {
  uint64_t n = claimed_length == UINT64_MAX ? header.size() : claimed_length;
  std::vector<uint8_t> b(8 + header.size() + data_bytes, 0xab);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(n >> (8 * i));
  std::copy(header.begin(), header.end(), b.begin() + 8);
  return b;
}

SafetensorsHeader parse(const std::vector<uint8_t>& b) { return parse_safetensors_header(b.data(), b.size(), "f.st"); }

// Expects parse to throw an Error whose problem contains `problem` and whose location is exactly `where`.
void expect_rejected(const std::vector<uint8_t>& b, const std::string& problem, const std::string& where) {
  try {
    parse(b);
    ADD_FAILURE() << "accepted, expected: " << problem;
  } catch (const Error& e) {
    EXPECT_NE(e.problem().find(problem), std::string::npos) << "got: " << e.what();
    EXPECT_EQ(e.location(), where) << "got: " << e.what();
  }
}

void expect_rejected(const std::string& header, size_t data_bytes, const std::string& problem,
                     const std::string& where) {
  expect_rejected(image(header, data_bytes), problem, where);
}

TEST(SafetensorsHeader, AcceptsValidHeaderAndKeepsEverything) {
  const std::string h = R"({"__metadata__": {"format": "pt"},
    "b": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [16, 28]},
    "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
    "s": {"dtype": "I64", "shape": [], "data_offsets": [28, 36]},
    "e": {"dtype": "F8_E4M3", "shape": [0, 5], "data_offsets": [36, 36]}})";
  SafetensorsHeader p = parse(image(h, 36));
  EXPECT_EQ(p.data_start, 8 + h.size());
  ASSERT_EQ(p.tensors.size(), 4u);
  EXPECT_EQ(p.metadata.at("format"), "pt");
  std::map<std::string, TensorEntry> by_name;
  for (const auto& t : p.tensors) by_name[t.name] = t;
  EXPECT_EQ(by_name.at("b").dtype, DType::BF16);
  EXPECT_EQ(by_name.at("b").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(by_name.at("b").begin, 16u);
  EXPECT_EQ(by_name.at("b").end, 28u);
  EXPECT_TRUE(by_name.at("s").shape.empty());  // a scalar: one element
  EXPECT_EQ(by_name.at("e").begin, by_name.at("e").end);
  // Trailing data past the last tensor is allowed (writers pad).
  EXPECT_NO_THROW(parse(image(h, 100)));
  // An empty header object is a valid (empty) file.
  EXPECT_TRUE(parse(image("{}", 0)).tensors.empty());
}

TEST(SafetensorsHeader, RejectsBadLengths) {
  std::vector<uint8_t> tiny = {1, 0, 0};
  expect_rejected(tiny, "too short", "f.st");
  expect_rejected(std::vector<uint8_t>{}, "too short", "f.st");
  // Claimed length past the end of the buffer (a truncated file).
  expect_rejected(image("{}", 0, 3), "runs past the end", "f.st");
  expect_rejected(image("{}", 0, 1ull << 20), "runs past the end", "f.st");
  // Past the 100 MB cap of the specification, and the largest possible value (no overflow in size - 8).
  expect_rejected(image("{}", 0, (100ull << 20) + 1), "100 MB", "f.st");
  expect_rejected(image("{}", 0, UINT64_MAX - 1), "100 MB", "f.st");
}

TEST(SafetensorsHeader, RejectsMalformedJson) {
  expect_rejected("{\"a\": ", 0, "not valid JSON", "f.st");
  expect_rejected("", 0, "not valid JSON", "f.st");
  expect_rejected(std::string("{\"a\"\0:1}", 8), 0, "not valid JSON", "f.st");
  expect_rejected("[1, 2]", 0, "not an object", "f.st");
  expect_rejected("\"x\"", 0, "not an object", "f.st");
}

TEST(SafetensorsHeader, RejectsBadMetadata) {
  expect_rejected(R"({"__metadata__": [1]})", 0, "__metadata__ is not an object", "f.st");
  expect_rejected(R"({"__metadata__": {"k": 3}})", 0, "not a string", "f.st: __metadata__.k");
}

TEST(SafetensorsHeader, RejectsBadEntriesNamingTheTensor) {
  const std::string where = "f.st: tensor t";
  expect_rejected(R"({"t": 5})", 0, "not an object", where);
  expect_rejected(R"({"t": {"shape": [1], "data_offsets": [0, 4]}})", 4, "no dtype", where);
  expect_rejected(R"({"t": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}})", 4, "no dtype", where);
  expect_rejected(R"({"t": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}})", 4, "unknown dtype 'F33'", where);
  expect_rejected(R"({"t": {"dtype": "bf16", "shape": [1], "data_offsets": [0, 2]}})", 2, "unknown dtype", where);
  expect_rejected(R"({"t": {"dtype": "F32", "data_offsets": [0, 4]}})", 4, "no shape", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}})", 4, "no shape", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4, "not a non-negative", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4, "not a non-negative", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})", 4, "not a non-negative", where);
  // One dimension above 2^48, and a product of dimensions that overflows 64 bits.
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [281474976710657], "data_offsets": [0, 4]}})", 4, "too large",
                  where);
  expect_rejected(
      R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]}})", 4,
      "too large", where);
  // numel (2^62) fits in 64 bits but its byte size (2^65) does not.
  expect_rejected(R"({"t": {"dtype": "F64", "shape": [281474976710656, 16384], "data_offsets": [0, 8]}})", 8,
                  "too large", where);
  // A large but representable byte size is a plain shape/byte mismatch.
  expect_rejected(R"({"t": {"dtype": "F64", "shape": [65536, 65536, 65536], "data_offsets": [0, 8]}})", 8,
                  "needs 2251799813685248 bytes but data_offsets span 8", where);
}

TEST(SafetensorsHeader, RejectsBadOffsetsNamingTheTensor) {
  const std::string where = "f.st: tensor t";
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1]}})", 4, "data_offsets must be", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4, "data_offsets must be", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})", 8, "data_offsets must be",
                  where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 4, "data_offsets must be",
                  where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}})", 4, "data_offsets must be",
                  where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": {"a": 0}}})", 4, "data_offsets must be",
                  where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", 8, "begin after they end", where);
  // In range for the header but past the data actually present (out-of-range / truncated data).
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 7, "run past the end", where);
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [18446744073709551611, 18446744073709551615]}})",
                  8, "run past the end", where);
  // Shape and byte size disagree, in both directions.
  expect_rejected(R"({"t": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 24,
                  "needs 24 bytes but data_offsets span 20", where);
  expect_rejected(R"({"t": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}})", 8,
                  "needs 6 bytes but data_offsets span 8", where);
}

TEST(SafetensorsHeader, RejectsOverlappingTensors) {
  // b starts inside a; the error names both tensors.
  try {
    parse(image(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}})",
                20));
    ADD_FAILURE() << "overlap accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.problem().find("overlaps tensor a"), std::string::npos) << e.what();
    EXPECT_EQ(e.location(), "f.st: tensor b");
  }
  // Identical ranges, and one range nested inside a larger one with a gap-free neighbour after it.
  expect_rejected(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                      "b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}})",
                  8, "overlaps", "f.st: tensor b");
  expect_rejected(R"({"a": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]},
                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]},
                      "c": {"dtype": "F32", "shape": [4], "data_offsets": [32, 48]}})",
                  48, "overlaps tensor a", "f.st: tensor b");
  // Touching ranges are fine.
  EXPECT_NO_THROW(parse(image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                              16)));
}

class SafetensorsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("longcat_st_" + std::to_string(getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(SafetensorsFileTest, WriteReadRoundTripKeepsOrderDataAndMetadata) {
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  std::vector<uint16_t> bf16 = {0x3f80, 0xc000, 0x7f80};
  std::vector<int32_t> i32 = {-1, 2, 2147483647};
  std::vector<uint8_t> u8 = {1, 2, 3, 4, 5};  // 5 bytes: the next tensor starts unaligned
  std::vector<int64_t> i64 = {-5};
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "quote \" and unicode \xc3\xa9"}};
  const std::string p = path("rt.safetensors");
  write_safetensors(p,
                    {{"z.f32", DType::F32, {2, 3}, f32.data()},
                     {"a.bf16", DType::BF16, {3}, bf16.data()},
                     {"u8", DType::U8, {5}, u8.data()},
                     {"m.i32", DType::I32, {1, 3}, i32.data()},
                     {"scalar", DType::I64, {}, i64.data()},
                     {"empty", DType::F32, {0, 4}, nullptr}},
                    meta);
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));  // written atomically via a temporary

  SafetensorsFile f(p);
  EXPECT_EQ(f.metadata(), meta);
  ASSERT_EQ(f.entries().size(), 6u);
  // Data is laid out in the order given; the header may list keys in any order.
  std::vector<std::pair<size_t, std::string>> by_offset;
  for (const auto& e : f.entries()) by_offset.push_back({e.begin, e.name});
  std::sort(by_offset.begin(), by_offset.end());
  std::vector<std::string> order;
  for (auto& [b, n] : by_offset)
    if (n != "empty") order.push_back(n);
  EXPECT_EQ(order, (std::vector<std::string>{"z.f32", "a.bf16", "u8", "m.i32", "scalar"}));

  TensorView t = f.tensor("z.f32");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape_string(), "[2, 3]");
  EXPECT_EQ(t.numel(), 6);
  ASSERT_EQ(t.nbytes, 24u);
  EXPECT_EQ(std::memcmp(t.data, f32.data(), 24), 0);
  EXPECT_EQ(t.file, p);
  EXPECT_EQ(std::memcmp(f.tensor("a.bf16").data, bf16.data(), 6), 0);
  EXPECT_EQ(std::memcmp(f.tensor("u8").data, u8.data(), 5), 0);
  EXPECT_EQ(std::memcmp(f.tensor("m.i32").data, i32.data(), 12), 0);
  EXPECT_EQ(f.tensor("scalar").numel(), 1);
  EXPECT_EQ(std::memcmp(f.tensor("scalar").data, i64.data(), 8), 0);
  EXPECT_EQ(f.tensor("empty").numel(), 0);
  EXPECT_EQ(f.tensor("empty").nbytes, 0u);
  EXPECT_EQ(f.tensor("m.i32").shape, (std::vector<int64_t>{1, 3}));

  // The header is padded so the data section starts 8-byte aligned (safetensors convention).
  std::ifstream in(p, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(std::filesystem::file_size(p), 8 + n + 24 + 6 + 5 + 12 + 8);

  EXPECT_TRUE(f.contains("u8"));
  EXPECT_FALSE(f.contains("nope"));
  try {
    f.tensor("nope");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), p + ": nope");
  }
}

TEST_F(SafetensorsFileTest, WriteReplacesAnExistingFile) {
  std::vector<float> a = {1, 2}, b = {3};
  const std::string p = path("x.safetensors");
  write_safetensors(p, {{"a", DType::F32, {2}, a.data()}});
  write_safetensors(p, {{"b", DType::F32, {1}, b.data()}});
  SafetensorsFile f(p);
  EXPECT_FALSE(f.contains("a"));
  EXPECT_EQ(f.tensor("b").nbytes, 4u);
  EXPECT_TRUE(f.metadata().empty());
}

TEST_F(SafetensorsFileTest, OpenErrorsNameThePath) {
  const std::string missing = path("missing.safetensors");
  try {
    SafetensorsFile f(missing);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), missing);
  }
  try {
    SafetensorsFile f(dir_.string());  // a folder, not a file
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), dir_.string());
    EXPECT_NE(e.problem().find("not a regular file"), std::string::npos);
  }
  const std::string empty = path("empty.safetensors");
  std::ofstream(empty).close();
  try {
    SafetensorsFile f(empty);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.location(), empty);
    EXPECT_NE(e.problem().find("too short"), std::string::npos);
  }
  try {
    write_safetensors(path("no/such/dir/x.safetensors"), {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(e.location().find("no/such/dir/x.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace longcat
