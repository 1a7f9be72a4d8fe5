#include "sft/sft.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <stdexcept>

#include "dist/distributed.h"
#include "dist/runtime.h"
#include "io/files.h"
#include "io/stable_hash.h"
#include "model/model_io.h"
#include "model/precision.h"
#include "train/optimizer.h"
#include "train/seed.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

SftBatch make_sft_batch(const std::vector<const TokenizedExample*>& examples) {
  const int64_t B = static_cast<int64_t>(examples.size());
  int64_t L = 0;
  for (const auto* e : examples) L = std::max<int64_t>(L, static_cast<int64_t>(e->ids.size()) - 1);
  SftBatch batch;
  batch.input = torch::zeros({B, L}, torch::kLong);
  batch.target = torch::zeros({B, L}, torch::kLong);
  batch.response_mask = torch::zeros({B, L});
  batch.prompt_mask = torch::zeros({B, L});
  auto input = batch.input.accessor<int64_t, 2>(), target = batch.target.accessor<int64_t, 2>();
  auto response = batch.response_mask.accessor<float, 2>(), prompt = batch.prompt_mask.accessor<float, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& ids = examples[b]->ids;
    const int64_t n = static_cast<int64_t>(ids.size()) - 1;
    for (int64_t j = 0; j < n; ++j) {
      input[b][j] = ids[j];
      target[b][j] = ids[j + 1];
      // target j is token j + 1: a response token when j + 1 >= prompt_length
      if (j + 1 >= examples[b]->prompt_length) {
        response[b][j] = 1.0f;
        ++batch.response_tokens;
      } else {
        prompt[b][j] = 1.0f;
        ++batch.prompt_tokens;
      }
    }
  }
  return batch;
}

torch::Tensor sft_loss(GPT& model, const SftBatch& batch, double response_norm, double prompt_norm, double lm_coef) {
  auto device = model->transformer->wte->weight.device();
  auto logits = model->forward(batch.input.to(device)).logits;                 // (B, L, V)
  auto nll = torch::nn::functional::cross_entropy(
                 logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), batch.target.to(device).reshape({-1}),
                 torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                 .view(batch.target.sizes());                                  // (B, L)
  auto loss = (nll * batch.response_mask.to(device)).sum() / response_norm;
  if (lm_coef > 0.0 && prompt_norm > 0.0) loss = loss + lm_coef * (nll * batch.prompt_mask.to(device)).sum() / prompt_norm;
  return loss;
}

namespace {

struct SftData {
  std::vector<TokenizedExample> train, eval;
};

SftData load_data(const SftDataConfig& config, const Tokenizer& tokenizer, int64_t block_size) {
  std::vector<Demonstration> all;
  for (const auto& file : expand_files(config.files, "data.files")) {
    const bool split = is_hash_split_file(file, config.hash_split_files);
    auto loaded = load_demonstrations(file, split);
    std::cerr << "sft: " << file.string() << ": " << loaded.examples.size() << " demonstrations"
              << (split ? " (split by hash)" : " (used whole)");
    if (loaded.skipped_other_split) std::cerr << ", " << loaded.skipped_other_split << " reserved for the reward model";
    if (loaded.skipped_empty) std::cerr << ", " << loaded.skipped_empty << " skipped (empty response)";
    std::cerr << "\n";
    all.insert(all.end(), loaded.examples.begin(), loaded.examples.end());
  }
  if (config.max_examples > 0 && static_cast<int64_t>(all.size()) > config.max_examples) all.resize(config.max_examples);
  std::vector<Demonstration> train, eval;
  for (const auto& d : all)
    (stable_hash(d.prompt + d.response) % 1000 < static_cast<uint64_t>(config.eval_fraction * 1000) ? eval : train).push_back(d);
  SftData data;
  TokenizeStats train_stats, eval_stats;
  data.train = tokenize_demonstrations(train, tokenizer, block_size, &train_stats);
  data.eval = tokenize_demonstrations(eval, tokenizer, block_size, &eval_stats);
  std::cerr << "sft: " << data.train.size() << " train / " << data.eval.size() << " eval examples; "
            << train_stats.prompt_truncated + eval_stats.prompt_truncated << " prompts truncated from the left, "
            << train_stats.skipped_too_long + eval_stats.skipped_too_long << " skipped (response longer than the context)\n";
  if (data.train.empty()) throw std::runtime_error("data.files: no usable training demonstrations");
  if (data.eval.empty()) throw std::runtime_error("data.eval_fraction: no held-out demonstrations (raise it)");
  return data;
}

// Mean response-token loss over all held-out examples.
double eval_loss(GPT& model, const std::vector<TokenizedExample>& eval, int64_t batch_size) {
  std::vector<const TokenizedExample*> sorted;
  for (const auto& e : eval) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->ids.size() < b->ids.size(); });
  double total = 0.0;
  int64_t tokens = 0;
  for (size_t i = 0; i < sorted.size(); i += batch_size) {
    std::vector<const TokenizedExample*> chunk(sorted.begin() + i, sorted.begin() + std::min(sorted.size(), i + batch_size));
    auto batch = make_sft_batch(chunk);
    total += sft_loss(model, batch, 1.0, 1.0, 0.0).item<double>();
    tokens += batch.response_tokens;
  }
  return total / static_cast<double>(std::max<int64_t>(1, tokens));
}

}  // namespace

json run_sft(const SftConfig& config, bool resume) {
  const fs::path out(config.out_dir);
  if (resume) require_resumable(out, "sft");
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  Distributed& dist = distributed();
  auto start = load_init_checkpoint(config.init_from);
  const Tokenizer tokenizer = *start.tokenizer;
  if (config.dropout >= 0.0) start.model.dropout = config.dropout;
  GPT model = build_gpt(start, device, config.init_from);
  if (dist.is_main()) save_resolved_config(out, config);

  SftData data = load_data(config.data, tokenizer, start.model.block_size);
  double base_eval_loss;
  {
    torch::NoGradGuard no_grad;
    BF16Autocast autocast(choose_precision(config.train.precision, device, "sft: train.precision").bf16, device);
    base_eval_loss = eval_loss(model, data.eval, config.train.batch_size);
  }
  std::cerr << "sft: held-out response loss of " << config.init_from << ": " << base_eval_loss << "\n";

  auto optimizer = make_adamw(*model, config.train);
  TrainerHooks hooks;
  hooks.eval_metric = "eval_loss";
  const RowRange rows = dist.rows(config.train.batch_size);
  hooks.plan_step = [&](int64_t step) {
    // Draw the step's examples, sort them by length and cut into micro-batches: less padding, and
    // the step's loss normalised over all its tokens so accumulation equals one large batch.
    auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(config.train.seed, step, 2));
    const int64_t n = config.train.batch_size * config.train.grad_accum;
    auto picks = torch::randint(0, static_cast<int64_t>(data.train.size()), {n}, generator, torch::kLong);
    auto pick = picks.accessor<int64_t, 1>();
    std::vector<const TokenizedExample*> chosen;
    for (int64_t i = 0; i < n; ++i) chosen.push_back(&data.train[pick[i]]);
    std::stable_sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->ids.size() < b->ids.size(); });
    // The step's token counts normalise the loss (over all ranks' rows); each rank trains on its
    // rows of every micro-batch (dist/distributed.h).
    std::vector<SftBatch> batches;
    int64_t response_tokens = 0, prompt_tokens = 0, my_tokens = 0;
    for (int64_t i = 0; i < n; i += config.train.batch_size) {
      const SftBatch whole = make_sft_batch({chosen.begin() + i, chosen.begin() + i + config.train.batch_size});
      response_tokens += whole.response_tokens;
      prompt_tokens += whole.prompt_tokens;
      batches.push_back(rows.size() == config.train.batch_size
                            ? whole
                            : make_sft_batch({chosen.begin() + i + rows.begin, chosen.begin() + i + rows.end}));
      my_tokens += batches.back().response_tokens + batches.back().prompt_tokens;
    }
    StepPlan plan;
    for (auto& batch : batches) {
      plan.micro_losses.push_back([&model, &config, batch, response_tokens, prompt_tokens] {
        return sft_loss(model, batch, static_cast<double>(response_tokens), static_cast<double>(prompt_tokens),
                        config.lm_coef);
      });
    }
    plan.tokens = my_tokens;
    return plan;
  };
  hooks.evaluate = [&] { return json{{"eval_loss", eval_loss(model, data.eval, config.train.batch_size)}}; };
  hooks.checkpoint = [&] {
    return make_checkpoint(model, tokenizer, {{"kind", "gpt"}, {"stage", "sft"}, {"config", json(config)}});
  };

  TrainSummary result = run_training(*model, *optimizer, config.train, out, hooks, resume, "sft");
  if (!dist.is_main()) return json{{"rank", dist.rank()}};  // rank 0 writes the summary
  json summary = {{"base_eval_loss", base_eval_loss},
                  {"eval_loss", result.last_eval.value("eval_loss", NAN)},
                  {"best_eval_loss", result.best_eval.value("eval_loss", NAN)},
                  {"train_loss_first", result.loss_first},
                  {"train_loss_last", result.loss_last},
                  {"steps", result.steps},
                  {"tokens_per_s", result.tokens_per_s},
                  {"seconds", result.seconds},
                  {"train_examples", data.train.size()},
                  {"eval_examples", data.eval.size()},
                  {"precision", result.precision.to_json()}};
  save_summary(out, summary);
  return summary;
}

}  // namespace rlhf
