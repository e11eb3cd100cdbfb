#include "experiments/protocols/protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_matchers.h"

namespace kvlab::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProtocolTest, NamesEachProtocol) {
  config::Experiment e;
  EXPECT_EQ(ProtocolName(e), "none");
  e.mutable_chunked();
  EXPECT_EQ(ProtocolName(e), "chunked");
  e.mutable_streaming();
  EXPECT_EQ(ProtocolName(e), "streaming");
  e.mutable_prefill_compress();
  EXPECT_EQ(ProtocolName(e), "prefill_compress");
  e.mutable_compress_once();
  EXPECT_EQ(ProtocolName(e), "compress_once");
  e.mutable_retrieval();
  EXPECT_EQ(ProtocolName(e), "retrieval");
}

TEST(ProtocolTest, FindsTheSetProtocolUnderItsName) {
  config::Experiment e;
  e.mutable_compress_once();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Protocol> protocol, FindProtocol(e));
  EXPECT_EQ(protocol->Name(), "compress_once");
}

TEST(ProtocolTest, NoProtocolIsAnErrorListingThemInConfigOrder) {
  EXPECT_THAT(FindProtocol(config::Experiment()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a protocol is required: chunked, streaming, prefill_compress, "
                                 "compress_once, retrieval or ruler")));
}

TEST(ProtocolTest, ListsTheRegisteredProtocolsInConfigOrder) {
  EXPECT_THAT(ProtocolNames(), ElementsAre("chunked", "streaming", "prefill_compress",
                                           "compress_once", "retrieval", "ruler"));
  EXPECT_THAT(ProtocolNames([](const Protocol& p) { return p.RecordsEvictions(); }),
              ElementsAre("streaming", "prefill_compress", "compress_once"));
  EXPECT_EQ(JoinNames({"a", "b", "c"}, "and"), "a, b and c");
  EXPECT_EQ(JoinNames({"a"}, "or"), "a");
}

TEST(ProtocolTest, TheFingerprintHoldsTheProtocolsMessageInItsOwnField) {
  config::Experiment e;
  e.set_name("not in the fingerprint");
  e.mutable_compress_once()->set_context_tokens(64);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Protocol> protocol, FindProtocol(e));
  config::Experiment fingerprint;
  protocol->AddToFingerprint(e, fingerprint);
  ASSERT_TRUE(fingerprint.has_compress_once());
  EXPECT_EQ(fingerprint.compress_once().context_tokens(), 64);
  EXPECT_EQ(fingerprint.name(), "");
}

}  // namespace
}  // namespace kvlab::experiments
