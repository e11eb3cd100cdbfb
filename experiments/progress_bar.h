// ProgressBar: tokens done, tokens/s and ETA on stderr while a run goes.
//
// On a terminal it redraws one line in place (at most a few times a second); into a
// file or pipe it writes a line every tenth of the way, so logs stay short.
#ifndef KVLAB_EXPERIMENTS_PROGRESS_BAR_H_
#define KVLAB_EXPERIMENTS_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace kvlab::experiments {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label, std::FILE* out = stderr);

  // What is counted: "tokens" ("tok/s") unless set, e.g. to "prompts" ("prompt/s").
  void set_unit(std::string unit, std::string abbreviation) {
    unit_ = std::move(unit);
    unit_abbreviation_ = std::move(abbreviation);
  }

  // Units a resumed run found finished and reads back: counted in `done` but not in the
  // rate (nor, through it, in the ETA), which then speak of this process's work only.
  void set_resumed(int64_t resumed) { resumed_ = resumed; }

  // Reports `done` of `total` tokens (or units).
  void Update(int64_t done, int64_t total);
  // Draws the final state and ends the line.
  void Finish();

  // "1h02m", "3m07s", "12s".
  static std::string FormatDuration(double seconds);

 private:
  void Draw(bool final);

  std::string label_;
  std::string unit_ = "tokens";
  std::string unit_abbreviation_ = "tok";
  std::FILE* out_;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int64_t done_ = 0;
  int64_t total_ = 0;
  int64_t resumed_ = 0;
  int last_decile_ = -1;
};

}  // namespace kvlab::experiments

#endif  // KVLAB_EXPERIMENTS_PROGRESS_BAR_H_
