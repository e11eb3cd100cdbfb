#include "eval/tokenizer/hf_tokenizer_json.h"

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/annotate.h"
#include "base/files.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "eval/tokenizer/hf_tokenizer.h"
#include "eval/tokenizer/unicode_text.h"
#include "nlohmann/json.hpp"

namespace kvlab::tokenizer {

namespace {

using Json = nlohmann::json;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", problem));
}

absl::Status Unsupported(absl::string_view field, absl::string_view problem) {
  return absl::UnimplementedError(absl::StrCat(field, " ", problem));
}

// A token's or a name's text as an error quotes it: on one line, whatever it holds
// (vocabularies hold "\n" and control characters as tokens).
std::string Printable(absl::string_view text) { return absl::Utf8SafeCEscape(text); }

// `object[key]`, or nullptr when absent or null.
const Json* Find(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

absl::StatusOr<const Json*> Require(const Json& object, const char* key,
                                    absl::string_view field) {
  const Json* value = Find(object, key);
  if (value == nullptr) return Invalid(absl::StrCat(field, ".", key), "is missing");
  return value;
}

absl::StatusOr<std::string> GetString(const Json& value, absl::string_view field) {
  if (!value.is_string()) return Invalid(field, "must be a string");
  return value.get<std::string>();
}

absl::StatusOr<std::string> RequireString(const Json& object, const char* key,
                                          absl::string_view field) {
  KVLAB_ASSIGN_OR_RETURN(const Json* value, Require(object, key, field));
  return GetString(*value, absl::StrCat(field, ".", key));
}

absl::StatusOr<bool> OptionalBool(const Json& object, const char* key, bool default_value,
                                  absl::string_view field) {
  const Json* value = Find(object, key);
  if (value == nullptr) return default_value;
  if (!value->is_boolean()) return Invalid(absl::StrCat(field, ".", key), "must be true or false");
  return value->get<bool>();
}

absl::StatusOr<bool> RequireBool(const Json& object, const char* key, absl::string_view field) {
  KVLAB_ASSIGN_OR_RETURN(const Json* value, Require(object, key, field));
  if (!value->is_boolean()) return Invalid(absl::StrCat(field, ".", key), "must be true or false");
  return value->get<bool>();
}

absl::StatusOr<int32_t> GetId(const Json& value, absl::string_view field) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
      value.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
    return Invalid(field, "must be a non-negative 32-bit integer id");
  }
  return static_cast<int32_t>(value.get<int64_t>());
}

absl::StatusOr<const Json*> RequireArray(const Json& object, const char* key,
                                         absl::string_view field) {
  KVLAB_ASSIGN_OR_RETURN(const Json* value, Require(object, key, field));
  if (!value->is_array()) return Invalid(absl::StrCat(field, ".", key), "must be a list");
  return value;
}

absl::StatusOr<std::string> RequireType(const Json& object, absl::string_view field) {
  if (!object.is_object()) return Invalid(field, "must be an object");
  return RequireString(object, "type", field);
}

// Sequences nest; real files nest one or two deep, and a limit keeps a hostile file
// from exhausting the stack.
constexpr int kMaxSequenceDepth = 16;

absl::Status CheckDepth(int depth, absl::string_view field) {
  if (depth <= kMaxSequenceDepth) return absl::OkStatus();
  return Invalid(field, absl::StrFormat("nests Sequences more than %d deep", kMaxSequenceDepth));
}

// ---- model ----

absl::StatusOr<HfBpeModel> ParseModel(const Json& root) {
  KVLAB_ASSIGN_OR_RETURN(const Json* model, Require(root, "model", "tokenizer"));
  if (!model->is_object()) return Invalid("model", "must be an object");
  // Files without a type are read as BPE when they have merges, as `tokenizers` reads them.
  if (Find(*model, "type") != nullptr || Find(*model, "merges") == nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const std::string type, RequireType(*model, "model"));
    if (type != "BPE") {
      return Unsupported("model.type",
                         absl::StrFormat("is '%s'; kvlab reads BPE models", Printable(type)));
    }
  }
  KVLAB_ASSIGN_OR_RETURN(const Json* vocab_json, Require(*model, "vocab", "model"));
  if (!vocab_json->is_object() || vocab_json->empty()) {
    return Invalid("model.vocab", "must be a non-empty object of token -> id");
  }
  absl::flat_hash_map<std::string, int32_t> vocab;
  vocab.reserve(vocab_json->size());
  for (const auto& [token, id] : vocab_json->items()) {
    KVLAB_ASSIGN_OR_RETURN(vocab[token],
                           GetId(id, absl::StrFormat("model.vocab['%s']", Printable(token))));
  }
  KVLAB_ASSIGN_OR_RETURN(const Json* merges_json, RequireArray(*model, "merges", "model"));
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merges_json->size());
  for (size_t i = 0; i < merges_json->size(); ++i) {
    const Json& merge = (*merges_json)[i];
    const std::string field = absl::StrFormat("model.merges[%d]", i);
    if (merge.is_string()) {
      // The older form: "left right", split at the only space. A merges.txt header copied
      // in ("#version: 0.2") is no merge, and `tokenizers` passes over it.
      const std::string text = merge.get<std::string>();
      if (absl::StartsWith(text, "#version")) continue;
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        return Invalid(field, absl::StrFormat("is '%s'; expected two tokens separated by one space",
                                              Printable(text)));
      }
      merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return Invalid(field, "must be \"left right\" or [\"left\", \"right\"]");
    }
  }
  HfBpeOptions options;
  if (const Json* dropout = Find(*model, "dropout"); dropout != nullptr) {
    if (!dropout->is_number()) return Invalid("model.dropout", "must be a number or null");
    if (dropout->get<double>() != 0.0) {
      return Unsupported("model.dropout", absl::StrFormat("is %g; kvlab encodes without dropout",
                                                          dropout->get<double>()));
    }
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const Json* affix = Find(*model, key); affix != nullptr) {
      KVLAB_ASSIGN_OR_RETURN(const std::string text,
                             GetString(*affix, absl::StrCat("model.", key)));
      if (!text.empty()) {
        return Unsupported(
            absl::StrCat("model.", key),
            absl::StrFormat("is '%s'; kvlab reads BPE models without one", Printable(text)));
      }
    }
  }
  if (const Json* unk = Find(*model, "unk_token"); unk != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(options.unk_token, GetString(*unk, "model.unk_token"));
  }
  KVLAB_ASSIGN_OR_RETURN(options.fuse_unk, OptionalBool(*model, "fuse_unk", false, "model"));
  KVLAB_ASSIGN_OR_RETURN(options.byte_fallback,
                         OptionalBool(*model, "byte_fallback", false, "model"));
  KVLAB_ASSIGN_OR_RETURN(options.ignore_merges,
                         OptionalBool(*model, "ignore_merges", false, "model"));
  return HfBpeModel::Create(std::move(vocab), merges, std::move(options));
}

// ---- normalizer ----

absl::Status ParseNormalizer(const Json& json, const std::string& field,
                             std::vector<HfNormalizerStep>& steps, int depth = 0) {
  KVLAB_RETURN_IF_ERROR(CheckDepth(depth, field));
  KVLAB_ASSIGN_OR_RETURN(const std::string type, RequireType(json, field));
  using Kind = HfNormalizerStep::Kind;
  static const auto* const kForms = new absl::flat_hash_map<std::string, Kind>{
      {"NFC", Kind::kNfc}, {"NFD", Kind::kNfd}, {"NFKC", Kind::kNfkc}, {"NFKD", Kind::kNfkd}};
  if (auto it = kForms->find(type); it != kForms->end()) {
    steps.push_back(HfNormalizerStep{it->second, "", ""});
    return absl::OkStatus();
  }
  if (type == "Sequence") {
    KVLAB_ASSIGN_OR_RETURN(const Json* list, RequireArray(json, "normalizers", field));
    for (size_t i = 0; i < list->size(); ++i) {
      KVLAB_RETURN_IF_ERROR(
          ParseNormalizer((*list)[i], absl::StrFormat("%s.normalizers[%d]", field, i), steps,
                          depth + 1));
    }
    return absl::OkStatus();
  }
  if (type == "Prepend") {
    KVLAB_ASSIGN_OR_RETURN(const std::string prepend, RequireString(json, "prepend", field));
    steps.push_back(HfNormalizerStep{Kind::kPrepend, "", prepend});
    return absl::OkStatus();
  }
  if (type == "Replace") {
    KVLAB_ASSIGN_OR_RETURN(const Json* pattern, Require(json, "pattern", field));
    if (!pattern->is_object() || Find(*pattern, "String") == nullptr) {
      return Unsupported(absl::StrCat(field, ".pattern"),
                         "must be {\"String\": ...}; kvlab replaces literal strings only");
    }
    KVLAB_ASSIGN_OR_RETURN(const std::string from,
                           GetString((*pattern)["String"], absl::StrCat(field, ".pattern.String")));
    if (from.empty()) return Invalid(absl::StrCat(field, ".pattern.String"), "is empty");
    KVLAB_ASSIGN_OR_RETURN(const std::string to, RequireString(json, "content", field));
    steps.push_back(HfNormalizerStep{Kind::kReplace, from, to});
    return absl::OkStatus();
  }
  return Unsupported(absl::StrCat(field, ".type"),
                     absl::StrFormat("is '%s'; kvlab runs NFC, NFD, NFKC, NFKD, Replace, "
                                     "Prepend and Sequence",
                                     Printable(type)));
}

// ---- pre-tokenizer ----

absl::Status ParsePreTokenizer(const Json& json, const std::string& field,
                               std::vector<HfPreTokenizerStep>& steps, int depth = 0) {
  KVLAB_RETURN_IF_ERROR(CheckDepth(depth, field));
  KVLAB_ASSIGN_OR_RETURN(const std::string type, RequireType(json, field));
  using Kind = HfPreTokenizerStep::Kind;
  HfPreTokenizerStep step;
  if (type == "Sequence") {
    KVLAB_ASSIGN_OR_RETURN(const Json* list, RequireArray(json, "pretokenizers", field));
    for (size_t i = 0; i < list->size(); ++i) {
      KVLAB_RETURN_IF_ERROR(ParsePreTokenizer(
          (*list)[i], absl::StrFormat("%s.pretokenizers[%d]", field, i), steps, depth + 1));
    }
    return absl::OkStatus();
  } else if (type == "ByteLevel") {
    step.kind = Kind::kByteLevel;
    // Required, as `tokenizers` requires it: no default to guess.
    KVLAB_ASSIGN_OR_RETURN(step.add_prefix_space, RequireBool(json, "add_prefix_space", field));
    KVLAB_ASSIGN_OR_RETURN(step.use_regex, OptionalBool(json, "use_regex", true, field));
  } else if (type == "Digits") {
    step.kind = Kind::kDigits;
    KVLAB_ASSIGN_OR_RETURN(step.individual_digits, RequireBool(json, "individual_digits", field));
  } else if (type == "Split") {
    step.kind = Kind::kSplit;
    KVLAB_ASSIGN_OR_RETURN(const Json* pattern, Require(json, "pattern", field));
    const std::string pattern_field = absl::StrCat(field, ".pattern");
    const Json* regex = pattern->is_object() ? Find(*pattern, "Regex") : nullptr;
    const Json* literal = pattern->is_object() ? Find(*pattern, "String") : nullptr;
    if ((regex == nullptr) == (literal == nullptr)) {
      return Invalid(pattern_field, "must be {\"Regex\": ...} or {\"String\": ...}");
    }
    if (regex != nullptr) {
      KVLAB_ASSIGN_OR_RETURN(step.regex, GetString(*regex, absl::StrCat(pattern_field, ".Regex")));
      if (step.regex.empty()) return Invalid(absl::StrCat(pattern_field, ".Regex"), "is empty");
    } else {
      KVLAB_ASSIGN_OR_RETURN(step.literal,
                             GetString(*literal, absl::StrCat(pattern_field, ".String")));
      if (step.literal.empty()) return Invalid(absl::StrCat(pattern_field, ".String"), "is empty");
    }
    KVLAB_ASSIGN_OR_RETURN(const std::string behavior, RequireString(json, "behavior", field));
    static const auto* const kBehaviors = new absl::flat_hash_map<std::string, HfSplitBehavior>{
        {"Removed", HfSplitBehavior::kRemoved},
        {"Isolated", HfSplitBehavior::kIsolated},
        {"MergedWithPrevious", HfSplitBehavior::kMergedWithPrevious},
        {"MergedWithNext", HfSplitBehavior::kMergedWithNext},
        {"Contiguous", HfSplitBehavior::kContiguous}};
    auto it = kBehaviors->find(behavior);
    if (it == kBehaviors->end()) {
      return Invalid(absl::StrCat(field, ".behavior"),
                     absl::StrFormat("is '%s'; expected Removed, Isolated, MergedWithPrevious, "
                                     "MergedWithNext or Contiguous",
                                     Printable(behavior)));
    }
    step.behavior = it->second;
    KVLAB_ASSIGN_OR_RETURN(step.invert, RequireBool(json, "invert", field));
  } else if (type == "Metaspace") {
    step.kind = Kind::kMetaspace;
    KVLAB_ASSIGN_OR_RETURN(step.replacement, RequireString(json, "replacement", field));
    if (DecodeUtf8(step.replacement).size() != 1) {
      return Invalid(
          absl::StrCat(field, ".replacement"),
          absl::StrFormat("is '%s'; expected one character", Printable(step.replacement)));
    }
    KVLAB_ASSIGN_OR_RETURN(step.split, OptionalBool(json, "split", true, field));
    // Older files say add_prefix_space instead; `tokenizers` reads false as "never" and
    // refuses it beside any other scheme.
    KVLAB_ASSIGN_OR_RETURN(const bool add_prefix_space,
                           OptionalBool(json, "add_prefix_space", true, field));
    step.prepend = HfPreTokenizerStep::Prepend::kAlways;
    if (const Json* scheme = Find(json, "prepend_scheme"); scheme != nullptr) {
      KVLAB_ASSIGN_OR_RETURN(const std::string name,
                             GetString(*scheme, absl::StrCat(field, ".prepend_scheme")));
      if (name == "always") {
        step.prepend = HfPreTokenizerStep::Prepend::kAlways;
      } else if (name == "first") {
        step.prepend = HfPreTokenizerStep::Prepend::kFirst;
      } else if (name == "never") {
        step.prepend = HfPreTokenizerStep::Prepend::kNever;
      } else {
        return Invalid(
            absl::StrCat(field, ".prepend_scheme"),
            absl::StrFormat("is '%s'; expected always, first or never", Printable(name)));
      }
    }
    if (!add_prefix_space) {
      if (step.prepend != HfPreTokenizerStep::Prepend::kNever) {
        return Invalid(absl::StrCat(field, ".add_prefix_space"),
                       "is false, which contradicts prepend_scheme (only \"never\" agrees)");
      }
      step.prepend = HfPreTokenizerStep::Prepend::kNever;
    }
  } else {
    return Unsupported(absl::StrCat(field, ".type"),
                       absl::StrFormat("is '%s'; kvlab runs ByteLevel, Digits, Split, "
                                       "Metaspace and Sequence",
                                       Printable(type)));
  }
  steps.push_back(std::move(step));
  return absl::OkStatus();
}

// ---- added tokens ----

absl::StatusOr<std::vector<HfAddedToken>> ParseAddedTokens(const Json& root) {
  std::vector<HfAddedToken> tokens;
  const Json* list = Find(root, "added_tokens");
  if (list == nullptr) return tokens;
  if (!list->is_array()) return Invalid("added_tokens", "must be a list");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    const std::string field = absl::StrFormat("added_tokens[%d]", i);
    if (!item.is_object()) return Invalid(field, "must be an object");
    HfAddedToken token;
    KVLAB_ASSIGN_OR_RETURN(const Json* id, Require(item, "id", field));
    KVLAB_ASSIGN_OR_RETURN(token.id, GetId(*id, absl::StrCat(field, ".id")));
    KVLAB_ASSIGN_OR_RETURN(token.content, RequireString(item, "content", field));
    if (token.content.empty()) return Invalid(absl::StrCat(field, ".content"), "is empty");
    // Every option is required, as `tokenizers` requires it: none has a default to guess.
    KVLAB_ASSIGN_OR_RETURN(token.special, RequireBool(item, "special", field));
    KVLAB_ASSIGN_OR_RETURN(token.lstrip, RequireBool(item, "lstrip", field));
    KVLAB_ASSIGN_OR_RETURN(token.rstrip, RequireBool(item, "rstrip", field));
    KVLAB_ASSIGN_OR_RETURN(token.normalized, RequireBool(item, "normalized", field));
    KVLAB_ASSIGN_OR_RETURN(token.single_word, RequireBool(item, "single_word", field));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// Gives the added tokens the ids `tokenizers` gives them, which it does not read from
// the file: a token listed before keeps its id (taking the later entry's options), one
// in the model's vocabulary takes that id, and the others are numbered on from the
// vocabulary's size in the file's order. `tokenizers` only logs a warning where the
// file says otherwise; here that is an error, since such a file encodes differently
// there than its ids suggest.
absl::Status AssignAddedTokenIds(const HfBpeModel& model, std::vector<HfAddedToken>& tokens) {
  absl::flat_hash_map<std::string, size_t> index_of;  // Content -> index in `kept`.
  std::vector<HfAddedToken> kept;
  int64_t next_id = static_cast<int64_t>(model.vocab().size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    HfAddedToken& token = tokens[i];
    int64_t expected;
    std::string why;
    auto listed = index_of.find(token.content);
    auto in_vocab = model.vocab().find(token.content);
    if (listed != index_of.end()) {
      expected = kept[listed->second].id;
      why = "(an earlier entry's)";
    } else if (in_vocab != model.vocab().end()) {
      expected = in_vocab->second;
      why = "(its model.vocab id)";
    } else {
      expected = next_id++;
      why = absl::StrFormat("(numbering on after model.vocab's %d tokens)", model.vocab().size());
    }
    if (token.id != expected) {
      return Invalid(absl::StrFormat("added_tokens[%d].id", i),
                     absl::StrFormat("is %d, but tokenizers gives '%s' the id %d %s", token.id,
                                     Printable(token.content), expected, why));
    }
    if (listed != index_of.end()) {
      kept[listed->second] = std::move(token);
    } else {
      index_of.emplace(token.content, kept.size());
      kept.push_back(std::move(token));
    }
  }
  tokens = std::move(kept);
  return absl::OkStatus();
}

// The id of a token named by its text: an added token first, then the model's.
std::optional<int32_t> IdOf(const std::string& text, const HfTokenizerParts& parts) {
  for (const HfAddedToken& token : parts.added_tokens) {
    if (token.content == text) return token.id;
  }
  auto it = parts.model.vocab().find(text);
  if (it == parts.model.vocab().end()) return std::nullopt;
  return it->second;
}

// ---- post-processor: a BOS before the text ----

absl::Status ParsePostProcessor(const Json& json, const std::string& field,
                                HfTokenizerParts& parts, int depth = 0) {
  KVLAB_RETURN_IF_ERROR(CheckDepth(depth, field));
  KVLAB_ASSIGN_OR_RETURN(const std::string type, RequireType(json, field));
  if (type == "ByteLevel") return absl::OkStatus();  // Offsets only.
  if (type == "Sequence") {
    KVLAB_ASSIGN_OR_RETURN(const Json* list, RequireArray(json, "processors", field));
    for (size_t i = 0; i < list->size(); ++i) {
      KVLAB_RETURN_IF_ERROR(ParsePostProcessor(
          (*list)[i], absl::StrFormat("%s.processors[%d]", field, i), parts, depth + 1));
    }
    return absl::OkStatus();
  }
  if (type != "TemplateProcessing") {
    return Unsupported(absl::StrCat(field, ".type"),
                       absl::StrFormat("is '%s'; kvlab reads TemplateProcessing, ByteLevel and "
                                       "Sequence",
                                       Printable(type)));
  }
  KVLAB_ASSIGN_OR_RETURN(const Json* single, RequireArray(json, "single", field));
  std::vector<std::string> before;
  bool seen_text = false;
  for (size_t i = 0; i < single->size(); ++i) {
    const Json& item = (*single)[i];
    const std::string item_field = absl::StrFormat("%s.single[%d]", field, i);
    if (!item.is_object()) return Invalid(item_field, "must be an object");
    if (Find(item, "Sequence") != nullptr) {
      seen_text = true;
      continue;
    }
    KVLAB_ASSIGN_OR_RETURN(const Json* special, Require(item, "SpecialToken", item_field));
    if (!special->is_object()) return Invalid(absl::StrCat(item_field, ".SpecialToken"), "must be an object");
    KVLAB_ASSIGN_OR_RETURN(const std::string name,
                           RequireString(*special, "id", absl::StrCat(item_field, ".SpecialToken")));
    if (seen_text) {
      return Unsupported(item_field, absl::StrFormat("puts '%s' after the text; kvlab adds only "
                                                     "a BOS before it",
                                                     Printable(name)));
    }
    before.push_back(name);
  }
  if (before.empty()) return absl::OkStatus();
  if (before.size() > 1) {
    return Unsupported(absl::StrCat(field, ".single"),
                       absl::StrFormat("puts %d tokens before the text; kvlab adds one BOS",
                                       before.size()));
  }
  // The template's token: its ids from special_tokens, else by its text.
  int32_t id = -1;
  const std::string special_field =
      absl::StrFormat("%s.special_tokens['%s']", field, Printable(before[0]));
  const Json* specials = Find(json, "special_tokens");
  if (specials != nullptr && !specials->is_object()) {
    return Invalid(absl::StrCat(field, ".special_tokens"), "must be an object");
  }
  if (specials != nullptr && specials->contains(before[0])) {
    KVLAB_ASSIGN_OR_RETURN(const Json* ids,
                           RequireArray((*specials)[before[0]], "ids", special_field));
    if (ids->size() != 1) return Unsupported(absl::StrCat(special_field, ".ids"), "must hold one id");
    KVLAB_ASSIGN_OR_RETURN(id, GetId((*ids)[0], absl::StrCat(special_field, ".ids[0]")));
  } else if (std::optional<int32_t> found = IdOf(before[0], parts); found.has_value()) {
    id = *found;
  } else {
    return Invalid(special_field, "is missing, and no token has that text");
  }
  parts.bos_id = id;
  parts.add_bos = true;
  return absl::OkStatus();
}

// ---- tokenizer_config.json ----

// A token named in tokenizer_config.json: a string, or an object with "content".
absl::StatusOr<std::optional<int32_t>> ConfigToken(const Json& config, const char* key,
                                                   const HfTokenizerParts& parts) {
  const Json* value = Find(config, key);
  if (value == nullptr) return std::optional<int32_t>();
  std::string text;
  if (value->is_object()) {
    KVLAB_ASSIGN_OR_RETURN(text, RequireString(*value, "content", key));
  } else {
    KVLAB_ASSIGN_OR_RETURN(text, GetString(*value, key));
  }
  std::optional<int32_t> id = IdOf(text, parts);
  if (!id.has_value()) {
    return Invalid(
        key, absl::StrFormat("is '%s', which is not a token of tokenizer.json", Printable(text)));
  }
  return id;
}

absl::Status ApplyConfig(const Json& config, HfTokenizerParts& parts) {
  if (!config.is_object()) return Invalid("tokenizer_config", "must be a JSON object");
  KVLAB_ASSIGN_OR_RETURN(const std::optional<int32_t> bos, ConfigToken(config, "bos_token", parts));
  KVLAB_ASSIGN_OR_RETURN(const std::optional<int32_t> eos, ConfigToken(config, "eos_token", parts));
  // Without add_bos_token the template's BOS is what encoding puts first (in
  // transformers too); a different bos_token would leave kvlab one BOS id for two tokens.
  if (bos.has_value() && parts.add_bos && *bos != parts.bos_id &&
      Find(config, "add_bos_token") == nullptr) {
    return Invalid("bos_token", absl::StrFormat("is id %d, but tokenizer.json's template puts "
                                                "id %d first (and add_bos_token is not given)",
                                                *bos, parts.bos_id));
  }
  if (bos.has_value()) parts.bos_id = *bos;
  if (eos.has_value()) parts.eos_id = *eos;
  KVLAB_ASSIGN_OR_RETURN(parts.add_bos,
                         OptionalBool(config, "add_bos_token", parts.add_bos, "tokenizer_config"));
  // transformers appends the EOS to every text when this is true; kvlab's callers score
  // running text, where an EOS after each would be wrong, so kvlab has no such option.
  KVLAB_ASSIGN_OR_RETURN(const bool add_eos,
                         OptionalBool(config, "add_eos_token", false, "tokenizer_config"));
  if (add_eos) return Unsupported("add_eos_token", "is true; kvlab adds no EOS after the text");
  if (parts.add_bos && parts.bos_id < 0) {
    return Invalid("add_bos_token", "is true but no bos_token is given");
  }
  return absl::OkStatus();
}

// Checks ids against the vocabulary's extent, so that one stray huge id cannot ask
// for gigabytes.
absl::Status CheckIds(const HfTokenizerParts& parts) {
  const int64_t listed =
      static_cast<int64_t>(parts.model.vocab().size() + parts.added_tokens.size());
  for (const auto& [text, id] : parts.model.vocab()) {
    if (id >= listed) {
      return Invalid(absl::StrFormat("model.vocab['%s']", Printable(text)),
                     absl::StrFormat("is %d, beyond the %d tokens the file lists", id, listed));
    }
  }
  for (size_t i = 0; i < parts.added_tokens.size(); ++i) {
    if (parts.added_tokens[i].id >= listed) {
      return Invalid(absl::StrFormat("added_tokens[%d].id", i),
                     absl::StrFormat("is %d, beyond the %d tokens the file lists",
                                     parts.added_tokens[i].id, listed));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HfTokenizerParts> ParseParts(const Json& root) {
  if (!root.is_object()) return absl::InvalidArgumentError("must be a JSON object");
  // The only version there is; `tokenizers` refuses any other.
  if (const Json* version = Find(root, "version"); version != nullptr) {
    KVLAB_ASSIGN_OR_RETURN(const std::string text, GetString(*version, "version"));
    if (text != "1.0") {
      return Unsupported("version", absl::StrFormat("is '%s'; kvlab reads 1.0", Printable(text)));
    }
  }
  HfTokenizerParts parts;
  KVLAB_ASSIGN_OR_RETURN(parts.model, ParseModel(root));
  KVLAB_ASSIGN_OR_RETURN(parts.added_tokens, ParseAddedTokens(root));
  KVLAB_RETURN_IF_ERROR(AssignAddedTokenIds(parts.model, parts.added_tokens));
  KVLAB_RETURN_IF_ERROR(CheckIds(parts));
  std::vector<HfNormalizerStep> normalizer;
  if (const Json* json = Find(root, "normalizer"); json != nullptr) {
    KVLAB_RETURN_IF_ERROR(ParseNormalizer(*json, "normalizer", normalizer));
  }
  std::vector<HfPreTokenizerStep> pre;
  if (const Json* json = Find(root, "pre_tokenizer"); json != nullptr) {
    KVLAB_RETURN_IF_ERROR(ParsePreTokenizer(*json, "pre_tokenizer", pre));
  }
  // Where spaces become U+2581, for Decode.
  for (const HfNormalizerStep& step : normalizer) {
    if (step.kind == HfNormalizerStep::Kind::kReplace && step.pattern == " ") {
      parts.space_mark = step.content;
    }
  }
  for (const HfPreTokenizerStep& step : pre) {
    if (step.kind != HfPreTokenizerStep::Kind::kMetaspace) continue;
    parts.space_mark = step.replacement;
    parts.prepends_space_mark = step.prepend != HfPreTokenizerStep::Prepend::kNever;
  }
  for (const HfNormalizerStep& step : normalizer) {
    if (step.kind == HfNormalizerStep::Kind::kPrepend && !parts.space_mark.empty() &&
        step.content == parts.space_mark) {
      parts.prepends_space_mark = true;
    }
  }
  parts.normalizer = HfNormalizer(std::move(normalizer));
  absl::StatusOr<HfPreTokenizer> pre_tokenizer = HfPreTokenizer::Create(std::move(pre));
  if (!pre_tokenizer.ok()) return Annotate(pre_tokenizer.status(), "pre_tokenizer");
  parts.pre_tokenizer = *std::move(pre_tokenizer);
  if (const Json* json = Find(root, "post_processor"); json != nullptr) {
    KVLAB_RETURN_IF_ERROR(ParsePostProcessor(*json, "post_processor", parts));
  }
  return parts;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromJsonText(
    absl::string_view tokenizer_json, absl::string_view config_json, absl::string_view source,
    absl::string_view config_source) {
  KVLAB_ASSIGN_OR_RETURN(const Json root, ParseJsonText(source, tokenizer_json));
  absl::StatusOr<HfTokenizerParts> parts = ParseParts(root);
  if (!parts.ok()) return Annotate(parts.status(), source);
  if (!config_json.empty()) {
    KVLAB_ASSIGN_OR_RETURN(const Json config, ParseJsonText(config_source, config_json));
    const absl::Status applied = ApplyConfig(config, *parts);
    if (!applied.ok()) return Annotate(applied, config_source);
  }
  auto tokenizer = std::make_unique<HfTokenizer>(*std::move(parts));
  // A template's ids come from its own special_tokens list, which may name any number.
  for (const auto& [name, id] : {std::pair<const char*, int32_t>{"BOS", tokenizer->bos_id()},
                                 {"EOS", tokenizer->eos_id()}}) {
    if (id >= tokenizer->vocab_size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: post_processor: the %s id %d is not a token (the file has %d)", source, name, id,
          tokenizer->vocab_size()));
    }
  }
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromJson(const std::string& path) {
  KVLAB_ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  const std::string config_path =
      (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
  std::string config;
  std::error_code error;
  if (std::filesystem::is_regular_file(config_path, error)) {
    KVLAB_ASSIGN_OR_RETURN(config, ReadFileToString(config_path));
    if (config.empty()) config = " ";  // Present but empty: reported as invalid JSON.
  }
  return TokenizerFromJsonText(text, config, path, config_path);
}

}  // namespace kvlab::tokenizer
