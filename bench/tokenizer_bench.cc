// Tokenizer encode throughput: single thread, a few MB of mixed text (English-like prose with a Zipfian
// vocabulary, code, Chinese, Cyrillic, numbers, emoji) cut into documents of a fixed size, encoded one
// document per call with both fixture tokenizers. Prints a table and one JSON line.
//
// The same documents can be written out (--write-docs FILE) for bench/tokenizer_hf/bench.mjs, which times the
// Hugging Face library on them; both print the same checksum of all ids, so agreement is checked too.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

using longcat::tokenizer::Tokenizer;
namespace utf8 = longcat::tokenizer::utf8;

namespace {

// Draws ranks 0..n-1 with probability ~ 1/(rank+1), like word frequencies in natural text.
class Zipf {
 public:
  explicit Zipf(size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) cdf_.push_back(total += 1.0 / (i + 1));
    for (double& c : cdf_) c /= total;
  }
  size_t operator()(std::mt19937& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
  }

 private:
  std::vector<double> cdf_;
};

std::string make_corpus(size_t bytes, std::mt19937& rng) {
  static const char* syllables[] = {"ka", "ri", "to", "men", "sa", "lo", "ver", "tion", "pre", "in", "al", "ex",
                                    "ing", "ed", "con", "de", "ra", "un", "er", "st", "qu", "ph", "th", "ou"};
  static const char* common[] = {"the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "was",
                                 "with", "be", "by", "on", "not", "he", "this", "are", "or", "his", "from", "at"};
  std::vector<std::string> words(std::begin(common), std::end(common));
  while (words.size() < 30000) {
    std::string w;
    int n = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int k = 0; k < n; ++k) w += syllables[std::uniform_int_distribution<int>(0, 23)(rng)];
    words.push_back(w);
  }
  Zipf word_z(words.size()), han_z(3000);
  std::vector<char32_t> han;
  for (int i = 0; i < 3000; ++i) han.push_back(0x4E00 + (i * 7919) % (0x9FA5 - 0x4E00));
  static const char* code[] = {
      "def {w}(x, y=None):\n    return [i * 2 for i in range(x) if i % 3]\n",
      "for (int i = 0; i < n; ++i) {\n  {w}[i] += {n};\n}\n",
      "const {w} = await fetch(`/api/v1/{w}?id=${n}`);\n",
      "if {w} is not None and len({w}) > {n}:\n\traise ValueError(\"bad {w}\")\n"};
  static const char* other[] = {"Привет, мир! ", "Скорость инференса ", "🙂 ", "🚀🚀 ", "👩‍👩‍👧‍👦 ", "naïve café ",
                                "µs → ≤ ", "2026-11-25 ", "3.14159 ", "$1,000,000 "};
  std::string out;
  std::uniform_int_distribution<int> kind_d(0, 99), len_d(20, 120);
  while (out.size() < bytes) {
    int kind = kind_d(rng);
    int n = len_d(rng);
    if (kind < 60) {  // prose paragraph
      for (int k = 0; k < n; ++k) {
        std::string w = words[word_z(rng)];
        if (k == 0 || kind_d(rng) < 5) w[0] = static_cast<char>(std::toupper(w[0]));
        out += w;
        int p = kind_d(rng);
        out += p < 8 ? ", " : p < 13 ? ". " : p < 15 ? " " + std::to_string(p * 37) + " " : " ";
      }
      out += "\n\n";
    } else if (kind < 75) {  // code
      for (int k = 0; k < n / 20 + 1; ++k) {
        std::string t = code[kind_d(rng) % 4];
        std::string w = words[word_z(rng)];
        for (size_t at; (at = t.find("{w}")) != std::string::npos;) t.replace(at, 3, w);
        for (size_t at; (at = t.find("{n}")) != std::string::npos;) t.replace(at, 3, std::to_string(kind_d(rng)));
        out += t;
      }
      out += "\n";
    } else if (kind < 90) {  // Chinese
      for (int k = 0; k < n; ++k) {
        utf8::append(out, han[han_z(rng)]);
        int p = kind_d(rng);
        if (p < 6) out += "，";
        if (p == 6) out += "。";
      }
      out += "\n";
    } else {
      for (int k = 0; k < n / 10 + 1; ++k) out += other[kind_d(rng) % 10];
      out += "\n";
    }
  }
  return out;
}

// Fixed-size documents, each cut back to a character boundary.
std::vector<std::string> split_documents(const std::string& corpus, size_t doc_bytes) {
  std::vector<std::string> docs;
  size_t pos = 0;
  while (pos < corpus.size()) {
    size_t end = std::min(corpus.size(), pos + doc_bytes);
    while (end < corpus.size() && (static_cast<unsigned char>(corpus[end]) & 0xC0) == 0x80) --end;
    docs.push_back(corpus.substr(pos, end - pos));
    pos = end;
  }
  return docs;
}

struct Result {
  std::string tokenizer;
  double load_s = 0, cold_mb_s = 0, warm_mb_s = 0;
  size_t tokens = 0;
  uint32_t checksum = 2166136261u;
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = LONGCAT_TEST_DATA;
  size_t corpus_bytes = 4 << 20, doc_bytes = 4096;
  std::string write_docs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--write-docs" && i + 1 < argc) write_docs = argv[++i];
    else if (a == "--mb" && i + 1 < argc) corpus_bytes = static_cast<size_t>(std::atof(argv[++i]) * (1 << 20));
    else if (a == "--doc-bytes" && i + 1 < argc) doc_bytes = std::stoul(argv[++i]);
    else if (a == "--data" && i + 1 < argc) data = argv[++i];
    else {
      std::fprintf(stderr, "usage: tokenizer_bench [--mb 4] [--doc-bytes 4096] [--write-docs FILE] [--data DIR]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  std::mt19937 rng(12345);
  std::vector<std::string> docs = split_documents(make_corpus(corpus_bytes, rng), doc_bytes);
  size_t total = 0;
  for (const auto& d : docs) total += d.size();
  if (!write_docs.empty()) std::ofstream(write_docs) << nlohmann::json(docs).dump();

  std::vector<Result> results;
  for (const char* name : {"deepseek_v3", "qwen3"}) {
    Result r;
    r.tokenizer = name;
    auto t0 = std::chrono::steady_clock::now();
    Tokenizer tok = Tokenizer::load(data + "/tokenizers/" + name + "/tokenizer.json");
    auto t1 = std::chrono::steady_clock::now();
    r.load_s = std::chrono::duration<double>(t1 - t0).count();
    auto pass = [&](bool record) {
      auto s = std::chrono::steady_clock::now();
      for (const auto& d : docs) {
        std::vector<int> ids = tok.encode(d);
        if (record) {
          r.tokens += ids.size();
          for (int id : ids) r.checksum = (r.checksum ^ static_cast<uint32_t>(id)) * 16777619u;
        }
      }
      return total / 1e6 / std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
    };
    r.cold_mb_s = pass(true);  // the first pass also fills the word cache
    for (int k = 0; k < 3; ++k) r.warm_mb_s = std::max(r.warm_mb_s, pass(false));
    results.push_back(r);
  }

  std::printf("tokenizer encode, 1 thread, %zu documents of %zu bytes, %.2f MB total\n", docs.size(), doc_bytes,
              total / 1e6);
  std::printf("%-12s %8s %12s %12s %10s %10s\n", "tokenizer", "load s", "cold MB/s", "warm MB/s", "tokens",
              "checksum");
  nlohmann::json j = {{"bench", "tokenizer_encode"}, {"threads", 1}, {"documents", docs.size()},
                      {"doc_bytes", doc_bytes}, {"total_bytes", total}, {"results", nlohmann::json::array()}};
  for (const Result& r : results) {
    std::printf("%-12s %8.3f %12.2f %12.2f %10zu %10u\n", r.tokenizer.c_str(), r.load_s, r.cold_mb_s, r.warm_mb_s,
                r.tokens, r.checksum);
    j["results"].push_back({{"tokenizer", r.tokenizer}, {"load_s", r.load_s}, {"cold_mb_s", r.cold_mb_s},
                            {"warm_mb_s", r.warm_mb_s}, {"tokens", r.tokens}, {"checksum", r.checksum}});
  }
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
