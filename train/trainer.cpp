#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "dist/distributed.h"
#include "model/precision.h"
#include "model/state_dict.h"
#include "train/loop_output.h"
#include "train/optimizer.h"
#include "train/seed.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

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

LoopState parse_loop_state(const json& j) {
  LoopState s;
  s.next_step = j.at("next_step").get<int64_t>();
  s.tokens_seen = j.at("tokens_seen").get<int64_t>();
  s.loss_first = j.at("loss_first").is_null() ? std::nan("") : j.at("loss_first").get<double>();
  s.best_metric = j.at("best_metric").is_null() ? INFINITY : j.at("best_metric").get<double>();
  s.best_eval = j.value("best_eval", json());
  s.seconds = j.value("seconds", 0.0);
  s.world_size = j.value("world_size", 1);
  return s;
}

// The loop's host reads and its figures between two log lines. Reading the loss and gradient norm
// on the host waits for the device's queue to drain: on a GPU only the steps that log or save read
// them (a non-finite value is still caught before any checkpoint is written: once weights are NaN
// every later loss is); on the CPU reads are free, so every step reads.
class StepMeter {
 public:
  explicit StepMeter(bool read_every_step) : read_every_step_(read_every_step) {}

  // Counts the step's tokens; reads its loss and gradient norm (loss and tokens summed over ranks)
  // when it must or every step is read. Returns whether it read.
  bool read(int64_t step_tokens, bool must, const torch::Tensor& loss_sum, const torch::Tensor& grad_norm_on_device,
            Distributed& dist) {
    unread_tokens_ += step_tokens;
    if (!read_every_step_ && !must) return false;
    const auto totals = dist.sum({loss_sum.item<double>(), static_cast<double>(unread_tokens_)}, "summing the step loss");
    loss = totals[0];
    grad_norm = grad_norm_on_device.item<double>();
    tokens_read = static_cast<int64_t>(totals[1]);
    window_tokens_ += tokens_read;
    unread_tokens_ = 0;
    return true;
  }
  void end_step(double seconds, double communication_seconds) {
    window_seconds_ += seconds;
    window_communication_ += communication_seconds;
    ++window_steps_;
  }
  double tokens_per_s() const { return window_seconds_ > 0 ? window_tokens_ / window_seconds_ : 0.0; }
  double communication_per_step() const { return window_communication_ / static_cast<double>(window_steps_); }
  void start_window() {
    window_seconds_ = window_communication_ = 0.0;
    window_tokens_ = window_steps_ = 0;
  }

  double loss = NAN, grad_norm = NAN;  // of the last read
  int64_t tokens_read = 0;             // tokens since the read before it, all ranks

 private:
  bool read_every_step_;
  int64_t unread_tokens_ = 0;
  double window_seconds_ = 0.0, window_communication_ = 0.0;
  int64_t window_tokens_ = 0, window_steps_ = 0;
};

// Evaluation runs in the precision the steps train in.
json evaluate(torch::nn::Module& model, const TrainerHooks& hooks, const Precision& precision, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  BF16Autocast autocast(precision.bf16, device);
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

  // Data parallel (dist/distributed.h): every rank runs this loop on its rows of each global batch;
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
    state = read_loop_state<LoopState>(checkpoint.trainer_state, last_dir, parse_loop_state);
    if (state.world_size != dist.world_size() && dist.is_main())
      std::cerr << stage << ": resuming a run of " << state.world_size << " processes with " << dist.world_size()
                << ": the same global batches; dropout masks differ from an uninterrupted run\n";
  }
  state.world_size = dist.world_size();
  dist.broadcast_parameters(model);  // one start for every rank, whatever each one loaded or initialised
  std::vector<torch::Tensor> parameters = model.parameters();
  const torch::Device device = parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
  const Precision precision = choose_precision(config.precision, device, stage + ": train.precision");
  StepMeter meter(/*read_every_step=*/!device.is_cuda());
  LoopOutput output(dist.is_main(), out_dir, stage, config.max_steps, resume, state.next_step - 1);
  if (resume) output.message(stage + ": resuming at step " + std::to_string(state.next_step));
  if (dist.active()) output.message(stage + ": data parallel on " + std::to_string(dist.world_size()) + " processes");
  output.message(stage + ": " + precision.describe());

  model.train();
  TrainSummary summary;
  double loss = NAN, grad_norm = NAN;
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
        BF16Autocast autocast(precision.bf16, device);  // the forward pass only; backward follows the recorded casts
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
    if (meter.read(plan.tokens, log_step || eval_step, loss_sum, grad_norm_on_device, dist)) {
      loss = meter.loss, grad_norm = meter.grad_norm;
      state.tokens_seen += meter.tokens_read;
      if (!std::isfinite(loss) || !std::isfinite(grad_norm))
        throw std::runtime_error(stage + ": step " + std::to_string(step) + ": loss " + std::to_string(loss) +
                                 ", gradient norm " + std::to_string(grad_norm) + "; stopped. The last good checkpoint is " +
                                 last_dir.string() + " (lower train.lr or raise train.warmup_steps)");
      if (std::isnan(state.loss_first)) state.loss_first = loss;
    }
    optimizer.step();

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.seconds += seconds;
    meter.end_step(seconds, dist.take_communication_seconds());
    state.next_step = step + 1;

    if (log_step) {
      json line = {{"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", grad_norm},
                   {"tokens_per_s", meter.tokens_per_s()}, {"tokens_seen", state.tokens_seen}};
      if (dist.active()) line["allreduce_s_per_step"] = meter.communication_per_step();
      output.log(line);
      output.progress(step, loss, meter.tokens_per_s(), {{"lr", lr}});
      meter.start_window();
    }
    if (eval_step) {
      json eval = evaluate(model, hooks, precision, device);
      const double metric = eval.at(hooks.eval_metric).get<double>();
      json line = eval;
      line["step"] = step;
      line["eval"] = true;
      output.log(line);
      output.message(stage + ": step " + std::to_string(step + 1) + " " + eval.dump());
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
        if (state.best_eval.value("step", int64_t{-1}) == step)
          save_loop_checkpoint(best_dir, hooks.checkpoint(), to_json(state), nullptr);
        save_loop_checkpoint(last_dir, hooks.checkpoint(), to_json(state), &optimizer);
      }
    }
  }
  output.finish();
  if (summary.last_eval.is_null() && resume) summary.last_eval = state.best_eval;  // nothing left to run
  summary.steps = state.next_step;
  summary.loss_first = state.loss_first;
  summary.loss_last = loss;
  summary.best_eval = state.best_eval;
  summary.tokens_seen = state.tokens_seen;
  summary.seconds = state.seconds;
  summary.precision = precision;
  summary.tokens_per_s = state.seconds > 0 ? state.tokens_seen / state.seconds : 0.0;
  return summary;
}

}  // namespace rlhf
