// A training run killed with SIGKILL at an arbitrary moment and resumed from its newest checkpoint ends with
// the same bytes as an uninterrupted run: checkpoints are written atomically and carry the optimizer,
// bias-controller and data-loader state.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "io/model_config.h"
#include "test_util.h"

namespace longcat::train {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

pid_t spawn_longcat(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(LONGCAT_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stderr);
    execv(LONGCAT_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int count_checkpoints(const std::string& dir) {
  int n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    n += name.rfind("checkpoint-", 0) == 0 && name.find(".tmp") == std::string::npos;
  }
  return n;
}

TEST(TrainerKill, SigkillThenResumeGivesTheUninterruptedBytes) {
  const std::string dir = ::testing::TempDir() + "/longcat_kill_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  ModelConfig c = load_model_config(testing::model_path("tiny") + "/config.json");
  c.hidden_size = 32;
  c.q_lora_rank = 16;
  c.kv_lora_rank = 8;
  c.vocab_size = 64;
  std::ofstream(dir + "/config.json") << model_config_to_json(c).dump(2);
  std::vector<uint32_t> ids(8000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint32_t>((i * 7 + i / 13) % 64);
  std::ofstream(dir + "/data.u32", std::ios::binary).write(reinterpret_cast<const char*>(ids.data()), 4 * ids.size());

  const int steps = 200;  // long enough (~1-2 s) that the kill always lands mid-run
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"train", "--config", dir + "/config.json", "--data", dir + "/data.u32", "--out",
                                    out, "--steps", std::to_string(steps), "--seq-len", "16", "--batch-tokens", "64",
                                    "--save-every", "1", "--keep-checkpoints", "0", "--seed", "3", "--threads", "2",
                                    "--quiet"};
  };
  ASSERT_EQ(wait_status(spawn_longcat(args(dir + "/straight"))), 0);

  // Kill once a few checkpoints exist (somewhere in the middle of a step or of a checkpoint write).
  const std::string killed = dir + "/killed";
  pid_t pid = spawn_longcat(args(killed));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_checkpoints(killed) < 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(pid, SIGKILL);
  int status = wait_status(pid);
  const int done_before_kill = count_checkpoints(killed);
  ASSERT_GE(done_before_kill, 5);
  if (status == 0) GTEST_SKIP() << "the run finished before it could be killed";
  EXPECT_EQ(status, 128 + SIGKILL);
  EXPECT_LT(done_before_kill, steps) << "the kill landed before the last step";

  std::vector<std::string> resume = args(killed);
  resume.push_back("--resume");
  resume.push_back(killed);
  ASSERT_EQ(wait_status(spawn_longcat(resume)), 0);

  char last[32];
  std::snprintf(last, sizeof last, "/checkpoint-%06d/", steps);
  for (const char* f : {"model.safetensors", "trainer_state.safetensors"})
    EXPECT_EQ(read_bytes(dir + "/straight" + last + f), read_bytes(killed + last + f)) << f;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longcat::train
