#include "experiments/protocol.h"

#include "gtest/gtest.h"

namespace kvlab::experiments {
namespace {

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
}

TEST(ProtocolTest, PrefillWindowsAreSharedByTheTwoCompressingProtocols) {
  config::Experiment e;
  e.mutable_chunked();
  EXPECT_EQ(PrefillWindows(e), nullptr);
  e.mutable_prefill_compress()->set_context_tokens(7);
  ASSERT_NE(PrefillWindows(e), nullptr);
  EXPECT_EQ(PrefillWindows(e)->context_tokens(), 7);
  e.mutable_compress_once()->set_context_tokens(9);
  ASSERT_NE(PrefillWindows(e), nullptr);
  EXPECT_EQ(PrefillWindows(e)->context_tokens(), 9);
}

TEST(ProtocolTest, ChunkedScoresTheSecondHalfOfEachWholeChunk) {
  config::Experiment e;
  e.mutable_chunked()->set_n_ctx(512);
  // 1000 tokens hold one whole chunk; llama.cpp scores positions 256..510 of it.
  ProtocolExtent x = MeasureProtocol(e, 1000);
  EXPECT_EQ(x.scored_tokens, 255);
  EXPECT_EQ(x.window_tokens, 512);
  EXPECT_EQ(x.window_field, "chunked.n_ctx");
  EXPECT_EQ(BudgetReferenceTokens(e, 1000), 512);
  e.mutable_chunked()->set_max_chunks(3);
  EXPECT_EQ(MeasureProtocol(e, 100000).scored_tokens, 3 * 255);
}

TEST(ProtocolTest, StreamingScoresEveryTokenButTheFirst) {
  config::Experiment e;
  e.mutable_streaming();
  EXPECT_EQ(MeasureProtocol(e, 100).scored_tokens, 99);
  EXPECT_EQ(MeasureProtocol(e, 100).window_tokens, 100);
  EXPECT_EQ(BudgetReferenceTokens(e, 100), 100);
  e.mutable_streaming()->set_max_tokens(40);
  EXPECT_EQ(MeasureProtocol(e, 100).scored_tokens, 39);
  EXPECT_EQ(MeasureProtocol(e, 100).window_tokens, 40);
  EXPECT_EQ(BudgetReferenceTokens(e, 100), 40);
  EXPECT_EQ(BudgetReferenceTokens(e, 30), 30);
  EXPECT_EQ(MeasureProtocol(e, 0).scored_tokens, 0);
}

TEST(ProtocolTest, PrefillCompressScoresEachWholeWindowsTail) {
  config::Experiment e;
  config::PrefillCompressProtocol* p = e.mutable_compress_once();
  p->set_context_tokens(30);
  p->set_scored_tokens(10);
  ProtocolExtent x = MeasureProtocol(e, 125);  // Three whole windows of 40.
  EXPECT_EQ(x.scored_tokens, 30);
  EXPECT_EQ(x.window_tokens, 40);
  EXPECT_EQ(x.window_field, "compress_once.context_tokens + scored_tokens");
  EXPECT_EQ(BudgetReferenceTokens(e, 125), 30);
  p->set_max_windows(2);
  EXPECT_EQ(MeasureProtocol(e, 125).scored_tokens, 20);
}

TEST(ProtocolTest, NoProtocolScoresNothing) {
  config::Experiment e;
  EXPECT_EQ(MeasureProtocol(e, 100).scored_tokens, 0);
  EXPECT_EQ(BudgetReferenceTokens(e, 100), 100);
}

}  // namespace
}  // namespace kvlab::experiments
