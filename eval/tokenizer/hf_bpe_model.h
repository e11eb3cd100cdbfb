// HfBpeModel: the BPE model of Hugging Face's `tokenizers` (a tokenizer.json whose
// model.type is "BPE"), encoding one pre-tokenized word exactly as that library does.
//
// A word starts as one symbol per character: the character's vocabulary id; else, with
// byte_fallback, its bytes' `<0xNN>` ids (when all of them exist); else the unknown
// token (consecutive unknown characters fused into one with fuse_unk); else nothing.
// Then the adjacent pair with the lowest merge rank (the merge's index in the file's
// list; leftmost on ties) is merged, again and again, until no listed merge applies.
// With ignore_merges a word that is itself a vocabulary entry is that one token.
//
// This differs from SpmTokenizer (llama.cpp's SentencePiece-style merging): there any
// adjacent pair whose concatenation is in the vocabulary merges, best score first;
// here only the pairs the merges list names merge, in its order. Files converted from
// SentencePiece list a merge for every split of every token, ordered by the merged
// token's score, so the two mostly agree, but not where several splits or equal
// scores compete.
//
//   KVLAB_ASSIGN_OR_RETURN(HfBpeModel model, HfBpeModel::Create(vocab, merges, options));
//   std::vector<int32_t> ids;
//   model.Tokenize("hello", ids);
#ifndef KVLAB_EVAL_TOKENIZER_HF_BPE_MODEL_H_
#define KVLAB_EVAL_TOKENIZER_HF_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvlab::tokenizer {

// model.* options of a tokenizer.json BPE model that change encoding.
struct HfBpeOptions {
  bool byte_fallback = false;           // Unknown characters as `<0xNN>` tokens.
  std::optional<std::string> unk_token;  // Unknown characters as this token.
  bool fuse_unk = false;                 // Consecutive unknown characters as one token.
  bool ignore_merges = false;            // A word in the vocabulary is one token.
};

class HfBpeModel {
 public:
  // An empty model (no vocabulary), to be replaced by one from Create.
  HfBpeModel() { byte_ids_.fill(-1); }
  // `vocab` maps token text to id; `merges` are pairs in rank order. Errors name the
  // field at fault (model.merges[i], model.unk_token).
  static absl::StatusOr<HfBpeModel> Create(
      absl::flat_hash_map<std::string, int32_t> vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, HfBpeOptions options);

  // Appends the ids of `word` (well-formed UTF-8) to `out`. Caches words, so it is not
  // const; the model is thread-compatible.
  void Tokenize(absl::string_view word, std::vector<int32_t>& out);

  const absl::flat_hash_map<std::string, int32_t>& vocab() const { return vocab_; }
  // The id of `<0xNN>` for each byte, -1 where the vocabulary lacks it.
  const std::array<int32_t, 256>& byte_ids() const { return byte_ids_; }

 private:
  struct MergeResult {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  std::vector<int32_t> MergeWord(absl::string_view word) const;

  absl::flat_hash_map<std::string, int32_t> vocab_;
  absl::flat_hash_map<uint64_t, MergeResult> merges_;
  HfBpeOptions options_;
  int32_t unk_id_ = -1;
  std::array<int32_t, 256> byte_ids_;
  absl::flat_hash_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace kvlab::tokenizer

#endif  // KVLAB_EVAL_TOKENIZER_HF_BPE_MODEL_H_
