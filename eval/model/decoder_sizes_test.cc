#include "eval/model/decoder_sizes.h"

#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

TEST(DecoderSizesTest, PublishedModelsAreWithinLimits) {
  EXPECT_TRUE(DecoderSizesWithinLimits(30, 576, 1536, 9, 3));         // SmolLM2-135M.
  EXPECT_TRUE(DecoderSizesWithinLimits(18, 640, 2048, 4, 1));         // Gemma 3 270M.
  EXPECT_TRUE(DecoderSizesWithinLimits(126, 16384, 53248, 128, 8));  // Llama 3.1 405B.
  EXPECT_TRUE(HeadDimWithinLimits(64));
  EXPECT_TRUE(HeadDimWithinLimits(256));
}

TEST(DecoderSizesTest, ZeroNegativeOrPastTheLimitIsRejected) {
  EXPECT_FALSE(DecoderSizesWithinLimits(0, 576, 1536, 9, 3));
  EXPECT_FALSE(DecoderSizesWithinLimits(30, -576, 1536, 9, 3));
  EXPECT_FALSE(DecoderSizesWithinLimits(kMaxLayers + 1, 576, 1536, 9, 3));
  EXPECT_FALSE(DecoderSizesWithinLimits(30, kMaxHidden + 1, 1536, 9, 3));
  EXPECT_FALSE(DecoderSizesWithinLimits(30, 576, kMaxFfn + 1, 9, 3));
  EXPECT_FALSE(DecoderSizesWithinLimits(30, 576, 1536, kMaxHeads + 1, 1));
  EXPECT_FALSE(DecoderSizesWithinLimits(30, 576, 1536, 9, 0));
  EXPECT_FALSE(HeadDimWithinLimits(0));
  EXPECT_FALSE(HeadDimWithinLimits(kMaxHeadDim + 2));
}

TEST(DecoderSizesTest, HeadsMustShareKeyValueHeadsEvenly) {
  EXPECT_FALSE(DecoderSizesWithinLimits(30, 576, 1536, 9, 4));
  EXPECT_FALSE(DecoderSizesWithinLimits(30, 576, 1536, 3, 9));  // More key-value heads.
  EXPECT_FALSE(HeadDimWithinLimits(63));  // Rotary pairs need an even dimension.
}

}  // namespace
}  // namespace kvlab::model
