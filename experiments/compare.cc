#include "experiments/compare.h"

#include <cmath>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "experiments/token_nlls.h"

namespace kvlab::experiments {

std::string CompareTable(const std::vector<ResultSet>& sets) {
  std::vector<std::string> names;
  std::vector<absl::flat_hash_map<std::string, const RunRecord*>> by_name(sets.size());
  for (size_t s = 0; s < sets.size(); ++s) {
    for (const RunRecord& r : sets[s].records) {
      if (by_name[s].contains(r.name)) continue;
      by_name[s][r.name] = &r;
      bool seen = false;
      for (size_t k = 0; k < s && !seen; ++k) seen = by_name[k].contains(r.name);
      if (!seen) names.push_back(r.name);
    }
  }
  // The paired interval of a run's change from the first set to set s, when both kept
  // its per-token NLLs over the same tokens.
  const auto paired = [&](size_t s, const std::string& name) -> std::optional<Interval> {
    const auto a = sets[0].token_nlls.find(name);
    const auto b = sets[s].token_nlls.find(name);
    if (a == sets[0].token_nlls.end() || b == sets[s].token_nlls.end()) return std::nullopt;
    const absl::StatusOr<Interval> ci = PairedChangePercent(a->second, b->second, name, name);
    return ci.ok() ? std::optional<Interval>(*ci) : std::nullopt;
  };
  std::vector<bool> any_paired(sets.size(), false);
  for (size_t s = 1; s < sets.size(); ++s) {
    for (const std::string& name : names) any_paired[s] = any_paired[s] || paired(s, name);
  }
  std::vector<std::string> header = {"config"};
  for (size_t s = 0; s < sets.size(); ++s) {
    header.push_back(absl::StrCat("ppl ", sets[s].label));
    header.push_back(absl::StrCat("KV B/token ", sets[s].label));
    if (s > 0) header.push_back(absl::StrCat("Δ ppl ", sets[s].label));
    if (any_paired[s]) header.push_back(absl::StrCat("paired 95% CI ", sets[s].label));
  }
  std::string out = absl::StrCat("| ", absl::StrJoin(header, " | "), " |\n|---");
  for (size_t c = 1; c < header.size(); ++c) out += "|---:";
  out += "|\n";
  for (const std::string& name : names) {
    std::vector<std::string> row = {name};
    const auto find = [&](size_t s) -> const RunRecord* {
      auto it = by_name[s].find(name);
      return it == by_name[s].end() ? nullptr : it->second;
    };
    const RunRecord* first = find(0);
    for (size_t s = 0; s < sets.size(); ++s) {
      const RunRecord* r = find(s);
      row.push_back(r ? absl::StrFormat("%.4f", r->result.perplexity()) : "");
      row.push_back(r ? absl::StrFormat("%.0f", r->kv_bytes_per_token()) : "");
      if (s == 0) continue;
      if (r && first) {
        const auto [delta, percent] =
            PerplexityDelta(first->result.perplexity(), r->result.perplexity());
        row.push_back(absl::StrFormat("%+.4f (%+.2f%%)", delta, percent));
      } else {
        row.push_back("");
      }
      if (any_paired[s]) {
        const std::optional<Interval> ci = paired(s, name);
        row.push_back(ci ? absl::StrFormat("%+.2f%% .. %+.2f%%", ci->low, ci->high) : "");
      }
    }
    absl::StrAppend(&out, "| ", absl::StrJoin(row, " | "), " |\n");
  }
  return out;
}

}  // namespace kvlab::experiments
