// The lineage database: runs, fingerprints, statuses and artifacts survive reopening.
#include <gtest/gtest.h>

#include "pipelines/lineage.h"
#include "model_test_util.h"

namespace rlhf {
namespace {

TEST(PipelineLineage, RunsAndArtifactsAreRecordedAndSurviveReopening) {
  test::TempDir tmp;
  const auto path = (tmp / "pipeline.db").string();
  {
    Lineage lineage(path);
    EXPECT_FALSE(lineage.latest("sft"));
    const int64_t first = lineage.begin("sft", "fp1", {{"input", "data/a.jsonl", "h1"}});
    lineage.finish(first, "failed", 1.5, "", {}, "boom");
    const int64_t second = lineage.begin("sft", "fp2", {{"input", "data/a.jsonl", "h2"}});
    lineage.finish(second, "done", 2.5, "out", {{"output", "runs/x/sft/summary.json", "h3"}});
  }
  Lineage reopened(path);
  auto latest = reopened.latest("sft");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->fingerprint, "fp2");
  EXPECT_EQ(latest->status, "done");
  EXPECT_EQ(latest->output_hash, "out");
  EXPECT_DOUBLE_EQ(latest->seconds, 2.5);
  auto artifacts = reopened.artifacts(latest->id);
  ASSERT_EQ(artifacts.size(), 2u);
  EXPECT_EQ(artifacts[0].role, "input");
  EXPECT_EQ(artifacts[0].hash, "h2");
  EXPECT_EQ(artifacts[1].role, "output");
  EXPECT_THROW(reopened.finish(latest->id, "bogus", 0, "", {}), std::runtime_error);  // CHECK constraint
}

}  // namespace
}  // namespace rlhf
