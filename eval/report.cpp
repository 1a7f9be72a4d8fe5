// The evaluation report as one self-contained HTML file: the table, training curves drawn as
// hand-written SVG, and samples side by side. Every string from the data goes through
// escape_html(); nothing here emits a script or an external URL, so the file can be mailed,
// archived and opened offline, and a model's output can never run as code in the reader's browser.
#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "io/atomic_file.h"
#include "text/utf8.h"

namespace rlhf {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Text and numbers

// Model output may hold invalid UTF-8: replace it rather than throw (nlohmann's default).
std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string escape_html(const std::string& raw) {
  std::string out;
  for (char c : valid_utf8(raw)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Any JSON value as display text: strings as they are, null as nothing, the rest as compact JSON.
std::string text_of(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return dump_json(j);
}

// obj[key], or null when obj is not an object or lacks the key (unknown shapes are not errors).
const json& member(const json& obj, const std::string& key) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

// A finite number, or nothing (null, NaN, a string, a boolean).
std::optional<double> number_of(const json& j) {
  if (!j.is_number()) return std::nullopt;
  const double v = j.get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format(const char* spec, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

// Three significant digits, without exponents over the range a report usually shows.
std::string format_number(double v) {
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 999.5) return format("%.0f", v);
  if (a < 1e-3) return format("%.2e", v);
  return format("%.3g", v);
}

std::string format_value(double v, bool percent) { return percent ? format("%.1f%%", 100 * v) : format_number(v); }

std::string format_interval(double lo, double hi, bool percent) {
  if (percent) return format("%.1f", 100 * lo) + "&ndash;" + format("%.1f%%", 100 * hi);
  return format_number(lo) + " &ndash; " + format_number(hi);
}

std::string format_seconds(double s) {
  if (s < 60) return format("%.1f s", s);
  if (s < 3600) return format("%.0f min ", std::floor(s / 60)) + format("%.0f s", std::fmod(s, 60));
  return format("%.0f h ", std::floor(s / 3600)) + format("%.0f min", std::floor(std::fmod(s, 3600) / 60));
}

const char* kDash = "&mdash;";

// The keys of an object: those in `first` (in that order) that are present, then the rest sorted.
std::vector<std::string> ordered_keys(const std::vector<std::string>& present, const std::vector<std::string>& first) {
  std::vector<std::string> out;
  for (const auto& k : first)
    if (std::find(present.begin(), present.end(), k) != present.end()) out.push_back(k);
  std::vector<std::string> rest;
  for (const auto& k : present)
    if (std::find(first.begin(), first.end(), k) == first.end()) rest.push_back(k);
  std::sort(rest.begin(), rest.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

std::vector<std::string> keys_of(const json& obj) {
  std::vector<std::string> keys;
  if (obj.is_object())
    for (auto it = obj.begin(); it != obj.end(); ++it) keys.push_back(it.key());
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Header, notes, the evaluation table

const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; margin: 0 auto;
       max-width: 1280px; padding: 16px 24px 48px; line-height: 1.4; }
h1 { margin-bottom: 4px; }
h2 { border-bottom: 1px solid #d9dee4; padding-bottom: 4px; margin-top: 32px; }
.meta, .muted { color: #52606d; font-size: 0.9em; }
.alarms { background: #fdecea; border: 1px solid #e8a29b; border-left: 6px solid #c0392b; padding: 8px 16px; margin: 16px 0; }
.notes { background: #fff8e1; border: 1px solid #f0c36d; border-left: 6px solid #e0a800; padding: 8px 16px; margin: 16px 0; }
.notes h2 { border: none; margin: 4px 0; font-size: 1.1em; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d9dee4; padding: 6px 10px; vertical-align: top; text-align: left; }
thead th { background: #f3f5f7; }
table.metrics td { text-align: right; white-space: nowrap; }
table.metrics td.best { background: #e3f6e8; font-weight: bold; }
table.metrics td.best .value::after { content: " \2605"; color: #2f855a; }
.ci, .n { display: block; font-size: 0.8em; color: #52606d; font-weight: normal; }
.key { display: block; font-size: 0.75em; color: #7b8794; font-weight: normal; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
svg.chart { background: #fbfcfd; border: 1px solid #e4e7eb; }
svg.chart .title { font-size: 12px; font-weight: bold; fill: #1f2933; }
svg.chart .tick { font-size: 10px; fill: #52606d; }
table.sample { table-layout: fixed; width: 100%; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.score { margin-top: 6px; font-size: 0.85em; color: #52606d; }
)";

std::vector<std::string> policies_of(const json& eval) {
  std::vector<std::string> policies;
  const json& listed = member(eval, "policies");
  if (listed.is_array())
    for (const auto& p : listed) policies.push_back(text_of(p));
  if (!policies.empty()) return policies;
  // No list: every policy that has a value somewhere, sorted.
  std::set<std::string> seen;
  for (const auto& [metric, row] : member(eval, "table").items())
    for (const auto& p : keys_of(row)) seen.insert(p);
  return {seen.begin(), seen.end()};
}

std::string render_header(const json& eval, const std::vector<std::string>& policies) {
  std::string html = "<header><h1>RLHF evaluation report</h1><div class=\"meta\">";
  const json& created = member(eval, "created_at");
  html += "Created " + (created.is_null() ? std::string(kDash) : escape_html(text_of(created)));
  html += " &middot; policies: ";
  for (size_t i = 0; i < policies.size(); ++i) html += (i ? ", " : "") + std::string("<b>") + escape_html(policies[i]) + "</b>";
  const json& reference = member(eval, "reference");
  if (!reference.is_null()) html += " &middot; win rates are against <b>" + escape_html(text_of(reference)) + "</b>";
  return html + "</div></header>\n";
}

// Near the top on purpose: a disclosure such as "labels came from a scripted labeler" changes
// how every number below should be read.
std::string render_notes(const json& eval) {
  const json& notes = member(eval, "notes");
  std::vector<std::string> items;
  if (notes.is_array())
    for (const auto& n : notes) items.push_back(text_of(n));
  else if (!notes.is_null())
    items.push_back(text_of(notes));
  if (items.empty()) return "";
  std::string html = "<section class=\"notes\" id=\"notes\"><h2>Read this first</h2><ul>";
  for (const auto& item : items) html += "<li class=\"text\">" + escape_html(item) + "</li>";
  return html + "</ul></section>\n";
}

struct Cell {
  std::optional<double> value;
  std::optional<std::pair<double, double>> ci95;
  std::optional<double> n;
};

// A cell is {"value", "ci95", "n"} or a bare number; anything else is "not measured".
Cell read_cell(const json& j) {
  Cell cell;
  if (j.is_number()) {
    cell.value = number_of(j);
    return cell;
  }
  cell.value = number_of(member(j, "value"));
  const json& ci = member(j, "ci95");
  if (ci.is_array() && ci.size() == 2) {
    auto lo = number_of(ci[0]), hi = number_of(ci[1]);
    if (lo && hi) cell.ci95 = std::make_pair(*lo, *hi);
  }
  cell.n = number_of(member(j, "n"));
  return cell;
}

std::string render_cell(const Cell& cell, bool percent, bool best) {
  if (!cell.value) return "<td class=\"missing\">" + std::string(kDash) + "</td>";
  std::string html = best ? "<td class=\"best\" title=\"best in this row\">" : "<td>";
  html += "<span class=\"value\">" + format_value(*cell.value, percent) + "</span>";
  if (cell.ci95) html += "<span class=\"ci\">95% CI " + format_interval(cell.ci95->first, cell.ci95->second, percent) + "</span>";
  if (cell.n) html += "<span class=\"n\">n=" + format("%.0f", *cell.n) + "</span>";
  return html + "</td>";
}

// The documented metric order (helpful, honest, harmless, then diagnostics); others follow sorted.
const std::vector<std::string> kMetricOrder = {
    "judge_win_rate", "helpful_win_rate", "truthfulqa_mc1", "truthfulqa_mc1_few_shot", "truthfulqa_mc2", "truthfulqa_mc2_few_shot",
    "hh_chosen_preferred", "anthropic_hhh_rate", "reward_mean", "kl_from_sft", "heldout_perplexity", "response_length"};

std::string render_metric_row(const std::string& metric, const json& row, const json& info,
                              const std::vector<std::string>& policies) {
  const json& title = member(info, "title");
  const bool percent = member(info, "format") == "percent";
  const json& hib = member(info, "higher_is_better");
  const bool higher_is_better = hib.is_boolean() ? hib.get<bool>() : true;

  std::vector<Cell> cells;
  for (const auto& p : policies) cells.push_back(read_cell(member(row, p)));
  // "Best" only means something when at least two policies were measured; ties are all marked.
  std::optional<double> best;
  int measured = 0;
  for (const auto& c : cells) {
    if (!c.value) continue;
    ++measured;
    if (!best || (higher_is_better ? *c.value > *best : *c.value < *best)) best = c.value;
  }
  if (member(info, "ranked") == json(false)) measured = 0;  // e.g. response length: no better direction
  std::string html = "<tr data-metric=\"" + escape_html(metric) + "\"><th scope=\"row\">" +
                     escape_html(title.is_null() ? metric : text_of(title));
  if (!title.is_null()) html += "<span class=\"key\">" + escape_html(metric) + "</span>";
  html += "</th>";
  for (const auto& c : cells) html += render_cell(c, percent, measured >= 2 && c.value && *c.value == *best);
  return html + "</tr>\n";
}

std::string render_table(const json& eval, const std::vector<std::string>& policies) {
  const json& table = member(eval, "table");
  const json& info = member(eval, "metric_info");
  std::string html = "<section id=\"evaluation\"><h2>Evaluation</h2>";
  auto metrics = ordered_keys(keys_of(table), kMetricOrder);
  if (metrics.empty()) return html + "<p class=\"muted\">No metrics in eval.json.</p></section>\n";
  html += "<p class=\"muted\">Best value per row is highlighted (&#9733;). &mdash; means not measured.</p>";
  html += "<table class=\"metrics\" id=\"eval-table\"><thead><tr><th>Metric</th>";
  for (const auto& p : policies) html += "<th scope=\"col\">" + escape_html(p) + "</th>";
  html += "</tr></thead><tbody>\n";
  for (const auto& m : metrics) html += render_metric_row(m, member(table, m), member(info, m), policies);
  return html + "</tbody></table></section>\n";
}

// ---------------------------------------------------------------------------------------------
// Reward model, human A/B labels, wall times

std::string measured_text(const json& j, bool percent) {
  Cell c = read_cell(j);
  if (!c.value) return kDash;
  std::string text = format_value(*c.value, percent);
  if (c.ci95) text += " (95% CI " + format_interval(c.ci95->first, c.ci95->second, percent) + ")";
  return text;
}

std::string render_details(const json& eval) {
  std::string html = "<section id=\"details\"><h2>Reward model, labels, time</h2><ul>";
  const json& rm = member(eval, "reward_model");
  html += "<li id=\"reward-model\">Reward model accuracy on held-out comparisons: " +
          (number_of(member(rm, "accuracy")) ? measured_text(json{{"value", member(rm, "accuracy")}, {"ci95", member(rm, "ci95")}}, true)
                                             : std::string("not measured"));
  if (auto pairs = number_of(member(rm, "pairs"))) html += ", " + format("%.0f", *pairs) + " pairs";
  if (auto longer = number_of(member(rm, "length_baseline_accuracy")))
    html += "; the longer response wins " + format_value(*longer, true) + ", chance 50%";
  // The bar a reward model has to clear, from its own training run (its held-out split).
  const json& trained = member(rm, "at_training");
  if (auto bag = number_of(member(trained, "bag_of_words_accuracy"))) {
    html += ". At training, on " + format("%.0f", number_of(member(trained, "pairs")).value_or(0)) +
            " held-out pairs: reward model " +
            measured_text(json{{"value", member(trained, "accuracy")}, {"ci95", member(trained, "ci95")}}, true) +
            ", bag-of-words " +
            measured_text(json{{"value", *bag}, {"ci95", member(trained, "bag_of_words_ci95")}}, true);
  }
  html += "</li>";

  const json& labeling = member(eval, "labeling");
  html += "<li id=\"labeling\">Human A/B labels: ";
  if (labeling.is_null()) {
    html += "no human labels yet (no A/B batch)";
  } else {
    html += "batch <b>" + escape_html(text_of(member(labeling, "batch"))) + "</b>";
    if (auto pairs = number_of(member(labeling, "pairs"))) html += ", " + format("%.0f", *pairs) + " pairs";
    if (!member(labeling, "db").is_null()) html += ", database " + escape_html(text_of(member(labeling, "db")));
    const json& human = member(labeling, "human_win_rate");
    html += "; ";
    if (!read_cell(human).value) {
      html += "no human labels yet";
    } else {
      html += "human win rate " + measured_text(human, true);
      if (auto n = number_of(member(human, "n"))) html += ", n=" + format("%.0f", *n);
    }
  }
  html += "</li></ul>";

  const json& seconds = member(eval, "stage_seconds");
  auto stages = keys_of(seconds);
  if (!stages.empty()) {
    html += "<table id=\"stage-times\"><thead><tr><th>Stage</th><th>Wall time</th></tr></thead><tbody>";
    for (const auto& s : ordered_keys(stages, {"pretrain", "sft", "reward", "ppo", "dpo", "rejection_sft", "eval"})) {
      auto v = number_of(member(seconds, s));
      html += "<tr><td>" + escape_html(s) + "</td><td>" + (v ? format_seconds(*v) : std::string(kDash)) + "</td></tr>";
    }
    html += "</tbody></table>";
  }
  return html + "</section>\n";
}

// ---------------------------------------------------------------------------------------------
// Training curves

using Series = std::vector<std::pair<double, double>>;  // (step, value)

// Numbers of one metrics line by flattened key ("held_out.score"); booleans are not numbers here.
void flatten(const json& obj, const std::string& prefix, std::map<std::string, double>& out) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string key = prefix + it.key();
    if (it->is_object()) flatten(*it, key + ".", out);
    else if (auto v = number_of(*it)) out[key] = *v;
  }
}

// Timings (time_rollout_s, ...) measure the machine, not learning: not charted.
bool is_charted(const std::string& key) {
  const auto dot = key.rfind('.');
  const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
  return key != "step" && leaf.rfind("time_", 0) != 0;
}

// Every charted key with at least two finite points, by key.
std::map<std::string, Series> collect_series(const StageMetrics& stage) {
  std::map<std::string, Series> series;
  for (const auto& line : stage.lines) {
    if (!line.is_object()) continue;
    auto step = number_of(member(line, "step"));
    if (!step) continue;
    std::map<std::string, double> values;
    flatten(line, "", values);
    for (const auto& [key, v] : values)
      if (is_charted(key)) series[key].emplace_back(*step, v);
  }
  for (auto it = series.begin(); it != series.end();) it = it->second.size() < 2 ? series.erase(it) : std::next(it);
  return series;
}

// The curves that tell most about a run come first when there are more than fit.
const std::vector<std::string> kChartOrder = {"loss", "val_loss", "eval_loss", "valid_accuracy", "score_mean",
                                              "kl", "beta", "reward_total", "held_out.score"};
constexpr size_t kMaxChartsPerStage = 12;

std::string svg_chart(const std::string& stage, const std::string& key, Series points) {
  constexpr double W = 300, H = 170, left = 56, right = 12, top = 26, bottom = 30;
  std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto [ymin_it, ymax_it] = std::minmax_element(points.begin(), points.end(),
                                                [](const auto& a, const auto& b) { return a.second < b.second; });
  const double xmin = points.front().first, xmax = points.back().first;
  const double ymin = ymin_it->second, ymax = ymax_it->second;
  // A flat series (or a single step) still needs a non-zero span: centre it.
  const double x0 = xmax > xmin ? xmin : xmin - 1, x1 = xmax > xmin ? xmax : xmax + 1;
  const double y0 = ymax > ymin ? ymin : ymin - 1, y1 = ymax > ymin ? ymax : ymax + 1;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (W - left - right); };
  auto py = [&](double y) { return H - bottom - (y - y0) / (y1 - y0) * (H - top - bottom); };

  const std::string title = escape_html(key);
  // Inline SVG in HTML needs no xmlns attribute, which keeps the file free of any URL.
  std::string svg = format("<svg class=\"chart\" width=\"%.0f\"", W) + format(" height=\"%.0f\"", H) +
        format(" viewBox=\"0 0 %.0f", W) + format(" %.0f\"", H) + " role=\"img\" data-key=\"" + title +
        "\" aria-label=\"" + escape_html(stage) + ": " + title + "\">";
  svg += "<text class=\"title\" x=\"" + format("%.0f", left) + "\" y=\"16\">" + title + "</text>";
  const std::string axis = "\" stroke=\"#9aa5b1\" stroke-width=\"1\"/>";
  svg += "<line x1=\"" + format("%.1f", left) + "\" y1=\"" + format("%.1f", top) + "\" x2=\"" + format("%.1f", left) +
         "\" y2=\"" + format("%.1f", H - bottom) + axis;
  svg += "<line x1=\"" + format("%.1f", left) + "\" y1=\"" + format("%.1f", H - bottom) + "\" x2=\"" +
         format("%.1f", W - right) + "\" y2=\"" + format("%.1f", H - bottom) + axis;
  // Min/max ticks only: the shape and the range are what a reader needs from a small multiple.
  auto tick = [&](double x, double y, const char* anchor, const std::string& label) {
    return "<text class=\"tick\" x=\"" + format("%.1f", x) + "\" y=\"" + format("%.1f", y) + "\" text-anchor=\"" +
           anchor + "\">" + label + "</text>";
  };
  svg += tick(left - 4, py(ymax) + 4, "end", format_number(ymax));
  if (ymax > ymin) svg += tick(left - 4, py(ymin) + 4, "end", format_number(ymin));
  svg += tick(px(xmin), H - bottom + 13, "start", format_number(xmin));
  if (xmax > xmin) svg += tick(px(xmax), H - bottom + 13, "end", format_number(xmax));
  svg += tick((left + W - right) / 2, H - 4, "middle", "step");
  svg += "<polyline fill=\"none\" stroke=\"#2563eb\" stroke-width=\"1.5\" points=\"";
  for (size_t i = 0; i < points.size(); ++i)
    svg += (i ? " " : "") + format("%.1f", px(points[i].first)) + "," + format("%.1f", py(points[i].second));
  return svg + "\"/></svg>";
}

std::string render_stage_charts(const StageMetrics& stage) {
  std::string html = "<div class=\"stage\" data-stage=\"" + escape_html(stage.stage) + "\"><h3>" + escape_html(stage.stage) + "</h3>";
  auto series = collect_series(stage);
  if (series.empty()) {
    const char* why = stage.lines.empty() ? "No metrics (missing or empty metrics.jsonl)." : "No metric with two or more points.";
    return html + "<p class=\"muted\">" + why + "</p></div>\n";
  }
  std::vector<std::string> keys;
  for (const auto& [key, points] : series) keys.push_back(key);
  keys = ordered_keys(keys, kChartOrder);
  html += "<div class=\"charts\">";
  for (size_t i = 0; i < keys.size() && i < kMaxChartsPerStage; ++i) html += svg_chart(stage.stage, keys[i], series[keys[i]]);
  html += "</div>";
  if (keys.size() > kMaxChartsPerStage) {
    html += "<p class=\"muted\">Not charted:";
    for (size_t i = kMaxChartsPerStage; i < keys.size(); ++i) html += " " + escape_html(keys[i]);
    html += "</p>";
  }
  return html + "</div>\n";
}

std::string render_curves(const std::vector<StageMetrics>& stages) {
  if (stages.empty()) return "";
  std::string html = "<section id=\"curves\"><h2>Training curves</h2>";
  for (const auto& stage : stages) html += render_stage_charts(stage);
  return html + "</section>\n";
}

// ---------------------------------------------------------------------------------------------
// Samples

std::string render_sample(size_t index, const json& sample, std::vector<std::string> columns) {
  const json& responses = member(sample, "responses");
  const json& scores = member(sample, "scores");
  for (const auto& p : keys_of(responses))  // a response from a policy not in the list is still shown
    if (std::find(columns.begin(), columns.end(), p) == columns.end()) columns.push_back(p);
  std::string html = "<div class=\"sample\"><h3>Sample " + std::to_string(index + 1) + "</h3><table class=\"sample\"><thead><tr><th>Prompt</th>";
  for (const auto& p : columns) html += "<th>" + escape_html(p) + "</th>";
  html += "</tr></thead><tbody><tr><td class=\"text prompt\">" + escape_html(text_of(member(sample, "prompt"))) + "</td>";
  for (const auto& p : columns) {
    const json& response = member(responses, p);
    if (response.is_null()) {
      html += "<td class=\"missing\">" + std::string(kDash) + "</td>";
      continue;
    }
    html += "<td data-policy=\"" + escape_html(p) + "\"><div class=\"text response\">" + escape_html(text_of(response)) + "</div>";
    if (auto score = number_of(member(scores, p))) html += "<div class=\"score\">score " + format_number(*score) + "</div>";
    html += "</td>";
  }
  return html + "</tr></tbody></table></div>\n";
}

std::string render_samples(const json& eval, const std::vector<std::string>& policies) {
  const json& samples = member(eval, "samples");
  if (!samples.is_array() || samples.empty()) return "";
  std::string html = "<section id=\"samples\"><h2>Sample responses</h2>";
  for (size_t i = 0; i < samples.size(); ++i) html += render_sample(i, samples[i], policies);
  return html + "</section>\n";
}

}  // namespace

StageMetrics read_stage_metrics(const std::string& stage, const std::filesystem::path& dir) {
  StageMetrics result{stage, {}};
  const auto file = dir / "metrics.jsonl";
  if (!std::filesystem::exists(file)) return result;
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::string line;
  while (std::getline(in, line)) {
    // A line torn by a crash (or hand-edited) costs one point, not the report.
    auto j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object()) result.lines.push_back(std::move(j));
  }
  return result;
}

// The warnings a training stage raised (its metrics lines' "alarms", e.g. PPO's reward-hacking
// alarms), first on the page: a figure below them may not mean what it seems.
std::string render_alarms(const std::vector<StageMetrics>& stages) {
  std::string items;
  for (const auto& stage : stages)
    for (const auto& line : stage.lines) {
      const json& alarms = member(line, "alarms");
      if (!alarms.is_array()) continue;
      for (const auto& a : alarms)
        if (a.is_string()) items += "<li>" + escape_html(stage.stage) + ": " + escape_html(a.get<std::string>()) + "</li>";
    }
  if (items.empty()) return "";
  return "<section class=\"alarms\" id=\"alarms\"><h2>Warnings</h2><ul>" + items + "</ul></section>\n";
}

std::string render_report_html(const json& eval, const std::vector<StageMetrics>& stages) {
  if (!eval.is_object()) throw std::runtime_error("eval report: expected a JSON object");
  const auto policies = policies_of(eval);
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  // Belt and braces: even if something slipped through, the page may load nothing and run nothing.
  html += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  html += "<title>RLHF evaluation report</title><style>" + std::string(kStyle) + "</style></head><body>\n";
  html += render_header(eval, policies);
  html += render_alarms(stages);
  html += render_notes(eval);
  html += render_table(eval, policies);
  html += render_details(eval);
  html += render_curves(stages);
  html += render_samples(eval, policies);
  return html + "</body></html>\n";
}

void write_report(const std::filesystem::path& file, const json& eval, const std::vector<StageMetrics>& stages) {
  const std::string html = render_report_html(eval, stages);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  write_file_atomic(file, html);
}

}  // namespace rlhf
