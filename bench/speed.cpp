// Our side of the Python-twin comparison (bench/run.py): one figure per process, so that the driver
// can alternate our process and the twin's (bench/python/twin.py) and both see the same machine.
//   bench_speed sgemm    [--n 2048] [--repeats 5] [--dtype fp32|bf16]
//   bench_speed train    --model L,H,C,BLOCK,V --batch B --seq T [--steps N] [--device cpu|cuda]
//                        [--precision auto|bf16|fp32] [--warmup N]
//   bench_speed generate --model L,H,C,BLOCK,V | --checkpoint DIR --batch B --prompt P --new N [--no-cache]
//                        [--device cpu|cuda] [--precision auto|bf16|fp32] [--dtype fp32|bf16]
//   every mode takes --allocator kept|default: whether the process keeps freed memory as every stage
//   does (configure_allocator in dist/runtime.h) or runs on glibc's defaults
//   bench_speed generate-parts --model ... --batch B --prompt P --new N   (where generate spends its time)
// train and generate take --profile FILE: a Chrome trace of the LibTorch ops of the timed part
// (LibTorch's legacy profiler), which bench/profile_summary.py sums per op and sets against the twin's.
// --precision is the stages' setting (model/precision.h): auto is bf16 autocast on CUDA and on a CPU
// with bf16 units, around forward + loss in train and around the whole of generate.
// On CUDA (bench/gpu/device_check.sh) the train step is the product's GPU step: autocast around
// forward + loss, ForeachAdamW, clipping at 1.0; the timed steps are queued back
// to back with one device sync before each clock read, so there are no per-phase times, and the
// JSON adds peak_gpu_bytes (a CUDA build of LibTorch only; -1 otherwise).
// Prints one JSON line on stdout. Threads: configure_threads(0), as every stage (dist/runtime.cpp).
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/profiler_legacy.h>  // RecordProfile (torch/torch.h need not include it in 2.x)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/gpu_memory.h"
#include "bench/timing.h"
#include "dist/runtime.h"
#include "model/generate.h"
#include "model/gpt.h"
#include "model/precision.h"
#include "model/model_io.h"
#include "train/optimizer.h"

namespace {

using bench::Clock;
using bench::median;
using bench::seconds_since;
using json = nlohmann::json;

// Minor page faults of this process so far: fresh pages the kernel had to map and zero, which is
// what a large tensor allocation costs when the allocator hands it back to the kernel each step.
double minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_minflt);
}

struct Args {
  std::string mode;
  rlhf::GPTConfig model;
  int64_t n = 2048, repeats = 5;          // sgemm
  int64_t batch = 1, seq = 128, steps = 3; // train
  int64_t prompt = 16, new_tokens = 256;   // generate
  bool cache = true;
  std::string profile;                     // Chrome trace of the timed part ("" = none)
  std::string device = "cpu";              // train, generate
  std::string precision = "auto";          // train, generate: auto, bf16 or fp32 (model/precision.h)
  int64_t warmup = -1;                     // train: untimed steps first (-1: 1 on the CPU, 3 on CUDA)
  std::string checkpoint;                  // generate: a native checkpoint or HF GPT-2 directory instead of --model
  std::string dtype = "fp32";              // generate: the weights' dtype, fp32 or bf16; sgemm: the matrices'
  std::string allocator = "kept";          // kept (every stage's configure_allocator) or default
};

// Records every LibTorch op of its scope into a Chrome trace when a file is given.
struct MaybeProfile {
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
  explicit MaybeProfile(const std::string& file) {
    if (!file.empty()) profile = std::make_unique<torch::autograd::profiler::RecordProfile>(file);
  }
};

// "L,H,C,BLOCK,V" -> GPTConfig (the driver passes the same string to the twin).
rlhf::GPTConfig parse_model(const std::string& spec) {
  rlhf::GPTConfig c;
  long long l, h, e, b, v;
  if (std::sscanf(spec.c_str(), "%lld,%lld,%lld,%lld,%lld", &l, &h, &e, &b, &v) != 5)
    throw std::runtime_error("--model wants L,H,C,BLOCK,V, got " + spec);
  c.n_layer = l, c.n_head = h, c.n_embd = e, c.block_size = b, c.vocab_size = v;
  c.dropout = 0.0;
  c.validate();
  return c;
}

Args parse_args(int argc, char** argv) {
  if (argc < 2) throw std::runtime_error("usage: bench_speed sgemm|train|generate|generate-parts [options]");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(k + " needs a value");
      return argv[++i];
    };
    if (k == "--model") a.model = parse_model(value());
    else if (k == "--n") a.n = std::stoll(value());
    else if (k == "--repeats") a.repeats = std::stoll(value());
    else if (k == "--batch") a.batch = std::stoll(value());
    else if (k == "--seq") a.seq = std::stoll(value());
    else if (k == "--steps") a.steps = std::stoll(value());
    else if (k == "--prompt") a.prompt = std::stoll(value());
    else if (k == "--new") a.new_tokens = std::stoll(value());
    else if (k == "--no-cache") a.cache = false;
    else if (k == "--profile") a.profile = value();
    else if (k == "--device") a.device = value();
    else if (k == "--precision") a.precision = value();
    else if (k == "--warmup") a.warmup = std::stoll(value());
    else if (k == "--checkpoint") a.checkpoint = value();
    else if (k == "--dtype") a.dtype = value();
    else if (k == "--allocator") a.allocator = value();
    else throw std::runtime_error("unknown option " + k);
  }
  if (a.allocator != "kept" && a.allocator != "default")
    throw std::runtime_error("--allocator wants kept or default, got " + a.allocator);
  if (a.dtype != "fp32" && a.dtype != "bf16") throw std::runtime_error("--dtype wants fp32 or bf16, got " + a.dtype);
  return a;
}

// Best of `repeats` (n x n) @ (n x n) matmuls in `dtype`: the machine's peak as LibTorch reaches it.
double matmul_gflops(int64_t n, int64_t repeats, torch::Dtype dtype) {
  auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype);
  auto c = torch::mm(a, b);  // warm-up: the thread pool starts
  double best = 1e30;
  for (int64_t i = 0; i < repeats; ++i) {
    auto start = Clock::now();
    torch::mm_out(c, a, b);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * n * n * n / best / 1e9;
}

// nanoGPT's estimate_mfu: 6N per token for the matmuls of forward + backward (N without wpe; the
// tied LM head is counted once, through wte) plus 12 L C T for attention's two (T x T) matmuls.
double flops_per_token(const rlhf::GPT& model, int64_t T) {
  const auto& c = model->config();
  return 6.0 * model->num_parameters(/*exclude_position_embeddings=*/true) + 12.0 * c.n_layer * c.n_embd * T;
}

json model_json(const rlhf::GPT& model) {
  const auto& c = model->config();
  return {{"n_layer", c.n_layer}, {"n_head", c.n_head}, {"n_embd", c.n_embd}, {"block_size", c.block_size},
          {"vocab_size", c.vocab_size}, {"params", model->num_parameters(true)}};
}

// One training step as train/trainer.cpp runs it: lr, zero_grad, forward, loss, backward, clip at 1.0,
// loss.item(), AdamW (make_adamw: ForeachAdamW, decay on matmul weights only). Phases timed separately.
// On CUDA as the trainer's GPU step: forward + loss inside BF16Autocast, clip_gradients_on_device (the
// norm stays on the device), no loss.item() per step; the steps are timed together.
json train(const Args& a) {
  const torch::Device device = rlhf::select_device(a.device);
  const rlhf::Precision precision = rlhf::choose_precision(a.precision, device, "--precision");
  const bool bf16 = precision.bf16;
  // The CPU's peaks, fp32 and bf16, in this process.
  const double peak = device.is_cuda() ? 0.0 : matmul_gflops(2048, 5, torch::kFloat);
  const double peak_bf16 = device.is_cuda() ? 0.0 : matmul_gflops(2048, 5, torch::kBFloat16);
  torch::manual_seed(0);
  rlhf::GPT model(a.model);
  model->to(device);
  model->train();
  rlhf::TrainConfig tc;
  tc.lr = 6e-4, tc.weight_decay = 0.1, tc.beta1 = 0.9, tc.beta2 = 0.95;
  auto opt = rlhf::make_adamw(*model, tc);
  const int64_t B = a.batch, T = a.seq;
  auto ids = torch::randint(0, a.model.vocab_size, {B, T + 1}, torch::kLong).to(device);  // (B, T + 1)
  auto x = ids.narrow(1, 0, T).contiguous(), y = ids.narrow(1, 1, T).contiguous();  // (B, T) each
  const double fpt = flops_per_token(model, T);

  if (device.is_cuda()) {
    auto step = [&] {
      rlhf::set_learning_rate(*opt, tc.lr);
      opt->zero_grad();
      torch::Tensor loss;
      {
        rlhf::BF16Autocast autocast(bf16, device);  // forward + loss only; backward follows the recorded casts
        loss = model->loss(model->forward(x).logits, y);
      }
      loss.backward();
      rlhf::clip_gradients_on_device(*model, 1.0);
      opt->step();
      return loss.detach();
    };
    // Warm-up: cuBLAS handles and workspaces, the caching allocator's blocks, autocast's casts.
    for (int64_t s = 0; s < (a.warmup >= 0 ? a.warmup : 3); ++s) step();
    bench::synchronize(device);
    bench::reset_peak_gpu_bytes(device);
    torch::Tensor loss;
    std::optional<MaybeProfile> profile(a.profile);
    auto start = Clock::now();
    for (int64_t s = 0; s < a.steps; ++s) loss = step();
    bench::synchronize(device);
    const double step_s = seconds_since(start) / std::max<int64_t>(1, a.steps);
    profile.reset();
    const double tokens_per_s = B * T / step_s;
    return {{"tokens_per_s", tokens_per_s},
            {"model_gflops", fpt * tokens_per_s / 1e9},
            {"flops_per_token", fpt},
            {"step_s", step_s},
            {"loss", loss.defined() ? loss.item<double>() : NAN},  // after the clock: a sanity check
            {"peak_gpu_bytes", bench::peak_gpu_bytes(device)},
            {"device", device.str()},
            {"autocast_bf16", bf16},
            {"model", model_json(model)}};
  }

  std::vector<double> step_s, fwd_s, bwd_s, clip_s, opt_s, faults_fwd, faults_bwd, faults_opt;
  std::optional<MaybeProfile> profile;
  const int64_t warmup = a.warmup >= 0 ? a.warmup : 1;  // allocations, thread start-up
  for (int64_t s = -warmup; s < a.steps; ++s) {
    if (s == 0) profile.emplace(a.profile);
    const double f0 = minor_faults();
    auto t0 = Clock::now();
    rlhf::set_learning_rate(*opt, tc.lr);
    opt->zero_grad();
    torch::Tensor loss;
    {
      rlhf::BF16Autocast autocast(bf16, device);
      loss = model->loss(model->forward(x).logits, y);
    }
    auto t1 = Clock::now();
    const double f1 = minor_faults();
    loss.backward();
    auto t2 = Clock::now();
    const double f2 = minor_faults();
    rlhf::clip_gradients(*model, 1.0);
    volatile double l = loss.item<double>();
    (void)l;
    auto t2b = Clock::now();
    opt->step();
    auto t3 = Clock::now();
    const double f3 = minor_faults();
    if (s < 0) continue;
    faults_fwd.push_back(f1 - f0), faults_bwd.push_back(f2 - f1), faults_opt.push_back(f3 - f2);
    step_s.push_back(std::chrono::duration<double>(t3 - t0).count());
    fwd_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    bwd_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    clip_s.push_back(std::chrono::duration<double>(t2b - t2).count());
    opt_s.push_back(std::chrono::duration<double>(t3 - t2b).count());
  }
  profile.reset();
  const double tokens_per_s = B * T / median(step_s);
  return {{"tokens_per_s", tokens_per_s},
          {"model_gflops", fpt * tokens_per_s / 1e9},
          {"sgemm_gflops", peak},
          {"bf16_matmul_gflops", peak_bf16},
          {"flops_per_token", fpt},
          {"step_s", median(step_s)},
          {"forward_s", median(fwd_s)},
          {"backward_s", median(bwd_s)},
          {"clip_s", median(clip_s)},
          {"adamw_s", median(opt_s)},
          {"page_faults_per_step", {{"forward", median(faults_fwd)}, {"backward", median(faults_bwd)},
                                    {"clip_adamw", median(faults_opt)}}},
          {"precision", precision.to_json()},
          {"model", model_json(model)}};
}

std::vector<std::vector<rlhf::TokenId>> random_prompts(int64_t batch, int64_t length, int64_t vocab) {
  auto t = torch::randint(0, vocab, {batch, length}, torch::kLong);
  std::vector<std::vector<rlhf::TokenId>> prompts(batch);
  for (int64_t b = 0; b < batch; ++b) prompts[b].assign(t[b].data_ptr<int64_t>(), t[b].data_ptr<int64_t>() + length);
  return prompts;
}

// The model to sample from: random weights of --model, or --checkpoint's weights loaded as the stages
// load them (a native checkpoint or an HF GPT-2 directory, model/model_io.h), on `device`.
rlhf::GPT load_model(const Args& a, const torch::Device& device) {
  if (a.checkpoint.empty()) {
    rlhf::GPT model(a.model);
    model->to(device);
    return model;
  }
  return rlhf::build_gpt(rlhf::load_any_checkpoint(a.checkpoint), device, a.checkpoint);
}

// rlhf::generate as PPO rollouts and `rlhf generate` call it: top-k 50, temperature 1, no EOS stop.
// --dtype bf16 converts the weights (and so the KV cache, which make_cache allocates like them);
// generate() samples on the model's device from the logits converted to float.
json generate(const Args& a) {
  const torch::Device device = rlhf::select_device(a.device);
  torch::manual_seed(0);
  rlhf::GPT model = load_model(a, device);
  if (a.dtype == "bf16") model->to(torch::kBFloat16);
  const rlhf::Precision precision = rlhf::choose_precision(a.precision, device, "--precision");
  rlhf::BF16Autocast autocast(precision.bf16, device);  // as PPO's rollouts and eval's samples
  auto prompts = random_prompts(a.batch, a.prompt, model->config().vocab_size);
  rlhf::SamplingConfig sc;
  sc.top_k = 50;
  sc.use_cache = a.cache;
  sc.max_new_tokens = 8;
  rlhf::generate(model, prompts, sc, /*eos_id=*/-1);  // warm-up
  sc.max_new_tokens = a.new_tokens;
  bench::synchronize(device);
  bench::reset_peak_gpu_bytes(device);
  std::optional<MaybeProfile> profile(a.profile);
  auto start = Clock::now();
  auto out = rlhf::generate(model, prompts, sc, -1);
  bench::synchronize(device);
  const double s = seconds_since(start);
  profile.reset();
  if (out.tokens.size(1) != a.new_tokens) throw std::runtime_error("generate returned the wrong length");
  json result = {{"tokens_per_s", a.batch * a.new_tokens / s}, {"seconds", s}, {"precision", precision.to_json()},
                 {"model", model_json(model)}};
  if (device.is_cuda() || a.dtype != "fp32" || !a.checkpoint.empty()) {
    result["device"] = device.str(), result["dtype"] = a.dtype, result["checkpoint"] = a.checkpoint;
    result["batch"] = a.batch, result["new_tokens"] = a.new_tokens;
    if (device.is_cuda()) result["peak_gpu_bytes"] = bench::peak_gpu_bytes(device);
  }
  return result;
}

// One decode step at B=1 with matrix-vector products (addmv -> sgemv) instead of Linear's
// (1 x C) @ (C x out) sgemm, which a BLAS may run much slower for a single row (bench/README.md).
// GPT::forward takes the same products for one row (model/gpt.cpp linear_forward); this hand-built
// step, without the modules' generality, is the floor that forward_bare is measured against. x: (C)
// embedding of the new token at position `pos`; returns the (V) logits and fills the cache at `pos`.
torch::Tensor decode_step_gemv(rlhf::GPT& model, rlhf::KVCache& cache, torch::Tensor x, int64_t pos) {
  const auto& c = model->config();
  const int64_t nh = c.n_head, hs = c.head_size(), C = c.n_embd;
  auto ln = [](rlhf::LayerNorm& l, const torch::Tensor& v) { return torch::layer_norm(v, {v.size(0)}, l->weight, l->bias, l->eps); };
  auto linear = [](torch::nn::Linear& l, const torch::Tensor& v) { return torch::addmv(l->bias, l->weight, v); };
  for (size_t i = 0; i < model->transformer->h->size(); ++i) {
    auto& block = *model->transformer->h[i]->as<rlhf::Block>();
    auto qkv = linear(block.attn->c_attn, ln(block.ln_1, x)).view({3, nh, hs});      // (3, nh, hs)
    cache.k[i][0].select(1, pos).copy_(qkv[1]);                                      // (nh, hs)
    cache.v[i][0].select(1, pos).copy_(qkv[2]);
    auto k = cache.k[i][0].narrow(1, 0, pos + 1), v = cache.v[i][0].narrow(1, 0, pos + 1);  // (nh, S, hs)
    auto att = torch::bmm(qkv[0].unsqueeze(1), k.transpose(1, 2)) * (1.0 / std::sqrt(double(hs)));  // (nh, 1, S)
    auto y = torch::bmm(torch::softmax(att, -1), v).view({C});                          // (C)
    x = x + linear(block.attn->c_proj, y);
    x = x + linear(block.mlp->c_proj, torch::gelu(linear(block.mlp->c_fc, ln(block.ln_2, x)), "tanh"));
  }
  return torch::mv(model->transformer->wte->weight, ln(model->transformer->ln_f, x));  // (V)
}

// Where generate()'s time goes, as differences between loops that each add one thing:
//   forward_bare  KV-cache forward of one token per step, no attention mask, LM head on that token
//   forward_mask  the same with the (B, S) attention mask generate() passes for left padding
//   forward_gemv  (B=1 only) forward_bare with matrix-vector products, decode_step_gemv above
//   forward_bare_inference_mode  forward_bare under c10::InferenceMode instead of NoGradGuard
//   sample        sample_next() alone on (B, V) logits (top-k 50, log-softmax for the log-prob)
//   generate      the real call; generate_inference_mode: the same inside c10::InferenceMode
json generate_parts(const Args& a) {
  torch::manual_seed(0);
  rlhf::GPT model(a.model);
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t B = a.batch, P = a.prompt, N = a.new_tokens;
  auto prompts = random_prompts(B, P, a.model.vocab_size);
  auto idx = torch::randint(0, a.model.vocab_size, {B, P}, torch::kLong);      // (B, P)
  auto full_mask = torch::ones({B, P + N}, torch::kLong);                        // (B, P + N)
  auto next = torch::zeros({B, 1}, torch::kLong);                                // (B, 1)

  auto decode_loop = [&](bool with_mask) {
    rlhf::KVCache cache = model->make_cache(B, P + N);
    rlhf::ForwardOptions o;
    o.cache = &cache;
    o.last_position_only = true;
    if (with_mask) o.attention_mask = full_mask.narrow(1, 0, P);
    auto start = Clock::now();
    model->forward(idx, o);
    for (int64_t i = 0; i + 1 < N; ++i) {
      if (with_mask) o.attention_mask = full_mask.narrow(1, 0, P + i + 1);
      model->forward(next, o);
    }
    return seconds_since(start);
  };
  auto sample_loop = [&] {
    rlhf::SamplingConfig sc;
    sc.top_k = 50;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
    auto logits = torch::randn({B, a.model.vocab_size});                         // (B, V)
    auto start = Clock::now();
    for (int64_t i = 0; i < N; ++i) rlhf::sample_next(logits, sc, gen);
    return seconds_since(start);
  };
  auto generate_call = [&] {
    rlhf::SamplingConfig sc;
    sc.top_k = 50;
    sc.max_new_tokens = N;
    auto start = Clock::now();
    rlhf::generate(model, prompts, sc, -1);
    return seconds_since(start);
  };
  auto gemv_loop = [&] {
    rlhf::KVCache cache = model->make_cache(B, P + N);
    rlhf::ForwardOptions o;
    o.cache = &cache;
    o.last_position_only = true;
    auto start = Clock::now();
    model->forward(idx, o);  // the prompt as usual
    for (int64_t i = 0; i + 1 < N; ++i) {
      auto x = model->transformer->wte->weight[0] + model->transformer->wpe->weight[P + i];  // (C)
      decode_step_gemv(model, cache, x, P + i);
    }
    return seconds_since(start);
  };
  // The gemv step computes what forward() does: compare one step's logits.
  auto gemv_check = [&] {
    rlhf::KVCache c1 = model->make_cache(1, P + 1), c2 = model->make_cache(1, P + 1);
    rlhf::ForwardOptions o1, o2;
    o1.cache = &c1, o2.cache = &c2;
    o1.last_position_only = o2.last_position_only = true;
    auto prompt = idx.narrow(0, 0, 1);
    model->forward(prompt, o1), model->forward(prompt, o2);
    auto ref = model->forward(next.narrow(0, 0, 1), o1).logits.view({-1});           // (V)
    auto x = model->transformer->wte->weight[0] + model->transformer->wpe->weight[P];
    return (decode_step_gemv(model, c2, x, P) - ref).abs().max().item<double>();
  };
  decode_loop(false);  // warm-up
  std::vector<double> bare, bare_im, masked, gemv, sample, full, full_im;
  for (int r = 0; r < 3; ++r) {
    bare.push_back(decode_loop(false));
    {
      c10::InferenceMode inference;
      bare_im.push_back(decode_loop(false));
    }
    masked.push_back(decode_loop(true));
    if (B == 1) gemv.push_back(gemv_loop());
    sample.push_back(sample_loop());
    full.push_back(generate_call());
    {
      c10::InferenceMode inference;
      full_im.push_back(generate_call());
    }
  }
  auto per_token_ms = [&](const std::vector<double>& v) { return median(v) / N * 1e3; };
  json out = {{"ms_per_step_forward_bare", per_token_ms(bare)},
              {"ms_per_step_forward_bare_inference_mode", per_token_ms(bare_im)},
              {"ms_per_step_generate_inference_mode", per_token_ms(full_im)},
              {"ms_per_step_forward_mask", per_token_ms(masked)},
              {"ms_per_step_sample", per_token_ms(sample)},
              {"ms_per_step_generate", per_token_ms(full)},
              {"model", model_json(model)},
              {"batch", B}};
  if (B == 1) out["ms_per_step_forward_gemv"] = per_token_ms(gemv), out["gemv_max_abs_diff"] = gemv_check();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse_args(argc, argv);
    rlhf::configure_threads(0);
    // What every stage keeps of freed memory (dist/runtime.h), or glibc's default.
    if (a.allocator == "kept") rlhf::configure_allocator();
    json out;
    if ((a.mode == "sgemm" || a.mode == "generate-parts") && a.device != "cpu")
      throw std::runtime_error(a.mode + " runs on the CPU only (--device is for train and generate)");
    if (a.mode == "sgemm")
      out = {{"gflops", matmul_gflops(a.n, a.repeats, a.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat)},
             {"n", a.n}, {"dtype", a.dtype}};
    else if (a.mode == "train") out = train(a);
    else if (a.mode == "generate") out = generate(a);
    else if (a.mode == "generate-parts") out = generate_parts(a);
    else throw std::runtime_error("unknown mode " + a.mode + " (sgemm, train, generate, generate-parts)");
    out["side"] = "ours";
    out["threads"] = torch::get_num_threads();
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_speed: %s\n", e.what());
    return 1;
  }
}
