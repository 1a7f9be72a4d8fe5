#include "text/documents.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "io/jsonl.h"
#include "text/chat_format.h"
#include "text/data_split.h"
#include "text/demonstrations.h"
#include "text/strings.h"

namespace rlhf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Dialogue datasets name their two sides in several ways; the chat template knows human and assistant.
std::string chat_role(const std::string& speaker, const std::string& where) {
  if (speaker == "USER" || speaker == "user" || speaker == "human") return "human";
  if (speaker == "SYSTEM" || speaker == "system" || speaker == "ASSISTANT" || speaker == "assistant") return "assistant";
  throw std::runtime_error(where + ": speaker \"" + speaker + "\" (expected user or system/assistant)");
}

// [{"speaker": ..., text_field: ...}, ...] as a transcript.
std::string dialogue_transcript(const json& turns, const char* field, const char* text_field, const std::string& where) {
  if (!turns.is_array()) throw std::runtime_error(where + ": field \"" + field + "\" must be an array");
  std::vector<ChatTurn> chat;
  for (const auto& turn : turns) {
    const std::string turn_where = where + " " + field;
    chat.push_back({chat_role(required_string(turn, "speaker", turn_where), turn_where),
                    required_string(turn, text_field, turn_where)});
  }
  return format_conversation(chat, /*open_assistant_turn=*/false);
}

void add_line_documents(const json& line, const std::string& where, bool split_by_hash, DocumentFile& out) {
  if (line.contains("chosen")) {
    auto chosen = required_string(line, "chosen", where);
    const bool reserved = split_by_hash && data_split_of(chosen) == DataSplit::kRewardEval;
    out.documents.push_back({std::move(chosen), reserved});
  } else if (line.contains("turns")) {
    out.documents.push_back({dialogue_transcript(line["turns"], "turns", "utterance", where)});
  } else if (line.contains("utterances")) {
    out.documents.push_back({dialogue_transcript(line["utterances"], "utterances", "text", where)});
  } else if (line.contains("text")) {
    out.documents.push_back({required_string(line, "text", where)});
  } else {
    DemonstrationFile demonstrations;
    add_demonstrations(line, where, /*split_by_hash=*/false, demonstrations);
    for (auto& example : demonstrations.examples) out.documents.push_back({example.prompt + example.response});
  }
}

}  // namespace

bool is_jsonl_file(const fs::path& file) {
  const std::string name = file.filename().string();
  return ends_with(name, ".jsonl") || ends_with(name, ".jsonl.gz");
}

DocumentFile read_documents(const fs::path& file, bool split_by_hash) {
  DocumentFile out;
  if (!is_jsonl_file(file)) {
    out.documents.push_back({read_text(file)});
    return out;
  }
  out.one_per_line = true;
  for_each_json_line(file, [&](const json& line, const std::string& where) {
    add_line_documents(line, where, split_by_hash, out);
  });
  return out;
}

}  // namespace rlhf
