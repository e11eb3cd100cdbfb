// Runs the real `experiments/run` binary on every row of experiments/testdata/
// bad_inputs.tsv, each a bad input a user could hand it, and checks what the user sees:
// the exit code, the row's message fragment on the last line of stderr (for an error,
// the `run: ...` line), and, for an error, no results written.
//
// A row: case name, input, config, expected fragment, exit code (tab-separated; `#`
// starts a comment line). The input is a `;`-separated list of steps, applied in order
// to a fresh directory $DIR that holds a tiny random-weight Llama GGUF ($DIR/tiny.gguf,
// the model unless a step changes it) and a short English text ($DIR/text.txt):
//   hf                          convert the GGUF to a Hugging Face directory, $DIR/hf,
//                               and use it as the model
//   model=<path>                use <path> as the model ($DIR expands)
//   text=<C-escaped bytes>      the text file's contents (\xff, \0, \n ...)
//   text*<n>=<C-escaped bytes>  the same bytes n times
//   text_path=<path>            use <path> as the text ($DIR expands)
//   json:<file>:<field>=<JSON>  set a top-level field of $DIR/hf/<file>
//   write:<file>=<C-escaped>    replace $DIR/hf/<file>
//   rm:<file>                   delete $DIR/hf/<file>
//   permute_tokenizer           reverse the ids of $DIR/hf/tokenizer.json's tokens
//   gguf:<key>=<u32|f32>:<v>    rewrite $DIR/tiny.gguf with metadata <key> set to <v>
// The config column is the protocol and any other fields, in text format, added to a
// config naming the model, the text, $DIR/out and one dense cache; `-` (or only flags)
// stands for a streaming protocol the tiny text satisfies. Words starting with `--`
// there are passed on the command line instead.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/files.h"
#include "base/status_matchers.h"
#include "eval/gguf/gguf_file.h"
#include "eval/gguf/gguf_writer.h"
#include "eval/model/gguf_to_hf.h"
#include "eval/model/tiny_llama.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kvlab::experiments {
namespace {

constexpr char kTable[] = "experiments/testdata/bad_inputs.tsv";
constexpr char kDefaultProtocol[] =
    "streaming { max_tokens: 40 bucket_size: 10 } min_scored_tokens: 16";
constexpr char kText[] =
    "the thin ant ran in the tan tent; then the ant ate.\n"
    "an ant in a hat, the end. the theme is thin.\n";

struct Case {
  std::string name;
  std::string input;
  std::string config;
  std::string expected;
  int exit_code = 0;
  int line = 0;
};

// gtest names a failing case by this.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> ReadTable() {
  std::vector<Case> cases;
  const absl::StatusOr<std::string> table = ReadFileToString(kTable);
  if (!table.ok()) {
    ADD_FAILURE() << table.status();
    return cases;
  }
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*table, '\n')) {
    ++line_number;
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    const std::vector<std::string> fields = absl::StrSplit(line, '\t');
    Case c;
    c.line = line_number;
    if (fields.size() != 5 || !absl::SimpleAtoi(fields[4], &c.exit_code)) {
      ADD_FAILURE() << kTable << ":" << line_number
                    << ": expected 5 tab-separated fields ending in an exit code";
      continue;
    }
    c.name = fields[0];
    c.input = fields[1];
    c.config = fields[2];
    c.expected = fields[3];
    cases.push_back(c);
  }
  return cases;
}

std::string Unescape(absl::string_view text) {
  std::string bytes;
  EXPECT_TRUE(absl::CUnescape(text, &bytes)) << text;
  return bytes;
}

// Rewrites the GGUF at `path` with metadata `key` set to `value` ("u32:0", "f32:nan").
void SetGgufKey(const std::string& path, const std::string& key, const std::string& value) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  const std::vector<std::string> typed = absl::StrSplit(value, absl::MaxSplits(':', 1));
  ASSERT_EQ(typed.size(), 2u) << value;
  gguf::GgufWriter writer;
  bool set = false;
  const auto add = [&](const std::string& k) {
    if (typed[0] == "u32") {
      uint32_t v = 0;
      ASSERT_TRUE(absl::SimpleAtoi(typed[1], &v)) << value;
      writer.AddUint32(k, v);
    } else if (typed[0] == "f32") {
      float v = 0;
      ASSERT_TRUE(absl::SimpleAtof(typed[1], &v)) << value;
      writer.AddFloat32(k, v);
    } else {
      FAIL() << "unknown type in " << value;
    }
  };
  for (const std::string& k : file->metadata_keys()) {
    if (k == key) {
      add(k);
      set = true;
    } else {
      writer.AddMetadata(k, *file->FindMetadata(k));
    }
  }
  if (!set) add(key);
  for (const gguf::TensorInfo& t : file->tensors()) {
    const absl::Span<const uint8_t> bytes = file->TensorBytes(t);
    writer.AddTensorWithTypeId(t.name, t.dims, static_cast<uint32_t>(t.type),
                               std::string(bytes.begin(), bytes.end()));
  }
  file.reset();
  ASSERT_THAT(writer.WriteFile(path), IsOk());
}

void EditJson(const std::string& path, const std::string& field, const std::string& value) {
  ASSERT_OK_AND_ASSIGN(const std::string text, ReadFileToString(path));
  nlohmann::json json = nlohmann::json::parse(text);
  json[field] = nlohmann::json::parse(value);
  ASSERT_THAT(WriteFileAtomically(path, json.dump()), IsOk());
}

// Gives every token of tokenizer.json the id of its mirror image: the same tokens, each
// with another id, as a tokenizer of another model would.
void PermuteTokenizer(const std::string& path) {
  ASSERT_OK_AND_ASSIGN(const std::string text, ReadFileToString(path));
  nlohmann::json json = nlohmann::json::parse(text);
  nlohmann::json& vocab = json["model"]["vocab"];
  const int64_t n = static_cast<int64_t>(vocab.size());
  for (auto& [token, id] : vocab.items()) id = n - 1 - id.get<int64_t>();
  for (nlohmann::json& added : json["added_tokens"]) {
    added["id"] = n - 1 - added["id"].get<int64_t>();
  }
  ASSERT_THAT(WriteFileAtomically(path, json.dump()), IsOk());
}

class BadInputsTest : public ::testing::TestWithParam<Case> {};

TEST_P(BadInputsTest, MessageAndExitCode) {
  const Case& c = GetParam();
  SCOPED_TRACE(absl::StrFormat("%s:%d (%s)", kTable, c.line, c.name));
  const std::string dir = ::testing::TempDir() + "/" + c.name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_THAT(model::WriteTinyLlama(dir + "/tiny.gguf"), IsOk());
  std::ofstream(dir + "/text.txt") << kText;
  std::string model_path = dir + "/tiny.gguf";
  std::string text_path = dir + "/text.txt";
  const auto expand = [&](absl::string_view s) { return absl::StrReplaceAll(s, {{"$DIR", dir}}); };
  for (absl::string_view step : absl::StrSplit(c.input, ';', absl::SkipWhitespace())) {
    step = absl::StripAsciiWhitespace(step);
    if (step == "-") continue;
    const std::vector<std::string> kv = absl::StrSplit(step, absl::MaxSplits('=', 1));
    const std::string& action = kv[0];
    const std::string value = kv.size() > 1 ? kv[1] : "";
    if (action == "hf") {
      ASSERT_THAT(model::ConvertGgufToHf(dir + "/tiny.gguf", dir + "/hf", 1 << 30), IsOk());
      model_path = dir + "/hf";
    } else if (action == "model") {
      model_path = expand(value);
    } else if (action == "text_path") {
      text_path = expand(value);
    } else if (absl::StartsWith(action, "text")) {
      int times = 1;
      if (absl::StartsWith(action, "text*")) {
        ASSERT_TRUE(absl::SimpleAtoi(action.substr(5), &times)) << step;
      }
      std::string bytes;
      for (int i = 0; i < times; ++i) bytes += Unescape(value);
      ASSERT_THAT(WriteFileAtomically(text_path, bytes), IsOk());
    } else if (absl::StartsWith(action, "json:")) {
      const std::vector<std::string> parts = absl::StrSplit(action, ':');
      ASSERT_EQ(parts.size(), 3u) << step;
      EditJson(dir + "/hf/" + parts[1], parts[2], value);
    } else if (absl::StartsWith(action, "write:")) {
      ASSERT_THAT(WriteFileAtomically(dir + "/hf/" + action.substr(6), Unescape(value)), IsOk());
    } else if (absl::StartsWith(action, "rm:")) {
      std::filesystem::remove(dir + "/hf/" + action.substr(3));
    } else if (action == "permute_tokenizer") {
      PermuteTokenizer(dir + "/hf/tokenizer.json");
    } else if (absl::StartsWith(action, "gguf:")) {
      SetGgufKey(dir + "/tiny.gguf", action.substr(5), value);
    } else {
      FAIL() << "unknown input step '" << step << "'";
    }
    if (HasFatalFailure()) return;
  }
  std::vector<std::string> fields, flags;
  for (absl::string_view token : absl::StrSplit(c.config, ' ', absl::SkipWhitespace())) {
    (absl::StartsWith(token, "--") ? flags : fields).push_back(expand(token));
  }
  if (fields.empty() || (fields.size() == 1 && fields[0] == "-")) fields = {kDefaultProtocol};
  const std::string config = dir + "/config.pbtxt";
  std::ofstream(config) << absl::StrFormat(
      "model_path: \"%s\" text_path: \"%s\" output_dir: \"%s/out\" caches { name: \"dense\" "
      "}\n%s\n",
      model_path, text_path, dir, absl::StrJoin(fields, " "));
  const std::string command =
      absl::StrFormat("experiments/run --config=%s %s >%s/stdout 2>%s/stderr", config,
                      absl::StrJoin(flags, " "), dir, dir);
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "the binary did not exit normally (a crash?): " << status;
  const std::string err = ReadFileToString(dir + "/stderr").value_or("");
  const std::string out = ReadFileToString(dir + "/stdout").value_or("");
  EXPECT_EQ(WEXITSTATUS(status), c.exit_code) << err;
  const std::string expected = expand(c.expected);
  if (c.exit_code != 0) {
    // One line for the error: the last of stderr (lines before it say what loaded).
    const std::vector<std::string> lines = absl::StrSplit(err, '\n', absl::SkipEmpty());
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(absl::StartsWith(lines.back(), "run: ")) << err;
    EXPECT_THAT(lines.back(), ::testing::HasSubstr(expected));
    EXPECT_TRUE(out.empty()) << out;
    EXPECT_FALSE(std::filesystem::exists(dir + "/out/results.json"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/out/runs"));
  } else {
    EXPECT_THAT(err + out, ::testing::HasSubstr(expected));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadInputsTest, ::testing::ValuesIn(ReadTable()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace kvlab::experiments
