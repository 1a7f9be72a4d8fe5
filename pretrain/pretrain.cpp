#include "pretrain/pretrain.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "dist/distributed.h"
#include "dist/runtime.h"
#include "io/atomic_file.h"
#include "io/files.h"
#include "model/model_io.h"
#include "pretrain/corpus.h"
#include "pretrain/token_file.h"
#include "train/optimizer.h"
#include "train/seed.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

double unigram_loss(const TokenFile& train, const TokenFile& val, int64_t vocab_size) {
  std::vector<double> counts(vocab_size, 1.0);  // add-one smoothing
  for (int64_t i = 0; i < train.size(); ++i) counts[train.at(i)] += 1.0;
  const double total = static_cast<double>(train.size() + vocab_size);
  double nll = 0.0;
  for (int64_t i = 0; i < val.size(); ++i) nll -= std::log(counts[val.at(i)] / total);
  return nll / static_cast<double>(std::max<int64_t>(1, val.size()));
}

json run_pretrain(const PretrainConfig& input_config, bool resume) {
  PretrainConfig config = input_config;
  const fs::path out(config.out_dir);
  if (resume) require_resumable(out, "pretrain");
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  Distributed& dist = distributed();
  // A fresh run owns OUT: it must not inherit the tokenizer an earlier run left there.
  if (!resume && dist.is_main()) fs::remove_all(out / "tokenizer");

  // The model and tokenizer: from a checkpoint, or fresh with the configured architecture.
  GPT model{nullptr};
  Tokenizer tokenizer;
  std::optional<Corpus> prepared;
  // Rank 0 trains or copies the tokenizer and tokenizes the corpus; other ranks then find both.
  dist.main_first("waiting for rank 0 to prepare the tokenizer and corpus", [&] {
    if (!config.init_from.empty()) {
      auto start = load_init_checkpoint(config.init_from);
      tokenizer = *start.tokenizer;
      fs::create_directories(out);
      if (dist.is_main() && !fs::exists(out / "tokenizer" / "encoder.json")) tokenizer.save(out / "tokenizer");
      config.model = start.model;
      model = build_gpt(start, torch::kCPU, config.init_from);
    } else {
      tokenizer = resolve_tokenizer(config.tokenizer, out);
      config.model.vocab_size = tokenizer.vocab_size();
      torch::manual_seed(config.train.seed);
      model = GPT(config.model);
    }
    prepared.emplace(prepare_corpus(config.data, tokenizer, out / "tokenizer"));
  });
  model->to(device);
  if (dist.is_main()) save_resolved_config(out, config);

  const Corpus& corpus = *prepared;
  const int64_t T = config.model.block_size, B = config.train.batch_size;
  if (corpus.train.size() <= T + 1 || corpus.val.size() <= T + 1)
    throw std::runtime_error("data.files: corpus too small for block_size " + std::to_string(T));
  const double unigram = unigram_loss(corpus.train, corpus.val, tokenizer.vocab_size());
  std::cerr << "pretrain: " << corpus.train.size() << " train / " << corpus.val.size() << " val tokens, "
            << model->num_parameters() / 1e6 << "M parameters, unigram val loss " << unigram << "\n";

  auto optimizer = make_adamw(*model, config.train);
  TrainerHooks hooks;
  // Every rank draws the same B windows per micro-batch and trains on its rows of them.
  const RowRange rows = dist.rows(B);
  const double row_share = static_cast<double>(rows.size()) / static_cast<double>(B);  // 1 alone
  hooks.plan_step = [&](int64_t step) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(config.train.seed, step, 2));
    StepPlan plan;
    for (int64_t micro = 0; micro < config.train.grad_accum; ++micro) {
      auto starts_tensor = torch::randint(0, corpus.train.size() - T - 1, {B}, generator, torch::kLong);
      const int64_t* first = starts_tensor.data_ptr<int64_t>();
      std::vector<int64_t> starts(first + rows.begin, first + rows.end);
      auto [x, y] = windows(corpus.train, starts, T);
      plan.micro_losses.push_back([&model, &config, row_share, x = x.to(device), y = y.to(device)] {
        return model->loss(model->forward(x).logits, y) / static_cast<double>(config.train.grad_accum) * row_share;
      });
    }
    plan.tokens = rows.size() * T * config.train.grad_accum;
    return plan;
  };
  hooks.evaluate = [&] {
    // The same evenly spaced held-out windows every time, so evaluations are comparable.
    const int64_t count = std::max<int64_t>(1, config.eval_batches * B);
    double total = 0.0;
    for (int64_t first = 0; first < count; first += B) {
      std::vector<int64_t> starts;
      for (int64_t i = first; i < std::min(count, first + B); ++i)
        starts.push_back(i * (corpus.val.size() - T - 1) / count);
      auto [x, y] = windows(corpus.val, starts, T);
      total += model->loss(model->forward(x.to(device)).logits, y.to(device)).item<double>() * starts.size();
    }
    return json{{"val_loss", total / count}};
  };
  hooks.checkpoint = [&] {
    return make_checkpoint(model, tokenizer, {{"kind", "gpt"}, {"stage", "pretrain"}, {"config", json(config)}});
  };

  TrainSummary result = run_training(*model, *optimizer, config.train, out, hooks, resume, "pretrain");
  if (!dist.is_main()) return json{{"rank", dist.rank()}};  // rank 0 writes the summary
  json summary = {{"train_loss_first", result.loss_first},
                  {"train_loss_last", result.loss_last},
                  {"val_loss", result.last_eval.value("val_loss", NAN)},
                  {"best_val_loss", result.best_eval.value("val_loss", NAN)},
                  {"unigram_val_loss", unigram},
                  {"tokens_seen", result.tokens_seen},
                  {"tokens_per_s", result.tokens_per_s},
                  {"steps", result.steps},
                  {"seconds", result.seconds},
                  {"parameters", model->num_parameters()},
                  {"precision", result.precision.to_json()}};
  save_summary(out, summary);
  return summary;
}

}  // namespace rlhf
