#include "dpo/dpo_stage.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <stdexcept>

#include "dist/distributed.h"
#include "dist/runtime.h"
#include "dpo/dpo_loss.h"
#include "dpo/response_logprobs.h"
#include "io/atomic_file.h"
#include "io/files.h"
#include "io/stable_hash.h"
#include "model/model_io.h"
#include "model/precision.h"
#include "reward/bag_of_words.h"
#include "reward/reward_model.h"
#include "reward/reward_stage.h"
#include "train/metrics.h"
#include "train/optimizer.h"
#include "train/seed.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

void check_dpo_config(const DpoConfig& config) {
  if (config.loss != "sigmoid" && config.loss != "ipo")
    throw std::runtime_error("loss \"" + config.loss + "\": expected sigmoid or ipo");
  if (!(config.beta > 0.0)) throw std::runtime_error("beta: must be > 0");
  if (!(config.label_smoothing >= 0.0 && config.label_smoothing < 0.5))
    throw std::runtime_error("label_smoothing: must be in [0, 0.5)");
  if (config.label_smoothing > 0.0 && config.loss != "sigmoid")
    throw std::runtime_error("label_smoothing: only the sigmoid loss has it (cDPO); set it to 0 for " + config.loss);
  if (config.train.batch_size < 1) throw std::runtime_error("train.batch_size: must be >= 1");
  hh_train_split(config.data.hh_train_split);
}

namespace {

// One comparison: its two responses as indices into PairSet::sequences.
struct PreferencePair {
  int64_t chosen = 0, rejected = 0;
};

// The pairs of some rankings, every response tokenized once (a K-wise ranking gives all its ordered
// pairs, as TRL's DPO reads them), with what the baselines need.
struct PairSet {
  std::vector<ScoredSequence> sequences;
  std::vector<PreferencePair> pairs;
  double length_hits = 0.0;  // the longer response chosen (ties count one half)
};

PairSet make_pairs(const std::vector<RankingGroup>& groups, const Tokenizer& tokenizer, int64_t block_size,
                   int64_t* truncated) {
  PairSet set;
  for (const auto& g : groups) {
    const int64_t first = static_cast<int64_t>(set.sequences.size());
    for (const auto& response : g.responses) {
      set.sequences.push_back(reward_input(tokenizer, g.prompt, response, block_size));
      *truncated += set.sequences.back().truncated;
    }
    for (const auto& p : g.pairs) {
      set.pairs.push_back({first + p.winner, first + p.loser});
      set.length_hits += pairwise_win(g.responses[p.winner].size(), g.responses[p.loser].size());
    }
  }
  return set;
}

// Each sequence's response log-prob under `model` (a sum over its tokens, or per token for IPO), in
// batches of similar length, without grad. The caller sets eval mode and autocast.
std::vector<double> sequence_logprobs(GPT& model, const std::vector<ScoredSequence>& sequences, bool per_token,
                                      int64_t batch_size, torch::Device device) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return sequences[a].ids.size() < sequences[b].ids.size(); });
  std::vector<double> out(sequences.size());
  for (size_t first = 0; first < order.size(); first += batch_size) {
    std::vector<const ScoredSequence*> batch;
    for (size_t i = first; i < std::min(order.size(), first + batch_size); ++i) batch.push_back(&sequences[order[i]]);
    auto lp = response_logprobs(model, pad_sequences(batch, device));
    auto values = (per_token ? lp.sum / lp.tokens.clamp_min(1.0) : lp.sum).to(torch::kCPU, torch::kDouble);
    auto v = values.accessor<double, 1>();
    for (size_t i = 0; i < batch.size(); ++i) out[order[first + i]] = v[i];
  }
  return out;
}

struct PairStats {
  double loss = 0.0, correct = 0.0, margin = 0.0, chosen_reward = 0.0, rejected_reward = 0.0;
  double likelihood_correct = 0.0;  // the policy alone finds the chosen response more likely
  int64_t pairs = 0;
};

// The loss and implicit-reward statistics of a set's pairs, from per-sequence log-probs.
PairStats pair_stats(const PairSet& set, const std::vector<double>& policy, const std::vector<double>& reference,
                     const DpoConfig& config) {
  const int64_t n = static_cast<int64_t>(set.pairs.size());
  auto pc = torch::empty({n}, torch::kDouble), pr = torch::empty({n}, torch::kDouble);
  auto rc = torch::empty({n}, torch::kDouble), rr = torch::empty({n}, torch::kDouble);
  PairStats stats;
  for (int64_t i = 0; i < n; ++i) {
    const auto& p = set.pairs[i];
    pc[i] = policy[p.chosen], pr[i] = policy[p.rejected], rc[i] = reference[p.chosen], rr[i] = reference[p.rejected];
    stats.likelihood_correct += pairwise_win(policy[p.chosen], policy[p.rejected]);
  }
  auto result = dpo_loss({pc, pr, rc, rr}, config.loss, config.beta, config.label_smoothing);
  auto margins = (result.chosen_rewards - result.rejected_rewards).contiguous();  // (n)
  auto m = margins.accessor<double, 1>();
  for (int64_t i = 0; i < n; ++i) stats.correct += pairwise_win(m[i], 0.0);
  stats.pairs = n;
  stats.loss = result.loss.item<double>();
  stats.margin = margins.mean().item<double>();
  stats.chosen_reward = result.chosen_rewards.mean().item<double>();
  stats.rejected_reward = result.rejected_rewards.mean().item<double>();
  return stats;
}

// What the reference log-probs depend on: every sequence, the reference's weights, the loss's form
// of log-prob and the precision. A cache with another fingerprint is recomputed.
std::string reference_fingerprint(const std::vector<const PairSet*>& sets, GPT& reference, bool per_token, bool bf16) {
  std::string key = per_token ? "per_token;" : "sum;";
  key += bf16 ? "bf16;" : "fp32;";
  for (const auto& p : reference->parameters()) {
    auto d = p.detach().to(torch::kDouble);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g,%.17g;", d.sum().item<double>(), d.square().sum().item<double>());
    key += buffer;
  }
  for (const auto* set : sets)
    for (const auto& s : set->sequences) {
      key += std::to_string(s.response_start) + ":";
      key.append(reinterpret_cast<const char*>(s.ids.data()), s.ids.size() * sizeof(TokenId));
    }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(stable_hash(key)));
  return hex;
}

// The reference's log-probs of the train, validation and held-out sequences, back to back: read from
// OUT/reference_logprobs.json when its fingerprint matches, else computed once and saved there.
std::vector<double> reference_logprobs(const DpoConfig& config, const std::vector<const PairSet*>& sets,
                                       const Precision& precision, torch::Device device) {
  const std::string source = config.reference_from.empty() ? config.init_from : config.reference_from;
  auto checkpoint = load_init_checkpoint(source);
  GPT reference = build_gpt(checkpoint, device, source);  // eval mode
  const bool per_token = config.loss == "ipo";
  const std::string fingerprint = reference_fingerprint(sets, reference, per_token, precision.bf16);
  const fs::path cache = fs::path(config.out_dir) / "reference_logprobs.json";
  size_t total = 0;
  for (const auto* set : sets) total += set->sequences.size();
  if (fs::exists(cache)) {
    json cached = read_json_file(cache);
    if (cached.value("fingerprint", "") == fingerprint && cached["logprobs"].size() == total) {
      std::cerr << "dpo: reference log-probs of " << total << " responses from " << cache.string() << "\n";
      return cached["logprobs"].get<std::vector<double>>();
    }
  }
  std::cerr << "dpo: reference log-probs of " << total << " responses under " << source << "\n";
  BF16Autocast autocast(precision.bf16, device);
  std::vector<double> all;
  for (const auto* set : sets) {
    auto part = sequence_logprobs(reference, set->sequences, per_token, config.train.batch_size * 2, device);
    all.insert(all.end(), part.begin(), part.end());
  }
  if (distributed().is_main()) {
    fs::create_directories(config.out_dir);
    write_file_atomic(cache, json{{"fingerprint", fingerprint}, {"reference", source}, {"logprobs", all}}.dump());
  }
  return all;
}

json ci_json(const Accuracy& a) { return {a.low, a.high}; }

// The comparison reward model's pair accuracy on the held-out rankings.
Accuracy reward_model_accuracy(const std::string& path, const std::vector<RankingGroup>& groups, torch::Device device) {
  auto checkpoint = load_checkpoint(path);
  if (checkpoint.info.value("kind", "") != "reward")
    throw std::runtime_error("compare_reward_from: " + path + " is not a reward model checkpoint");
  RewardModel model = reward_model_from_checkpoint(checkpoint, device, path);
  model->eval();
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& g : groups)
    for (const auto& r : g.responses) items.emplace_back(g.prompt, r);
  const auto scores = score_texts(model, *checkpoint.tokenizer, items);
  double correct = 0.0;
  int64_t pairs = 0, offset = 0;
  for (const auto& g : groups) {
    for (const auto& p : g.pairs) {
      correct += pairwise_win(scores[offset + p.winner], scores[offset + p.loser]);
      ++pairs;
    }
    offset += static_cast<int64_t>(g.responses.size());
  }
  return wilson_accuracy(correct, pairs);
}

}  // namespace

json run_dpo(const DpoConfig& config, bool resume) {
  check_dpo_config(config);
  const fs::path out(config.out_dir);
  if (resume) require_resumable(out, "dpo");
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  Distributed& dist = distributed();
  auto start = load_init_checkpoint(config.init_from);
  const Tokenizer tokenizer = *start.tokenizer;
  if (config.dropout >= 0.0) start.model.dropout = config.dropout;
  GPT model = build_gpt(start, device, config.init_from);
  if (dist.is_main()) save_resolved_config(out, config);
  const Precision precision = choose_precision(config.train.precision, device, "dpo: train.precision");

  // The comparisons, split as the reward stage splits them, as pairs of tokenized responses.
  const PreferenceSplits splits = load_preference_splits(config.data, "dpo");
  int64_t truncated = 0;
  const int64_t block_size = start.model.block_size;
  const PairSet fit = make_pairs(splits.fit, tokenizer, block_size, &truncated);
  const PairSet valid = make_pairs(splits.valid, tokenizer, block_size, &truncated);
  const PairSet held_out = make_pairs(splits.eval, tokenizer, block_size, &truncated);
  std::cerr << "dpo: " << fit.pairs.size() << " train / " << valid.pairs.size() << " validation / "
            << held_out.pairs.size() << " held-out pairs; " << truncated << " sequences truncated to the "
            << block_size << "-token context\n";

  const std::vector<double> all_reference = reference_logprobs(config, {&fit, &valid, &held_out}, precision, device);
  const auto fit_end = all_reference.begin() + fit.sequences.size();
  const auto valid_end = fit_end + valid.sequences.size();
  const std::vector<double> fit_ref(all_reference.begin(), fit_end), valid_ref(fit_end, valid_end),
      held_out_ref(valid_end, all_reference.end());

  const bool per_token = config.loss == "ipo";
  auto optimizer = make_adamw(*model, config.train);
  TrainerHooks hooks;
  hooks.eval_metric = "valid_loss";
  // Every rank draws the same pairs and trains on its rows of each micro-batch (dist/distributed.h);
  // the loss is a mean over pairs, so a rank's share is scaled by its fraction of the rows.
  const RowRange rows = dist.rows(config.train.batch_size);
  const double row_share = static_cast<double>(rows.size()) / static_cast<double>(config.train.batch_size);
  hooks.plan_step = [&](int64_t step) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(step_seed(config.train.seed, step, 2));
    const int64_t B = config.train.batch_size, accum = config.train.grad_accum;
    auto picks = torch::randint(0, static_cast<int64_t>(fit.pairs.size()), {B * accum}, generator, torch::kLong);
    auto pick = picks.accessor<int64_t, 1>();
    StepPlan plan;
    for (int64_t micro = 0; micro < accum; ++micro) {
      // The micro-batch's chosen responses, then its rejected ones, in one forward.
      std::vector<const ScoredSequence*> sequences;
      std::vector<double> reference;
      for (int64_t i = micro * B + rows.begin; i < micro * B + rows.end; ++i) {
        sequences.push_back(&fit.sequences[fit.pairs[pick[i]].chosen]);
        reference.push_back(fit_ref[fit.pairs[pick[i]].chosen]);
      }
      for (int64_t i = micro * B + rows.begin; i < micro * B + rows.end; ++i) {
        sequences.push_back(&fit.sequences[fit.pairs[pick[i]].rejected]);
        reference.push_back(fit_ref[fit.pairs[pick[i]].rejected]);
      }
      for (const auto* s : sequences) plan.tokens += static_cast<int64_t>(s->ids.size());
      plan.micro_losses.push_back([&model, &config, device, sequences, reference, per_token, accum, row_share] {
        const int64_t n = static_cast<int64_t>(sequences.size()) / 2;
        auto lp = response_logprobs(model, pad_sequences(sequences, device));
        auto policy = per_token ? lp.sum / lp.tokens.clamp_min(1.0) : lp.sum;                  // (2n)
        auto ref = torch::tensor(reference, torch::kDouble).to(device, torch::kFloat);         // (2n)
        auto result = dpo_loss({policy.slice(0, 0, n), policy.slice(0, n), ref.slice(0, 0, n), ref.slice(0, n)},
                               config.loss, config.beta, config.label_smoothing);
        return result.loss / static_cast<double>(accum) * row_share;
      });
    }
    return plan;
  };
  hooks.evaluate = [&] {
    const auto policy = sequence_logprobs(model, valid.sequences, per_token, config.train.batch_size * 2, device);
    const PairStats s = pair_stats(valid, policy, valid_ref, config);
    return json{{"valid_loss", s.loss},
                {"valid_accuracy", s.correct / std::max<int64_t>(1, s.pairs)},
                {"valid_margin", s.margin}};
  };
  hooks.checkpoint = [&] {
    return make_checkpoint(model, tokenizer, {{"stage", "dpo"}, {"config", json(config)}});
  };
  const TrainSummary result = run_training(*model, *optimizer, config.train, out, hooks, resume, "dpo");
  if (!dist.is_main()) return json{{"rank", dist.rank()}};  // rank 0 evaluates and writes the summary

  // The best checkpoint (chosen on validation pairs) on the held-out pairs, beside the bars.
  auto best_checkpoint = load_checkpoint(out / "best");
  GPT best = build_gpt(best_checkpoint, device, (out / "best").string());
  PairStats held;
  {
    BF16Autocast autocast(result.precision.bf16, device);
    const auto policy = sequence_logprobs(best, held_out.sequences, per_token, config.train.batch_size * 2, device);
    held = pair_stats(held_out, policy, held_out_ref, config);
  }
  const PairStats reference_only = pair_stats(held_out, held_out_ref, held_out_ref, config);
  const Accuracy accuracy = wilson_accuracy(held.correct, held.pairs);
  const BagOfWords bag_of_words = fit_bag_of_words(splits.fit, splits.valid);
  const PairHits bag_hits = bag_of_words_hits(bag_of_words, splits.eval);
  const Accuracy bag = wilson_accuracy(bag_hits.correct, bag_hits.pairs);
  const double length = held_out.length_hits / std::max<size_t>(1, held_out.pairs.size());
  const double pairs = static_cast<double>(std::max<int64_t>(1, held.pairs));
  json summary = {{"eval_accuracy", accuracy.value},
                  {"eval_accuracy_ci95", ci_json(accuracy)},
                  {"eval_pairs", held.pairs},
                  {"eval_loss", held.loss},
                  {"eval_margin", held.margin},
                  {"eval_chosen_reward", held.chosen_reward},
                  {"eval_rejected_reward", held.rejected_reward},
                  {"policy_likelihood_accuracy", held.likelihood_correct / pairs},
                  {"reference_likelihood_accuracy", reference_only.likelihood_correct / pairs},
                  {"bag_of_words_accuracy", bag.value},
                  {"bag_of_words_accuracy_ci95", ci_json(bag)},
                  {"length_baseline_accuracy", length},
                  {"chance_accuracy", 0.5},
                  {"loss", config.loss},
                  {"beta", config.beta},
                  {"valid_accuracy", result.best_eval.value("valid_accuracy", NAN)},
                  {"best_step", result.best_eval.value("step", -1)},
                  {"train_pairs", fit.pairs.size()},
                  {"valid_pairs", valid.pairs.size()},
                  {"train_loss_first", result.loss_first},
                  {"train_loss_last", result.loss_last},
                  {"steps", result.steps},
                  {"tokens_per_s", result.tokens_per_s},
                  {"seconds", result.seconds},
                  {"precision", result.precision.to_json()}};
  std::cerr << "dpo: held-out implicit-reward accuracy " << accuracy.value << " [" << accuracy.low << ", "
            << accuracy.high << "] on " << held.pairs << " pairs";
  if (!config.compare_reward_from.empty()) {
    BF16Autocast autocast(result.precision.bf16, device);
    const Accuracy reward = reward_model_accuracy(config.compare_reward_from, splits.eval, device);
    summary["reward_model_accuracy"] = reward.value;
    summary["reward_model_accuracy_ci95"] = ci_json(reward);
    summary["reward_model"] = config.compare_reward_from;
    std::cerr << "; reward model " << reward.value << " [" << reward.low << ", " << reward.high << "]";
  }
  std::cerr << "; bag-of-words " << bag.value << "; longer response " << length << "; chance 0.5\n";
  save_summary(out, summary);
  return summary;
}

}  // namespace rlhf
