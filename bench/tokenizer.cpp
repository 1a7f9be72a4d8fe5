// Our side of the tokenizer comparison (bench/run.py; the twin is bench/python/tokenizer_bench.py,
// tiktoken built from the same GPT-2 files): GPT-2 BPE encode throughput over whole files.
//   bench_tokenizer --tokenizer data/tokenizer/gpt2 [--passes 3] FILE...
// Each timed pass starts from a freshly loaded tokenizer, so our per-word cache starts empty, as
// in a one-shot encode of a corpus. A last pass with the warm
// cache is reported separately. Per file: the token count and an FNV-1a hash of the ids, which
// the driver compares with the twin's.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/timing.h"
#include "text/tokenizer.h"

namespace {

using bench::Clock;
using bench::median;
using bench::seconds_since;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// FNV-1a over the ids as 32-bit words; the twin computes the same.
uint32_t hash_ids(const std::vector<rlhf::TokenId>& ids) {
  uint32_t h = 2166136261u;
  for (auto id : ids) h = (h ^ static_cast<uint32_t>(id)) * 16777619u;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string dir = "data/tokenizer/gpt2";
    int passes = 3;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--tokenizer" && i + 1 < argc) dir = argv[++i];
      else if (a == "--passes" && i + 1 < argc) passes = std::max(1, std::atoi(argv[++i]));
      else if (a.rfind("--", 0) == 0) throw std::runtime_error("unknown option " + a);
      else paths.push_back(a);
    }
    if (paths.empty()) throw std::runtime_error("usage: bench_tokenizer [--tokenizer DIR] [--passes N] FILE...");
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (const auto& p : paths) {
      texts.push_back(read_bytes(p));
      bytes += texts.back().size();
    }

    std::vector<double> cold_s;
    std::vector<std::vector<rlhf::TokenId>> ids(texts.size());
    rlhf::Tokenizer tokenizer;
    for (int pass = 0; pass < passes; ++pass) {
      tokenizer = rlhf::Tokenizer::load(dir);  // empty word cache
      auto start = Clock::now();
      for (size_t f = 0; f < texts.size(); ++f) ids[f] = tokenizer.encode(texts[f]);
      cold_s.push_back(seconds_since(start));
    }
    auto start = Clock::now();
    for (size_t f = 0; f < texts.size(); ++f) ids[f] = tokenizer.encode(texts[f]);
    const double warm_s = seconds_since(start);

    nlohmann::json files = nlohmann::json::array();
    size_t tokens = 0;
    for (size_t f = 0; f < texts.size(); ++f) {
      tokens += ids[f].size();
      files.push_back({{"path", paths[f]}, {"bytes", texts[f].size()}, {"tokens", ids[f].size()},
                       {"hash", hash_ids(ids[f])}});
    }
    nlohmann::json out = {{"side", "ours"},
                          {"mb_per_s", bytes / median(cold_s) / 1e6},
                          {"mb_per_s_warm_cache", bytes / warm_s / 1e6},
                          {"bytes", bytes},
                          {"tokens", tokens},
                          {"files", files}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
}
