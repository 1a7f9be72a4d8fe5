// reward score: the normalised reward of (prompt, response) pairs under a trained reward model.
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/common_options.h"
#include "io/jsonl.h"
#include "model/model_io.h"
#include "reward/reward_model.h"
#include "text/chat_format.h"
#include "text/demonstrations.h"

namespace rlhf::app {

using nlohmann::json;

void register_reward_score_command(CLI::App* reward) {
  struct Options {
    std::string model, prompt, response, input;
    bool json_output = false;
    RuntimeFlags runtime;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = reward->add_subcommand("score", "Score responses with a trained reward model (normalised)");
  cmd->add_option("--model", opts->model, "Reward model checkpoint (e.g. runs/quickstart/reward/best)")->required();
  auto* prompt = cmd->add_option("--prompt", opts->prompt, "Prompt (a question, or an HH transcript)");
  auto* response = cmd->add_option("--response", opts->response, "Response to score");
  auto* input = cmd->add_option("--input", opts->input, "JSONL with {\"prompt\",\"response\"} per line (batch form)");
  input->excludes(prompt)->excludes(response);
  cmd->add_flag("--json", opts->json_output, "Print JSON");
  opts->runtime.add_to(cmd);
  cmd->callback([opts, input] {
    auto device = opts->runtime.apply();
    auto checkpoint = load_checkpoint(opts->model);
    if (checkpoint.info.value("kind", "") != "reward")
      throw std::runtime_error(opts->model + ": not a reward model checkpoint (kind \"" +
                               checkpoint.info.value("kind", "") + "\")");
    auto model = reward_model_from_checkpoint(checkpoint, device, opts->model);
    std::vector<std::pair<std::string, std::string>> items;
    if (input->count()) {
      auto lines = read_lines(opts->input);
      for (size_t i = 0; i < lines.size(); ++i) {
        auto line = json::parse(lines[i], nullptr, false);
        if (line.is_discarded() || !line.is_object() || !line.contains("prompt") || !line.contains("response") ||
            !line["prompt"].is_string() || !line["response"].is_string())
          throw std::runtime_error(opts->input + ":" + std::to_string(i + 1) + ": expected {\"prompt\": string, \"response\": string}");
        items.emplace_back(as_chat_prompt(line["prompt"].get<std::string>()), format_response(line["response"].get<std::string>()));
      }
    } else {
      if (opts->prompt.empty() || opts->response.empty())
        throw std::runtime_error("reward score: give --prompt and --response, or --input FILE");
      items.emplace_back(as_chat_prompt(opts->prompt), format_response(opts->response));
    }
    auto scores = score_texts(model, *checkpoint.tokenizer, items);
    for (double s : scores) {
      if (opts->json_output) std::cout << json{{"reward", s}}.dump() << "\n";
      else std::cout << s << "\n";
    }
  });
}

}  // namespace rlhf::app
