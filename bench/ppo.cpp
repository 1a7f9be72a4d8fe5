// Where one PPO iteration's time goes (ours only; bench/run.py runs it):
//   bench_ppo [--config configs/quickstart-ppo.json] [--iterations 2] [--tokenizer-file FILE] [--device cpu|cuda]
//             [--precision auto|bf16|fp32]
// Self-contained: a tokenizer trained on one shipped novel (vocab 2048, the quickstart's size), a
// random policy of the quickstart pretrain shape and a reward model on that trunk are written to a
// temporary directory (no judge), then PpoTrainer runs the quickstart PPO config (rollout 32, minibatches of
// 16, 4 epochs, 32 new tokens) on its real prompt files. Run from the repository root.
//
// The trainer's own timers give rollout / score / train. The score phase is split further by
// timing its parts on one more rollout: the reward model, the reference's log-probs, and the
// policy's log-probs + values (evaluate_rollout minus the reference).
// A random policy rarely samples EOS, so every response runs the full 32 tokens: the slow case.
// --precision is the config's (model/precision.h; auto: bf16 autocast on CUDA and on a CPU with bf16
// units); the score parts run in it too. peak_rss_bytes: the process's peak resident memory.
// --device cuda runs the trainer there (runtime.device) and adds
// peak_gpu_bytes: the most GPU memory held by tensors during the measured iterations, with all
// four models (policy, value, reference, reward) resident (a CUDA build of LibTorch; -1 otherwise).
// Prints one JSON line.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "bench/gpu_memory.h"
#include "bench/timing.h"
#include "dist/runtime.h"
#include "io/config.h"
#include "io/files.h"
#include "model/checkpoint.h"
#include "model/model_io.h"
#include "model/precision.h"
#include "ppo/ppo_trainer.h"
#include "ppo/rollout.h"
#include "reward/reward_model.h"
#include "text/bpe_trainer.h"

namespace {

namespace fs = std::filesystem;
using bench::Clock;
using bench::median;
using bench::seconds_since;
using json = nlohmann::json;

// A temporary directory removed on scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rlhf-bench-ppo-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The SFT policy and reward checkpoints PpoTrainer loads: random weights of the quickstart shape.
void write_checkpoints(const fs::path& dir, const rlhf::Tokenizer& tokenizer, const fs::path& pretrain_config) {
  auto model_json = rlhf::read_json_file(pretrain_config).at("model");
  rlhf::GPTConfig config = model_json.get<rlhf::GPTConfig>();
  config.vocab_size = tokenizer.vocab_size();
  torch::manual_seed(0);
  rlhf::GPT policy(config);
  rlhf::save_checkpoint(dir / "sft", rlhf::make_checkpoint(policy, tokenizer));
  auto base = rlhf::load_checkpoint(dir / "sft");
  auto reward = rlhf::reward_model_from_checkpoint(base, torch::kCPU, (dir / "sft").string());
  rlhf::save_checkpoint(dir / "rm", rlhf::reward_checkpoint(reward, tokenizer, json::object()));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string config_file = "configs/quickstart-ppo.json";
    std::string pretrain_file = "configs/quickstart-pretrain.json";
    std::string corpus = "data/corpus/austen/persuasion.txt";
    int iterations = 2;
    std::string device = "cpu";
    std::string precision = "auto";
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--config" && i + 1 < argc) config_file = argv[++i];
      else if (a == "--iterations" && i + 1 < argc) iterations = std::max(1, std::atoi(argv[++i]));
      else if (a == "--tokenizer-file" && i + 1 < argc) corpus = argv[++i];
      else if (a == "--device" && i + 1 < argc) device = argv[++i];
      else if (a == "--precision" && i + 1 < argc) precision = argv[++i];
      else throw std::runtime_error("usage: bench_ppo [--config FILE] [--iterations N] [--tokenizer-file FILE] [--device cpu|cuda] "
                                    "[--precision auto|bf16|fp32]");
    }
    rlhf::configure_threads(0);
    rlhf::configure_allocator();  // glibc malloc settings of every stage (dist/runtime.h)
    const torch::Device dev = rlhf::select_device(device);  // fails here, before the setup, without CUDA
    TempDir tmp;
    auto t0 = Clock::now();
    auto tokenizer = rlhf::train_bpe({corpus}, {2048, 2});
    write_checkpoints(tmp.path, tokenizer, pretrain_file);
    const double setup_s = seconds_since(t0);

    auto config = rlhf::load_config<rlhf::PpoConfig>(
        config_file, {"policy_from=" + (tmp.path / "sft").string(), "reward_from=" + (tmp.path / "rm").string(),
                      "judge_from=", "out_dir=" + (tmp.path / "ppo").string(), "runtime.device=" + device,
                      "precision=" + precision});
    rlhf::PpoTrainer trainer(config, tmp.path / "ppo", nullptr);

    // Iteration 0 is a warm-up (first-touch allocations, thread start-up); then the measured ones.
    std::vector<double> rollout_s, score_s, train_s, total_s, response_len;
    for (int it = 0; it <= iterations; ++it) {
      if (it == 1) bench::reset_peak_gpu_bytes(dev);  // the measured iterations' peak, warm-up excluded
      auto start = Clock::now();
      auto metrics = trainer.run_iteration(it).metrics;
      const double total = seconds_since(start);
      if (it == 0) continue;
      rollout_s.push_back(metrics.at("time_rollout_s").get<double>());
      score_s.push_back(metrics.at("time_score_s").get<double>());
      train_s.push_back(metrics.at("time_train_s").get<double>());
      response_len.push_back(metrics.at("response_length").get<double>());
      total_s.push_back(total);
    }
    const int64_t peak_gpu_bytes = bench::peak_gpu_bytes(dev);

    // The score phase's parts, on one more rollout of the same size.
    const auto& pool = trainer.prompts().train;
    std::vector<std::string> prompts;
    std::vector<std::vector<rlhf::TokenId>> prompt_ids;
    const int64_t max_prompt = std::min<int64_t>(config.data.max_prompt_tokens,
                                                 trainer.reference()->config().block_size - config.sampling.max_new_tokens);
    for (int64_t i = 0; i < config.rollout_size; ++i) {
      prompts.push_back(pool[i % pool.size()]);
      auto ids = tokenizer.encode(prompts.back());
      if (static_cast<int64_t>(ids.size()) > max_prompt) ids.erase(ids.begin(), ids.end() - max_prompt);
      prompt_ids.push_back(ids);
    }
    rlhf::BF16Autocast autocast(trainer.precision().bf16, dev);
    auto r = rlhf::sample_rollout(trainer.model()->policy, prompts, prompt_ids, config.sampling, tokenizer,
                                  config.minibatch_size);
    bench::synchronize(dev);  // on CUDA each part's clock must include its queued kernels
    auto t_reward = Clock::now();
    trainer.scorer().score(r, tokenizer);
    bench::synchronize(dev);
    const double reward_s = seconds_since(t_reward);
    auto t_ref = Clock::now();
    {
      torch::NoGradGuard no_grad;
      for (int64_t first = 0; first < r.size(); first += config.minibatch_size) {
        const int64_t n = std::min(config.minibatch_size, r.size() - first);
        rlhf::response_logprobs(trainer.reference(), r.ids.narrow(0, first, n), r.attention_mask.narrow(0, first, n),
                                r.prompt_length, config.sampling.temperature);
      }
    }
    bench::synchronize(dev);
    const double reference_s = seconds_since(t_ref);
    auto t_eval = Clock::now();
    rlhf::evaluate_rollout(r, trainer.model(), trainer.reference(), config.sampling.temperature, config.minibatch_size);
    bench::synchronize(dev);
    const double policy_value_s = seconds_since(t_eval) - reference_s;

    const double total = median(total_s);
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    json out = {{"side", "ours"},
                {"iteration_s", total},
                {"rollout_s", median(rollout_s)},
                {"score_s", median(score_s)},
                {"train_s", median(train_s)},
                {"score_parts_s", {{"reward_model", reward_s}, {"reference", reference_s}, {"policy_value", policy_value_s}}},
                {"response_length", median(response_len)},
                {"rollout_size", config.rollout_size},
                {"minibatch_size", config.minibatch_size},
                {"ppo_epochs", config.ppo_epochs},
                {"max_new_tokens", config.sampling.max_new_tokens},
                {"sequence_length", r.ids.size(1)},
                {"params", trainer.reference()->num_parameters(true)},
                {"value_trunk", !trainer.model()->value->shared()},
                {"setup_s", setup_s},
                {"precision", trainer.precision().to_json()},
                {"peak_rss_bytes", static_cast<int64_t>(usage.ru_maxrss) * 1024},
                {"threads", torch::get_num_threads()}};
    if (dev.is_cuda()) out["device"] = dev.str(), out["peak_gpu_bytes"] = peak_gpu_bytes;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ppo: %s\n", e.what());
    return 1;
  }
}
