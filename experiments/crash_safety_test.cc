// Kills the experiment runner with SIGKILL at random moments of a small sweep, again
// and again, in one output directory: every finished run must stay readable, the
// aggregate files must be absent or complete (never torn), and the next run must
// resume and finish with exactly the numbers of an uninterrupted run.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "eval/model/tiny_llama.h"
#include "experiments/results.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace kvlab::experiments {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kCaches = 6;
constexpr int kKills = 24;

class CrashSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/crash_safety";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_THAT(model::WriteTinyLlama(dir_ + "/tiny.gguf"), IsOk());
    std::ofstream text(dir_ + "/text.txt");
    for (int i = 0; i < 40; ++i) text << "the thin ant ran in the tan tent; then the ant ate. ";
  }

  // A sweep of kCaches caches, one at a time, into `out`; `tokens` changes every
  // run's fingerprint.
  std::string WriteConfig(const std::string& out, int tokens = 200) {
    const std::string path = absl::StrFormat("%s-%d.pbtxt", out, tokens);
    std::ofstream(path) << absl::StrFormat(R"pb(
      model_path: "%s/tiny.gguf" text_path: "%s/text.txt" output_dir: "%s"
      streaming { max_tokens: %d bucket_size: 50 }
      min_scored_tokens: 64
      threads: 1
      caches { name: "dense" }
      sweeps {
        base { eviction { budget { tokens: 64 } } }
        policies: ["window", "h2o", "tova", "knorm", "random"]
      })pb", dir_, dir_, out, tokens);
    return path;
  }

  // Starts the runner on `config`; its output goes to a log beside it.
  pid_t Start(const std::string& config) {
    const std::string flag = "--config=" + config;
    const std::string log = config + ".log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    char* argv[] = {const_cast<char*>("experiments/run"), const_cast<char*>(flag.c_str()), nullptr};
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  int Wait(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
  }

  // What a reader may find in `out` at any moment: finished runs, each whole, and
  // aggregates that are either absent or whole.
  int CheckReadable(const std::string& out) {
    int finished = 0;
    if (std::filesystem::exists(out + "/runs")) {
      for (const auto& entry : std::filesystem::directory_iterator(out + "/runs")) {
        if (entry.path().extension() != ".json") continue;
        const std::string path = entry.path().string();
        EXPECT_THAT(ParseRunJson(ReadFileToString(path).value_or(""), path), IsOk());
        ++finished;
      }
    }
    if (std::filesystem::exists(out + "/results.json")) {
      absl::StatusOr<std::vector<RunRecord>> all =
          ParseResultsJson(ReadFileToString(out + "/results.json").value_or(""), "results.json");
      EXPECT_THAT(all, IsOk());
      if (all.ok()) EXPECT_EQ(all->size(), kCaches);
    }
    if (std::filesystem::exists(out + "/results.csv")) {
      const std::vector<std::string> lines =
          absl::StrSplit(ReadFileToString(out + "/results.csv").value_or(""), '\n', absl::SkipEmpty());
      EXPECT_EQ(lines.size(), kCaches + 1);
    }
    if (std::filesystem::exists(out + "/results.md")) {
      EXPECT_THAT(ReadFileToString(out + "/results.md").value_or(""), ::testing::HasSubstr("random"));
    }
    return finished;
  }

  std::string dir_;
};

// The numbers of a run, without its timing.
std::string Numbers(const RunRecord& r) {
  return absl::StrFormat("%s %.17g %.17g %d %d %d %.17g", r.name, r.result.perplexity(),
                         r.result.nll_sum, r.result.tokens_scored, r.result.peak_held_bytes,
                         r.result.peak_allocated_bytes, r.result.mean_bytes_per_token);
}

std::vector<std::string> ResultNumbers(const std::string& out) {
  std::vector<std::string> numbers;
  const absl::StatusOr<std::vector<RunRecord>> records =
      ParseResultsJson(ReadFileToString(out + "/results.json").value_or(""), out);
  EXPECT_THAT(records, IsOk());
  if (!records.ok()) return numbers;
  for (const RunRecord& r : *records) numbers.push_back(Numbers(r));
  return numbers;
}

TEST_F(CrashSafetyTest, SigkillAtRandomMomentsThenResume) {
  // An uninterrupted run gives the reference numbers and the time a whole sweep takes.
  const std::string reference = dir_ + "/reference";
  const auto start = Clock::now();
  const std::string reference_config = WriteConfig(reference);
  ASSERT_EQ(Wait(Start(reference_config)), 0)
      << ReadFileToString(reference_config + ".log").value_or("(no log)");
  const double whole = std::chrono::duration<double>(Clock::now() - start).count();

  // Two configs with the same cache names and different fingerprints take turns, so
  // every start has runs to redo and aggregates to replace: a kill may land while the
  // old complete files are being replaced by new ones.
  const std::string out = dir_ + "/killed";
  const std::string configs[2] = {WriteConfig(out, 200), WriteConfig(out, 190)};
  const std::string& config = configs[0];
  std::mt19937 random(20261130);
  std::uniform_real_distribution<double> moment(0.0, 1.1 * whole);
  int finished = 0, killed_mid_run = 0, kills = 0;
  // A kill after a sweep ends tests less, and how many do depends on the machine's load
  // (a start that resumes runs finishes early): go on past kKills kills until half that
  // many landed mid-run.
  for (int k = 0; (k < kKills || killed_mid_run < kKills / 2) && k < 4 * kKills; ++k, ++kills) {
    const pid_t pid = Start(configs[k % 2]);
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(random)));
    ::kill(pid, SIGKILL);
    const int status = Wait(pid);
    if (WIFSIGNALED(status)) ++killed_mid_run;
    const int now = CheckReadable(out);
    EXPECT_GE(now, finished) << "a finished run was lost";
    finished = now;
  }
  EXPECT_GE(killed_mid_run, kKills / 2) << "in " << kills << " kills";
  ASSERT_EQ(Wait(Start(config)), 0) << ReadFileToString(config + ".log").value_or("(no log)");
  EXPECT_EQ(CheckReadable(out), kCaches);
  // Resumed or not, the numbers are those of the uninterrupted run, bit for bit.
  EXPECT_EQ(ResultNumbers(out), ResultNumbers(reference));
  std::printf("%d kills (%d inside a sweep); %d of %d run files present before the last start\n",
              kills, killed_mid_run, finished, kCaches);
}

TEST_F(CrashSafetyTest, SameConfigTwiceGivesBitIdenticalNumbers) {
  const std::string first = dir_ + "/first", second = dir_ + "/second";
  const std::string first_config = WriteConfig(first), second_config = WriteConfig(second);
  ASSERT_EQ(Wait(Start(first_config)), 0)
      << ReadFileToString(first_config + ".log").value_or("(no log)");
  ASSERT_EQ(Wait(Start(second_config)), 0)
      << ReadFileToString(second_config + ".log").value_or("(no log)");
  EXPECT_EQ(ResultNumbers(first), ResultNumbers(second));
}

TEST_F(CrashSafetyTest, SecondRunIntoTheSameDirectoryIsRefused) {
  const std::string out = dir_ + "/shared";
  const std::string config = WriteConfig(out);
  const pid_t first = Start(config);
  // Once the first run holds the lock (its pid is in the lock file), it is paused so
  // that the second certainly starts while the first is still at work.
  for (int i = 0; i < 1000 && ReadFileToString(out + "/.lock").value_or("").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(first, SIGSTOP);
  const std::string log = dir_ + "/second.pbtxt";
  std::filesystem::copy_file(config, log);
  const int second = Wait(Start(log));
  ::kill(first, SIGCONT);
  EXPECT_TRUE(WIFEXITED(second) && WEXITSTATUS(second) == 1);
  EXPECT_THAT(
      ReadFileToString(log + ".log"),
      IsOkAndHolds(::testing::HasSubstr("output directory " + out + " is in use by another run")));
  EXPECT_EQ(Wait(first), 0);
  EXPECT_EQ(CheckReadable(out), kCaches);
}

}  // namespace
}  // namespace kvlab::experiments
