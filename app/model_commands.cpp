// generate, score, import-hf, export-hf, pack: the commands that use one model.
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/common_options.h"
#include "eval/best_of_n.h"
#include "model/generate.h"
#include "model/hf_gpt2.h"
#include "model/model_io.h"
#include "model/state_dict.h"
#include "ppo/prompts.h"
#include "reward/reward_model.h"
#include "text/chat_format.h"
#include "text/utf8.h"

namespace rlhf::app {

namespace {

using nlohmann::json;

std::vector<TokenId> parse_ids(const std::string& text, const std::string& flag, int64_t vocab_size) {
  std::vector<TokenId> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      long long id = std::stoll(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      if (id < 0 || id >= vocab_size)
        throw std::runtime_error(flag + ": id " + item + " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
      ids.push_back(id);
    } catch (const std::logic_error&) {
      throw std::runtime_error(flag + ": \"" + item + "\" is not a token id (expected e.g. 1,2,3)");
    }
  }
  if (ids.empty()) throw std::runtime_error(flag + ": no token ids given");
  return ids;
}

struct ModelInput {
  std::string text;
  std::string ids;
};

std::vector<TokenId> input_ids(const Checkpoint& checkpoint, const ModelInput& input, const char* text_flag,
                               const char* ids_flag) {
  if (!input.ids.empty()) return parse_ids(input.ids, ids_flag, checkpoint.model.vocab_size);
  if (!checkpoint.tokenizer)
    throw std::runtime_error(std::string(text_flag) + ": this model has no tokenizer; pass token ids with " + ids_flag);
  auto ids = checkpoint.tokenizer->encode(input.text, /*allow_special=*/true);
  if (ids.empty()) ids.push_back(checkpoint.tokenizer->eot_id());  // condition on <|endoftext|> alone
  return ids;
}

// generate --best-of N: N samples of the prompt (in the chat template, as the reward model was
// trained on it) and the one the reward model scores highest.
void print_best_of_n(GPT& model, const Tokenizer& tokenizer, const std::string& prompt, int64_t n,
                     const std::string& reward_dir, const SamplingConfig& sampling, bool json_output, torch::Device device) {
  auto checkpoint = load_checkpoint(reward_dir);
  if (checkpoint.info.value("kind", "") != "reward")
    throw std::runtime_error("--reward: " + reward_dir + " is not a reward model checkpoint");
  RewardModel reward = reward_model_from_checkpoint(checkpoint, device, reward_dir);
  reward->eval();
  const int64_t room = model->config().block_size - sampling.max_new_tokens;
  if (room < 1) throw std::runtime_error("--max-new-tokens: leaves no room for the prompt in the context");
  const PolicyPrompt seen = policy_prompt(as_chat_prompt(prompt), tokenizer, room);
  auto out = generate(model, std::vector<std::vector<TokenId>>(n, seen.ids), sampling, tokenizer.eot_id(), &tokenizer);
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& text : out.texts) items.emplace_back(seen.text, format_response(text));
  const auto rewards = score_texts(reward, *checkpoint.tokenizer, items);
  const int64_t best = best_of_each(rewards, n)[0];
  if (!json_output) {
    std::cout << out.texts[best] << "\n";
    return;
  }
  json candidates = json::array();
  for (int64_t i = 0; i < n; ++i) candidates.push_back({{"text", valid_utf8(out.texts[i])}, {"reward", rewards[i]}});
  std::cout << json{{"text", valid_utf8(out.texts[best])}, {"reward", rewards[best]}, {"best", best},
                    {"candidates", candidates}}.dump()
            << "\n";
}

void register_generate(CLI::App& app) {
  struct Options {
    std::string model;
    ModelInput input;
    SamplingConfig sampling;
    bool json_output = false;
    int64_t best_of = 1;
    std::string reward;
    RuntimeFlags runtime;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with a model (native checkpoint or HF GPT-2 dir)");
  cmd->add_option("--model", opts->model, "Model directory")->required();
  auto* text = cmd->add_option("--prompt", opts->input.text, "Prompt text (needs the model's tokenizer)");
  auto* ids = cmd->add_option("--prompt-ids", opts->input.ids, "Prompt as comma-separated token ids");
  text->excludes(ids);
  cmd->add_option("--max-new-tokens", opts->sampling.max_new_tokens, "Tokens to generate")->capture_default_str();
  auto* greedy = cmd->add_flag("--greedy", opts->sampling.greedy, "Always take the most likely token");
  cmd->add_option("--temperature", opts->sampling.temperature, "Sampling temperature")->capture_default_str()->excludes(greedy);
  cmd->add_option("--top-k", opts->sampling.top_k, "Keep the k most likely tokens (0: all)")->capture_default_str()->excludes(greedy);
  cmd->add_option("--top-p", opts->sampling.top_p, "Nucleus sampling mass (1: off)")->capture_default_str()->excludes(greedy);
  cmd->add_option("--seed", opts->sampling.seed, "Random seed")->capture_default_str();
  cmd->add_option("--stop", opts->sampling.stop_strings, "Stop when this string appears (repeatable)");
  cmd->add_flag("--json", opts->json_output, "Print {\"ids\": [...], \"text\": ...}");
  cmd->add_option("--best-of", opts->best_of,
                  "Sample N responses to the prompt (a question, put in the chat template) and print the one --reward scores highest")
      ->capture_default_str();
  cmd->add_option("--reward", opts->reward, "Reward model checkpoint that picks the best of --best-of samples");
  opts->runtime.add_to(cmd);
  cmd->callback([opts, text, ids] {
    if (text->count() + ids->count() != 1) throw std::runtime_error("generate: give exactly one of --prompt or --prompt-ids");
    if (opts->best_of < 1) throw std::runtime_error("--best-of: must be >= 1");
    if (opts->best_of > 1 && (opts->reward.empty() || !text->count()))
      throw std::runtime_error("--best-of: needs --reward DIR to pick with and the prompt as --prompt text");
    auto device = opts->runtime.apply();
    auto checkpoint = load_any_checkpoint(opts->model);
    if (opts->best_of > 1) {
      if (!checkpoint.tokenizer) throw std::runtime_error("--best-of: " + opts->model + " has no tokenizer");
      auto model = build_gpt(checkpoint, device, opts->model);
      print_best_of_n(model, *checkpoint.tokenizer, opts->input.text, opts->best_of, opts->reward, opts->sampling,
                      opts->json_output, device);
      return;
    }
    auto prompt = input_ids(checkpoint, opts->input, "--prompt", "--prompt-ids");
    auto model = build_gpt(checkpoint, device, opts->model);
    const Tokenizer* tokenizer = checkpoint.tokenizer ? &*checkpoint.tokenizer : nullptr;
    TokenId eos = tokenizer ? tokenizer->eot_id() : -1;
    auto out = generate(model, {prompt}, opts->sampling, eos, tokenizer);
    auto new_ids = out.row_tokens(0);
    if (opts->json_output) {
      json result = {{"ids", new_ids}};
      if (tokenizer) result["text"] = valid_utf8(out.texts[0]);  // a sample can stop inside a character
      std::cout << result.dump() << "\n";
    } else if (tokenizer) {
      std::cout << out.texts[0] << "\n";
    } else {
      for (size_t i = 0; i < new_ids.size(); ++i) std::cout << (i ? "," : "") << new_ids[i];
      std::cout << "\n";
    }
  });
}

void register_score(CLI::App& app) {
  struct Options {
    std::string model;
    ModelInput input;
    bool json_output = false;
    RuntimeFlags runtime;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("score", "Mean next-token negative log-likelihood of a text under a model");
  cmd->add_option("--model", opts->model, "Model directory")->required();
  auto* text = cmd->add_option("--text", opts->input.text, "Text to score (needs the model's tokenizer)");
  auto* ids = cmd->add_option("--ids", opts->input.ids, "Comma-separated token ids");
  text->excludes(ids);
  cmd->add_flag("--json", opts->json_output, "Print {\"loss\": ..., \"tokens\": ...}");
  opts->runtime.add_to(cmd);
  cmd->callback([opts, text, ids] {
    if (text->count() + ids->count() != 1) throw std::runtime_error("score: give exactly one of --text or --ids");
    auto device = opts->runtime.apply();
    auto checkpoint = load_any_checkpoint(opts->model);
    auto tokens = input_ids(checkpoint, opts->input, "--text", "--ids");
    if (tokens.size() < 2) throw std::runtime_error("score: need at least 2 tokens to predict one");
    if (static_cast<int64_t>(tokens.size()) > checkpoint.model.block_size)
      throw std::runtime_error("score: " + std::to_string(tokens.size()) + " tokens exceed block_size " +
                               std::to_string(checkpoint.model.block_size));
    auto model = build_gpt(checkpoint, device, opts->model);
    torch::NoGradGuard no_grad;
    auto idx = torch::tensor(tokens, torch::kLong).unsqueeze(0).to(device);   // (1, T)
    auto logits = model->forward(idx).logits;                                 // (1, T, V)
    const int64_t T = idx.size(1);
    double loss = model->loss(logits.narrow(1, 0, T - 1), idx.narrow(1, 1, T - 1)).item<double>();
    if (opts->json_output) {
      std::cout << json{{"loss", loss}, {"tokens", T}, {"predicted", T - 1}}.dump() << "\n";
    } else {
      std::cout << "loss " << loss << " over " << (T - 1) << " predicted tokens\n";
    }
  });
}

void register_hf_conversion(CLI::App& app) {
  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  auto* import_cmd = app.add_subcommand("import-hf", "Convert a Hugging Face GPT-2 directory to a native checkpoint");
  import_cmd->add_option("--in", paths->first, "HF directory (config.json + model.safetensors)")->required();
  import_cmd->add_option("--out", paths->second, "Native checkpoint directory to write")->required();
  import_cmd->callback([paths] {
    auto checkpoint = import_hf_gpt2(paths->first);
    GPT model(checkpoint.model);  // fails here, not later, if a tensor is missing, misshapen or unexpected
    load_state_dict(*model, checkpoint.weights, paths->first, /*prefix=*/"", /*strict=*/true);
    save_checkpoint(paths->second, checkpoint);
    std::cout << "imported " << paths->first << " -> " << paths->second << " (" << checkpoint.model.n_layer
              << " layers, " << checkpoint.model.n_embd << " wide, vocab " << checkpoint.model.vocab_size << ")\n";
  });

  auto export_paths = std::make_shared<std::pair<std::string, std::string>>();
  auto* export_cmd = app.add_subcommand("export-hf", "Write a native checkpoint as a Hugging Face GPT-2 directory");
  export_cmd->add_option("--in", export_paths->first, "Native checkpoint directory")->required();
  export_cmd->add_option("--out", export_paths->second, "HF directory to write")->required();
  export_cmd->callback([export_paths] {
    auto checkpoint = load_checkpoint(export_paths->first);
    export_hf_gpt2(checkpoint, export_paths->second);
    std::cout << "exported " << export_paths->first << " -> " << export_paths->second << "\n";
  });
}

void register_pack(CLI::App& app) {
  struct Options {
    std::string in, out, dtype = "fp16";
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("pack", "Write a checkpoint for others to start from: weights in fp16/bf16, no trainer state");
  cmd->add_option("--in", opts->in, "Native checkpoint directory")->required();
  cmd->add_option("--out", opts->out, "Directory to write")->required();
  cmd->add_option("--dtype", opts->dtype, "Weight type: fp16, bf16 or fp32")->check(CLI::IsMember({"fp16", "bf16", "fp32"}));
  cmd->callback([opts] {
    const torch::Dtype dtype = opts->dtype == "fp16" ? torch::kFloat16 : opts->dtype == "bf16" ? torch::kBFloat16
                                                                                              : torch::kFloat32;
    save_checkpoint(opts->out, release_checkpoint(load_checkpoint(opts->in), dtype));
    std::cout << "packed " << opts->in << " -> " << opts->out << " (" << opts->dtype << ")\n";
  });
}

}  // namespace

void register_model_commands(CLI::App& app) {
  register_generate(app);
  register_score(app);
  register_hf_conversion(app);
  register_pack(app);
}

}  // namespace rlhf::app
