#include "experiments/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace kvlab::experiments {

namespace {

constexpr int kBarWidth = 24;
constexpr auto kRedrawInterval = std::chrono::milliseconds(250);

}  // namespace

ProgressBar::ProgressBar(std::string label, std::FILE* out)
    : label_(std::move(label)),
      out_(out),
      interactive_(::isatty(::fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

std::string ProgressBar::FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

void ProgressBar::Update(int64_t done, int64_t total) {
  done_ = done;
  total_ = total;
  const auto now = std::chrono::steady_clock::now();
  if (interactive_) {
    if (now - last_draw_ < kRedrawInterval) return;
    last_draw_ = now;
    Draw(false);
    return;
  }
  // Lines at 0%, 10%, ... 90%; Finish() writes the last.
  const int decile = total > 0 ? static_cast<int>(10 * done / total) : 0;
  if (decile > last_decile_ && decile < 10) {
    last_decile_ = decile;
    Draw(false);
  }
}

void ProgressBar::Finish() { Draw(true); }

void ProgressBar::Draw(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t worked = std::max<int64_t>(0, done_ - resumed_);
  const double rate = elapsed > 0 ? worked / elapsed : 0.0;
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 0.0;
  const int filled = static_cast<int>(fraction * kBarWidth);
  const std::string bar = std::string(filled, '#') + std::string(kBarWidth - filled, '.');
  const std::string timing =
      final ? absl::StrFormat("took %s", FormatDuration(elapsed))
            : absl::StrFormat("ETA %s", rate > 0 ? FormatDuration((total_ - done_) / rate) : "?");
  const std::string line = absl::StrFormat("[%s] %s %d/%d %s  %.1f %s/s  %s", label_, bar, done_,
                                           total_, unit_, rate, unit_abbreviation_, timing);
  if (interactive_) {
    absl::FPrintF(out_, "\r%s\033[K%s", line, final ? "\n" : "");
  } else {
    absl::FPrintF(out_, "%s\n", line);
  }
  std::fflush(out_);
}

}  // namespace kvlab::experiments
