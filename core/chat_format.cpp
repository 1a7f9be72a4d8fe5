#include "core/chat_format.h"

#include <stdexcept>

namespace rlhf {

std::string format_prompt(std::string_view message) {
  return std::string(kHumanTag) + " " + std::string(message) + std::string(kAssistantTag);
}

std::string format_response(std::string_view reply) {
  if (!reply.empty() && reply.front() == ' ') return std::string(reply);
  return " " + std::string(reply);
}

std::string format_conversation(const std::vector<ChatTurn>& turns, bool open_assistant_turn) {
  std::string out;
  for (size_t i = 0; i < turns.size(); ++i) {
    const auto& role = turns[i].role;
    if (role == "human" || role == "user") out += std::string(kHumanTag) + " " + turns[i].text;
    else if (role == "assistant") out += std::string(kAssistantTag) + format_response(turns[i].text);
    else throw std::runtime_error("conversation turn " + std::to_string(i) + ": role \"" + role +
                                  "\" (expected human, user or assistant)");
  }
  if (open_assistant_turn) {
    if (turns.empty() || turns.back().role == "assistant")
      throw std::runtime_error("conversation must end with a human turn to be answered");
    out += kAssistantTag;
  }
  return out;
}

std::optional<PromptResponse> split_last_assistant_turn(std::string_view transcript) {
  auto at = transcript.rfind(kAssistantTag);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t end = at + kAssistantTag.size();
  return PromptResponse{std::string(transcript.substr(0, end)), std::string(transcript.substr(end))};
}

std::string first_human_message(std::string_view transcript) {
  auto start = transcript.find(kHumanTag);
  if (start == std::string_view::npos) return std::string(transcript);
  start += kHumanTag.size();
  auto end = transcript.find(kAssistantTag, start);
  return std::string(transcript.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

uint64_t stable_hash(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

DataSplit data_split_of(std::string_view transcript) {
  const uint64_t bucket = stable_hash(first_human_message(transcript)) % 100;
  if (bucket < 20) return DataSplit::kRewardEval;
  if (bucket < 60) return DataSplit::kRewardTrain;
  return DataSplit::kSft;
}

}  // namespace rlhf
