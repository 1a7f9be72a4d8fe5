#include "labeling/import.h"

#include <map>
#include <set>
#include <stdexcept>
#include <vector>

#include "labeling/accounts.h"
#include "labeling/hh_transcript.h"
#include "labeling/json_fields.h"
#include "labeling/limits.h"
#include "labeling/tokens.h"
#include "storage/assignments.h"
#include "storage/clock.h"
#include "storage/labelers.h"
#include "storage/prompts.h"
#include "storage/submissions.h"

namespace rlhf::labeling {
namespace {

using storage::Database;
using storage::NewPrompt;

const std::set<std::string> kKinds = {"helpful", "harmless", "honest", "general"};

// One validated line, ready to write.
struct ImportItem {
  int line = 0;
  NewPrompt prompt;
  bool ranked_by_hh = false;  // write an hh-rlhf submission: response 0 above response 1
};

std::string parse_kind(const json& object, const std::string& fallback) {
  const std::string kind = optional_string(object, "kind", 32, "kind").value_or(fallback);
  if (!kKinds.count(kind)) throw FieldError("kind", "must be helpful, harmless, honest or general, not '" + kind + "'");
  return kind;
}

json parse_conversation(const json& object) {
  const bool has_prompt = object.contains("prompt"), has_conversation = object.contains("conversation");
  if (has_prompt == has_conversation) throw FieldError("prompt", "give exactly one of \"prompt\" or \"conversation\"");
  if (has_prompt) {
    return json::array({{{"role", "user"}, {"content", required_string(object, "prompt", kMaxTextBytes, "prompt")}}});
  }
  const json& turns = object.at("conversation");
  if (!turns.is_array() || turns.empty()) throw FieldError("conversation", "must be a non-empty array of turns");
  json conversation = json::array();
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string prefix = "conversation[" + std::to_string(i) + "]";
    require_object(turns[i], prefix);
    reject_unknown_fields(turns[i], {"role", "content"}, prefix + ".");
    const std::string role = required_string(turns[i], "role", 16, prefix + ".role");
    if (role != "user" && role != "assistant" && role != "system") {
      throw FieldError(prefix + ".role", "must be user, assistant or system");
    }
    conversation.push_back({{"role", role}, {"content", required_string(turns[i], "content", kMaxTextBytes, prefix + ".content")}});
  }
  if (conversation.back()["role"] != "user") throw FieldError("conversation", "the last turn must be the user's");
  return conversation;
}

std::vector<storage::NewResponse> parse_responses(const json& object) {
  if (!object.contains("responses")) throw FieldError("responses", "is required");
  const json& list = object.at("responses");
  if (!list.is_array() || list.size() < kMinResponses || list.size() > kMaxResponses) {
    throw FieldError("responses", "must be an array of 2 to 9 responses");
  }
  std::vector<storage::NewResponse> responses;
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string prefix = "responses[" + std::to_string(i) + "]";
    require_object(list[i], prefix);
    reject_unknown_fields(list[i], {"id", "text", "model"}, prefix + ".");
    storage::NewResponse response;
    response.external_id = required_string(list[i], "id", 200, prefix + ".id");
    if (!ids.insert(response.external_id).second) throw FieldError(prefix + ".id", "duplicate response id '" + response.external_id + "'");
    response.text = required_string(list[i], "text", kMaxTextBytes, prefix + ".text");
    response.model = optional_string(list[i], "model", 200, prefix + ".model");
    responses.push_back(response);
  }
  return responses;
}

std::vector<std::vector<std::string>> parse_gold(const json& gold, const std::vector<storage::NewResponse>& responses) {
  std::set<std::string> expected;
  for (const auto& response : responses) expected.insert(response.external_id);
  if (!gold.is_array() || gold.empty()) throw FieldError("gold", "must be tiers of response ids, best first");
  std::vector<std::vector<std::string>> tiers;
  std::set<std::string> seen;
  for (size_t t = 0; t < gold.size(); ++t) {
    const std::string field = "gold[" + std::to_string(t) + "]";
    if (!gold[t].is_array() || gold[t].empty()) throw FieldError(field, "must be a non-empty array of response ids");
    std::vector<std::string> tier;
    for (const auto& id : gold[t]) {
      const std::string name = checked_string(id, 200, field);
      if (!expected.count(name)) throw FieldError(field, "unknown response id '" + name + "'");
      if (!seen.insert(name).second) throw FieldError(field, "response id '" + name + "' appears twice");
      tier.push_back(name);
    }
    tiers.push_back(tier);
  }
  if (seen.size() != expected.size()) throw FieldError("gold", "must rank every response");
  return tiers;
}

ImportItem parse_tasks_line(const json& object) {
  reject_unknown_fields(object, {"id", "kind", "prompt", "conversation", "responses", "target_labels", "gold", "batch"});
  ImportItem item;
  NewPrompt& prompt = item.prompt;
  prompt.external_id = required_string(object, "id", 200, "id");
  prompt.kind = parse_kind(object, "general");
  prompt.conversation_json = parse_conversation(object).dump();
  prompt.responses = parse_responses(object);
  prompt.target_labels = static_cast<int>(optional_integer(object, "target_labels", 1, 100, "target_labels").value_or(1));
  if (object.contains("gold") && !object.at("gold").is_null()) prompt.gold = parse_gold(object.at("gold"), prompt.responses);
  prompt.batch = optional_string(object, "batch", 200, "batch");
  prompt.source = "tasks";
  return item;
}

ImportItem parse_hh_line(const json& object) {
  reject_unknown_fields(object, {"chosen", "rejected", "kind"});
  const std::string chosen = required_string(object, "chosen", 4 * kMaxTextBytes, "chosen");
  const std::string rejected = required_string(object, "rejected", 4 * kMaxTextBytes, "rejected");
  const HhComparison comparison = split_hh_comparison(chosen, rejected);
  ImportItem item;
  item.ranked_by_hh = true;
  NewPrompt& prompt = item.prompt;
  prompt.kind = parse_kind(object, "harmless");
  prompt.conversation_json = comparison.conversation.dump();
  prompt.target_labels = 0;  // already ranked by people elsewhere: never assigned here
  prompt.source = "hh-rlhf";
  prompt.responses = {{"chosen", comparison.chosen, std::string("hh-rlhf")},
                      {"rejected", comparison.rejected, std::string("hh-rlhf")}};
  return item;
}

ImportItem parse_line(const std::string& text, ImportFormat format) {
  json object;
  try {
    object = json::parse(text);
  } catch (const json::exception& error) {  // parse_error, and out_of_range for a number like 1e999
    throw FieldError("(line)", std::string("is not valid JSON: ") + error.what());
  }
  require_object(object, "(line)");
  const bool hh = format == ImportFormat::Hh || (format == ImportFormat::Auto && object.contains("chosen"));
  ImportItem item = hh ? parse_hh_line(object) : parse_tasks_line(object);
  // The content hash identifies the line: re-importing the same file is a no-op.
  item.prompt.content_hash = sha256_hex(object.dump());
  if (hh) item.prompt.external_id = "hh-" + item.prompt.content_hash.substr(0, 24);
  return item;
}

int64_t hh_labeler_id(Database& db) {
  if (auto labeler = storage::find_labeler_by_name(db, kHhLabelerName)) return labeler->id;
  // Inactive, role external, and a hash of a token nobody ever sees: it can never log in.
  const int64_t id = storage::insert_labeler(db, kHhLabelerName, "external", sha256_hex(generate_token()), storage::utc_now());
  storage::set_labeler_active(db, kHhLabelerName, false);
  return id;
}

void write_hh_ranking(Database& db, int64_t prompt_id, const ImportItem& item, const std::string& now) {
  const int64_t labeler_id = hh_labeler_id(db);
  const auto responses = storage::responses_of(db, prompt_id);
  const std::vector<int64_t> order = {responses[0].id, responses[1].id};
  const int64_t assignment_id = storage::insert_assignment(db, labeler_id, prompt_id, order, now, now);
  storage::NewSubmission submission;
  submission.assignment_id = assignment_id;
  submission.labeler_id = labeler_id;
  submission.idempotency_key = "import-" + item.prompt.external_id;
  submission.request_json = json{{"tiers", {{order[0]}, {order[1]}}}}.dump();
  submission.tiers = {{order[0]}, {order[1]}};
  storage::insert_submission(db, submission, now);
}

}  // namespace

ImportFormat parse_import_format(const std::string& name) {
  if (name == "auto") return ImportFormat::Auto;
  if (name == "tasks") return ImportFormat::Tasks;
  if (name == "hh") return ImportFormat::Hh;
  throw std::runtime_error("import format must be auto, tasks or hh, not '" + name + "'");
}

ImportSummary import_jsonl(Database& db, std::istream& input, ImportFormat format, const std::string& source_name) {
  // Pass 1: validate every line, so a bad line 900 writes nothing.
  std::vector<ImportItem> items;
  std::map<std::string, std::pair<std::string, int>> seen;  // external id -> (hash, line)
  std::string text;
  int line = 0;
  while (std::getline(input, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      ImportItem item = parse_line(text, format);
      item.line = line;
      auto [it, fresh] = seen.emplace(item.prompt.external_id, std::make_pair(item.prompt.content_hash, line));
      if (!fresh && it->second.first != item.prompt.content_hash) {
        throw FieldError("id", "'" + item.prompt.external_id + "' is already used on line " + std::to_string(it->second.second));
      }
      if (fresh) items.push_back(std::move(item));
    } catch (const FieldError& error) {
      throw ImportError(source_name + " line " + std::to_string(line) + ", field " + error.field + ": " + error.what(),
                        line, error.field);
    }
  }
  // Pass 2: write everything in one transaction.
  ImportSummary summary;
  storage::Transaction transaction(db);
  const std::string now = storage::utc_now();
  for (const ImportItem& item : items) {
    if (auto existing = storage::find_prompt_by_external_id(db, item.prompt.external_id)) {
      if (existing->content_hash == item.prompt.content_hash) {
        ++summary.unchanged;
        continue;
      }
      throw ImportError(source_name + " line " + std::to_string(item.line) + ", field id: prompt '" +
                            item.prompt.external_id + "' already exists with different content",
                        item.line, "id");
    }
    const int64_t prompt_id = storage::insert_prompt(db, item.prompt, now);
    if (item.ranked_by_hh) write_hh_ranking(db, prompt_id, item, now);
    ++summary.imported;
  }
  transaction.commit();
  return summary;
}

}  // namespace rlhf::labeling
