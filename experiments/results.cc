#include "experiments/results.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/status_macros.h"
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
  j["weights_dtype"] = r.weights_dtype;
  j["weight_bytes"] = r.weight_bytes;
  j["protocol"] = r.protocol;
  j["keys"] = r.keys;
  j["values"] = r.values;
  j["eviction"] = r.eviction;
  j["policy"] = r.policy;
  j["budget"] = r.budget;
  j["position_mode"] = r.position_mode;
  j["bits_per_element"] = Number(r.bits_per_element());
  j["compression_vs_fp16"] = Number(r.compression_vs_fp16());
  j["compression_vs_fp32"] = Number(r.compression_vs_fp32());
  j["peak_kv_allocated_bytes"] = p.peak_allocated_bytes;
  j["peak_metadata_bytes"] = p.peak_metadata_bytes;
  j["tokens_processed"] = p.tokens_processed;
  j["seconds"] = p.seconds;
  j["batch_size"] = p.batch_size;
  j["nll_sum"] = p.nll_sum;
  j["nll_squared_sum"] = p.nll_squared_sum;
  j["perplexity_stderr"] = Number(p.nll_squared_sum > 0 ? p.perplexity_stderr() : NAN);
  if (p.has_reference) {
    const auto [low, high] = p.change_percent_ci95();
    j["kld_mean"] = Number(p.mean_kld());
    j["kld_p99"] = Number(p.kld_p99);
    j["top1_agreement"] = Number(p.top1_agreement());
    j["change_percent_ci95_low"] = Number(low);
    j["change_percent_ci95_high"] = Number(high);
    const Interval kld = p.kld_ci95(), top1 = p.top1_ci95();
    j["kld_ci95_low"] = Number(kld.low);
    j["kld_ci95_high"] = Number(kld.high);
    j["top1_ci95_low"] = Number(top1.low);
    j["top1_ci95_high"] = Number(top1.high);
    j["kld_sum"] = p.kld_sum;
    j["kld_squared_sum"] = Number(p.kld_squared_sum);
    j["top1_agreements"] = p.top1_agreements;
    j["nll_difference_sum"] = p.nll_difference_sum;
    j["nll_difference_squared_sum"] = p.nll_difference_squared_sum;
  }
  j["elements_per_token"] = r.elements_per_token;
  j["bucket_size"] = r.bucket_size;
  j["fingerprint"] = r.fingerprint;
  if (r.paired_change_ci95.has_value()) {
    j["paired_change_percent_ci95_low"] = Number(r.paired_change_ci95->low);
    j["paired_change_percent_ci95_high"] = Number(r.paired_change_ci95->high);
  }
  if (r.is_retrieval()) {
    j["retrieval_accuracy"] = Number(r.retrieval_accuracy());
    Json cells = Json::array();
    for (const retrieval::RetrievalCell& c : r.retrieval) {
      cells.push_back({{"context_tokens", c.context_tokens},
                       {"depth", c.depth},
                       {"trials", c.trials},
                       {"correct", c.correct},
                       {"prompt_tokens", c.prompt_tokens},
                       {"answers", c.answers}});
    }
    j["retrieval"] = cells;
  }
  if (!r.details.is_null()) j["details"] = r.details;
  if (!r.retained_mass_by_layer.empty()) {
    Json mass = Json::array();
    for (double m : r.retained_mass_by_layer) mass.push_back(Number(m));
    j["retained_mass_by_layer"] = mass;
  }
  if (!p.bucket_count.empty()) {
    Json buckets = Json::array();
    for (size_t b = 0; b < p.bucket_count.size(); ++b) {
      buckets.push_back({{"first_position", static_cast<int64_t>(b) * r.bucket_size},
                         {"tokens", p.bucket_count[b]},
                         {"nll_sum", p.bucket_nll_sum[b]},
                         {"mean_nll", Number(p.bucket_count[b] > 0
                                                 ? p.bucket_nll_sum[b] / p.bucket_count[b]
                                                 : NAN)}});
    }
    j["nll_by_position"] = buckets;
  }
  return j;
}

absl::StatusOr<RunRecord> FromJsonObject(const Json& j, const std::string& source) {
  try {
    RunRecord r;
    r.name = j.at("name").get<std::string>();
    r.protocol = j.value("protocol", "");
    r.keys = j.value("keys", "");
    r.values = j.value("values", "");
    r.eviction = j.value("eviction", "");
    r.policy = j.value("policy", "");
    r.budget = j.value("budget", int64_t{0});
    r.position_mode = j.value("position_mode", "");
    r.fingerprint = j.value("fingerprint", "");
    r.elements_per_token = j.value("elements_per_token", int64_t{0});
    r.bucket_size = j.value("bucket_size", int64_t{0});
    r.weights_dtype = j.value("weights_dtype", "");
    r.weight_bytes = j.value("weight_bytes", int64_t{0});
    eval::PerplexityResult& p = r.result;
    p.tokens_scored = j.at("tokens_scored").get<int64_t>();
    p.nll_sum = j.contains("nll_sum") ? j.at("nll_sum").get<double>()
                                      : std::log(j.at("perplexity").get<double>()) * p.tokens_scored;
    p.nll_squared_sum = j.value("nll_squared_sum", 0.0);
    p.has_reference = j.contains("kld_sum");
    if (p.has_reference) {
      p.kld_sum = j.at("kld_sum").get<double>();
      // Results written before the KL interval was recorded have none.
      p.kld_squared_sum = j.contains("kld_squared_sum") && !j.at("kld_squared_sum").is_null()
                              ? j.at("kld_squared_sum").get<double>()
                              : std::nan("");
      p.kld_p99 = j.at("kld_p99").is_null() ? 0.0 : j.at("kld_p99").get<double>();
      p.top1_agreements = j.at("top1_agreements").get<int64_t>();
      p.nll_difference_sum = j.at("nll_difference_sum").get<double>();
      p.nll_difference_squared_sum = j.at("nll_difference_squared_sum").get<double>();
    }
    p.tokens_processed = j.value("tokens_processed", int64_t{0});
    p.seconds = j.value("seconds", 0.0);
    p.batch_size = j.value("batch_size", 1);
    p.mean_bytes_per_token = j.at("kv_bytes_per_token").is_null() ? 0.0
                                                                  : j.at("kv_bytes_per_token").get<double>();
    p.peak_held_bytes = j.at("peak_kv_bytes").get<int64_t>();
    p.peak_allocated_bytes = j.value("peak_kv_allocated_bytes", int64_t{0});
    p.peak_metadata_bytes = j.value("peak_metadata_bytes", int64_t{0});
    if (j.contains("retrieval")) {
      for (const Json& c : j.at("retrieval")) {
        retrieval::RetrievalCell cell;
        cell.context_tokens = c.at("context_tokens").get<int64_t>();
        cell.depth = c.at("depth").get<double>();
        cell.trials = c.at("trials").get<int>();
        cell.correct = c.at("correct").get<int>();
        cell.prompt_tokens = c.at("prompt_tokens").get<int64_t>();
        cell.answers = c.at("answers").get<std::vector<std::string>>();
        r.retrieval.push_back(std::move(cell));
      }
    }
    if (j.contains("details")) r.details = j.at("details");
    if (j.contains("retained_mass_by_layer")) {
      for (const Json& m : j.at("retained_mass_by_layer")) {
        r.retained_mass_by_layer.push_back(m.is_null() ? NAN : m.get<double>());
      }
    }
    if (j.contains("nll_by_position")) {
      for (const Json& b : j.at("nll_by_position")) {
        p.bucket_count.push_back(b.at("tokens").get<int64_t>());
        p.bucket_nll_sum.push_back(b.at("nll_sum").get<double>());
      }
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: not a kvlab result: %s", source, e.what()));
  }
}

std::string CsvField(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
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

// Perplexity change against the baseline, absolute and relative.
std::pair<double, double> Delta(const std::vector<RunRecord>& records, size_t i, int baseline) {
  if (baseline < 0) return {NAN, NAN};
  return PerplexityDelta(records[baseline].result.perplexity(), records[i].result.perplexity());
}

}  // namespace

std::pair<double, double> PerplexityDelta(double base, double perplexity) {
  return {perplexity - base, 100.0 * (perplexity / base - 1.0)};
}

double RunRecord::bits_per_element() const {
  return elements_per_token > 0 ? 8.0 * kv_bytes_per_token() / elements_per_token : NAN;
}

double RunRecord::compression_vs_fp16() const {
  return kv_bytes_per_token() > 0 ? 2.0 * elements_per_token / kv_bytes_per_token() : NAN;
}

double RunRecord::compression_vs_fp32() const {
  return kv_bytes_per_token() > 0 ? 4.0 * elements_per_token / kv_bytes_per_token() : NAN;
}

double RunRecord::retrieval_accuracy() const { return retrieval::Accuracy(retrieval); }

bool RunRecord::is_dense_baseline() const {
  return keys == "fp32" && values == "fp32" && eviction == "none";
}

int FindBaseline(const std::vector<RunRecord>& records, absl::string_view name) {
  for (size_t i = 0; i < records.size(); ++i) {
    if (name.empty() ? records[i].is_dense_baseline() : records[i].name == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string ToJson(const std::vector<RunRecord>& records) {
  Json list = Json::array();
  for (const RunRecord& r : records) list.push_back(ToJsonObject(r));
  return list.dump(2) + "\n";
}

std::string RunToJson(const RunRecord& record) { return ToJsonObject(record).dump(2) + "\n"; }

absl::StatusOr<std::vector<RunRecord>> ParseResultsJson(absl::string_view text,
                                                        const std::string& source) {
  const Json list = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_array()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected a JSON list of results", source));
  }
  std::vector<RunRecord> records;
  for (const Json& j : list) {
    KVLAB_ASSIGN_OR_RETURN(RunRecord r, FromJsonObject(j, source));
    records.push_back(std::move(r));
  }
  return records;
}

absl::StatusOr<RunRecord> ParseRunJson(absl::string_view text, const std::string& source) {
  const Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected a JSON result object", source));
  }
  return FromJsonObject(j, source);
}

std::string ToCsv(const std::vector<RunRecord>& records, int baseline) {
  std::vector<std::string> header;
  std::vector<std::string> lines;
  for (size_t i = 0; i < records.size(); ++i) {
    Json j = ToJsonObject(records[i]);
    const auto [delta, delta_percent] = Delta(records, i, baseline);
    j["delta_perplexity"] = Number(delta);
    j["delta_perplexity_percent"] = Number(delta_percent);
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

namespace {

// Rows (the first is the header) as a markdown table, padded to align: the first
// column left, the others right.
std::string Markdown(const std::vector<std::vector<std::string>>& rows) {
  const std::vector<std::string>& header = rows[0];
  // Widths in code points, so that Δ and × count as one column each.
  const auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  }
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < rows[i].size(); ++c) {
      const std::string pad(widths[c] - width(rows[i][c]), ' ');
      // The name column is left-aligned, numbers right-aligned.
      cells.push_back(c == 0 ? rows[i][c] + pad : pad + rows[i][c]);
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


// Accuracy as a percentage with its count, e.g. "80% (4/5)".
std::string Accuracy(int correct, int trials) {
  return trials > 0 ? absl::StrFormat("%.0f%% (%d/%d)", 100.0 * correct / trials, correct, trials)
                    : std::string();
}

// The retrieval protocol's tables: accuracy by prompt length, then by depth.
std::string FormatRetrievalTables(const std::vector<RunRecord>& records) {
  std::vector<int64_t> lengths;
  std::vector<double> depths;
  for (const RunRecord& r : records) {
    for (const retrieval::RetrievalCell& c : r.retrieval) {
      if (std::find(lengths.begin(), lengths.end(), c.context_tokens) == lengths.end()) {
        lengths.push_back(c.context_tokens);
      }
      if (std::find(depths.begin(), depths.end(), c.depth) == depths.end()) {
        depths.push_back(c.depth);
      }
    }
  }
  std::vector<std::string> header = {"config", "accuracy"};
  for (const int64_t length : lengths) header.push_back(absl::StrCat(length, " tokens"));
  for (const char* column :
       {"KV bytes/token", "bits/elem", "× vs fp16", "× vs fp32", "peak KV", "tokens/s"}) {
    header.push_back(column);
  }
  std::vector<std::vector<std::string>> by_length = {header};
  std::vector<std::string> depth_header = {"config"};
  for (const double depth : depths) depth_header.push_back(absl::StrFormat("depth %g", depth));
  std::vector<std::vector<std::string>> by_depth = {depth_header};
  for (const RunRecord& r : records) {
    const auto sum_where = [&r](const auto& matches) {
      int correct = 0, trials = 0;
      for (const retrieval::RetrievalCell& c : r.retrieval) {
        if (!matches(c)) continue;
        correct += c.correct;
        trials += c.trials;
      }
      return Accuracy(correct, trials);
    };
    std::vector<std::string> row = {r.name, sum_where([](const auto&) { return true; })};
    for (const int64_t length : lengths) {
      row.push_back(sum_where([length](const auto& c) { return c.context_tokens == length; }));
    }
    const eval::PerplexityResult& p = r.result;
    row.push_back(absl::StrFormat("%.0f", r.kv_bytes_per_token()));
    row.push_back(absl::StrFormat("%.2f", r.bits_per_element()));
    row.push_back(absl::StrFormat("%.2f", r.compression_vs_fp16()));
    row.push_back(absl::StrFormat("%.2f", r.compression_vs_fp32()));
    row.push_back(HumanBytes(static_cast<double>(p.peak_held_bytes)));
    row.push_back(absl::StrFormat("%.1f", p.tokens_per_second()));
    by_length.push_back(std::move(row));
    std::vector<std::string> depth_row = {r.name};
    for (const double depth : depths) {
      depth_row.push_back(sum_where([depth](const auto& c) { return c.depth == depth; }));
    }
    by_depth.push_back(std::move(depth_row));
  }
  return absl::StrCat(Markdown(by_length), "\nBy depth of the fact (all lengths):\n\n",
                      Markdown(by_depth));
}

// The RULER protocol's table (its details): per length, each cache's average over
// tasks and each task's score in percent with its Wilson 95% interval.
std::string FormatRulerTable(const std::vector<RunRecord>& records) {
  std::vector<std::string> tasks;
  for (const RunRecord& r : records) {
    for (const auto& s : r.details.at("ruler_scores")) {
      const std::string task = s.at("task").get<std::string>();
      if (std::find(tasks.begin(), tasks.end(), task) == tasks.end()) tasks.push_back(task);
    }
  }
  std::vector<std::string> header = {"config", "length", "average"};
  header.insert(header.end(), tasks.begin(), tasks.end());
  for (const char* column : {"samples", "KV bytes/token", "peak KV", "tokens/s"}) {
    header.push_back(column);
  }
  const auto percent = [](const Json& x) {
    return x.is_number() ? absl::StrFormat("%.1f", 100.0 * x.get<double>()) : std::string();
  };
  std::vector<std::vector<std::string>> rows = {header};
  for (const RunRecord& r : records) {
    for (const auto& average : r.details.at("ruler_average")) {
      const int64_t length = average.at("length").get<int64_t>();
      std::vector<std::string> row = {r.name, absl::StrCat(length), percent(average.at("score"))};
      int64_t samples = 0;
      for (const std::string& task : tasks) {
        std::string cell;
        for (const auto& s : r.details.at("ruler_scores")) {
          if (s.at("task") != task || s.at("length").get<int64_t>() != length) continue;
          cell = absl::StrCat(percent(s.at("score")), " [", percent(s.at("wilson95_low")), ", ",
                              percent(s.at("wilson95_high")), "]");
          samples = std::max(samples, s.at("samples").get<int64_t>());
        }
        row.push_back(cell);
      }
      row.push_back(absl::StrCat(samples));
      row.push_back(absl::StrFormat("%.0f", r.kv_bytes_per_token()));
      row.push_back(HumanBytes(static_cast<double>(r.result.peak_held_bytes)));
      row.push_back(absl::StrFormat("%.1f", r.result.tokens_per_second()));
      rows.push_back(std::move(row));
    }
  }
  return absl::StrCat(Markdown(rows),
                      "\nScores in percent (string_match_all), each task's with its Wilson 95% "
                      "interval; average: the mean over tasks.\n");
}

}  // namespace

std::string FormatTable(const std::vector<RunRecord>& records, int baseline) {
  if (std::any_of(records.begin(), records.end(),
                  [](const RunRecord& r) { return r.is_retrieval(); })) {
    return FormatRetrievalTables(records);
  }
  if (!records.empty() && std::all_of(records.begin(), records.end(), [](const RunRecord& r) {
        return r.details.contains("ruler_scores");
      })) {
    return FormatRulerTable(records);
  }
  const bool compared = std::any_of(records.begin(), records.end(), [](const RunRecord& r) {
    return r.result.has_reference;
  });
  std::vector<std::string> header = {
      "config", "perplexity", "±", "Δ ppl", "Δ %", "tokens scored", "KV bytes/token", "bits/elem",
      "× vs fp16", "× vs fp32", "peak KV", "tokens/s"};
  const bool paired = std::any_of(records.begin(), records.end(), [](const RunRecord& r) {
    return r.paired_change_ci95.has_value();
  });
  if (paired) header.push_back("Δ % vs baseline, paired 95% CI");
  if (compared) {
    for (const char* column :
         {"KLD ± 95% CI", "KLD p99", "top-1 (95% CI)", "Δ % vs dense, 95% CI"}) {
      header.push_back(column);
    }
  }
  const auto number = [](const char* format, double x) {
    return std::isfinite(x) ? absl::StrFormat(format, x) : std::string();
  };
  std::vector<std::vector<std::string>> rows = {header};
  for (size_t i = 0; i < records.size(); ++i) {
    const RunRecord& r = records[i];
    const eval::PerplexityResult& p = r.result;
    const auto [delta, delta_percent] = Delta(records, i, baseline);
    const bool is_base = static_cast<int>(i) == baseline;
    rows.push_back({is_base ? r.name + " (baseline)" : r.name,
                    absl::StrFormat("%.4f", p.perplexity()),
                    number("%.4f", p.nll_squared_sum > 0 ? p.perplexity_stderr() : NAN),
                    std::isfinite(delta) && !is_base ? absl::StrFormat("%+.4f", delta) : "",
                    std::isfinite(delta_percent) && !is_base ? absl::StrFormat("%+.2f%%", delta_percent) : "",
                    absl::StrCat(p.tokens_scored),
                    absl::StrFormat("%.0f", r.kv_bytes_per_token()),
                    absl::StrFormat("%.2f", r.bits_per_element()),
                    absl::StrFormat("%.2f", r.compression_vs_fp16()),
                    absl::StrFormat("%.2f", r.compression_vs_fp32()),
                    HumanBytes(static_cast<double>(p.peak_held_bytes)),
                    absl::StrFormat("%.1f", p.tokens_per_second())});
    if (paired) {
      const std::optional<Interval>& ci = r.paired_change_ci95;
      rows.back().push_back(ci.has_value() && !is_base
                                ? absl::StrFormat("%+.2f%% .. %+.2f%%", ci->low, ci->high)
                                : "");
    }
    if (compared) {
      const auto [low, high] = p.change_percent_ci95();
      const Interval kld = p.kld_ci95(), top1 = p.top1_ci95();
      rows.back().push_back(
          number("%.5f", p.mean_kld()) +
          (std::isfinite(kld.low) ? absl::StrFormat(" ± %.5f", (kld.high - kld.low) / 2) : ""));
      rows.back().push_back(p.has_reference ? number("%.5f", p.kld_p99) : "");
      rows.back().push_back(
          number("%.2f%%", 100.0 * p.top1_agreement()) +
          (std::isfinite(top1.low)
               ? absl::StrFormat(" (%.2f..%.2f)", 100.0 * top1.low, 100.0 * top1.high)
               : ""));
      rows.back().push_back(std::isfinite(low) && std::isfinite(high)
                                ? absl::StrFormat("%+.2f%% .. %+.2f%%", low, high)
                                : "");
    }
  }
  return Markdown(rows);
}

absl::Status WriteResults(const std::string& dir, const std::vector<RunRecord>& records,
                          int baseline, const std::string& title) {
  KVLAB_RETURN_IF_ERROR(WriteFileAtomically(dir + "/results.json", ToJson(records)));
  KVLAB_RETURN_IF_ERROR(WriteFileAtomically(dir + "/results.csv", ToCsv(records, baseline)));
  return WriteFileAtomically(dir + "/results.md",
                             absl::StrCat("# ", title, "\n\n", FormatTable(records, baseline)));
}

}  // namespace kvlab::experiments
