// The "fp8" quantizer: 8-bit floats (E4M3 or E5M2) with a per-token scale.
//
// The formats: Micikevicius et al., "FP8 Formats for Deep Learning", 2022,
// https://arxiv.org/abs/2209.05433 (E4M3 without infinities, largest finite 448;
// E5M2, largest finite 57344), stored through LibTorch's Float8 dtypes.
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/quantizer.h"
#include "quant/fp8.pb.h"
#include "quant/fp8_store.h"

namespace kvlab::quant {
namespace {

class Fp8Quantizer : public Quantizer {
 public:
  explicit Fp8Quantizer(at::ScalarType format) : format_(format) {}
  std::string Name() const override { return "fp8"; }
  absl::StatusOr<std::unique_ptr<TensorStore>> MakeStore(const StoreSpec& spec) const override {
    KVLAB_ASSIGN_OR_RETURN(auto store, Fp8Store::Create(format_, spec));
    return std::unique_ptr<TensorStore>(std::move(store));
  }

 private:
  at::ScalarType format_;
};

absl::StatusOr<std::unique_ptr<Quantizer>> MakeFp8Quantizer(const Fp8QuantizerOptions& options) {
  switch (options.format()) {
    case Fp8QuantizerOptions::E4M3: return std::make_unique<Fp8Quantizer>(at::kFloat8_e4m3fn);
    case Fp8QuantizerOptions::E5M2: return std::make_unique<Fp8Quantizer>(at::kFloat8_e5m2);
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("fp8.format must be E4M3 or E5M2, got %d", options.format()));
  }
}

}  // namespace

KVLAB_REGISTER_QUANTIZER(fp8, Fp8QuantizerOptions, MakeFp8Quantizer);

}  // namespace kvlab::quant
