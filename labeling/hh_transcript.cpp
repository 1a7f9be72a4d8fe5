#include "labeling/hh_transcript.h"

#include <string_view>

namespace rlhf::labeling {
namespace {

constexpr std::string_view kHuman = "\n\nHuman:";
constexpr std::string_view kAssistant = "\n\nAssistant:";

// HH puts one space after the colon; it belongs to the format, not to the text.
std::string strip_one_space(std::string_view text) {
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return std::string(text);
}

// The earliest Human/Assistant marker at or after position from; npos if none.
size_t next_marker(const std::string& text, size_t from, std::string_view& which) {
  const size_t human = text.find(kHuman, from);
  const size_t assistant = text.find(kAssistant, from);
  which = human < assistant ? kHuman : kAssistant;
  return std::min(human, assistant);
}

json parse_turns(const std::string& prefix) {
  json turns = json::array();
  std::string_view marker;
  size_t position = next_marker(prefix, 0, marker);
  if (position != 0 || marker != kHuman) throw FieldError("chosen", "must start with \"\\n\\nHuman:\"");
  while (position != std::string::npos) {
    const size_t start = position + marker.size();
    const std::string role = marker == kHuman ? "user" : "assistant";
    std::string_view next_kind;
    const size_t next = next_marker(prefix, start, next_kind);
    const size_t end = next == std::string::npos ? prefix.size() : next;
    turns.push_back({{"role", role}, {"content", strip_one_space(std::string_view(prefix).substr(start, end - start))}});
    position = next;
    marker = next_kind;
  }
  if (turns.back()["role"] != "user") throw FieldError("chosen", "the last turn before the answer must be Human");
  return turns;
}

}  // namespace

HhComparison split_hh_comparison(const std::string& chosen, const std::string& rejected) {
  size_t common = 0;
  while (common < chosen.size() && common < rejected.size() && chosen[common] == rejected[common]) ++common;
  if (common < kAssistant.size()) throw FieldError("rejected", "shares no conversation with \"chosen\"");
  const size_t split = chosen.rfind(kAssistant, common - kAssistant.size());
  if (split == std::string::npos) {
    throw FieldError("rejected", "does not share the conversation up to an \"\\n\\nAssistant:\" turn with \"chosen\"");
  }
  HhComparison comparison;
  comparison.conversation = parse_turns(chosen.substr(0, split));
  comparison.chosen = strip_one_space(std::string_view(chosen).substr(split + kAssistant.size()));
  comparison.rejected = strip_one_space(std::string_view(rejected).substr(split + kAssistant.size()));
  return comparison;
}

std::string render_hh_prompt(const json& conversation) {
  std::string text;
  for (const auto& turn : conversation) {
    const std::string& role = turn.at("role").get_ref<const std::string&>();
    const char* speaker = role == "user" ? "Human" : role == "assistant" ? "Assistant" : "System";
    text += std::string("\n\n") + speaker + ": " + turn.at("content").get<std::string>();
  }
  return text + std::string(kAssistant);
}

}  // namespace rlhf::labeling
