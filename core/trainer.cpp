#include "core/trainer.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "core/autocast.h"
#include "core/distributed.h"
#include "core/metrics.h"
#include "core/optimizer.h"
#include "core/state_dict.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

uint64_t step_seed(uint64_t seed, int64_t step, uint64_t stream) {
  // splitmix64 of the triple: well-mixed, stable across platforms and runs
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(step) + 1) + 0xbf58476d1ce4e5b9ULL * stream;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void require_resumable(const fs::path& out_dir, const std::string& stage) {
  if (!is_native_checkpoint(out_dir / "last"))
    throw std::runtime_error(stage + " --resume: no checkpoint at " + (out_dir / "last").string() +
                             " (run without --resume)");
}

namespace {

struct LoopState {
  int64_t next_step = 0;
  int64_t tokens_seen = 0;
  double loss_first = std::nan("");
  double best_metric = INFINITY;
  json best_eval;
  double seconds = 0.0;
  int world_size = 1;  // processes that trained it (data parallel)
};

json to_json(const LoopState& s) {
  return {{"next_step", s.next_step}, {"tokens_seen", s.tokens_seen}, {"world_size", s.world_size},
          {"loss_first", std::isnan(s.loss_first) ? json(nullptr) : json(s.loss_first)},
          {"best_metric", std::isfinite(s.best_metric) ? json(s.best_metric) : json(nullptr)},
          {"best_eval", s.best_eval}, {"seconds", s.seconds}};
}

LoopState from_json(const json& j, const fs::path& where) {
  try {
    LoopState s;
    s.next_step = j.at("next_step").get<int64_t>();
    s.tokens_seen = j.at("tokens_seen").get<int64_t>();
    s.loss_first = j.at("loss_first").is_null() ? std::nan("") : j.at("loss_first").get<double>();
    s.best_metric = j.at("best_metric").is_null() ? INFINITY : j.at("best_metric").get<double>();
    s.best_eval = j.value("best_eval", json());
    s.seconds = j.value("seconds", 0.0);
    s.world_size = j.value("world_size", 1);
    return s;
  } catch (const json::exception& e) {
    throw std::runtime_error(where.string() + ": trainer_state.json is not resumable: " + e.what());
  }
}

void save(const fs::path& dir, const TrainerHooks& hooks, const LoopState& state,
          const torch::optim::Optimizer* optimizer) {
  Checkpoint checkpoint = hooks.checkpoint();
  checkpoint.trainer_state = to_json(state);
  save_checkpoint(dir, checkpoint, optimizer);
}

json evaluate(torch::nn::Module& model, const TrainerHooks& hooks) {
  torch::NoGradGuard no_grad;
  model.eval();
  json result = hooks.evaluate();
  model.train();
  if (!result.contains(hooks.eval_metric))
    throw std::logic_error("evaluation did not report \"" + hooks.eval_metric + "\"");
  return result;
}

}  // namespace

TrainSummary run_training(torch::nn::Module& model, torch::optim::Optimizer& optimizer, const TrainConfig& config,
                          const fs::path& out_dir, const TrainerHooks& hooks, bool resume, const std::string& stage) {
  if (config.max_steps < 1 || config.grad_accum < 1 || config.batch_size < 1)
    throw std::runtime_error(stage + ": train.max_steps, train.batch_size and train.grad_accum must be >= 1");
  fs::create_directories(out_dir);
  const fs::path last_dir = out_dir / "last", best_dir = out_dir / "best";

  // Data parallel (core/distributed.h): every rank runs this loop on its rows of each global batch;
  // only rank 0 writes. Alone, every collective below is a no-op.
  Distributed& dist = distributed();
  if (config.batch_size < dist.world_size())
    throw std::runtime_error(stage + ": train.batch_size " + std::to_string(config.batch_size) + " is smaller than WORLD_SIZE " +
                             std::to_string(dist.world_size()) + " (every process takes rows of each micro-batch)");
  LoopState state;
  if (resume) {
    require_resumable(out_dir, stage);
    auto checkpoint = load_checkpoint(last_dir);
    load_state_dict(model, checkpoint.weights, last_dir.string());
    load_optimizer_state(last_dir, optimizer);
    state = from_json(checkpoint.trainer_state, last_dir);
    if (state.world_size != dist.world_size() && dist.is_main())
      std::cerr << stage << ": resuming a run of " << state.world_size << " processes with " << dist.world_size()
                << ": the same global batches; dropout masks differ from an uninterrupted run\n";
  }
  state.world_size = dist.world_size();
  dist.broadcast_parameters(model);  // one start for every rank, whatever each one loaded or initialised
  std::vector<torch::Tensor> parameters = model.parameters();
  const bool bf16 = !parameters.empty() &&
                    use_bf16_autocast(config.precision, parameters.front().device(), stage + ": train.precision");
  // Reading the loss and gradient norm on the host waits for the device's queue to drain. On a GPU
  // only the steps that log or save read them (a non-finite value is still caught before any
  // checkpoint is written: once weights are NaN every later loss is); on the CPU reads are free.
  const bool read_every_step = parameters.empty() || !parameters.front().device().is_cuda();
  std::optional<MetricsLog> metrics;
  std::optional<ProgressLine> progress;
  if (dist.is_main()) {
    metrics.emplace(out_dir / "metrics.jsonl", resume ? state.next_step - 1 : -1);
    progress.emplace(stage, config.max_steps);
    if (resume) progress->message(stage + ": resuming at step " + std::to_string(state.next_step));
    if (dist.active()) progress->message(stage + ": data parallel on " + std::to_string(dist.world_size()) + " processes");
  }

  model.train();
  TrainSummary summary;
  double loss = NAN, grad_norm = NAN;
  double window_seconds = 0.0, window_communication = 0.0;
  int64_t window_tokens = 0, window_steps = 0, unread_tokens = 0;
  const int64_t end = config.stop_at > 0 ? std::min(config.stop_at, config.max_steps) : config.max_steps;
  for (int64_t step = state.next_step; step < end; ++step) {
    auto start = std::chrono::steady_clock::now();
    // Dropout masks depend on the step (and the rank) only.
    torch::manual_seed(step_seed(config.seed, step, /*stream=*/dist.rank() == 0 ? 1 : 1000 + dist.rank()));
    const double lr = learning_rate_at(config, step);
    set_learning_rate(optimizer, lr);
    optimizer.zero_grad();
    StepPlan plan = hooks.plan_step(step);
    torch::Tensor loss_sum;
    for (auto& micro_loss : plan.micro_losses) {
      torch::Tensor l;
      {
        BF16Autocast autocast(bf16);  // the forward pass only; backward follows the recorded casts
        l = micro_loss();
      }
      l.backward();
      loss_sum = loss_sum.defined() ? loss_sum + l.detach() : l.detach();
    }
    // Each rank's shares sum to its part of the step loss, so the sums across ranks are the
    // one-process gradient and loss; clipping then sees the global norm on every rank.
    dist.all_reduce_gradients(parameters);
    auto grad_norm_on_device = clip_gradients_on_device(model, config.grad_clip);
    const bool last_step = step + 1 == end;
    const bool log_step = step % config.log_every == 0 || last_step;
    const bool eval_step = (step + 1) % config.eval_every == 0 || last_step;
    unread_tokens += plan.tokens;
    if (read_every_step || log_step || eval_step) {
      const auto totals = dist.sum({loss_sum.item<double>(), static_cast<double>(unread_tokens)}, "summing the step loss");
      loss = totals[0];
      grad_norm = grad_norm_on_device.item<double>();
      state.tokens_seen += static_cast<int64_t>(totals[1]);
      window_tokens += static_cast<int64_t>(totals[1]);
      unread_tokens = 0;
      if (!std::isfinite(loss) || !std::isfinite(grad_norm))
        throw std::runtime_error(stage + ": step " + std::to_string(step) + ": loss " + std::to_string(loss) +
                                 ", gradient norm " + std::to_string(grad_norm) + "; stopped. The last good checkpoint is " +
                                 last_dir.string() + " (lower train.lr or raise train.warmup_steps)");
      if (std::isnan(state.loss_first)) state.loss_first = loss;
    }
    optimizer.step();

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.seconds += seconds;
    window_seconds += seconds;
    window_communication += dist.take_communication_seconds();
    ++window_steps;
    state.next_step = step + 1;

    if (log_step) {
      const double tokens_per_s = window_seconds > 0 ? window_tokens / window_seconds : 0.0;
      json line = {{"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", grad_norm},
                   {"tokens_per_s", tokens_per_s}, {"tokens_seen", state.tokens_seen}};
      if (dist.active()) line["allreduce_s_per_step"] = window_communication / static_cast<double>(window_steps);
      if (metrics) metrics->write(line);
      if (progress) progress->update(step, loss, tokens_per_s, {{"lr", lr}});
      window_seconds = window_communication = 0.0;
      window_tokens = window_steps = 0;
    }
    if (eval_step) {
      json eval = evaluate(model, hooks);
      const double metric = eval.at(hooks.eval_metric).get<double>();
      json line = eval;
      line["step"] = step;
      line["eval"] = true;
      if (metrics) metrics->write(line);
      if (progress) progress->message(stage + ": step " + std::to_string(step + 1) + " " + eval.dump());
      summary.last_eval = eval;
      if (metric < state.best_metric) {
        state.best_metric = metric;
        state.best_eval = eval;
        state.best_eval["step"] = step;
      }
      // Every rank has finished the step, with the same weights (checked: a collective, so it is
      // also the barrier); rank 0 writes.
      dist.verify_replicas(model);
      if (dist.is_main()) {
        if (state.best_eval.value("step", int64_t{-1}) == step) save(best_dir, hooks, state, nullptr);
        save(last_dir, hooks, state, &optimizer);
      }
    }
  }
  if (progress) progress->finish();
  if (summary.last_eval.is_null() && resume) summary.last_eval = state.best_eval;  // nothing left to run
  summary.steps = state.next_step;
  summary.loss_first = state.loss_first;
  summary.loss_last = loss;
  summary.best_eval = state.best_eval;
  summary.tokens_seen = state.tokens_seen;
  summary.seconds = state.seconds;
  summary.tokens_per_s = state.seconds > 0 ? state.tokens_seen / state.seconds : 0.0;
  return summary;
}

}  // namespace rlhf
