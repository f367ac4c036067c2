// Hardware descriptions: field validation with the file and field named, defaults, and the built-in files.
#include "plan/hardware_profile.h"

#include <cmath>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace longcat::plan {
namespace {

nlohmann::json minimal() {
  return {{"name", "X"}, {"matrix_flops", 100.0}, {"memory_bandwidth", 10.0}, {"memory_bytes", 1e9}};
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_hardware_profile(j, "hw.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PlanHardware, MinimalFileTakesDefaults) {
  const HardwareProfile hw = parse_hardware_profile(minimal(), "hw.json");
  EXPECT_EQ(hw.name, "X");
  EXPECT_EQ(hw.attention_flops, 100.0);  // defaults to the matrix rate
  EXPECT_EQ(hw.all_to_all_bandwidth, 0.0);
  EXPECT_EQ(hw.price_per_hour, 0.0);
  EXPECT_EQ(hw.op_latency, 0.0);
  EXPECT_EQ(hw.weight_bandwidth("fp8"), 10.0);  // no per-format entry: memory bandwidth
}

TEST(PlanHardware, PerFormatStreamingBandwidth) {
  nlohmann::json j = minimal();
  j["weight_stream_bandwidth"] = {{"int4", 3.0}};
  const HardwareProfile hw = parse_hardware_profile(j, "hw.json");
  EXPECT_EQ(hw.weight_bandwidth("int4"), 3.0);
  EXPECT_EQ(hw.weight_bandwidth("bf16"), 10.0);
}

TEST(PlanHardware, BatchedKernelTable) {
  nlohmann::json j = minimal();
  j["weight_stream_bandwidth"] = {{"bf16", 20.0}};
  j["batched_weight_bandwidth"] = {{"1", 10.0}, {"4", 2.5}, {"16", 1.0}};
  const HardwareProfile hw = parse_hardware_profile(j, "hw.json");
  EXPECT_DOUBLE_EQ(hw.weight_bandwidth_at("bf16", 1), 20);   // the table scales the format's own rate
  EXPECT_DOUBLE_EQ(hw.weight_bandwidth_at("bf16", 0.5), 20);  // fewer tokens than 1: as 1
  EXPECT_NEAR(hw.weight_bandwidth_at("bf16", 2), 20 * 5.0 / 10, 1e-12);  // log-linear: sqrt(10 x 2.5) = 5
  EXPECT_DOUBLE_EQ(hw.weight_bandwidth_at("bf16", 4), 20 * 2.5 / 10);
  EXPECT_DOUBLE_EQ(hw.weight_bandwidth_at("bf16", 32), 20 * (1.0 * 16 / 32) / 10);  // constant FLOP rate
  EXPECT_DOUBLE_EQ(hw.weight_bandwidth_at("int8", 4), 10 * 2.5 / 10);  // int8: memory_bandwidth, scaled
  j["batched_weight_bandwidth"] = {{"two", 1.0}};
  EXPECT_THROW(parse_hardware_profile(j, "hw.json"), Error);
}

TEST(PlanHardware, MatrixSizeTableScalesSmallMatrices) {
  nlohmann::json j = minimal();
  EXPECT_DOUBLE_EQ(parse_hardware_profile(j, "hw.json").matrix_size_factor(1e6), 1.0);  // no table: 1
  j["matrix_size_bandwidth"] = {{"1000", 4.0}, {"100000", 16.0}, {"10000000", 20.0}};
  const HardwareProfile hw = parse_hardware_profile(j, "hw.json");
  EXPECT_DOUBLE_EQ(hw.matrix_size_factor(1e7), 1.0);        // the largest size measured
  EXPECT_DOUBLE_EQ(hw.matrix_size_factor(1e9), 1.0);        // larger: as the largest
  EXPECT_DOUBLE_EQ(hw.matrix_size_factor(1e5), 16.0 / 20);  // a measured point
  EXPECT_DOUBLE_EQ(hw.matrix_size_factor(10), 4.0 / 20);    // smaller than measured: the smallest's ratio
  EXPECT_NEAR(hw.matrix_size_factor(1e4), 8.0 / 20, 1e-12);  // log-linear: sqrt(4 x 16) = 8 halfway in log m
  EXPECT_DOUBLE_EQ(hw.matrix_size_factor(0), 1.0);          // size unknown
  // It survives a round trip through the file format.
  const HardwareProfile back = parse_hardware_profile(hardware_profile_to_json(hw), "hw.json");
  EXPECT_EQ(back.matrix_size_bandwidth, hw.matrix_size_bandwidth);
  j["matrix_size_bandwidth"] = {{"half", 1.0}};
  EXPECT_EQ(error_of(j), "key is not a matrix size in bytes >= 1 (hw.json: matrix_size_bandwidth.half)");
  j["matrix_size_bandwidth"] = {{"1000", -1.0}};
  EXPECT_THROW(parse_hardware_profile(j, "hw.json"), Error);
}

TEST(PlanHardware, RowSizeTableScalesShortRows) {
  nlohmann::json j = minimal();
  EXPECT_DOUBLE_EQ(parse_hardware_profile(j, "hw.json").row_size_factor(1024), 1.0);  // no table: 1
  j["row_size_bandwidth"] = {{"1024", 15.0}, {"4096", 24.0}, {"16384", 30.0}};
  const HardwareProfile hw = parse_hardware_profile(j, "hw.json");
  EXPECT_DOUBLE_EQ(hw.row_size_factor(16384), 1.0);        // the longest rows measured
  EXPECT_DOUBLE_EQ(hw.row_size_factor(65536), 1.0);        // longer: as the longest
  EXPECT_DOUBLE_EQ(hw.row_size_factor(4096), 24.0 / 30);   // a measured point
  EXPECT_DOUBLE_EQ(hw.row_size_factor(256), 15.0 / 30);    // shorter than measured: the shortest's ratio
  EXPECT_NEAR(hw.row_size_factor(2048), std::sqrt(15.0 * 24.0) / 30, 1e-12);  // log-linear, halfway in log r
  EXPECT_DOUBLE_EQ(hw.row_size_factor(0), 1.0);            // row length unknown
  const HardwareProfile back = parse_hardware_profile(hardware_profile_to_json(hw), "hw.json");
  EXPECT_EQ(back.row_size_bandwidth, hw.row_size_bandwidth);
  j["row_size_bandwidth"] = {{"0.5", 1.0}};
  EXPECT_EQ(error_of(j), "key is not a row size in bytes >= 1 (hw.json: row_size_bandwidth.0.5)");
  j["row_size_bandwidth"] = {{"1024", 0.0}};
  EXPECT_EQ(error_of(j), "must be a positive number (hw.json: row_size_bandwidth: 1024)");
  j["row_size_bandwidth"] = 3;
  EXPECT_EQ(error_of(j), "must be an object {row size in bytes: bytes/s} (hw.json: row_size_bandwidth)");
}

TEST(PlanHardware, BadFieldsNameFileAndField) {
  nlohmann::json j = minimal();
  j.erase("matrix_flops");
  EXPECT_EQ(error_of(j), "missing field (hw.json: matrix_flops)");
  j = minimal();
  j["memory_bandwidth"] = "fast";
  EXPECT_EQ(error_of(j), "not a number (hw.json: memory_bandwidth)");
  j = minimal();
  j["memory_bytes"] = 0;
  EXPECT_EQ(error_of(j), "must be a positive number (hw.json: memory_bytes)");
  j = minimal();
  j["price_per_hour"] = -1;
  EXPECT_EQ(error_of(j), "must be a number >= 0 (hw.json: price_per_hour)");
  j = minimal();
  j["matrix_flop"] = 1;
  EXPECT_EQ(error_of(j), "unknown field (hw.json: matrix_flop)");
  j = minimal();
  j["weight_stream_bandwidth"] = {{"fp4", 1.0}};
  EXPECT_EQ(error_of(j), "unknown weight format (bf16, fp8, int8, int4) (hw.json: weight_stream_bandwidth.fp4)");
  EXPECT_EQ(error_of(nlohmann::json::array()), "a hardware description must be a JSON object (hw.json)");
}

TEST(PlanHardware, BuiltInDescriptionsLoadByName) {
  const HardwareProfile h800 = resolve_hardware_profile("H800");
  EXPECT_EQ(h800.name, "H800");
  EXPECT_EQ(h800.attention_flops, 660e12);
  EXPECT_EQ(h800.all_to_all_bandwidth, 40e9);
  EXPECT_EQ(h800.price_per_hour, 2.0);
  for (const char* name : {"h100", "h200"}) EXPECT_GT(resolve_hardware_profile(name).memory_bandwidth, 3e12) << name;
  const auto names = known_hardware_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "this"), names.end());
}

TEST(PlanHardware, UnknownNameIsAUsageErrorListingTheKnownOnes) {
  try {
    resolve_hardware_profile("tpu9");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown hardware 'tpu9' (known: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("h800"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_hardware_profile("/nonexistent/hw.json"), Error);
}

}  // namespace
}  // namespace longcat::plan
