// The "int8", "int4" and "int2" quantizers: integer levels, per-token or per-channel
// groups. int2 (four levels a byte) is KIVI's 2-bit setting; CPU only for now.
//
// Per-channel keys with per-token values and a full-precision residual is KIVI's
// layout: Liu et al., "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache",
// ICML 2024, https://arxiv.org/abs/2402.02750. Per-token group-wise quantization of
// the cache is FlexGen's: Sheng et al., "FlexGen: High-Throughput Generative Inference
// of Large Language Models with a Single GPU", ICML 2023,
// https://arxiv.org/abs/2303.06865.
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/quantizer.h"
#include "kernels/integer_format.h"
#include "quant/hadamard_store.h"
#include "quant/integer.pb.h"
#include "quant/per_channel_store.h"
#include "quant/per_token_store.h"

namespace kvlab::quant {
namespace {

constexpr int64_t kDefaultTokensPerBlock = 32;

class IntegerQuantizer : public Quantizer {
 public:
  IntegerQuantizer(std::string name, kernels::IntegerFormat format, IntegerQuantizerOptions options)
      : name_(std::move(name)), format_(format), options_(std::move(options)) {}

  std::string Name() const override { return name_; }

  absl::StatusOr<std::unique_ptr<TensorStore>> MakeStore(const StoreSpec& spec) const override {
    KVLAB_ASSIGN_OR_RETURN(std::unique_ptr<TensorStore> store, MakeUnrotatedStore(spec));
    if (options_.hadamard_block() == 0) return store;
    KVLAB_ASSIGN_OR_RETURN(
        auto rotated, HadamardRotatedStore::Create(options_.hadamard_block(), spec, std::move(store)));
    return std::unique_ptr<TensorStore>(std::move(rotated));
  }

 private:
  absl::StatusOr<std::unique_ptr<TensorStore>> MakeUnrotatedStore(const StoreSpec& spec) const {
    if (format_.bits == 2 && !spec.device.is_cpu()) {
      return absl::InvalidArgumentError(
          "int2 runs on the CPU only: the CUDA kernels pack 8 and 4 bits");
    }
    if (options_.axis() == IntegerQuantizerOptions::PER_CHANNEL) {
      const int64_t block =
          options_.group_size() == 0 ? kDefaultTokensPerBlock : options_.group_size();
      const PerChannelQuantizedStore::ResidualFlush flush =
          options_.residual_flush() == IntegerQuantizerOptions::FLUSH_KIVI
              ? PerChannelQuantizedStore::ResidualFlush::kKivi
              : PerChannelQuantizedStore::ResidualFlush::kBeyondResidual;
      KVLAB_ASSIGN_OR_RETURN(auto store,
                             PerChannelQuantizedStore::Create(format_, block, spec, flush));
      return std::unique_ptr<TensorStore>(std::move(store));
    }
    const int64_t group = options_.group_size() == 0 ? spec.head_dim : options_.group_size();
    KVLAB_ASSIGN_OR_RETURN(auto store, PerTokenQuantizedStore::Create(format_, group, spec));
    return std::unique_ptr<TensorStore>(std::move(store));
  }

  std::string name_;
  kernels::IntegerFormat format_;
  IntegerQuantizerOptions options_;
};

at::ScalarType ScaleDtype(IntegerQuantizerOptions::ScaleDtype dtype) {
  switch (dtype) {
    case IntegerQuantizerOptions::BFLOAT16: return at::kBFloat16;
    case IntegerQuantizerOptions::FLOAT16: return at::kHalf;
    default: return at::kFloat;
  }
}

absl::StatusOr<std::unique_ptr<Quantizer>> MakeIntegerQuantizer(
    int bits, const IntegerQuantizerOptions& options) {
  if (options.group_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("int%d.group_size must be >= 0, got %d", bits, options.group_size()));
  }
  if (options.residual_flush() != IntegerQuantizerOptions::FLUSH_BEYOND_RESIDUAL &&
      options.residual_flush() != IntegerQuantizerOptions::FLUSH_KIVI) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "int%d.residual_flush must be FLUSH_BEYOND_RESIDUAL or FLUSH_KIVI, got %d", bits,
        options.residual_flush()));
  }
  if (options.rounding() != IntegerQuantizerOptions::ROUNDING_STORED &&
      options.rounding() != IntegerQuantizerOptions::ROUNDING_GGML) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "int%d.rounding must be ROUNDING_STORED or ROUNDING_GGML, got %d", bits,
        options.rounding()));
  }
  if (options.rounding() == IntegerQuantizerOptions::ROUNDING_GGML &&
      (bits != 4 || options.axis() != IntegerQuantizerOptions::PER_TOKEN ||
       options.group_size() != 32 || options.scale_dtype() != IntegerQuantizerOptions::FLOAT16)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "int%d.rounding ROUNDING_GGML is ggml's q4_0/q4_1 block: it needs int4 with axis "
        "PER_TOKEN, group_size 32 and scale_dtype FLOAT16",
        bits));
  }
  if (options.hadamard_block() < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "int%d.hadamard_block must be >= 0, got %d", bits, options.hadamard_block()));
  }
  kernels::IntegerFormat format{bits, options.symmetric(), ScaleDtype(options.scale_dtype())};
  if (options.rounding() == IntegerQuantizerOptions::ROUNDING_GGML) {
    format.rounding = kernels::IntegerFormat::Rounding::kGgml;
  }
  return std::make_unique<IntegerQuantizer>(absl::StrFormat("int%d", bits), format, options);
}

absl::StatusOr<std::unique_ptr<Quantizer>> MakeInt8Quantizer(const IntegerQuantizerOptions& o) {
  return MakeIntegerQuantizer(8, o);
}

absl::StatusOr<std::unique_ptr<Quantizer>> MakeInt4Quantizer(const IntegerQuantizerOptions& o) {
  return MakeIntegerQuantizer(4, o);
}

absl::StatusOr<std::unique_ptr<Quantizer>> MakeInt2Quantizer(const IntegerQuantizerOptions& o) {
  return MakeIntegerQuantizer(2, o);
}

}  // namespace

KVLAB_REGISTER_QUANTIZER(int8, IntegerQuantizerOptions, MakeInt8Quantizer);
KVLAB_REGISTER_QUANTIZER(int4, IntegerQuantizerOptions, MakeInt4Quantizer);
KVLAB_REGISTER_QUANTIZER(int2, IntegerQuantizerOptions, MakeInt2Quantizer);

}  // namespace kvlab::quant
