// MappedFile in both modes: mapped (default) and copied into anonymous memory (--no-mmap). The copy must hold
// the file's bytes exactly, and a model loaded either way must give the same logits bit for bit.
#include "io/mapped_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "model/longcat_model.h"
#include "test_util.h"
#include "util/error.h"

namespace longcat {
namespace {

// Restores the process-wide mode whatever the test does.
struct CopyMode {
  explicit CopyMode(bool copy) { set_copy_files_into_memory(copy); }
  ~CopyMode() { set_copy_files_into_memory(false); }
};

std::filesystem::path write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

TEST(MappedFile, CopyHoldsTheFilesBytesAndIsMarkedCopied) {
  std::vector<uint8_t> bytes(3 * 1024 * 1024 + 17);  // not a whole number of pages
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
  const auto path = write_file("longcat-mapped-file-test.bin", bytes);
  {
    const MappedFile mapped(path.string());
    EXPECT_FALSE(mapped.copied());
    ASSERT_EQ(mapped.size(), bytes.size());
    EXPECT_EQ(0, std::memcmp(mapped.data(), bytes.data(), bytes.size()));
  }
  {
    const CopyMode copy(true);
    const MappedFile copied(path.string());
    EXPECT_TRUE(copied.copied());
    ASSERT_EQ(copied.size(), bytes.size());
    EXPECT_EQ(0, std::memcmp(copied.data(), bytes.data(), bytes.size()));
  }
  std::filesystem::remove(path);
}

TEST(MappedFile, CopyOfAnEmptyFileAndErrorsNameThePath) {
  const auto path = write_file("longcat-mapped-file-empty.bin", {});
  const CopyMode copy(true);
  const MappedFile empty(path.string());
  EXPECT_EQ(empty.size(), 0u);
  std::filesystem::remove(path);
  try {
    MappedFile missing(path.string());
    FAIL() << "opened a file that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(MappedFile, ModelLoadedByCopyGivesTheMappedModelsLogitsBitwise) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 9; ++i) ids.push_back(4 + (i * 29) % 250);
  auto logits_of = [&] {
    auto model = LongcatModel::load(testing::model_path("tiny"), false);
    SequenceCaches caches = model->new_caches();
    return model->forward(caches, ids.data(), consecutive_positions(0, ids.size()).data(), ids.size()).logits;
  };
  const std::vector<float> mapped = logits_of();
  std::vector<float> copied;
  {
    const CopyMode copy(true);
    copied = logits_of();
  }
  ASSERT_EQ(mapped.size(), copied.size());
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(0, std::memcmp(mapped.data(), copied.data(), 4 * mapped.size()));
}

}  // namespace
}  // namespace longcat
