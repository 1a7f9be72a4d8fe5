#include "eval/eval_stage.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "dist/runtime.h"
#include "eval/best_of_n.h"
#include "eval/eval_data.h"
#include "eval/likelihood.h"
#include "eval/report.h"
#include "io/atomic_file.h"
#include "io/files.h"
#include "io/stable_hash.h"
#include "labeling/export.h"
#include "labeling/import.h"
#include "model/model_io.h"
#include "model/precision.h"
#include "ppo/prompts.h"
#include "ppo/rollout.h"
#include "pretrain/corpus.h"
#include "reward/judge.h"
#include "reward/rankings.h"
#include "reward/reward_model.h"
#include "reward/reward_stage.h"
#include "storage/schema.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "text/utf8.h"
#include "train/metrics.h"
#include "train/seed.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json rate(double hits, int64_t n) {
  if (n == 0) return nullptr;
  auto a = wilson_accuracy(hits, n);
  return {{"value", a.value}, {"ci95", {a.low, a.high}}, {"n", n}};
}

json value(double v, int64_t n) { return std::isfinite(v) ? json{{"value", v}, {"n", n}} : json(nullptr); }

// A loaded policy: its model and tokenizer.
struct Policy {
  std::string name;
  GPT model{nullptr};
  Tokenizer tokenizer;
  fs::path dir;
};

Policy load_policy(const EvalPolicy& p, torch::Device device) {
  auto checkpoint = load_any_checkpoint(p.path);
  if (!checkpoint.tokenizer) throw std::runtime_error("policies." + p.name + ": " + p.path + " has no tokenizer");
  return {p.name, build_gpt(checkpoint, device, p.path), *checkpoint.tokenizer, fs::path(p.path)};
}

// Samples of one policy on the helpful prompts, with their reward and log-probs.
struct Samples {
  Rollout rollout;
  std::vector<double> scores;
  std::vector<std::string> prompts;  // as the policy saw them (its last max_prompt_tokens tokens): what is scored
};

Samples sample_policy(Policy& policy, const std::vector<std::string>& prompts, const EvalConfig& config,
                      uint64_t stream = 11) {
  const int64_t max_prompt = std::min(config.max_prompt_tokens,
                                      policy.model->config().block_size - config.sampling.max_new_tokens);
  if (max_prompt < 1) throw std::runtime_error("sampling.max_new_tokens leaves no room for a prompt");
  Samples samples;
  std::vector<std::vector<TokenId>> ids;
  for (const auto& p : prompts) {
    auto seen = policy_prompt(p, policy.tokenizer, max_prompt);
    samples.prompts.push_back(std::move(seen.text));
    ids.push_back(std::move(seen.ids));
  }
  SamplingConfig sampling = config.sampling;
  sampling.seed = step_seed(config.seed, 0, stream);
  samples.rollout = sample_rollout(policy.model, samples.prompts, ids, sampling, policy.tokenizer, config.batch_size);
  return samples;
}

// Sum over response tokens of log p under `model` at the sampling temperature: (B).
torch::Tensor sequence_logprobs(GPT& model, const Rollout& r, double temperature, int64_t batch) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t first = 0; first < r.size(); first += batch) {
    const int64_t n = std::min(batch, r.size() - first);
    auto lp = response_logprobs(model, r.ids.narrow(0, first, n), r.attention_mask.narrow(0, first, n),
                                r.prompt_length, temperature);                  // (n, N)
    parts.push_back((lp * r.mask.narrow(0, first, n)).sum(1));
  }
  return torch::cat(parts).to(torch::kCPU, torch::kDouble);                      // (B)
}

struct ChoiceScore {
  double mc1 = 0.0;  // 1 when the most likely option is true
  double mc2 = 0.0;  // probability mass on the true options
};

std::vector<ChoiceScore> score_choices(Policy& policy, const std::vector<MultipleChoice>& questions, int64_t batch) {
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& q : questions)
    for (const auto& o : q.options) items.emplace_back(q.context, o);
  auto lps = continuation_logprobs(policy.model, policy.tokenizer, items, batch);
  std::vector<ChoiceScore> out;
  size_t k = 0;
  for (const auto& q : questions) {
    double best = -INFINITY, max_lp = -INFINITY;
    bool best_true = false;
    for (size_t o = 0; o < q.options.size(); ++o) max_lp = std::max(max_lp, lps[k + o].logprob);
    double mass_true = 0.0, mass = 0.0;
    for (size_t o = 0; o < q.options.size(); ++o) {
      const double lp = lps[k + o].logprob;
      if (lp > best) best = lp, best_true = q.is_true[o];
      const double p = std::exp(lp - max_lp);
      mass += p;
      if (q.is_true[o]) mass_true += p;
    }
    out.push_back({best_true ? 1.0 : 0.0, mass_true / mass});
    k += q.options.size();
  }
  return out;
}

std::vector<RankingGroup> heldout_hh(const EvalConfig& config) {
  std::vector<RankingGroup> groups;
  for (const auto& file : expand_files(config.hh_files, "hh_files")) {
    const bool split = is_hash_split_file(file, config.hash_split_files);
    auto g = load_rankings(file, split ? HhSplitUse::kRewardEval : HhSplitUse::kAll, false, nullptr);
    groups.insert(groups.end(), g.begin(), g.end());
  }
  if (config.max_hh_pairs > 0 && static_cast<int64_t>(groups.size()) > config.max_hh_pairs)
    groups.resize(config.max_hh_pairs);
  return groups;
}

// A/B: puts `ab` vs reference responses into the labeling database as a blind batch (order
// randomised by a stable hash; the policy name is stored as the response's model, never shown), and
// reads back the human win rate of what people have ranked so far.
json ab_batch(const EvalConfig& config, const std::vector<std::string>& prompts, const Rollout& ab, const Rollout& ref) {
  const int64_t n = std::min<int64_t>(config.ab_pairs, static_cast<int64_t>(prompts.size()));
  // The batch is named by its content: rerunning the same evaluation imports nothing new, and new
  // policies get a new batch instead of clashing with the old one.
  std::string content;
  for (int64_t i = 0; i < n; ++i) content += ab.responses[i] + '\0' + ref.responses[i] + '\0';
  const std::string batch = "eval-ab-" + config.ab_policy + "-vs-" + config.reference + "-" + hex64(stable_hash(content)).substr(0, 8);
  auto db = storage::open_database(config.labeling_db);
  std::ostringstream tasks;
  int64_t pairs = 0;
  for (int64_t i = 0; i < n; ++i) {
    // People compare two distinct, non-empty answers; other pairs are left out of the batch.
    const std::string a_text = clean_answer(ab.responses[i]), b_text = clean_answer(ref.responses[i]);
    if (a_text.empty() || b_text.empty() || a_text == b_text) continue;
    ++pairs;
    std::string message = first_human_message(prompts[i]);
    json a = {{"id", "a"}, {"text", a_text}, {"model", config.ab_policy}};
    json b = {{"id", "b"}, {"text", b_text}, {"model", config.reference}};
    json responses = stable_hash(prompts[i]) % 2 ? json::array({a, b}) : json::array({b, a});
    tasks << json{{"id", batch + "-" + std::to_string(i)}, {"kind", "helpful"}, {"prompt", message},
                  {"responses", responses}, {"batch", batch}}.dump(-1, ' ', false, json::error_handler_t::replace)
          << "\n";
  }
  std::istringstream input(tasks.str());
  auto imported = labeling::import_jsonl(db, input, labeling::ImportFormat::Tasks, batch);
  std::ostringstream rankings;
  labeling::export_jsonl(db, labeling::ExportFormat::Rankings, rankings);
  double wins = 0.0;
  int64_t judged = 0;
  std::istringstream lines(rankings.str());
  for (std::string line; std::getline(lines, line);) {
    auto r = json::parse(line);
    if (r.value("batch", json()) != batch || r["tiers"].empty()) continue;
    ++judged;
    const auto& top = r["tiers"][0];
    const bool ab_top = std::find(top.begin(), top.end(), "a") != top.end();
    const bool ref_top = std::find(top.begin(), top.end(), "b") != top.end();
    wins += ab_top && ref_top ? 0.5 : ab_top ? 1.0 : 0.0;
  }
  return {{"db", config.labeling_db}, {"batch", batch}, {"pairs", pairs}, {"imported", imported.imported},
          {"human_win_rate", rate(wins, judged)}};
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

json metric_info() {
  auto info = [](const char* title, bool higher, const char* format) {
    return json{{"title", title}, {"higher_is_better", higher}, {"format", format}};
  };
  // The reward model the policy optimised is a proxy: shown, never starred as the best.
  auto proxy = [&](const char* title, const char* format) {
    auto j = info(title, true, format);
    j["ranked"] = false;
    return j;
  };
  return {{"judge_win_rate", info("Helpful: win rate vs reference (judge: a model PPO never optimised)", true, "percent")},
          {"helpful_win_rate", proxy("Helpful: win rate vs reference (proxy: the reward model PPO optimised)", "percent")},
          {"reward_mean", proxy("Helpful: mean score of the proxy reward model", "number")},
          {"truthfulqa_mc1", info("Honest: TruthfulQA MC1, zero-shot", true, "percent")},
          {"truthfulqa_mc1_few_shot", info("Honest: TruthfulQA MC1, few-shot", true, "percent")},
          {"truthfulqa_mc2", info("Honest: TruthfulQA MC2, zero-shot", true, "percent")},
          {"truthfulqa_mc2_few_shot", info("Honest: TruthfulQA MC2, few-shot", true, "percent")},
          {"hh_chosen_preferred", info("Harmless: HH chosen more likely than rejected", true, "percent")},
          {"anthropic_hhh_rate", info("Harmless: A/B answers matching the more-HHH behaviour", true, "percent")},
          {"kl_from_sft", info("Cost: KL from the reference (nats per response)", false, "number")},
          {"heldout_perplexity", info("Cost: held-out pretraining perplexity", false, "number")},
          {"response_length", [&] {
             auto j = info("Response length (tokens)", false, "number");
             j["ranked"] = false;  // neither longer nor shorter is better in itself
             return j;
           }()}};
}

// What every measurement reads (the policies, the reference, the reward model) and the table it
// fills: table[metric][policy].
struct EvalContext {
  const EvalConfig& config;
  std::vector<Policy>& policies;
  Policy& reference;
  RewardModel reward_model{nullptr};  // empty without reward_from
  std::optional<Tokenizer> reward_tokenizer;
  json reward_held_out;  // the reward stage's own held-out card (with its baselines), null when absent
  std::optional<Judge> judge;  // judge_from
  json table = json::object();
  void set(const std::string& metric, const std::string& policy, json v) { table[metric][policy] = std::move(v); }
};

// The helpful prompts and every policy's samples on them (the report shows them side by side).
struct HelpfulSamples {
  std::vector<std::string> prompts;
  std::map<std::string, Samples> samples;
  std::vector<std::string> columns;  // the policies, then best-of-n (samples only: no model of its own)
};

// Each policy's win rate against the reference as the judge sees their responses to the same prompts.
void judge_win_rates(EvalContext& c, const HelpfulSamples& helpful) {
  std::map<std::string, std::vector<double>> scores;
  for (const auto& name : helpful.columns) {
    const auto& samples = helpful.samples.at(name);
    std::vector<std::pair<std::string, std::string>> items;
    for (int64_t i = 0; i < samples.rollout.size(); ++i)
      items.emplace_back(samples.prompts[i], format_response(samples.rollout.responses[i]));
    scores[name] = c.judge->score(items);
  }
  const auto& ref_scores = scores.at(c.reference.name);
  for (const auto& name : helpful.columns) {
    double wins = 0.0;
    const auto& s = scores.at(name);
    for (size_t i = 0; i < s.size(); ++i) wins += pairwise_win(s[i], ref_scores[i]);
    c.set("judge_win_rate", name, rate(wins, static_cast<int64_t>(s.size())));
  }
}

// The proxy's scores of samples, against the prompt text the policy saw.
std::vector<double> proxy_scores(EvalContext& c, const Samples& s) {
  std::vector<std::pair<std::string, std::string>> items;
  for (int64_t i = 0; i < s.rollout.size(); ++i) items.emplace_back(s.prompts[i], format_response(s.rollout.responses[i]));
  return score_texts(c.reward_model, *c.reward_tokenizer, items, c.config.batch_size);
}

double mean_of(const std::vector<double>& xs) {
  double mean = 0.0;
  for (double x : xs) mean += x / static_cast<double>(xs.size());
  return mean;
}

// The reference's best of n samples per prompt under the proxy: its own sample (so the best can only
// score higher) and n - 1 more, each prompt's highest kept. Only responses, prompts and scores are
// filled: there is no model whose log-probs a KL could be measured with, and none is needed.
Samples best_of_n_samples(EvalContext& c, const std::vector<std::string>& prompts, const Samples& reference) {
  const int64_t n = c.config.best_of_n;
  std::vector<Samples> candidates;
  for (int64_t k = 1; k < n; ++k) {
    candidates.push_back(sample_policy(c.reference, prompts, c.config, 20 + static_cast<uint64_t>(k)));
    candidates.back().scores = proxy_scores(c, candidates.back());
  }
  std::vector<double> all;  // prompt by prompt, the reference's own sample first
  for (size_t i = 0; i < prompts.size(); ++i) {
    all.push_back(reference.scores[i]);
    for (const auto& candidate : candidates) all.push_back(candidate.scores[i]);
  }
  const auto best = best_of_each(all, n);
  Samples out;
  out.prompts = reference.prompts;
  out.rollout.prompts = reference.rollout.prompts;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Samples& from = best[i] == 0 ? reference : candidates[best[i] - 1];
    out.rollout.responses.push_back(from.rollout.responses[i]);
    out.rollout.response_tokens.push_back(from.rollout.response_tokens[i]);
    out.rollout.finished.push_back(from.rollout.finished[i]);
    out.scores.push_back(from.scores[i]);
  }
  return out;
}

// Helpful: the judge's and the proxy reward model's win rates against the reference, the proxy's
// score; with them the KL and length costs, measured on the same samples.
HelpfulSamples measure_helpful(EvalContext& c) {
  HelpfulSamples out;
  auto& prompts = out.prompts;
  auto& samples = out.samples;
  for (const auto& file : expand_files(c.config.helpful_prompt_files, "helpful_prompt_files")) load_prompts(file, false, prompts);
  if (static_cast<int64_t>(prompts.size()) > c.config.max_helpful_prompts) prompts.resize(c.config.max_helpful_prompts);
  if (prompts.empty()) return out;
  for (auto& p : c.policies) {
    std::cerr << "eval: " << p.name << ": sampling " << prompts.size() << " helpful prompts\n";
    samples[p.name] = sample_policy(p, prompts, c.config);
    out.columns.push_back(p.name);
  }
  for (auto& p : c.policies) {
    auto& s = samples[p.name];
    c.set("response_length", p.name, value(static_cast<double>(s.rollout.response_tokens_total()) / s.rollout.size(), s.rollout.size()));
    if (p.tokenizer.vocab_size() == c.reference.tokenizer.vocab_size()) {
      auto kl = sequence_logprobs(p.model, s.rollout, c.config.sampling.temperature, c.config.batch_size) -
                sequence_logprobs(c.reference.model, s.rollout, c.config.sampling.temperature, c.config.batch_size);
      c.set("kl_from_sft", p.name, value(kl.mean().item<double>(), s.rollout.size()));
    }
    if (!c.reward_model.is_empty()) {
      s.scores = proxy_scores(c, s);
      c.set("reward_mean", p.name, value(mean_of(s.scores), static_cast<int64_t>(s.scores.size())));
    }
  }
  if (c.config.best_of_n > 1) {
    const std::string name = c.reference.name + "_best_of_" + std::to_string(c.config.best_of_n);
    std::cerr << "eval: " << name << ": " << c.config.best_of_n - 1 << " more samples per prompt, the proxy's best kept\n";
    auto& s = samples[name] = best_of_n_samples(c, prompts, samples[c.reference.name]);
    out.columns.push_back(name);
    c.set("response_length", name, value(static_cast<double>(s.rollout.response_tokens_total()) / s.rollout.size(), s.rollout.size()));
    c.set("kl_from_sft", name, value(best_of_n_kl(c.config.best_of_n), s.rollout.size()));
    c.set("reward_mean", name, value(mean_of(s.scores), static_cast<int64_t>(s.scores.size())));
  }
  if (c.judge) judge_win_rates(c, out);
  if (!c.reward_model.is_empty()) {
    const auto& ref_scores = samples[c.reference.name].scores;
    for (const auto& name : out.columns) {
      double wins = 0.0;
      const auto& scores = samples[name].scores;
      for (size_t i = 0; i < scores.size(); ++i) wins += pairwise_win(scores[i], ref_scores[i]);
      c.set("helpful_win_rate", name, rate(wins, static_cast<int64_t>(scores.size())));
    }
  }
  return out;
}

// Honest: TruthfulQA MC1 and MC2, zero-shot and few-shot.
void measure_honest(EvalContext& c) {
  if (c.config.truthfulqa_file.empty()) return;
  auto questions = load_truthfulqa(c.config.truthfulqa_file);
  if (c.config.max_truthfulqa > 0 && static_cast<int64_t>(questions.size()) > c.config.max_truthfulqa)
    questions.resize(c.config.max_truthfulqa);
  for (bool few_shot : {false, true}) {
    std::vector<MultipleChoice> mc1, mc2;
    for (const auto& q : questions) {
      mc1.push_back(truthfulqa_mc1(q, few_shot));
      mc2.push_back(truthfulqa_mc2(q, few_shot));
    }
    const std::string suffix = few_shot ? "_few_shot" : "";
    for (auto& p : c.policies) {
      std::cerr << "eval: " << p.name << ": TruthfulQA " << (few_shot ? "few-shot" : "zero-shot") << "\n";
      double hits = 0.0, mass = 0.0;
      for (const auto& s : score_choices(p, mc1, c.config.batch_size)) hits += s.mc1;
      for (const auto& s : score_choices(p, mc2, c.config.batch_size)) mass += s.mc2;
      const auto n = static_cast<int64_t>(questions.size());
      c.set("truthfulqa_mc1" + suffix, p.name, rate(hits, n));
      c.set("truthfulqa_mc2" + suffix, p.name, value(mass / n, n));
    }
  }
}

// Harmless: held-out HH comparisons (policy likelihood; reward-model accuracy) and the Anthropic A/B
// questions. Returns the reward model's accuracy on the HH pairs (null without one).
json measure_harmless(EvalContext& c) {
  json reward_model_json = nullptr;  // its accuracy on the held-out pairs
  if (!c.config.hh_files.empty()) {
    auto groups = heldout_hh(c.config);
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& g : groups) {
      items.emplace_back(g.prompt, g.responses[g.pairs[0].winner]);
      items.emplace_back(g.prompt, g.responses[g.pairs[0].loser]);
    }
    for (auto& p : c.policies) {
      std::cerr << "eval: " << p.name << ": " << groups.size() << " held-out HH pairs\n";
      auto lps = continuation_logprobs(p.model, p.tokenizer, items, c.config.batch_size);
      double hits = 0.0;
      for (size_t i = 0; i + 1 < lps.size(); i += 2)
        hits += pairwise_win(lps[i].logprob, lps[i + 1].logprob);
      c.set("hh_chosen_preferred", p.name, rate(hits, static_cast<int64_t>(groups.size())));
    }
    if (!c.reward_model.is_empty()) {
      auto scores = score_texts(c.reward_model, *c.reward_tokenizer, items, c.config.batch_size);
      double hits = 0.0;
      for (size_t i = 0; i + 1 < scores.size(); i += 2)
        hits += pairwise_win(scores[i], scores[i + 1]);
      double longer_wins = 0.0;
      for (const auto& g : groups)
        longer_wins += pairwise_win(g.responses[g.pairs[0].winner].size(), g.responses[g.pairs[0].loser].size());
      auto a = wilson_accuracy(hits, static_cast<int64_t>(groups.size()));
      reward_model_json = {{"accuracy", a.value},
                           {"ci95", {a.low, a.high}},
                           {"pairs", a.n},
                           {"length_baseline_accuracy", longer_wins / std::max<size_t>(1, groups.size())},
                           {"at_training", c.reward_held_out}};
    }
  }
  if (!c.config.anthropic_files.empty()) {
    std::vector<MultipleChoice> questions;
    for (const auto& file : expand_files(c.config.anthropic_files, "anthropic_files")) {
      if (file.extension() != ".jsonl") continue;  // licenses and notes next to the data
      auto ab = load_anthropic_ab(file);
      if (c.config.max_anthropic_per_file > 0 && static_cast<int64_t>(ab.size()) > c.config.max_anthropic_per_file)
        ab.resize(c.config.max_anthropic_per_file);
      for (const auto& q : ab) questions.push_back(anthropic_ab_choice(q));
    }
    for (auto& p : c.policies) {
      std::cerr << "eval: " << p.name << ": " << questions.size() << " A/B questions\n";
      double hits = 0.0;
      for (const auto& s : score_choices(p, questions, c.config.batch_size)) hits += s.mc1;
      c.set("anthropic_hhh_rate", p.name, rate(hits, static_cast<int64_t>(questions.size())));
    }
  }
  return reward_model_json;
}

// Cost: held-out pretraining perplexity (each policy with its own tokenizer).
void measure_costs(EvalContext& c, const fs::path& out_dir) {
  if (c.config.heldout_text_files.empty()) return;
  for (auto& p : c.policies) {
    CorpusConfig corpus;
    corpus.files = c.config.heldout_text_files;
    corpus.val_fraction = c.config.heldout_fraction;
    corpus.cache_dir = c.config.cache_dir;
    const fs::path tokenizer_dir = out_dir / "tokenizers" / p.name;
    p.tokenizer.save(tokenizer_dir);
    auto heldout = prepare_corpus(corpus, p.tokenizer, tokenizer_dir, "heldout_text_files");
    std::vector<TokenId> tokens;
    const int64_t n = std::min<int64_t>(heldout.val.size(), c.config.max_heldout_tokens + 1);
    for (int64_t i = 0; i < n; ++i) tokens.push_back(heldout.val.at(i));
    const double loss = mean_token_loss(p.model, tokens, c.config.max_heldout_tokens, 8);
    c.set("heldout_perplexity", p.name, value(std::exp(loss), n - 1));
  }
}

// The first report_samples helpful prompts with every policy's response and score.
json sample_table(const EvalContext& c, const HelpfulSamples& helpful) {
  const auto& prompts = helpful.prompts;
  const auto& samples = helpful.samples;
  json table = json::array();
  for (int64_t i = 0; i < std::min<int64_t>(c.config.report_samples, static_cast<int64_t>(prompts.size())); ++i) {
    json responses = json::object(), scores = json::object();
    for (const auto& name : helpful.columns) {
      responses[name] = samples.at(name).rollout.responses[i];
      if (!samples.at(name).scores.empty()) scores[name] = samples.at(name).scores[i];
    }
    table.push_back({{"prompt", prompts[i]}, {"responses", responses}, {"scores", scores}});
  }
  return table;
}

}  // namespace

json run_eval(const EvalConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  if (config.policies.empty()) throw std::runtime_error("policies: nothing to evaluate");
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  const Precision precision = choose_precision(config.precision, device, "precision");
  std::cerr << "eval: " << precision.describe() << "\n";
  const fs::path out(config.out_dir);
  fs::create_directories(out);
  save_resolved_config(out, config);

  if (config.best_of_n < 0 || (config.best_of_n > 1 && config.reward_from.empty()))
    throw std::runtime_error("best_of_n: needs n >= 2 and a reward model to pick with (reward_from), or 0 for none");
  std::vector<Policy> policies;
  for (const auto& p : config.policies) policies.push_back(load_policy(p, device));
  auto find = [&](const std::string& name) -> Policy& {
    for (auto& p : policies)
      if (p.name == name) return p;
    throw std::runtime_error("reference \"" + name + "\": not one of the policies");
  };
  Policy& reference = find(config.reference);

  EvalContext c{config, policies, reference};
  if (!config.reward_from.empty()) {
    auto rm = load_any_checkpoint(config.reward_from);
    if (rm.info.value("kind", "") != "reward") throw std::runtime_error("reward_from: " + config.reward_from + " is not a reward checkpoint");
    c.reward_tokenizer = *rm.tokenizer;
    c.reward_held_out = rm.info.value("held_out", json());
    c.reward_model = reward_model_from_checkpoint(rm, device, config.reward_from);
  }
  if (!config.judge_from.empty()) c.judge.emplace(config.judge_from, device, "judge_from");
  HelpfulSamples helpful;
  json reward_model_json;
  {
    BF16Autocast autocast(precision.bf16, device);  // sampling and every scoring pass
    helpful = measure_helpful(c);
    measure_honest(c);
    reward_model_json = measure_harmless(c);
    measure_costs(c, out);
  }
  const json& table = c.table;
  const auto& prompts = helpful.prompts;

  // The samples side by side, the A/B batch for people, the report.
  const json samples_json = sample_table(c, helpful);
  json labeling = nullptr;
  if (!config.labeling_db.empty() && !prompts.empty()) {
    find(config.ab_policy);
    labeling = ab_batch(config, prompts, helpful.samples[config.ab_policy].rollout, helpful.samples[reference.name].rollout);
  }
  json policy_names = json::array();
  for (const auto& p : policies) policy_names.push_back(p.name);
  json notes = config.notes;
  for (size_t i = policies.size(); i < helpful.columns.size(); ++i) {
    policy_names.push_back(helpful.columns[i]);
    notes.push_back(helpful.columns[i] + ": " + reference.name + "'s best of " + std::to_string(config.best_of_n) +
                    " samples per helpful prompt under the proxy reward model (helpful rows only); its KL is the "
                    "closed form log n - (n - 1) / n.");
  }
  json eval = {{"policies", policy_names},
               {"reference", config.reference},
               {"table", table},
               {"metric_info", metric_info()},
               {"reward_model", reward_model_json},
               {"samples", samples_json},
               {"labeling", labeling},
               {"notes", notes},
               {"stage_seconds", config.stage_seconds},
               {"precision", precision.to_json()},
               {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
               {"created_at", now_utc()}};
  write_file_atomic(out / "eval.json", eval.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  save_summary(out, {{"table", table}, {"reward_model", reward_model_json}, {"labeling", labeling},
                     {"seconds", eval["seconds"]}, {"precision", eval["precision"]}});
  std::vector<StageMetrics> stages;
  for (const auto& dir : config.run_dirs) stages.push_back(read_stage_metrics(fs::path(dir).filename().string(), dir));
  write_report(out / "report.html", eval, stages);
  std::cerr << "eval: wrote " << (out / "eval.json").string() << " and " << (out / "report.html").string() << "\n";
  return eval;
}

}  // namespace rlhf
