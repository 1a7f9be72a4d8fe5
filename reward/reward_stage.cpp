#include "reward/reward_stage.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <iostream>
#include <map>
#include <stdexcept>

#include "dist/distributed.h"
#include "dist/runtime.h"
#include "io/files.h"
#include "model/model_io.h"
#include "model/precision.h"
#include "reward/bag_of_words.h"
#include "reward/reward_model.h"
#include "text/chat_format.h"
#include "text/demonstrations.h"
#include "train/metrics.h"
#include "train/optimizer.h"
#include "train/seed.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

Accuracy wilson_accuracy(double correct, int64_t n) {
  Accuracy a;
  a.n = n;
  if (n == 0) return a;
  const double z = 1.959964, p = correct / static_cast<double>(n), nn = static_cast<double>(n);
  const double center = (p + z * z / (2 * nn)) / (1 + z * z / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
  a.value = p;
  a.low = center - half;
  a.high = center + half;
  return a;
}

namespace {

// A group's responses tokenized once: (prompt + response + EOS) per response.
struct TokenizedGroup {
  const RankingGroup* group;
  std::vector<ScoredSequence> sequences;
};

std::vector<TokenizedGroup> tokenize_groups(const std::vector<RankingGroup>& groups, const Tokenizer& tokenizer,
                                            int64_t block_size, int64_t* truncated) {
  std::vector<TokenizedGroup> out;
  for (const auto& g : groups) {
    TokenizedGroup t{&g, {}};
    for (const auto& response : g.responses) {
      auto input = reward_input(tokenizer, g.prompt, response, block_size);
      *truncated += input.truncated;
      t.sequences.push_back(std::move(input));
    }
    out.push_back(std::move(t));
  }
  return out;
}

// Rewards (raw) of all responses of the groups, back to back.
torch::Tensor group_rewards(RewardModel& model, const std::vector<const TokenizedGroup*>& groups, torch::Device device) {
  std::vector<const ScoredSequence*> seqs;
  for (const auto* g : groups)
    for (const auto& s : g->sequences) seqs.push_back(&s);
  auto batch = pad_sequences(seqs, device);
  return model->forward(batch.ids, batch.lengths, batch.response_starts);       // (N)
}

struct PairStats {
  double loss = 0.0;
  double correct = 0.0, length_correct = 0.0;  // ties count one half
  int64_t pairs = 0;
  std::map<std::string, std::pair<double, int64_t>> by_kind;
};

PairStats evaluate_pairs(RewardModel& model, const std::vector<TokenizedGroup>& groups, int64_t batch_size,
                         torch::Device device) {
  PairStats stats;
  double loss_sum = 0.0;
  for (size_t first = 0; first < groups.size(); first += batch_size) {
    std::vector<const TokenizedGroup*> batch;
    std::vector<const RankingGroup*> ranking;
    for (size_t i = first; i < std::min(groups.size(), first + batch_size); ++i) {
      batch.push_back(&groups[i]);
      ranking.push_back(groups[i].group);
    }
    auto rewards = group_rewards(model, batch, device).to(torch::kCPU, torch::kDouble);
    loss_sum += ranking_loss(ranking, rewards).item<double>() * batch.size();
    auto r = rewards.accessor<double, 1>();
    int64_t offset = 0;
    for (const auto* g : ranking) {
      for (const auto& p : g->pairs) {
        const double diff = r[offset + p.winner] - r[offset + p.loser];
        const double hit = pairwise_win(diff, 0.0);
        const auto lw = g->responses[p.winner].size(), ll = g->responses[p.loser].size();
        stats.correct += hit;
        stats.length_correct += pairwise_win(lw, ll);
        stats.by_kind[g->kind].first += hit;
        stats.by_kind[g->kind].second += 1;
        ++stats.pairs;
      }
      offset += static_cast<int64_t>(g->responses.size());
    }
  }
  stats.loss = loss_sum / static_cast<double>(std::max<size_t>(1, groups.size()));
  return stats;
}

json accuracy_json(const Accuracy& a) { return {a.low, a.high}; }

// Sets the model's normalisation from its raw rewards on reference responses; returns their stats.
std::pair<double, double> normalize(RewardModel& model, const Tokenizer& tokenizer, const RewardNormalizeConfig& config,
                                    const std::vector<std::string>& hash_split_files) {
  model->normalization = RewardNormalization{};
  if (config.mode == "none" || config.reference_files.empty()) return {NAN, NAN};
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& file : expand_files(config.reference_files, "normalize.reference_files")) {
    for (const auto& d : load_demonstrations(file, is_hash_split_file(file, hash_split_files)).examples) {
      if (static_cast<int64_t>(items.size()) >= config.max_reference) break;
      items.emplace_back(d.prompt, d.response);
    }
  }
  auto scores = score_texts(model, tokenizer, items);
  double mean = 0.0, var = 0.0;
  for (double s : scores) mean += s / scores.size();
  for (double s : scores) var += (s - mean) * (s - mean) / std::max<size_t>(1, scores.size() - 1);
  const double std = std::sqrt(var);
  if (config.mode == "bias") model->normalization = {1.0, -mean};
  else if (config.mode == "gain_bias") model->normalization = {1.0 / std::max(std, 1e-8), -mean / std::max(std, 1e-8)};
  else throw std::runtime_error("normalize.mode \"" + config.mode + "\": expected none, bias or gain_bias");
  return {mean, std};
}

// The rankings a run trains, validates and reports on, tokenized. Checkpoint selection uses a
// validation split of the training rankings (by a stable hash of the prompt), so the held-out
// evaluation set never influences the model it reports on.
struct RewardData {
  std::vector<RankingGroup> fit_groups, valid_groups, eval_groups;  // what the tokenized groups point into
  std::vector<TokenizedGroup> train, valid, eval;
};

RewardData load_and_split(const RewardConfig& config, const Tokenizer& tokenizer, int64_t block_size) {
  RewardData d;
  PreferenceSplits splits = load_preference_splits(config.data, "reward");
  d.fit_groups = std::move(splits.fit);
  d.valid_groups = std::move(splits.valid);
  d.eval_groups = std::move(splits.eval);
  int64_t truncated = 0;
  d.train = tokenize_groups(d.fit_groups, tokenizer, block_size, &truncated);
  d.valid = tokenize_groups(d.valid_groups, tokenizer, block_size, &truncated);
  d.eval = tokenize_groups(d.eval_groups, tokenizer, block_size, &truncated);
  std::cerr << "reward: " << d.train.size() << " train / " << d.valid.size() << " validation / " << d.eval.size()
            << " held-out rankings; " << truncated << " sequences truncated to the " << block_size << "-token context\n";
  return d;
}

// The shared training loop on the ranking loss; the validation error picks `best`.
TrainSummary train_reward_model(RewardModel& model, const Tokenizer& tokenizer, const RewardData& data,
                                const RewardConfig& config, torch::Device device, bool resume) {
  Distributed& dist = distributed();
  const auto& train = data.train;
  auto optimizer = make_adamw(*model, config.train);
  TrainerHooks hooks;
  hooks.eval_metric = "valid_error";  // 1 - validation pair accuracy
  // Every rank draws the same groups and trains on its rows of each micro-batch (dist/distributed.h);
  // the loss is a mean over groups, so a rank's share is scaled by its fraction of the rows.
  const RowRange rows = dist.rows(config.train.batch_size);
  const double row_share = static_cast<double>(rows.size()) / static_cast<double>(config.train.batch_size);
  hooks.plan_step = [&](int64_t step) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(config.train.seed, step, 2));
    const int64_t B = config.train.batch_size, accum = config.train.grad_accum;
    auto picks = torch::randint(0, static_cast<int64_t>(train.size()), {B * accum}, generator, torch::kLong);
    auto pick = picks.accessor<int64_t, 1>();
    StepPlan plan;
    for (int64_t micro = 0; micro < accum; ++micro) {
      std::vector<const TokenizedGroup*> batch;
      std::vector<const RankingGroup*> ranking;
      for (int64_t i = micro * B + rows.begin; i < micro * B + rows.end; ++i) {
        batch.push_back(&train[pick[i]]);
        ranking.push_back(train[pick[i]].group);
        for (const auto& s : train[pick[i]].sequences) plan.tokens += static_cast<int64_t>(s.ids.size());
      }
      plan.micro_losses.push_back([&model, &config, device, batch, ranking, accum, row_share] {
        return ranking_loss(ranking, group_rewards(model, batch, device), config.margin_coef) / static_cast<double>(accum) *
               row_share;
      });
    }
    return plan;
  };
  hooks.evaluate = [&] {
    auto stats = evaluate_pairs(model, data.valid, config.train.batch_size, device);
    const double accuracy = stats.correct / std::max<int64_t>(1, stats.pairs);
    return json{{"valid_loss", stats.loss}, {"valid_accuracy", accuracy}, {"valid_error", 1.0 - accuracy}};
  };
  hooks.checkpoint = [&] { return reward_checkpoint(model, tokenizer, {{"stage", "reward"}, {"config", json(config)}}); };
  return run_training(*model, *optimizer, config.train, config.out_dir, hooks, resume, "reward");
}

// Final numbers from the best checkpoint, then its normalisation, saved as the stage's model; the
// summary.
json evaluate_and_normalize(const Tokenizer& tokenizer, const RewardData& data, const RewardConfig& config,
                            torch::Device device, const TrainSummary& result) {
  const fs::path out(config.out_dir);
  auto best = load_checkpoint(out / "best");
  RewardModel model = reward_model_from_checkpoint(best, device, (out / "best").string());
  torch::NoGradGuard no_grad;
  BF16Autocast autocast(result.precision.bf16, device);  // as it trained, and as PPO will score
  auto eval_stats = evaluate_pairs(model, data.eval, config.train.batch_size, device);
  std::vector<TokenizedGroup> train_sample(data.train.begin(), data.train.begin() + std::min<size_t>(data.train.size(), 500));
  auto train_stats = evaluate_pairs(model, train_sample, config.train.batch_size, device);
  auto [reference_mean, reference_std] = normalize(model, tokenizer, config.normalize, config.data.hash_split_files);

  const auto eval_accuracy = wilson_accuracy(eval_stats.correct, eval_stats.pairs);
  const BagOfWords bag_of_words = fit_bag_of_words(data.fit_groups, data.valid_groups);
  save_bag_of_words(out / "bag_of_words.json", bag_of_words);  // a judge for later stages
  const PairHits bag_hits = bag_of_words_hits(bag_of_words, data.eval_groups);
  const auto bag_accuracy = wilson_accuracy(bag_hits.correct, bag_hits.pairs);
  const double length_accuracy = eval_stats.length_correct / std::max<int64_t>(1, eval_stats.pairs);
  std::cerr << "reward: held-out accuracy " << eval_accuracy.value << " [" << eval_accuracy.low << ", "
            << eval_accuracy.high << "] on " << eval_stats.pairs << " pairs; bag-of-words " << bag_accuracy.value << " ["
            << bag_accuracy.low << ", " << bag_accuracy.high << "], longer response " << length_accuracy << ", chance 0.5\n";
  // The model carries its held-out card, so a report that uses it shows the bar it was measured against.
  const json held_out = {{"accuracy", eval_accuracy.value},
                         {"ci95", accuracy_json(eval_accuracy)},
                         {"pairs", eval_stats.pairs},
                         {"bag_of_words_accuracy", bag_accuracy.value},
                         {"bag_of_words_ci95", accuracy_json(bag_accuracy)},
                         {"length_baseline_accuracy", length_accuracy}};
  save_checkpoint(out / "best", reward_checkpoint(model, tokenizer,
                                                  {{"stage", "reward"}, {"config", json(config)}, {"held_out", held_out}}));
  json per_kind = json::object();
  for (const auto& [kind, hits] : eval_stats.by_kind) {
    auto a = wilson_accuracy(hits.first, hits.second);
    per_kind[kind] = {{"accuracy", a.value}, {"ci95", accuracy_json(a)}, {"pairs", a.n}};
  }
  return {{"train_accuracy", train_stats.correct / std::max<int64_t>(1, train_stats.pairs)},
          {"eval_accuracy", eval_accuracy.value},
          {"eval_accuracy_ci95", accuracy_json(eval_accuracy)},
          {"eval_pairs", eval_stats.pairs},
          {"train_rankings", data.train.size()},
          {"valid_rankings", data.valid.size()},
          {"eval_accuracy_by_kind", per_kind},
          {"bag_of_words_accuracy", bag_accuracy.value},
          {"bag_of_words_accuracy_ci95", accuracy_json(bag_accuracy)},
          {"bag_of_words_l2", bag_of_words.l2},
          {"bag_of_words_vocabulary", bag_of_words.vocabulary.size()},
          {"length_baseline_accuracy", length_accuracy},
          {"chance_accuracy", 0.5},
          {"eval_loss", eval_stats.loss},
          {"valid_accuracy", 1.0 - result.best_eval.value("valid_error", NAN)},
          {"best_step", result.best_eval.value("step", -1)},
          {"normalization", model->normalization},
          {"reward_mean_reference", reference_mean},
          {"reward_std_reference", reference_std},
          {"train_loss_first", result.loss_first},
          {"train_loss_last", result.loss_last},
          {"steps", result.steps},
          {"seconds", result.seconds},
          {"precision", result.precision.to_json()}};
}

}  // namespace

json run_reward(const RewardConfig& config, bool resume) {
  const fs::path out(config.out_dir);
  if (resume) require_resumable(out, "reward");
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  Distributed& dist = distributed();
  auto start = load_init_checkpoint(config.init_from);
  const Tokenizer tokenizer = *start.tokenizer;
  hh_train_split(config.data.hh_train_split);  // a bad name fails before the model is built
  // LibTorch seeds its default generator at random: seed it, or the fresh reward head (and every
  // run's result) would differ from run to run.
  torch::manual_seed(config.train.seed);
  RewardModel model = reward_model_from_checkpoint(start, device, config.init_from, config.pooling);
  if (const int64_t frozen = freeze_lower_layers(*model->gpt, config.unfrozen_layers))
    std::cerr << "reward: " << frozen << " backbone parameters frozen (unfrozen_layers " << config.unfrozen_layers << ")\n";
  if (dist.is_main()) save_resolved_config(out, config);

  const RewardData data = load_and_split(config, tokenizer, start.model.block_size);
  const TrainSummary result = train_reward_model(model, tokenizer, data, config, device, resume);
  if (!dist.is_main()) return json{{"rank", dist.rank()}};  // rank 0 evaluates, normalises and writes
  json summary = evaluate_and_normalize(tokenizer, data, config, device, result);
  save_summary(out, summary);
  return summary;
}

}  // namespace rlhf
