// `generate --prompt/--chat/--system`, `chat` and `--show-experts` end to end, on the tiny fixture model with a
// byte-level tokenizer.json written here (256 byte tokens + the LongCat specials fit its 512-id vocabulary).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "test_util.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/tokenizer.h"

namespace longcat {
namespace {


// GPT-2's byte-to-character table: printable bytes stand for themselves, the rest map to U+0100 onwards.
// A copy of the tiny model with a byte-level tokenizer.json (one folder per test process: ctest runs the tests of
// this file in parallel).
std::string make_model_with_tokenizer() { return testing::model_with_tokenizer("tiny"); }

nlohmann::json run_json(const std::string& args) {
  auto r = testing::run_longcat(args);
  EXPECT_EQ(r.status, 0) << args << "\n" << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(TextGeneration, PromptIsTokenizedAndGreedyMatchesIds) {
  const std::string dir = make_model_with_tokenizer();
  auto tok = tokenizer::Tokenizer::load(dir);
  std::vector<int> ids = tok.encode("Once upon a time");
  ASSERT_EQ(ids.size(), 16u);  // one byte token per character
  std::string csv;
  for (int id : ids) csv += (csv.empty() ? "" : ",") + std::to_string(id);
  const std::string common = " --temperature 0 --max-new-tokens 12 --ignore-eos --json --threads 1";
  auto by_text = run_json("generate --model " + dir + " --prompt 'Once upon a time'" + common);
  auto by_ids = run_json("generate --model " + dir + " --ids " + csv + common);
  EXPECT_EQ(by_text["ids"], by_ids["ids"]);
  ASSERT_EQ(by_text["ids"].size(), 12u);
  EXPECT_EQ(by_text["stats"]["prompt_tokens"], 16);
  std::vector<int> generated = by_text["ids"].get<std::vector<int>>();
  // The JSON text is the decoding of the generated ids (invalid UTF-8 replaced as JSON requires).
  nlohmann::json expected_text = tok.decode(generated, /*skip_special=*/true);
  EXPECT_EQ(by_text["text"], nlohmann::json::parse(expected_text.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace)));
}

TEST(TextGeneration, ChatWrapsThePromptInTheChatFormat) {
  const std::string dir = make_model_with_tokenizer();
  auto tok = tokenizer::Tokenizer::load(dir);
  std::string rendered = tokenizer::render_chat({{"system", "Be brief."}, {"user", "Hi"}});
  EXPECT_EQ(rendered, "SYSTEM:Be brief. [Round 0] USER:Hi ASSISTANT:");
  auto j = run_json("generate --model " + dir +
                    " --prompt Hi --chat --system 'Be brief.' --temperature 0 --max-new-tokens 2 --ignore-eos --json");
  EXPECT_EQ(j["stats"]["prompt_tokens"], static_cast<int>(tok.encode(rendered).size()));
}

TEST(TextGeneration, ChatCommandAnswersOneLinePerMessage) {
  const std::string dir = make_model_with_tokenizer();
  auto r = testing::run_longcat("chat --model " + dir + " --temperature 0 --max-new-tokens 6 --ignore-eos --threads 1",
                                "Hello\nHow are you?\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
}

TEST(TextGeneration, ShowExpertsColoursTokensAndWritesHtml) {
  const std::string dir = make_model_with_tokenizer();
  const std::string html = ::testing::TempDir() + "experts_" + std::to_string(getpid()) + ".html";
  auto r = testing::run_longcat("generate --model " + dir + " --prompt Hello --temperature 0 --max-new-tokens 8 "
                                "--ignore-eos --show-experts --experts-html " + html);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\x1b[48;5;"), std::string::npos);  // ANSI background colours
  std::ifstream in(html);
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("real experts per layer"), std::string::npos);
  EXPECT_GE(static_cast<int>(std::count(page.begin(), page.end(), '#')), 8);
}

TEST(TextGeneration, ExpertsSvgHasOneBoxPerVisibleTokenAndAHistogram) {
  const std::string dir = make_model_with_tokenizer();
  const std::string svg = ::testing::TempDir() + "experts_" + std::to_string(getpid()) + ".svg";
  auto r = testing::run_longcat("generate --model " + dir + " --prompt Hello --temperature 0 --max-new-tokens 8 "
                                "--ignore-eos --json --experts-svg " + svg);
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(svg);
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(page.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << page.substr(0, 80);
  EXPECT_NE(page.find("</svg>"), std::string::npos);
  // Token boxes + legend (5) + histogram bars (top-k + 1) + background.
  size_t rects = 0;
  for (size_t at = page.find("<rect"); at != std::string::npos; at = page.find("<rect", at + 1)) ++rects;
  EXPECT_GE(rects, 5u + 1u + 1u + 1u);
  EXPECT_NE(page.find(" tokens</text>"), std::string::npos);
  std::remove(svg.c_str());
}

TEST(TextGeneration, PromptWithoutTokenizerIsAClearError) {
  auto r = testing::run_longcat("generate --model " + testing::model_path("tiny") + " --prompt hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("error: --prompt needs a tokenizer.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace longcat
