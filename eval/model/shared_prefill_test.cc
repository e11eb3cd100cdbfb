// A shared prefill leaves every cache as a separate prefill through it would: the same
// tokens kept, the same logits after, for the dense cache and for evicting caches that
// compress once after the prefill, on Llama and on Gemma 3 (sliding-window layers).
#include "eval/model/shared_prefill.h"

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "core/base_kv_cache.h"
#include "core/evicting_kv_cache.h"
#include "core/eviction_policy.h"
#include "eval/gguf/gguf_file.h"
#include "eval/model/load_model.h"
#include "eval/model/tiny_gemma3.h"
#include "eval/model/tiny_llama.h"
#include "eval/testing/keep_most_attended.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvlab::model {
namespace {

// Keeps the tokens that the last 4 queries attend most (SnapKV's observation window).
class KeepRecentlyAttended : public EvictionPolicy {
 public:
  std::string Name() const override { return "keep-recently-attended"; }
  PolicyNeeds Needs() const override {
    PolicyNeeds needs;
    needs.recent_queries = 4;
    return needs;
  }
  absl::StatusOr<at::Tensor> SelectKeep(const EvictionContext& context) override {
    return std::get<1>(context.recent_attention.sum(1).topk(context.budget, -1));
  }
};

using CacheMaker = std::function<absl::StatusOr<std::unique_ptr<KvCache>>()>;

class SharedPrefillTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string path = ::testing::TempDir() + "/shared_prefill_" + GetParam() + ".gguf";
    if (GetParam() == "llama") {
      ASSERT_THAT(WriteTinyLlama(path), IsOk());
    } else {
      ASSERT_THAT(WriteTinyGemma3(path), IsOk());
    }
    ASSERT_OK_AND_ASSIGN(file_, gguf::GgufFile::Open(path));
    ASSERT_OK_AND_ASSIGN(model_, LoadModel(*file_, {}));
    at::manual_seed(11);
    // Longer than one query block, so a target that needs only the last queries'
    // attention skips the first block.
    prompt_ = at::randint(0, model_->info().vocab, {BaseKvCache::kQueryBlock + 48}, at::kLong);
    continuation_ = at::randint(0, model_->info().vocab, {6}, at::kLong);
  }

  CacheMaker Dense() const {
    return [this] { return model_->NewDenseCache(); };
  }

  template <typename Policy>
  CacheMaker Evicting(int64_t budget) const {
    return [this, budget]() -> absl::StatusOr<std::unique_ptr<KvCache>> {
      KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> dense, model_->NewDenseCache());
      KVLAB_ASSIGN_OR_RETURN(
          auto cache,
          EvictingKvCache::Create(std::move(dense), std::make_unique<Policy>(),
                                  std::vector<int64_t>(model_->info().attention.num_layers, budget),
                                  EvictionSchedule::kOnceAfterPrefill));
      return std::unique_ptr<KvCache>(std::move(cache));
    };
  }

  // Logits of the continuation fed one token at a time after the prompt.
  at::Tensor Continue(KvCache& cache) const {
    std::vector<at::Tensor> logits;
    KvCache* row = &cache;
    for (int64_t i = 0; i < continuation_.size(0); ++i) {
      const at::Tensor hidden = ValueOrAddFailure(model_->Forward(
          continuation_.narrow(0, i, 1).unsqueeze(0), prompt_.size(0) + i, {row}));
      logits.push_back(model_->Logits(hidden));
    }
    return at::cat(logits, 1);
  }

  std::unique_ptr<gguf::GgufFile> file_;
  std::unique_ptr<DecoderModel> model_;
  at::Tensor prompt_;
  at::Tensor continuation_;
};

TEST_P(SharedPrefillTest, EveryCacheMatchesItsOwnPrefill) {
  const std::vector<CacheMaker> makers = {Dense(), Evicting<testing::KeepMostAttended>(16),
                                          Evicting<KeepRecentlyAttended>(20)};
  std::vector<std::unique_ptr<KvCache>> shared, separate;
  std::vector<KvCache*> shared_rows;
  for (const CacheMaker& make : makers) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvCache> a, make());
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvCache> b, make());
    shared_rows.push_back(a.get());
    shared.push_back(std::move(a));
    separate.push_back(std::move(b));
  }
  ASSERT_OK_AND_ASSIGN(const at::Tensor shared_hidden,
                       PrefillShared(*model_, prompt_, shared_rows));
  for (size_t c = 0; c < makers.size(); ++c) {
    SCOPED_TRACE(c);
    KvCache* row = separate[c].get();
    ASSERT_OK_AND_ASSIGN(const at::Tensor hidden,
                         model_->Forward(prompt_.unsqueeze(0), 0, {row}));
    EXPECT_TRUE(at::equal(hidden, shared_hidden));
    for (int layer = 0; layer < model_->info().attention.num_layers; ++layer) {
      ASSERT_EQ(shared[c]->Length(layer), separate[c]->Length(layer)) << layer;
      EXPECT_TRUE(at::equal(shared[c]->Positions(layer), separate[c]->Positions(layer))) << layer;
    }
    EXPECT_EQ(shared[c]->Memory().held_bytes, separate[c]->Memory().held_bytes);
    EXPECT_TRUE(at::equal(Continue(*shared[c]), Continue(*separate[c])));
  }
  // The evicting caches did evict (at least in the layers without a shorter window).
  EXPECT_LT(shared[1]->Memory().held_tokens, shared[0]->Memory().held_tokens);
  EXPECT_LT(shared[2]->Memory().held_tokens, shared[0]->Memory().held_tokens);
}

TEST_P(SharedPrefillTest, RefusesACacheThatIsNotEmpty) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvCache> used, model_->NewDenseCache());
  KvCache* row = used.get();
  ASSERT_THAT(model_->Forward(prompt_.narrow(0, 0, 4).unsqueeze(0), 0, {row}), IsOk());
  const absl::StatusOr<at::Tensor> result = PrefillShared(*model_, prompt_, {row});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("cache 0 must be an empty cache"));
}

INSTANTIATE_TEST_SUITE_P(Architectures, SharedPrefillTest, ::testing::Values("llama", "gemma3"));

}  // namespace
}  // namespace kvlab::model
