#include "eval/safetensors/safetensors_checkpoint.h"

#include <sys/stat.h>

#include <fstream>

#include "base/status_matchers.h"
#include "eval/safetensors/safetensors_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::safetensors {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string NewDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

void WriteShard(const std::string& path, const std::vector<std::string>& names) {
  SafetensorsWriter writer;
  for (const std::string& name : names) writer.AddTensor(name, "F32", {1}, F32Bytes({1.0f}));
  ASSERT_THAT(writer.WriteFile(path), IsOk());
}

TEST(SafetensorsCheckpointTest, OpensASingleFile) {
  const std::string dir = NewDir("single");
  WriteShard(dir + "/model.safetensors", {"a", "b"});
  ASSERT_OK_AND_ASSIGN(auto checkpoint, SafetensorsCheckpoint::OpenDirectory(dir));
  EXPECT_THAT(checkpoint->paths(), ElementsAre(dir + "/model.safetensors"));
  ASSERT_NE(checkpoint->Find("b"), nullptr);
  EXPECT_EQ(checkpoint->Find("b")->tensor->name, "b");
  EXPECT_EQ(checkpoint->Find("c"), nullptr);
}

TEST(SafetensorsCheckpointTest, OpensShardsThroughTheIndex) {
  const std::string dir = NewDir("sharded");
  WriteShard(dir + "/model-00001-of-00002.safetensors", {"a", "b"});
  WriteShard(dir + "/model-00002-of-00002.safetensors", {"c"});
  WriteText(dir + "/model.safetensors.index.json",
            R"({"metadata": {"total_size": 12}, "weight_map": {
                 "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                 "c": "model-00002-of-00002.safetensors"}})");
  ASSERT_OK_AND_ASSIGN(auto checkpoint, SafetensorsCheckpoint::OpenDirectory(dir));
  EXPECT_THAT(checkpoint->paths(), ElementsAre(dir + "/model.safetensors.index.json",
                                               dir + "/model-00001-of-00002.safetensors",
                                               dir + "/model-00002-of-00002.safetensors"));
  ASSERT_NE(checkpoint->Find("c"), nullptr);
  EXPECT_EQ(checkpoint->Find("c")->file->path(), dir + "/model-00002-of-00002.safetensors");
}

TEST(SafetensorsCheckpointTest, NamesWhatIsMissingOrWrong) {
  const std::string empty = NewDir("empty");
  EXPECT_THAT(SafetensorsCheckpoint::OpenDirectory(empty),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("holds neither model.safetensors nor model.safetensors.index.json")));

  const std::string dir = NewDir("missing_shard");
  WriteShard(dir + "/one.safetensors", {"a"});
  WriteText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"a": "one.safetensors", "b": "two.safetensors"}})");
  EXPECT_THAT(SafetensorsCheckpoint::OpenDirectory(dir),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("model.safetensors.index.json: names shard 'two.safetensors' "
                                 "(for tensor 'b'), which is not in")));

  WriteText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"a": "one.safetensors", "z": "one.safetensors"}})");
  EXPECT_THAT(SafetensorsCheckpoint::OpenDirectory(dir),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("puts tensor 'z' in shard 'one.safetensors', which does not hold it")));

  WriteText(dir + "/bad.safetensors", "not a safetensors file");
  WriteText(dir + "/model.safetensors.index.json", R"({"weight_map": {"a": "bad.safetensors"}})");
  EXPECT_THAT(SafetensorsCheckpoint::OpenDirectory(dir),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad.safetensors: header length")));
}

TEST(ParseShardIndexTest, RefusesMalformedIndexes) {
  EXPECT_THAT(ParseShardIndex("i.json", "{"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("i.json: not valid JSON")));
  EXPECT_THAT(ParseShardIndex("i.json", "[]"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("i.json: is a JSON array")));
  EXPECT_THAT(ParseShardIndex("i.json", R"({"metadata": {}})"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("has no \"weight_map\"")));
  EXPECT_THAT(ParseShardIndex("i.json", R"({"weight_map": {}})"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("names no tensor")));
  EXPECT_THAT(ParseShardIndex("i.json", R"({"weight_map": {"a": 3}})"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 'a' must name a shard")));
  EXPECT_THAT(ParseShardIndex("i.json", R"({"weight_map": {"a": "../x.safetensors"}})"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 'a' must name a shard")));
}

}  // namespace
}  // namespace kvlab::safetensors
