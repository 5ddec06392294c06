#include "cli/progress.hpp"

#include <gtest/gtest.h>

using namespace hubbatch;

// Issue 11: a paced run's first window goes out in a burst, and the ETA took
// that burst for the pace. It now takes the pace when that is slower.
TEST(progress_text, the_eta_follows_the_pace_not_the_first_burst) {
  engine::counters c;
  c.input_pairs = 100000;
  c.done_pairs = 19000;  // 190 requests of 100 pairs in the first second
  c.requests = 190;
  c.sent_pairs = 19000;
  engine::job_progress p{c, 0, 0, true, 1.0, 19.0, "window", false};  // 190 per 10 s
  // 81,000 pairs left at 19 requests/s of 100 pairs: about 43 s, not 4 s.
  const std::string text = cli::progress_text(p);
  EXPECT_NE(text.find("ETA 43s"), std::string::npos) << text;
  EXPECT_NE(text.find("19000 pairs/s"), std::string::npos) << "the rate shown is still the one measured: " << text;
  engine::job_progress unpaced{c, 0, 0, true, 1.0, 0, "unpaced", false};
  EXPECT_NE(cli::progress_text(unpaced).find("ETA 4s"), std::string::npos) << cli::progress_text(unpaced);
}

// Issue 15: the first pass over a partitioned input sends nothing (a rate of
// 0 for a minute at 100 million pairs); the line says what is going on.
TEST(progress_text, issue_15_the_partition_pass_is_named) {
  engine::counters c;
  c.input_pairs = 500;
  engine::job_progress p{c, 1000, 4000, false, 2.0, 0, "window", true};
  const std::string text = cli::progress_text(p);
  EXPECT_EQ(text.rfind("partitioning the input: 0 of ~2,000 pairs", 0), 0u) << text;
  p.partitioning = false;
  EXPECT_EQ(cli::progress_text(p).find("partitioning"), std::string::npos) << cli::progress_text(p);
}
