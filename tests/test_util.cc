#include "test_util.h"

#include <sys/wait.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/byte_level.h"

namespace longcat::testing {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

CommandResult run_longcat(const std::string& args, const std::string& stdin_text) {
  static int counter = 0;
  const std::string base = ::testing::TempDir() + "longcat_cmd_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  const std::string in = base + ".in", out = base + ".out", err = base + ".err";
  {
    std::ofstream f(in, std::ios::binary);
    f << stdin_text;
  }
  std::string cmd = std::string(LONGCAT_BINARY) + " " + args + " <" + in + " >" + out + " 2>" + err;
  int raw = std::system(cmd.c_str());
  CommandResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

ModelConfig small_model_config() {
  ModelConfig c = load_model_config(model_path("tiny") + "/config.json");
  c.hidden_size = 32;
  c.num_attention_heads = 2;
  c.q_lora_rank = 16;
  c.kv_lora_rank = 8;
  c.qk_nope_head_dim = 8;
  c.qk_rope_head_dim = 4;
  c.v_head_dim = 8;
  c.ffn_hidden_size = 48;
  c.expert_ffn_hidden_size = 16;
  c.vocab_size = 64;
  return c;
}

std::string tiny_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  const char* specials[] = {"<unk>", "<longcat_s>", "</longcat_s>", "<longcat_pad>"};
  for (int i = 0; i < 4; ++i) {
    vocab[specials[i]] = i;
    added.push_back({{"id", i}, {"content", specials[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  const auto& chars = tokenizer::byte_level::byte_to_char();
  for (int b = 0; b < 256; ++b) vocab[chars[b]] = 4 + b;
  nlohmann::json tok = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                 {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                 {"vocab", vocab}, {"merges", nlohmann::json::array()}}},
  };
  return tok.dump();
}

std::string model_with_tokenizer(const std::string& name) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + name + "_with_tokenizer_" + std::to_string(getpid());
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(model_path(name)))
    fs::copy_file(e.path(), dir + "/" + e.path().filename().string(), fs::copy_options::overwrite_existing);
  std::ofstream(dir + "/tokenizer.json") << tiny_tokenizer_json();
  return dir;
}

}  // namespace longcat::testing
