// The evaluation report: what the HTML must and must never contain, and how metrics.jsonl is read.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "eval/report.h"
#include "test_util.h"

namespace rlhf {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// The <tr> of one metric in the evaluation table.
std::string row_of(const std::string& html, const std::string& metric) {
  const auto start = html.find("<tr data-metric=\"" + metric + "\"");
  EXPECT_NE(start, std::string::npos) << metric;
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</tr>", start) - start);
}

// The <td> cells of a row, in order.
std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> cells;
  for (size_t pos = row.find("<td"); pos != std::string::npos; pos = row.find("<td", pos + 1))
    cells.push_back(row.substr(pos, row.find("</td>", pos) - pos));
  return cells;
}

json three_policies() {
  return json{{"policies", {"base", "sft", "ppo"}}, {"reference", "sft"}, {"table", json::object()}};
}

StageMetrics stage(const std::string& name, std::vector<json> lines) { return StageMetrics{name, std::move(lines)}; }

TEST(EvalReport, ResponseTextIsEscapedNeverMarkup) {
  json eval = three_policies();
  eval["samples"] = {{{"prompt", "Say <i>hi</i> & \"quote\" 'single'"},
                      {"responses", {{"sft", "<script>alert(1)</script>"}, {"ppo", "<b>html</b>\nsecond line"}}},
                      {"scores", {{"sft", 0.1}, {"ppo", 0.7}}}}};
  const std::string html = render_report_html(eval, {});
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>html</b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;html&lt;/b&gt;\nsecond line"), std::string::npos);  // newline kept (pre-wrap)
  EXPECT_NE(html.find("Say &lt;i&gt;hi&lt;/i&gt; &amp; &quot;quote&quot; &#39;single&#39;"), std::string::npos);
  EXPECT_NE(html.find("white-space: pre-wrap"), std::string::npos);
}

TEST(EvalReport, NotesAndPolicyNamesAreEscapedToo) {
  json eval = three_policies();
  eval["policies"] = {"a<b", "sft"};
  eval["notes"] = {"Labels came from a scripted labeler <not people>."};
  eval["table"] = {{"m<x>", {{"a<b", 0.5}, {"sft", 0.4}}}};
  const std::string html = render_report_html(eval, {});
  EXPECT_NE(html.find("Labels came from a scripted labeler &lt;not people&gt;."), std::string::npos);
  EXPECT_NE(html.find("a&lt;b"), std::string::npos);
  EXPECT_NE(html.find("m&lt;x&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<not people>"), std::string::npos);
}

TEST(EvalReport, NotesComeBeforeTheTable) {
  json eval = three_policies();
  eval["notes"] = {"scripted labeler disclosure"};
  eval["table"] = {{"reward_mean", {{"sft", 0.1}}}};
  const std::string html = render_report_html(eval, {});
  ASSERT_NE(html.find("scripted labeler disclosure"), std::string::npos);
  EXPECT_LT(html.find("scripted labeler disclosure"), html.find("id=\"eval-table\""));
}

TEST(EvalReport, NullOrMissingMetricRendersAsDash) {
  json eval = three_policies();
  eval["table"] = {{"truthfulqa_mc1", {{"base", {{"value", nullptr}}}, {"sft", nullptr}, {"ppo", {{"value", 0.25}, {"n", 817}}}}}};
  const auto cells = cells_of(row_of(render_report_html(eval, {}), "truthfulqa_mc1"));
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_NE(cells[0].find("&mdash;"), std::string::npos);
  EXPECT_NE(cells[1].find("&mdash;"), std::string::npos);
  EXPECT_NE(cells[2].find("0.25"), std::string::npos);
  EXPECT_NE(cells[2].find("n=817"), std::string::npos);
}

TEST(EvalReport, OneColumnPerPolicyInListedOrder) {
  json eval = three_policies();
  eval["table"] = {{"reward_mean", {{"ppo", 3.0}, {"base", 1.0}, {"sft", 2.0}}}};
  const std::string html = render_report_html(eval, {});
  const auto cells = cells_of(row_of(html, "reward_mean"));
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_NE(cells[0].find(">1<"), std::string::npos);
  EXPECT_NE(cells[1].find(">2<"), std::string::npos);
  EXPECT_NE(cells[2].find(">3<"), std::string::npos);
}

TEST(EvalReport, BestCellIsMarkedPerRowRespectingHigherIsBetter) {
  json eval = three_policies();
  eval["table"] = {{"reward_mean", {{"base", 0.1}, {"sft", 0.5}, {"ppo", 0.9}}},
                   {"heldout_perplexity", {{"base", 40.0}, {"sft", 30.0}, {"ppo", 35.0}}},
                   {"response_length", {{"base", 10.0}, {"sft", nullptr}, {"ppo", nullptr}}}};
  eval["metric_info"] = {{"heldout_perplexity", {{"title", "Held-out perplexity"}, {"higher_is_better", false}}}};
  const std::string html = render_report_html(eval, {});
  auto best_flags = [&](const std::string& metric) {
    std::vector<bool> flags;
    for (const auto& c : cells_of(row_of(html, metric))) flags.push_back(c.find("class=\"best\"") != std::string::npos);
    return flags;
  };
  EXPECT_EQ(best_flags("reward_mean"), (std::vector<bool>{false, false, true}));         // higher is better by default
  EXPECT_EQ(best_flags("heldout_perplexity"), (std::vector<bool>{false, true, false}));  // lower is better here
  EXPECT_EQ(best_flags("response_length"), (std::vector<bool>{false, false, false}));    // one value: nothing to compare
  EXPECT_NE(row_of(html, "heldout_perplexity").find("Held-out perplexity"), std::string::npos);
  // "ranked": false opts a metric out of best-marking even when several policies have values.
  eval["table"]["response_length"] = {{"base", 10.0}, {"sft", 20.0}, {"ppo", 2.0}};
  eval["metric_info"]["response_length"] = {{"ranked", false}};
  const std::string unranked = render_report_html(eval, {});
  std::vector<bool> flags;
  for (const auto& c : cells_of(row_of(unranked, "response_length"))) flags.push_back(c.find("class=\"best\"") != std::string::npos);
  EXPECT_EQ(flags, (std::vector<bool>{false, false, false}));
}

TEST(EvalReport, PercentFormatWithInterval) {
  json eval = three_policies();
  eval["table"] = {{"helpful_win_rate", {{"ppo", {{"value", 0.62}, {"ci95", {0.55, 0.68}}, {"n", 160}}}}}};
  eval["metric_info"] = {{"helpful_win_rate", {{"title", "Helpful: win rate vs SFT"}, {"format", "percent"}}}};
  const std::string row = row_of(render_report_html(eval, {}), "helpful_win_rate");
  EXPECT_NE(row.find("62.0%"), std::string::npos);
  EXPECT_NE(row.find("95% CI 55.0&ndash;68.0%"), std::string::npos);
  EXPECT_NE(row.find("n=160"), std::string::npos);
  EXPECT_NE(row.find("Helpful: win rate vs SFT"), std::string::npos);
}

TEST(EvalReport, PlainNumbersHaveThreeSignificantDigits) {
  json eval = three_policies();
  eval["table"] = {{"kl_from_sft", {{"base", 12.3456}, {"sft", 0.0}, {"ppo", 0.123456}}}};
  const std::string row = row_of(render_report_html(eval, {}), "kl_from_sft");
  EXPECT_NE(row.find(">12.3<"), std::string::npos);
  EXPECT_NE(row.find(">0<"), std::string::npos);
  EXPECT_NE(row.find(">0.123<"), std::string::npos);
}

TEST(EvalReport, HumanLabelsAndRewardModelLine) {
  json eval = three_policies();
  eval["reward_model"] = {{"accuracy", 0.56}, {"ci95", {0.51, 0.60}}, {"pairs", 440}};
  eval["labeling"] = {{"db", "runs/x/labels.db"}, {"batch", "eval-ab-1"}, {"pairs", 40}, {"human_win_rate", nullptr}};
  eval["stage_seconds"] = {{"pretrain", 190.2}, {"sft", 80.1}};
  std::string html = render_report_html(eval, {});
  EXPECT_NE(html.find("56.0%"), std::string::npos);
  EXPECT_NE(html.find("440 pairs"), std::string::npos);
  EXPECT_NE(html.find("eval-ab-1"), std::string::npos);
  EXPECT_NE(html.find("no human labels yet"), std::string::npos);
  EXPECT_NE(html.find("3 min 10 s"), std::string::npos);
  eval["labeling"]["human_win_rate"] = {{"value", 0.6}, {"ci95", {0.3, 0.85}}, {"n", 12}};
  html = render_report_html(eval, {});
  EXPECT_EQ(html.find("no human labels yet"), std::string::npos);
  EXPECT_NE(html.find("human win rate 60.0%"), std::string::npos);
}

TEST(EvalReport, RewardModelLineShowsTheBaselinesItHasToBeat) {
  json eval = three_policies();
  eval["reward_model"] = {{"accuracy", 0.55},
                          {"ci95", {0.48, 0.62}},
                          {"pairs", 200},
                          {"length_baseline_accuracy", 0.43},
                          {"at_training",
                           {{"accuracy", 0.577}, {"ci95", {0.531, 0.622}}, {"pairs", 440},
                            {"bag_of_words_accuracy", 0.598}, {"bag_of_words_ci95", {0.551, 0.643}}}}};
  const std::string html = render_report_html(eval, {});
  const auto line = html.substr(html.find("id=\"reward-model\""), 600);
  EXPECT_NE(line.find("the longer response wins 43.0%, chance 50%"), std::string::npos) << line;
  EXPECT_NE(line.find("440 held-out pairs: reward model 57.7%"), std::string::npos) << line;
  EXPECT_NE(line.find("bag-of-words 59.8% (95% CI 55.1&ndash;64.3%)"), std::string::npos) << line;
  eval["reward_model"] = {{"accuracy", nullptr}};
  EXPECT_EQ(render_report_html(eval, {}).find("bag-of-words"), std::string::npos);
}

TEST(EvalReport, TrainingAlarmsComeFirstAndEscaped) {
  const auto ppo = stage("ppo", {
      {{"step", 8}, {"score_mean", 0.1}},
      {{"step", 16}, {"score_mean", 0.3}, {"alarms", {"iteration 16: mean response length 4.0 tokens <b>"}}},
  });
  const std::string html = render_report_html(three_policies(), {ppo});
  const auto at = html.find("id=\"alarms\"");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(at, html.find("id=\"evaluation\""));
  EXPECT_NE(html.find("<li>ppo: iteration 16: mean response length 4.0 tokens &lt;b&gt;</li>"), std::string::npos);
  EXPECT_EQ(render_report_html(three_policies(), {stage("ppo", {{{"step", 8}, {"score_mean", 0.1}}})}).find("id=\"alarms\""),
            std::string::npos);
}

TEST(EvalReport, OneChartPerNumericMetricWithTwoPoints) {
  const auto ppo = stage("ppo", {
      {{"step", 1}, {"score_mean", 0.1}, {"kl", 0.0}, {"time_rollout_s", 3.0}, {"early_stop", false}, {"note", "x"}},
      {{"step", 2}, {"score_mean", 0.3}, {"kl", 0.5}, {"time_rollout_s", 2.0}, {"held_out", {{"score", 0.2}, {"kl", 0.1}}}},
      {{"step", 3}, {"score_mean", 0.4}, {"kl", nullptr}, {"once", 7.0}, {"held_out", {{"score", 0.4}, {"kl", 0.2}}}},
  });
  const std::string html = render_report_html(three_policies(), {ppo});
  // score_mean, kl (two finite points), held_out.score, held_out.kl; not step, time_*, booleans,
  // strings or "once" (a single point).
  EXPECT_EQ(count(html, "<svg"), 4u);
  EXPECT_EQ(count(html, "<polyline"), 4u);
  for (const char* key : {"score_mean", "kl", "held_out.score", "held_out.kl"})
    EXPECT_NE(html.find("data-key=\"" + std::string(key) + "\""), std::string::npos) << key;
  for (const char* key : {"step", "time_rollout_s", "once", "early_stop", "note"})
    EXPECT_EQ(html.find("data-key=\"" + std::string(key) + "\""), std::string::npos) << key;
  // Priority order: score_mean before kl before held_out.score.
  EXPECT_LT(html.find("data-key=\"score_mean\""), html.find("data-key=\"kl\""));
  EXPECT_LT(html.find("data-key=\"kl\""), html.find("data-key=\"held_out.score\""));
}

TEST(EvalReport, PolylineHasOnePointPerFiniteValue) {
  const auto s = stage("sft", {{{"step", 0}, {"loss", 2.0}}, {{"step", 10}, {"loss", nullptr}},
                               {{"step", 20}, {"loss", 1.5}}, {{"step", 30}, {"loss", 1.0}}});
  const std::string html = render_report_html(three_policies(), {s});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("<polyline[^>]*points=\"([^\"]*)\"")));
  const std::string points = m[1];
  EXPECT_EQ(count(points, ","), 3u) << points;
}

TEST(EvalReport, AtMostTwelveChartsPerStagePreferringTheInformativeOnes) {
  json line1 = {{"step", 1}}, line2 = {{"step", 2}};
  for (int i = 0; i < 20; ++i) {
    line1["a" + std::to_string(10 + i)] = i;
    line2["a" + std::to_string(10 + i)] = i + 1;
  }
  line1["loss"] = 2.0;
  line2["loss"] = 1.0;
  const std::string html = render_report_html(three_policies(), {stage("pretrain", {line1, line2})});
  EXPECT_EQ(count(html, "<svg"), 12u);
  EXPECT_NE(html.find("data-key=\"loss\""), std::string::npos);
  EXPECT_LT(html.find("data-key=\"loss\""), html.find("data-key=\"a10\""));
  EXPECT_EQ(html.find("data-key=\"a29\""), std::string::npos);
}

TEST(EvalReport, StageWithoutMetricsSaysSoWithoutCharts) {
  const std::string html = render_report_html(three_policies(), {stage("reward", {}), stage("sft", {{{"step", 1}, {"loss", 1.0}}})});
  EXPECT_EQ(count(html, "<svg"), 0u);
  EXPECT_NE(html.find("data-stage=\"reward\""), std::string::npos);
  EXPECT_NE(html.find("No metrics"), std::string::npos);
}

TEST(EvalReport, NoScriptsAndNoExternalUrls) {
  json eval = three_policies();
  eval["notes"] = {"see https://example.com"};  // data is escaped text; this note keeps its URL as text
  eval["table"] = {{"reward_mean", {{"sft", 0.1}, {"ppo", 0.2}}}};
  eval["samples"] = {{{"prompt", "p"}, {"responses", {{"sft", "r"}}}}};
  const std::string html = render_report_html(eval, {stage("sft", {{{"step", 1}, {"loss", 2.0}}, {{"step", 2}, {"loss", 1.0}}})});
  // The report's own markup has no URL; only the note (escaped text) mentions one.
  EXPECT_EQ(count(html, "https://"), 1u);
  eval["notes"] = {"plain note"};
  const std::string clean = render_report_html(eval, {stage("sft", {{{"step", 1}, {"loss", 2.0}}, {{"step", 2}, {"loss", 1.0}}})});
  EXPECT_EQ(clean.find("http://"), std::string::npos);
  EXPECT_EQ(clean.find("https://"), std::string::npos);
  EXPECT_EQ(clean.find("<script"), std::string::npos);
  EXPECT_EQ(clean.find("<link"), std::string::npos);
  EXPECT_EQ(clean.find("src="), std::string::npos);
  EXPECT_EQ(clean.find("url("), std::string::npos);
}

TEST(EvalReport, InvalidUtf8DoesNotThrow) {
  json eval = three_policies();
  const std::string bad = "caf\xC3 \xFF\xFE end";
  eval["notes"] = {bad};
  eval["samples"] = {{{"prompt", bad}, {"responses", {{"ppo", bad}}}}};
  eval["table"] = {{bad, {{"ppo", 1.0}}}};
  std::string html;
  ASSERT_NO_THROW(html = render_report_html(eval, {stage(bad, {{{"step", 1}, {bad, 1.0}}, {{"step", 2}, {bad, 2.0}}})}));
  EXPECT_NE(html.find("end"), std::string::npos);
  EXPECT_EQ(html.find("\xFF"), std::string::npos);  // replaced, not passed through
  EXPECT_NE(html.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD
}

TEST(EvalReport, NonObjectEvalIsAnError) {
  EXPECT_THROW(render_report_html(json::array(), {}), std::runtime_error);
}

TEST(EvalReport, UnexpectedShapesAreIgnoredNotFatal) {
  json eval = {{"policies", "not a list"}, {"table", {{"reward_mean", {{"sft", "high"}, {"ppo", {1, 2}}}}}},
               {"samples", {42, {{"responses", "x"}}}}, {"labeling", 3}, {"notes", "one note"}};
  std::string html;
  ASSERT_NO_THROW(html = render_report_html(eval, {}));
  EXPECT_NE(html.find("one note"), std::string::npos);
}

TEST(EvalReport, MissingMetricsFileGivesAnEmptyStage) {
  test::TempDir dir;
  const auto s = read_stage_metrics("sft", dir / "does-not-exist");
  EXPECT_EQ(s.stage, "sft");
  EXPECT_TRUE(s.lines.empty());
}

TEST(EvalReport, MalformedMetricsLinesAreSkipped) {
  test::TempDir dir;
  fs::create_directories(dir / "ppo");
  std::ofstream(dir / "ppo" / "metrics.jsonl") << "{\"step\":1,\"kl\":0.1}\n"
                                                   "not json\n"
                                                   "\n"
                                                   "[1,2]\n"
                                                   "{\"step\":2,\"kl\":NaN}\n"
                                                   "{\"step\":3,\"kl\":0.3}\n"
                                                   "{\"step\":4,\"kl\":0.";  // torn last line
  const auto s = read_stage_metrics("ppo", dir / "ppo");
  ASSERT_EQ(s.lines.size(), 2u);
  EXPECT_EQ(s.lines[0]["step"], 1);
  EXPECT_EQ(s.lines[1]["step"], 3);
}

TEST(EvalReport, WriteReportWritesTheFileAtomically) {
  test::TempDir dir;
  const auto file = dir / "out" / "report.html";
  write_report(file, three_policies(), {});
  ASSERT_TRUE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, render_report_html(three_policies(), {}));
  EXPECT_EQ(text.rfind("<!DOCTYPE html>", 0), 0u);
}

}  // namespace
}  // namespace rlhf
