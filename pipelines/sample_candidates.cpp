#include "pipelines/sample_candidates.h"

#include <iostream>
#include <sstream>
#include <stdexcept>

#include "dist/runtime.h"
#include "io/files.h"
#include "io/stable_hash.h"
#include "labeling/import.h"
#include "model/model_io.h"
#include "ppo/prompts.h"
#include "storage/schema.h"
#include "text/chat_format.h"
#include "text/utf8.h"

namespace rlhf {

using nlohmann::json;

namespace {

json conversation_of(const std::string& prompt) {
  json turns = json::array();
  for (const auto& t : transcript_turns(prompt))
    turns.push_back({{"role", t.role == "human" ? "user" : "assistant"}, {"content", t.text}});
  return turns;
}


}  // namespace

json sample_candidates(const SampleCandidatesConfig& config) {
  if (config.k < 2) throw std::runtime_error("k must be >= 2 (people rank at least two responses)");
  if (config.db.empty()) throw std::runtime_error("db: a labeling database path is required");
  const auto device = apply_runtime(config.runtime.device, config.runtime.threads);
  auto checkpoint = load_any_checkpoint(config.model);
  if (!checkpoint.tokenizer) throw std::runtime_error("model: " + config.model + " has no tokenizer");
  const Tokenizer tokenizer = *checkpoint.tokenizer;
  GPT model = build_gpt(checkpoint, device, config.model);

  std::vector<std::string> prompts;
  for (const auto& file : expand_files(config.prompt_files, "prompt_files")) load_prompts(file, true, prompts);
  if (static_cast<int64_t>(prompts.size()) > config.max_prompts) prompts.resize(config.max_prompts);
  if (prompts.empty()) throw std::runtime_error("prompt_files: no prompts");
  const int64_t max_prompt = std::min(config.max_prompt_tokens, model->config().block_size - config.sampling.max_new_tokens);
  if (max_prompt < 1) throw std::runtime_error("sampling.max_new_tokens leaves no room for a prompt");

  std::ostringstream tasks;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto ids = tokenizer.encode(prompts[i]);
    if (static_cast<int64_t>(ids.size()) > max_prompt) ids.erase(ids.begin(), ids.end() - max_prompt);
    SamplingConfig sampling = config.sampling;
    sampling.seed = config.sampling.seed + i;
    Generation g = generate(model, std::vector<std::vector<TokenId>>(config.k, ids), sampling, tokenizer.eot_id(), &tokenizer);
    json responses = json::array();
    std::vector<std::string> seen;
    for (int64_t r = 0; r < config.k; ++r) {
      std::string text = clean_answer(g.texts[r]);
      if (text.empty() || std::find(seen.begin(), seen.end(), text) != seen.end()) continue;  // people rank distinct texts
      seen.push_back(text);
      responses.push_back({{"id", "r" + std::to_string(r)}, {"text", text}, {"model", config.model}});
    }
    if (responses.size() < 2) continue;
    // Named by content: a rerun imports nothing new, a new model's samples become new tasks.
    const std::string id = config.batch + "-" + std::to_string(stable_hash(prompts[i] + responses.dump()));
    tasks << json{{"id", id}, {"kind", config.kind}, {"conversation", conversation_of(prompts[i])},
                  {"responses", responses}, {"batch", config.batch}}.dump(-1, ' ', false, json::error_handler_t::replace)
          << "\n";
  }
  auto db = storage::open_database(config.db);
  std::istringstream input(tasks.str());
  auto summary = labeling::import_jsonl(db, input, labeling::ImportFormat::Tasks, "sample " + config.model);
  std::cerr << "labeling sample: " << prompts.size() << " prompts, " << summary.imported << " tasks imported, "
            << summary.unchanged << " unchanged, into " << config.db << "\n";
  return {{"prompts", prompts.size()}, {"imported", summary.imported}, {"unchanged", summary.unchanged}};
}

}  // namespace rlhf
