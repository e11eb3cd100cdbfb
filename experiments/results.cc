#include "experiments/results.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/files.h"
#include "core/status_macros.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {

namespace {

using Json = nlohmann::ordered_json;

// JSON has no NaN; an unscored run's perplexity is null.
Json Number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json ToJsonObject(const RunRecord& r) {
  const eval::PerplexityResult& p = r.result;
  Json j;
  j["name"] = r.name;
  j["perplexity"] = Number(p.perplexity());
  j["mean_nll"] = Number(p.tokens_scored > 0 ? p.nll_sum / p.tokens_scored : NAN);
  j["tokens_scored"] = p.tokens_scored;
  j["kv_bytes_per_token"] = Number(r.kv_bytes_per_token());
  j["peak_kv_bytes"] = p.peak_held_bytes;
  j["tokens_per_second"] = Number(p.tokens_per_second());
  j["protocol"] = r.protocol;
  j["keys"] = r.keys;
  j["values"] = r.values;
  j["eviction"] = r.eviction;
  j["position_mode"] = r.position_mode;
  j["bits_per_element"] = Number(r.bits_per_element());
  j["compression_vs_fp16"] = Number(r.compression_vs_fp16());
  j["compression_vs_fp32"] = Number(r.compression_vs_fp32());
  j["peak_kv_allocated_bytes"] = p.peak_allocated_bytes;
  j["peak_metadata_bytes"] = p.peak_metadata_bytes;
  j["tokens_processed"] = p.tokens_processed;
  j["seconds"] = p.seconds;
  j["batch_size"] = p.batch_size;
  if (!p.bucket_count.empty()) {
    Json buckets = Json::array();
    for (size_t b = 0; b < p.bucket_count.size(); ++b) {
      if (p.bucket_count[b] == 0) continue;
      buckets.push_back({{"first_position", static_cast<int64_t>(b) * r.bucket_size},
                         {"tokens", p.bucket_count[b]},
                         {"mean_nll", p.bucket_nll_sum[b] / p.bucket_count[b]}});
    }
    j["nll_by_position"] = buckets;
  }
  return j;
}

std::string CsvField(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) {
    std::string s = value.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  return value.dump();
}

std::string HumanBytes(double bytes) {
  if (bytes >= 1024.0 * 1024.0) return absl::StrFormat("%.2f MiB", bytes / (1024.0 * 1024.0));
  if (bytes >= 1024.0) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.0f B", bytes);
}

}  // namespace

double RunRecord::bits_per_element() const {
  return elements_per_token > 0 ? 8.0 * kv_bytes_per_token() / elements_per_token : NAN;
}

double RunRecord::compression_vs_fp16() const {
  return kv_bytes_per_token() > 0 ? 2.0 * elements_per_token / kv_bytes_per_token() : NAN;
}

double RunRecord::compression_vs_fp32() const {
  return kv_bytes_per_token() > 0 ? 4.0 * elements_per_token / kv_bytes_per_token() : NAN;
}

std::string ToJson(const std::vector<RunRecord>& records) {
  Json list = Json::array();
  for (const RunRecord& r : records) list.push_back(ToJsonObject(r));
  return list.dump(2) + "\n";
}

std::string ToCsv(const std::vector<RunRecord>& records) {
  std::vector<std::string> header;
  std::vector<std::string> lines;
  for (const RunRecord& r : records) {
    const Json j = ToJsonObject(r);
    std::vector<std::string> fields;
    for (const auto& [key, value] : j.items()) {
      if (value.is_array()) continue;  // Buckets live in the JSON only.
      if (lines.empty()) header.push_back(key);
      fields.push_back(CsvField(value));
    }
    lines.push_back(absl::StrJoin(fields, ","));
  }
  if (records.empty()) return "";
  return absl::StrCat(absl::StrJoin(header, ","), "\n", absl::StrJoin(lines, "\n"), "\n");
}

std::string FormatTable(const std::vector<RunRecord>& records) {
  const std::vector<std::string> header = {
      "config", "perplexity", "tokens scored", "KV bytes/token", "bits/elem", "peak KV",
      "tokens/s"};
  std::vector<std::vector<std::string>> rows = {header};
  for (const RunRecord& r : records) {
    rows.push_back({r.name, absl::StrFormat("%.4f", r.result.perplexity()),
                    absl::StrCat(r.result.tokens_scored),
                    absl::StrFormat("%.0f", r.kv_bytes_per_token()),
                    absl::StrFormat("%.2f", r.bits_per_element()),
                    HumanBytes(static_cast<double>(r.result.peak_held_bytes)),
                    absl::StrFormat("%.1f", r.result.tokens_per_second())});
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < rows[i].size(); ++c) {
      // The name column is left-aligned, numbers right-aligned.
      cells.push_back(c == 0 ? absl::StrFormat("%-*s", widths[c], rows[i][c])
                             : absl::StrFormat("%*s", widths[c], rows[i][c]));
    }
    absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
    if (i == 0) {
      std::vector<std::string> rule;
      for (size_t c = 0; c < widths.size(); ++c) {
        rule.push_back(c == 0 ? std::string(widths[c] + 2, '-')
                              : std::string(widths[c] + 1, '-') + ":");
      }
      absl::StrAppend(&out, "|", absl::StrJoin(rule, "|"), "|\n");
    }
  }
  return out;
}

absl::Status WriteResults(const std::string& dir, const std::vector<RunRecord>& records) {
  KVLAB_RETURN_IF_ERROR(WriteFileAtomically(dir + "/results.json", ToJson(records)));
  return WriteFileAtomically(dir + "/results.csv", ToCsv(records));
}

}  // namespace kvlab::experiments
