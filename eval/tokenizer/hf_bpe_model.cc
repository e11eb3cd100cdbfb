#include "eval/tokenizer/hf_bpe_model.h"

#include <cstdio>
#include <queue>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/tokenizer/unicode_text.h"

namespace kvlab::tokenizer {

namespace {

// A symbol of the word being merged: a token id, linked to its neighbours.
struct Symbol {
  int32_t id;
  int prev;
  int next;
  size_t length;  // Bytes of the word it covers; 0 once merged into its left neighbour.
};

struct Candidate {
  int32_t rank;
  int pos;
  int32_t new_id;
  // Lowest rank first, then leftmost.
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

// Words of this many bytes or more are not cached, nor any word once the cache holds
// kCacheCapacity words (the reference implementation's limits), so memory stays bounded
// however varied the text.
constexpr size_t kMaxCachedWordLength = 256;
constexpr size_t kCacheCapacity = 10000;

}  // namespace

absl::StatusOr<HfBpeModel> HfBpeModel::Create(
    absl::flat_hash_map<std::string, int32_t> vocab,
    const std::vector<std::pair<std::string, std::string>>& merges, HfBpeOptions options) {
  HfBpeModel model;
  model.vocab_ = std::move(vocab);
  model.options_ = std::move(options);
  if (model.options_.unk_token.has_value()) {
    auto it = model.vocab_.find(*model.options_.unk_token);
    if (it == model.vocab_.end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("model.unk_token '%s' is not in model.vocab",
                          absl::Utf8SafeCEscape(*model.options_.unk_token)));
    }
    model.unk_id_ = it->second;
  }
  model.merges_.reserve(merges.size());
  std::string merged;
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& [left, right] = merges[i];
    merged = absl::StrCat(left, right);
    for (const std::string* part : {&left, &right, static_cast<const std::string*>(&merged)}) {
      if (!model.vocab_.contains(*part)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("model.merges[%d] ('%s' '%s') needs '%s', which is not in model.vocab",
                            i, absl::Utf8SafeCEscape(left), absl::Utf8SafeCEscape(right),
                            absl::Utf8SafeCEscape(*part)));
      }
    }
    // A pair listed twice keeps its last rank, as the reference implementation does.
    model.merges_.insert_or_assign(
        PairKey(model.vocab_.at(left), model.vocab_.at(right)),
        MergeResult{static_cast<int32_t>(i), model.vocab_.at(merged)});
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = model.vocab_.find(name);
    model.byte_ids_[b] = it == model.vocab_.end() ? -1 : it->second;
  }
  return model;
}

void HfBpeModel::Tokenize(absl::string_view word, std::vector<int32_t>& out) {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (auto it = cache_.find(word); it != cache_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  std::vector<int32_t> ids = MergeWord(word);
  out.insert(out.end(), ids.begin(), ids.end());
  if (word.size() < kMaxCachedWordLength && cache_.size() < kCacheCapacity) {
    cache_.emplace(word, std::move(ids));
  }
}

std::vector<int32_t> HfBpeModel::MergeWord(absl::string_view word) const {
  std::vector<Symbol> symbols;
  auto add = [&symbols](int32_t id, size_t length) {
    const int index = static_cast<int>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back(Symbol{id, index - 1, -1, length});
  };
  // A pending unknown token: its id and the bytes it covers so far.
  std::optional<std::pair<int32_t, size_t>> unk;
  for (size_t offset = 0; offset < word.size();) {
    const size_t length = Utf8SequenceLength(word, offset);
    const absl::string_view character = word.substr(offset, length);
    offset += length;
    if (auto it = vocab_.find(character); it != vocab_.end()) {
      if (unk.has_value()) {
        add(unk->first, unk->second);
        unk.reset();
      }
      add(it->second, length);
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (unsigned char byte : character) all_bytes &= byte_ids_[byte] >= 0;
      if (all_bytes) {
        // As the reference implementation: a pending unknown token is not flushed here.
        for (unsigned char byte : character) add(byte_ids_[byte], 1);
        continue;
      }
    }
    if (unk_id_ < 0) continue;  // No unknown token: the character is dropped.
    if (unk.has_value() && options_.fuse_unk) {
      unk->second += length;
    } else {
      if (unk.has_value()) add(unk->first, unk->second);
      unk = std::make_pair(unk_id_, length);
    }
  }
  if (unk.has_value()) add(unk->first, unk->second);

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto try_queue = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    auto it = merges_.find(PairKey(symbols[left].id, symbols[symbols[left].next].id));
    if (it != merges_.end()) queue.push(Candidate{it->second.rank, left, it->second.new_id});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) try_queue(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.length == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // Stale unless the pair there now still merges into the same token.
    auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    left.id = top.new_id;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    try_queue(left.prev);
    try_queue(top.pos);
  }
  std::vector<int32_t> ids;
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
  return ids;
}

}  // namespace kvlab::tokenizer
