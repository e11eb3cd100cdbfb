#include "eval/tokenizer/hf_normalizer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "unicode/bytestream.h"
#include "unicode/normalizer2.h"

namespace kvlab::tokenizer {

namespace {

const icu::Normalizer2* UnicodeForm(HfNormalizerStep::Kind kind, UErrorCode& error) {
  switch (kind) {
    case HfNormalizerStep::Kind::kNfc: return icu::Normalizer2::getNFCInstance(error);
    case HfNormalizerStep::Kind::kNfd: return icu::Normalizer2::getNFDInstance(error);
    case HfNormalizerStep::Kind::kNfkc: return icu::Normalizer2::getNFKCInstance(error);
    case HfNormalizerStep::Kind::kNfkd: return icu::Normalizer2::getNFKDInstance(error);
    default: return nullptr;
  }
}

}  // namespace

std::string HfNormalizer::Apply(absl::string_view text) const {
  std::string out(text);
  for (const HfNormalizerStep& step : steps_) {
    switch (step.kind) {
      case HfNormalizerStep::Kind::kReplace:
        out = absl::StrReplaceAll(out, {{step.pattern, step.content}});
        break;
      case HfNormalizerStep::Kind::kPrepend:
        if (!out.empty()) out = absl::StrCat(step.content, out);
        break;
      default: {
        UErrorCode error = U_ZERO_ERROR;
        const icu::Normalizer2* form = UnicodeForm(step.kind, error);
        std::string normalized;
        icu::StringByteSink<std::string> sink(&normalized);
        if (form != nullptr && U_SUCCESS(error)) {
          form->normalizeUTF8(0, icu::StringPiece(out.data(), static_cast<int32_t>(out.size())),
                              sink, nullptr, error);
        }
        // ICU's data is built in; a failure here means a broken ICU installation.
        if (U_SUCCESS(error)) out = std::move(normalized);
        break;
      }
    }
  }
  return out;
}

}  // namespace kvlab::tokenizer
