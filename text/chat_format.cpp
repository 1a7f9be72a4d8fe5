#include "text/chat_format.h"

#include <algorithm>
#include <stdexcept>

namespace rlhf {

std::string format_prompt(std::string_view message) {
  return std::string(kHumanTag) + " " + std::string(message) + std::string(kAssistantTag);
}

std::string as_chat_prompt(std::string_view text) {
  if (text.rfind(kHumanTag, 0) == 0) return std::string(text);
  return format_prompt(text);
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

std::vector<ChatTurn> transcript_turns(std::string_view transcript) {
  std::vector<ChatTurn> turns;
  size_t pos = 0;
  auto next_tag = [&](size_t from, size_t* tag_size) {
    const size_t h = transcript.find(kHumanTag, from), a = transcript.find(kAssistantTag, from);
    const size_t at = std::min(h, a);
    if (at != std::string_view::npos) *tag_size = at == h ? kHumanTag.size() : kAssistantTag.size();
    return at;
  };
  size_t tag_size = 0;
  size_t at = next_tag(pos, &tag_size);
  while (at != std::string_view::npos) {
    const bool human = transcript.compare(at, kHumanTag.size(), kHumanTag) == 0;
    const size_t start = at + tag_size;
    size_t next_size = 0;
    const size_t next = next_tag(start, &next_size);
    std::string_view text = transcript.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    turns.push_back({human ? "human" : "assistant", std::string(text)});
    at = next;
    tag_size = next_size;
  }
  if (!turns.empty() && turns.back().role == "assistant" && turns.back().text.empty()) turns.pop_back();
  return turns;
}

}  // namespace rlhf
