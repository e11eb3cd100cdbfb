#include "core/registry.h"

#include "base/status_matchers.h"
#include "core/registry_test.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Greeter {
 public:
  explicit Greeter(std::string greeting) : greeting_(std::move(greeting)) {}
  const std::string& greeting() const { return greeting_; }

 private:
  std::string greeting_;
};

PluginRegistry<Greeter>& Greeters() {
  static auto* registry = new PluginRegistry<Greeter>("greeter");
  return *registry;
}

absl::StatusOr<std::unique_ptr<Greeter>> MakeGreeter(const testing::GreeterOptions& options) {
  if (options.greeting().empty()) return std::make_unique<Greeter>("hello");
  return std::make_unique<Greeter>(options.greeting());
}

const bool kRegistered =
    Greeters().RegisterTyped<testing::GreeterOptions>("polite", MakeGreeter);

TEST(PluginRegistryTest, CreatesByNameWithDefaultOptions) {
  ASSERT_TRUE(kRegistered);
  absl::StatusOr<std::unique_ptr<Greeter>> greeter =
      Greeters().Create("polite", google::protobuf::Any());
  ASSERT_THAT(greeter, IsOk());
  EXPECT_EQ((*greeter)->greeting(), "hello");
  EXPECT_EQ(Greeters().OptionsType("polite"), "kvlab.testing.GreeterOptions");
}

TEST(PluginRegistryTest, UnpacksTypedOptions) {
  testing::GreeterOptions options;
  options.set_greeting("good evening");
  google::protobuf::Any any;
  any.PackFrom(options);
  ASSERT_OK_AND_ASSIGN(auto greeter, Greeters().Create("polite", any));
  EXPECT_EQ(greeter->greeting(), "good evening");
}

TEST(PluginRegistryTest, WrongOptionsTypeIsAnError) {
  testing::OtherOptions other;
  google::protobuf::Any any;
  any.PackFrom(other);
  EXPECT_THAT(Greeters().Create("polite", any),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("kvlab.testing.GreeterOptions"),
                             HasSubstr("kvlab.testing.OtherOptions"))));
}

TEST(PluginRegistryTest, UnknownNameListsRegisteredNames) {
  Greeters().Register("curt", "", [](const google::protobuf::Any&) {
    return absl::StatusOr<std::unique_ptr<Greeter>>(std::make_unique<Greeter>("hi"));
  });
  EXPECT_THAT(Greeters().Names(), ElementsAre("curt", "polite"));
  EXPECT_THAT(Greeters().Create("rude", google::protobuf::Any()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unknown greeter 'rude'; registered: curt, polite")));
}

TEST(PluginRegistryDeathTest, DuplicateNameAbortsAtRegistration) {
  EXPECT_DEATH(Greeters().RegisterTyped<testing::GreeterOptions>("polite", MakeGreeter),
               "two greeters are registered as 'polite'");
}

}  // namespace
}  // namespace kvlab
