// Train-step and generation speed of a small GPT on this machine, for each thread setup, measured
// side by side in one run (interleaved rounds, median of rounds) because the machines are noisy.
//   bench_thread_speed [--rounds N] [--vocab V] [--precision auto|bf16|fp32] [--json]
// Model: the quickstart shape (configs/quickstart-pretrain.json: 4 layers, 192 wide, context 128,
// vocab 2048). LibTorch runs everything on one OpenMP pool; the setups are its thread counts.
// --precision is the stages' setting (model/precision.h; auto: bf16 autocast on a CPU with bf16
// units), applied to the train step and to sampling as the stages apply it.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/timing.h"
#include "dist/runtime.h"
#include "model/generate.h"
#include "model/gpt.h"
#include "model/precision.h"

namespace {

using bench::Clock;
using bench::median;
using bench::seconds_since;

struct Setup {
  int threads;
  std::vector<double> train, gen1, gen16;
  int actual = 0;  // as read back
};

// Tokens per second of forward + backward + AdamW step at (B, T).
// Autocast as the trainer applies it: around the forward pass of each step (the step changes the
// weights whose bf16 copies a scope caches).
double train_tokens_per_s(rlhf::GPT& model, torch::optim::AdamW& opt, int64_t B, int64_t T, int steps, bool bf16) {
  model->train();
  auto ids = torch::randint(0, model->config().vocab_size, {B, T + 1}, torch::kLong);
  auto inputs = ids.narrow(1, 0, T), targets = ids.narrow(1, 1, T);
  auto step = [&] {
    opt.zero_grad();
    torch::Tensor loss;
    {
      rlhf::BF16Autocast autocast(bf16, torch::kCPU);
      loss = model->loss(model->forward(inputs).logits, targets);
    }
    loss.backward();
    opt.step();
  };
  step();  // warm-up
  auto start = Clock::now();
  for (int i = 0; i < steps; ++i) step();
  return B * T * steps / seconds_since(start);
}

double generate_tokens_per_s(rlhf::GPT& model, int64_t batch, int64_t new_tokens, bool bf16) {
  rlhf::BF16Autocast autocast(bf16, torch::kCPU);  // one scope around sampling, as the stages do
  rlhf::SamplingConfig config;
  config.max_new_tokens = new_tokens;
  config.top_k = 50;
  std::vector<std::vector<rlhf::TokenId>> prompts(batch, std::vector<rlhf::TokenId>(16, 1));
  rlhf::generate(model, prompts, config, -1);  // warm-up
  auto start = Clock::now();
  rlhf::generate(model, prompts, config, -1);
  return batch * new_tokens / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  bool json = false;
  std::string precision_setting = "auto";
  rlhf::GPTConfig config;
  config.n_layer = 4, config.n_head = 4, config.n_embd = 192, config.block_size = 128, config.vocab_size = 2048;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--vocab") && i + 1 < argc) config.vocab_size = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) precision_setting = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_thread_speed [--rounds N] [--vocab V] [--precision auto|bf16|fp32] [--json]\n");
      return 2;
    }
  }
  const rlhf::Precision precision = rlhf::choose_precision(precision_setting, torch::kCPU, "--precision");
  torch::manual_seed(0);
  rlhf::GPT model(config);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(3e-4));
  std::printf("model: %lld layers, %lld wide, context %lld, vocab %lld, %.2fM parameters; %s\n",
              (long long)config.n_layer, (long long)config.n_embd, (long long)config.block_size,
              (long long)config.vocab_size, model->num_parameters() / 1e6, precision.describe().c_str());

  std::vector<Setup> setups;
  for (int t = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); t >= 1; t /= 2) setups.push_back({t, {}, {}, {}});
  for (int r = 0; r < rounds; ++r) {
    for (auto& s : setups) {
      rlhf::configure_threads(s.threads);
      s.actual = torch::get_num_threads();
      s.train.push_back(train_tokens_per_s(model, opt, 16, 128, 3, precision.bf16));
      s.gen1.push_back(generate_tokens_per_s(model, 1, 64, precision.bf16));
      s.gen16.push_back(generate_tokens_per_s(model, 16, 64, precision.bf16));
    }
  }
  std::printf("%-24s %14s %16s %17s\n", "threads", "train tok/s", "generate B=1", "generate B=16");
  for (const auto& s : setups) {
    if (json)
      std::printf("{\"threads\":%d,\"actual\":%d,\"autocast\":\"%s\","
                  "\"train_tokens_per_s\":%.0f,\"gen_b1_tokens_per_s\":%.0f,\"gen_b16_tokens_per_s\":%.0f}\n",
                  s.threads, s.actual, precision.bf16 ? "bf16" : "off", median(s.train), median(s.gen1), median(s.gen16));
    else
      std::printf("%6d (read back %d)       %14.0f %16.0f %17.0f\n", s.threads, s.actual, median(s.train),
                  median(s.gen1), median(s.gen16));
  }
  return 0;
}
