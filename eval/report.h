// The evaluation report: one self-contained HTML file (no external assets, no scripts needed to
// read it) with the evaluation table, training curves from every stage's metrics.jsonl as inline
// SVG charts, and sample responses side by side. LibTorch-free: it only reads JSON.
//
// eval.json (written by `rlhf eval`, read here) has this shape; every number may be null when the
// measurement was not run, and unknown keys are ignored:
// {
//   "policies": ["base", "sft", "ppo"],                  // column order
//   "reference": "sft",                                   // what win rates are measured against
//   "table": {                                            // metric -> policy -> value
//     "helpful_win_rate":        {"ppo": {"value": 0.62, "ci95": [0.55, 0.68], "n": 160}, ...},
//     "truthfulqa_mc1":          {"sft": {"value": 0.23, "n": 817}, ...},
//     "truthfulqa_mc1_few_shot": {...}, "truthfulqa_mc2": {...}, "truthfulqa_mc2_few_shot": {...},
//     "hh_chosen_preferred":     {...},                    // policy gives chosen > rejected likelihood
//     "anthropic_hhh_rate":      {...},                    // A/B answers matching the more-HHH behaviour
//     "reward_mean":             {...}, "kl_from_sft": {...}, "heldout_perplexity": {...},
//     "response_length":         {...}
//   },
//   "metric_info": {"helpful_win_rate": {"title": "Helpful: win rate vs SFT (reward model judge)",
//                                        "higher_is_better": true, "format": "percent"}, ...},
//                                                      // "ranked": false: no best cell (e.g. length)
//   "reward_model": {"accuracy": 0.56, "ci95": [0.51, 0.60], "pairs": 440},
//   "samples": [{"prompt": "...", "responses": {"sft": "...", "ppo": "..."},
//                "scores": {"sft": 0.1, "ppo": 0.7}}],
//   "labeling": {"db": "runs/x/labels.db", "batch": "eval-ab-1", "pairs": 40,
//                "human_win_rate": null | {"value": 0.6, "ci95": [..], "n": 12}},
//   "notes": ["Labels came from a scripted labeler, not people: rule ...", ...],
//   "stage_seconds": {"pretrain": 190.2, "sft": 80.1, ...},
//   "created_at": "2026-11-29T02:00:00Z"
// }
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rlhf {

// One chart group per stage: the lines of its metrics.jsonl (each with "step").
struct StageMetrics {
  std::string stage;                 // e.g. "pretrain", "sft", "reward", "ppo"
  std::vector<nlohmann::json> lines;
};

// Reads DIR/metrics.jsonl; a missing file gives no lines, a malformed line is skipped.
StageMetrics read_stage_metrics(const std::string& stage, const std::filesystem::path& dir);

// The whole HTML document. Every string from the data is HTML-escaped.
std::string render_report_html(const nlohmann::json& eval, const std::vector<StageMetrics>& stages);

// Renders and writes the file atomically.
void write_report(const std::filesystem::path& file, const nlohmann::json& eval, const std::vector<StageMetrics>& stages);

}  // namespace rlhf
