#include "ppo/ppo_stage.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "dist/distributed.h"
#include "io/atomic_file.h"
#include "io/files.h"
#include "ppo/alarms.h"
#include "ppo/ppo_trainer.h"
#include "train/loop_output.h"
#include "train/trainer.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What resume needs besides the weights and the optimizer: everything random is a function of
// (seed, iteration), so these counters restore the run exactly.
struct LoopState {
  int64_t next_iteration = 0;
  double beta = 0.0;
  double seconds = 0.0;
  int64_t samples = 0;
  json score_first;  // held-out score before any update
  json alarms;       // HackingAlarms::state()
  double score_scale = 1.0;  // measured once, before any update (score_scale "sft_std")
};

json to_json(const LoopState& s) {
  return {{"next_iteration", s.next_iteration}, {"beta", s.beta}, {"seconds", s.seconds}, {"samples", s.samples},
          {"score_first", s.score_first}, {"alarms", s.alarms}, {"score_scale", s.score_scale}};
}

LoopState parse_loop_state(const json& j) {
  LoopState s;
  s.next_iteration = j.at("next_iteration").get<int64_t>();
  s.beta = j.at("beta").get<double>();
  s.seconds = j.at("seconds").get<double>();
  s.samples = j.at("samples").get<int64_t>();
  s.score_first = j.at("score_first");
  s.alarms = j.value("alarms", json());
  s.score_scale = j.value("score_scale", 1.0);
  return s;
}

void write_samples(const fs::path& out, int64_t iteration, const json& samples) {
  char name[64];
  std::snprintf(name, sizeof name, "iteration-%05lld.json", static_cast<long long>(iteration));
  // Decoded samples can end inside a UTF-8 character: replace such bytes instead of failing.
  write_file_atomic(out / "samples" / name, samples.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

}  // namespace

json run_ppo(const PpoConfig& config, bool resume) {
  check_ppo_config(config);
  const fs::path out(config.out_dir);
  if (resume) require_resumable(out, "ppo");
  std::optional<Checkpoint> last;
  if (resume) last = load_checkpoint(out / "last");
  PpoTrainer trainer(config, out, last ? &*last : nullptr);
  // Data parallel (dist/distributed.h): every rank runs the loop on its share of the rollouts; rank 0
  // alone writes metrics, samples, checkpoints and the summary.
  Distributed& dist = distributed();
  if (dist.is_main()) save_resolved_config(out, config);

  LoopState state;
  state.beta = config.kl.init_beta;
  if (last) {
    state = read_loop_state<LoopState>(last->trainer_state, out / "last", parse_loop_state);
    load_optimizer_state(out / "last", trainer.optimizer());
    trainer.kl_controller().set_beta(state.beta);
    trainer.set_score_scale(state.score_scale);
  }
  if (dist.is_main()) {
    if (!resume) fs::remove_all(out / "samples");
    fs::create_directories(out / "samples");
  }
  auto save_last = [&] {
    state.beta = trainer.kl_controller().beta();
    dist.verify_replicas(*trainer.model());  // every rank done, with the same weights; rank 0 writes
    if (dist.is_main()) save_loop_checkpoint(out / "last", trainer.checkpoint(), to_json(state), &trainer.optimizer());
  };

  if (!resume) {
    state.score_first = trainer.held_out_score();
    if (dist.is_main()) std::cerr << "ppo: held-out score before training " << state.score_first.dump() << "\n";
    state.score_scale = trainer.start_score_scale(state.score_first);
    if (dist.is_main() && config.score_scale != "none")
      std::cerr << "ppo: scores scaled by " << state.score_scale << " (score_scale " << config.score_scale << ")\n";
  }
  HackingAlarms alarms(state.score_first, state.alarms);
  LoopOutput output(dist.is_main(), out, "ppo", config.iterations, resume, state.next_iteration, "score");
  const auto start = std::chrono::steady_clock::now();
  const double seconds_before = state.seconds;
  json held_out_last, metrics_last;
  for (int64_t iteration = state.next_iteration; iteration < config.iterations; ++iteration) {
    IterationResult result = trainer.run_iteration(iteration);
    json m = {{"step", iteration + 1}};
    m.update(result.metrics);
    const bool periodic = (iteration + 1) % config.eval_every == 0 || iteration + 1 == config.iterations;
    if (periodic) {
      held_out_last = trainer.held_out_score();
      m["held_out"] = held_out_last;
      if (dist.is_main()) write_samples(out, iteration + 1, result.samples);  // rank 0's rollouts
      auto warnings = alarms.check(iteration + 1, held_out_last, m.value("entropy", NAN));
      for (const auto& w : warnings)
        if (dist.is_main()) std::cerr << "ppo: WARNING " << w << "\n";
      if (!warnings.empty()) m["alarms"] = warnings;
      state.alarms = alarms.state();
    }
    output.log(m);
    metrics_last = m;
    output.progress(iteration, m["score_mean"].get<double>(), m["tokens_per_s"].get<double>(),
                    {{"kl", m["kl"]}, {"beta", m["beta"]}});
    state.next_iteration = iteration + 1;
    state.samples += config.rollout_size;
    state.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool stop_here = config.stop_at > 0 && iteration + 1 >= config.stop_at && iteration + 1 < config.iterations;
    if (periodic || stop_here) save_last();
    if (stop_here) {
      output.finish();
      if (dist.is_main()) std::cerr << "ppo: stopped at iteration " << iteration + 1 << " (stop_at); continue with --resume\n";
      return json{{"stopped_at", iteration + 1}};
    }
  }
  output.finish();
  if (held_out_last.is_null()) held_out_last = trainer.held_out_score();  // resumed after the last iteration
  if (!dist.is_main()) return json{{"rank", dist.rank()}};

  json summary = {{"algorithm", config.algorithm},
                  {"score_first", state.score_first.value("score", NAN)},
                  {"score_last", held_out_last.value("score", NAN)},
                  {"held_out_first", state.score_first},
                  {"held_out_last", held_out_last},
                  {"kl_last", metrics_last.is_null() ? json(nullptr) : metrics_last["kl"]},
                  {"beta_last", trainer.kl_controller().beta()},
                  {"score_mean_last", metrics_last.is_null() ? json(nullptr) : metrics_last["score_mean"]},
                  {"iterations", state.next_iteration},
                  {"samples", state.samples},
                  {"seconds", state.seconds},
                  {"samples_per_s", static_cast<double>(state.samples) / std::max(1e-9, state.seconds)},
                  {"policy", (out / "last").string()},
                  {"judge_from", config.judge_from},
                  {"judge_first", state.score_first.value("judge_score", json())},
                  {"judge_last", held_out_last.value("judge_score", json())},
                  {"alarms", alarms.raised()},
                  {"score_scale", state.score_scale},
                  {"precision", trainer.precision().to_json()}};
  save_summary(out, summary);
  return summary;
}

}  // namespace rlhf
