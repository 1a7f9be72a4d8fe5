#include "pipelines/scripted_labeler.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "labeling/tasks.h"
#include "labeling/tokens.h"
#include "storage/clock.h"
#include "storage/labelers.h"

namespace rlhf {

using nlohmann::json;

namespace {

std::vector<std::string> words_of(const std::string& text, size_t min_length) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      if (word.size() >= min_length) words.push_back(word);
      word.clear();
    }
  }
  return words;
}

int64_t rule_score(const std::string& rule, const std::string& prompt, const std::string& response) {
  if (rule == "longer") return static_cast<int64_t>(words_of(response, 1).size());
  auto prompt_words = words_of(prompt, 3);
  std::set<std::string> wanted(prompt_words.begin(), prompt_words.end()), used;
  for (const auto& w : words_of(response, 3))
    if (wanted.count(w)) used.insert(w);
  return static_cast<int64_t>(used.size());
}

std::string last_user_message(const json& conversation) {
  for (auto it = conversation.rbegin(); it != conversation.rend(); ++it)
    if ((*it).value("role", "") == "user") return (*it).value("content", "");
  return "";
}

storage::Labeler labeler_for(storage::Database& db, const std::string& rule) {
  const std::string name = "scripted-" + rule;
  if (auto found = storage::find_labeler_by_name(db, name)) return *found;
  // External, inactive, with the hash of a token nobody sees: it cannot log in, and exports name
  // it as the source instead of "human".
  storage::insert_labeler(db, name, "external", labeling::sha256_hex(labeling::generate_token()), storage::utc_now());
  storage::set_labeler_active(db, name, false);
  return *storage::find_labeler_by_name(db, name);
}

}  // namespace

std::string scripted_rule_description(const std::string& rule) {
  if (rule == "prompt_overlap")
    return "scripted labeler 'prompt_overlap': ranks responses by how many distinct prompt words (3+ letters) they "
           "reuse, more first, equal counts tied - a crude relevance proxy, not human judgement";
  if (rule == "longer")
    return "scripted labeler 'longer': ranks longer responses (more words) first, equal counts tied - "
           "a length rule, not human judgement";
  throw std::runtime_error("label.scripted_rule \"" + rule + "\": expected prompt_overlap or longer");
}

int64_t run_scripted_labeler(storage::Database& db, const std::string& rule, int64_t max_tasks) {
  scripted_rule_description(rule);  // validates the rule
  const storage::Labeler labeler = labeler_for(db, rule);
  int64_t done = 0;
  while (done < max_tasks) {
    json task = labeling::next_task(db, labeler)["assignment"];
    if (task.is_null()) break;
    const std::string prompt = last_user_message(task["prompt"]["conversation"]);
    std::map<int64_t, std::vector<int64_t>, std::greater<>> by_score;  // score -> response ids, best first
    for (const auto& r : task["responses"])
      by_score[rule_score(rule, prompt, r["text"].get<std::string>())].push_back(r["id"].get<int64_t>());
    json tiers = json::array();
    for (const auto& [score, ids] : by_score) tiers.push_back(ids);
    const std::string key = "scripted-" + std::to_string(task["id"].get<int64_t>()) + "-" + rule;
    auto outcome = labeling::submit(db, labeler, task["id"].get<int64_t>(), key, {{"tiers", tiers}});
    if (outcome.status != 200 && outcome.status != 201)
      throw std::runtime_error("scripted labeler: submit failed: " + outcome.body.dump());
    ++done;
  }
  return done;
}

}  // namespace rlhf
