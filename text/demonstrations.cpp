#include "text/demonstrations.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

std::string conversation_transcript(const json& conversation, const std::string& where) {
  if (conversation.is_string()) return conversation.get<std::string>();
  if (!conversation.is_array()) throw std::runtime_error(where + ": field \"conversation\" must be a string or an array");
  std::vector<ChatTurn> turns;
  for (const auto& turn : conversation) {
    if (!turn.is_object() || !turn.contains("role") || !turn.contains("content") || !turn["role"].is_string() ||
        !turn["content"].is_string())
      throw std::runtime_error(where + ": every conversation turn needs string \"role\" and \"content\"");
    turns.push_back({turn["role"].get<std::string>(), turn["content"].get<std::string>()});
  }
  try {
    return format_conversation(turns, /*open_assistant_turn=*/false);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
}

namespace {

void add_transcript(const std::string& transcript, const std::string& where, DemonstrationFile& out) {
  auto split = split_last_assistant_turn(transcript);
  if (!split) throw std::runtime_error(where + ": transcript has no \"\\n\\nAssistant:\" turn");
  if (split->response.find_first_not_of(" \n\t") == std::string::npos) {
    ++out.skipped_empty;
    return;
  }
  out.examples.push_back({split->prompt, format_response(split->response)});
}

void add_prompt_response(const std::string& prompt, const std::string& response, DemonstrationFile& out) {
  if (response.find_first_not_of(" \n\t") == std::string::npos) {
    ++out.skipped_empty;
    return;
  }
  out.examples.push_back({as_chat_prompt(prompt), format_response(response)});
}

}  // namespace

void add_demonstrations(const json& line, const std::string& where, bool split_by_hash, DemonstrationFile& out) {
  if (line.contains("prompt") || line.contains("response")) {
    add_prompt_response(required_string(line, "prompt", where), required_string(line, "response", where), out);
  } else if (line.contains("conversation")) {
    add_transcript(conversation_transcript(line["conversation"], where), where, out);
  } else if (line.contains("chosen")) {
    auto chosen = required_string(line, "chosen", where);
    if (split_by_hash && data_split_of(chosen) != DataSplit::kSft) {
      ++out.skipped_other_split;
      return;
    }
    add_transcript(chosen, where, out);
  } else if (line.contains("instruction") && line.contains("instances")) {
    auto instruction = required_string(line, "instruction", where);
    if (!line["instances"].is_array()) throw std::runtime_error(where + ": field \"instances\" must be an array");
    for (const auto& instance : line["instances"]) {
      auto input = required_string(instance, "input", where + " instances");
      auto output = required_string(instance, "output", where + " instances");
      add_prompt_response(input.empty() ? instruction : instruction + "\n\n" + input, output, out);
    }
  } else {
    throw std::runtime_error(where + ": expected \"prompt\"+\"response\", \"conversation\", \"chosen\" or "
                             "\"instruction\"+\"instances\"");
  }
}

DemonstrationFile load_demonstrations(const fs::path& file, bool split_by_hash) {
  DemonstrationFile out;
  for_each_json_line(file, [&](const json& line, const std::string& where) {
    add_demonstrations(line, where, split_by_hash, out);
  });
  return out;
}

std::vector<TokenizedExample> tokenize_demonstrations(const std::vector<Demonstration>& demos, const Tokenizer& tokenizer,
                                                      int64_t block_size, TokenizeStats* stats) {
  std::vector<TokenizedExample> out;
  TokenizeStats local;
  for (const auto& demo : demos) {
    auto prompt = tokenizer.encode(demo.prompt);
    auto response = tokenizer.encode(demo.response);
    response.push_back(tokenizer.eot_id());
    // At least one prompt token must remain to condition on, and every id must fit the context.
    const int64_t room = block_size - static_cast<int64_t>(response.size());
    if (room < 1) {
      ++local.skipped_too_long;
      continue;
    }
    if (static_cast<int64_t>(prompt.size()) > room) {
      prompt.erase(prompt.begin(), prompt.end() - room);
      ++local.prompt_truncated;
    }
    TokenizedExample example;
    example.prompt_length = static_cast<int64_t>(prompt.size());
    example.ids = std::move(prompt);
    example.ids.insert(example.ids.end(), response.begin(), response.end());
    out.push_back(std::move(example));
    ++local.kept;
  }
  if (stats) *stats = local;
  return out;
}

}  // namespace rlhf
