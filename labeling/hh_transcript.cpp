#include "labeling/hh_transcript.h"

#include <string_view>

#include "text/chat_format.h"

namespace rlhf::labeling {
namespace {

// HH puts one space after the colon; it belongs to the format, not to the text.
std::string strip_one_space(std::string_view text) {
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return std::string(text);
}

// The turns before the answer, in the export's roles ("user", "assistant"); the last must be the human's.
json parse_turns(const std::string& prefix) {
  if (prefix.rfind(kHumanTag, 0) != 0) throw FieldError("chosen", "must start with \"\\n\\nHuman:\"");
  // The last tag decides, even before an empty turn (which transcript_turns drops).
  const size_t last_human = prefix.rfind(kHumanTag), last_assistant = prefix.rfind(kAssistantTag);
  if (last_assistant != std::string::npos && last_assistant > last_human)
    throw FieldError("chosen", "the last turn before the answer must be Human");
  json turns = json::array();
  for (const auto& turn : transcript_turns(prefix))
    turns.push_back({{"role", turn.role == "human" ? "user" : "assistant"}, {"content", turn.text}});
  return turns;
}

}  // namespace

HhComparison split_hh_comparison(const std::string& chosen, const std::string& rejected) {
  size_t common = 0;
  while (common < chosen.size() && common < rejected.size() && chosen[common] == rejected[common]) ++common;
  if (common < kAssistantTag.size()) throw FieldError("rejected", "shares no conversation with \"chosen\"");
  const size_t split = chosen.rfind(kAssistantTag, common - kAssistantTag.size());
  if (split == std::string::npos) {
    throw FieldError("rejected", "does not share the conversation up to an \"\\n\\nAssistant:\" turn with \"chosen\"");
  }
  HhComparison comparison;
  comparison.conversation = parse_turns(chosen.substr(0, split));
  comparison.chosen = strip_one_space(std::string_view(chosen).substr(split + kAssistantTag.size()));
  comparison.rejected = strip_one_space(std::string_view(rejected).substr(split + kAssistantTag.size()));
  return comparison;
}

std::string render_hh_prompt(const json& conversation) {
  std::string text;
  for (const auto& turn : conversation) {
    const std::string& role = turn.at("role").get_ref<const std::string&>();
    const char* speaker = role == "user" ? "Human" : role == "assistant" ? "Assistant" : "System";
    text += std::string("\n\n") + speaker + ": " + turn.at("content").get<std::string>();
  }
  return text + std::string(kAssistantTag);
}

}  // namespace rlhf::labeling
