// The conversation format used across the toolkit: HH-RLHF transcripts,
//   "\n\nHuman: {message}\n\nAssistant: {reply}\n\nHuman: ..."
// A prompt ends with "\n\nAssistant:" and a response starts with a space, so prompt + response is a
// transcript.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rlhf {

inline constexpr std::string_view kHumanTag = "\n\nHuman:";
inline constexpr std::string_view kAssistantTag = "\n\nAssistant:";

struct ChatTurn {
  std::string role;  // "human" or "assistant" ("user" is accepted as "human")
  std::string text;
};

struct PromptResponse {
  std::string prompt;    // ends with "\n\nAssistant:"
  std::string response;  // the assistant's reply, starting with " "
};

// "\n\nHuman: {message}\n\nAssistant:"
std::string format_prompt(std::string_view message);
// The text itself when it already starts with "\n\nHuman:", else format_prompt(text).
std::string as_chat_prompt(std::string_view text);
// Transcript of the turns; the last turn must be the human's when open_assistant_turn (then the
// transcript ends with the assistant tag, ready for a reply).
std::string format_conversation(const std::vector<ChatTurn>& turns, bool open_assistant_turn);
// " reply" (a single leading space, as in HH-RLHF)
std::string format_response(std::string_view reply);

// Splits a transcript before its last assistant reply; nullopt when there is no "\n\nAssistant:".
std::optional<PromptResponse> split_last_assistant_turn(std::string_view transcript);
// The turns of a transcript ("\n\nHuman: a\n\nAssistant: b..."); a trailing empty assistant turn
// (a prompt awaiting its reply) is dropped. Text before the first tag is ignored.
std::vector<ChatTurn> transcript_turns(std::string_view transcript);
// The first human message of a transcript (the key used for splits).
std::string first_human_message(std::string_view transcript);

}  // namespace rlhf
