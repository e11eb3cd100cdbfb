#include "eval/tokenizer/special_token_split.h"

#include <algorithm>
#include <list>

namespace kvlab::tokenizer {

SpecialTokenSplitter::SpecialTokenSplitter(const std::vector<std::string>& tokens,
                                           const std::vector<int32_t>& ids) {
  for (size_t i = 0; i < tokens.size() && i < ids.size(); ++i) {
    if (!tokens[i].empty()) specials_.push_back(Special{tokens[i], ids[i]});
  }
  std::stable_sort(specials_.begin(), specials_.end(), [](const Special& a, const Special& b) {
    return a.text.size() != b.text.size() ? a.text.size() > b.text.size() : a.id < b.id;
  });
}

std::vector<TextPiece> SpecialTokenSplitter::Split(absl::string_view text) const {
  // A list, so a piece can be replaced by its parts without moving the others.
  std::list<TextPiece> pieces;
  if (!text.empty()) pieces.push_back(TextPiece{-1, text});
  for (const Special& special : specials_) {
    for (auto it = pieces.begin(); it != pieces.end(); ++it) {
      if (it->id >= 0) continue;
      absl::string_view rest = it->text;
      size_t match = rest.find(special.text);
      if (match == absl::string_view::npos) continue;
      // Replace this text piece by [text, special, text, special, ..., text].
      auto insert_at = std::next(it);
      while (match != absl::string_view::npos) {
        if (match > 0) pieces.insert(insert_at, TextPiece{-1, rest.substr(0, match)});
        pieces.insert(insert_at, TextPiece{special.id, rest.substr(match, special.text.size())});
        rest.remove_prefix(match + special.text.size());
        match = rest.find(special.text);
      }
      if (!rest.empty()) pieces.insert(insert_at, TextPiece{-1, rest});
      pieces.erase(it);
      it = std::prev(insert_at);  // The last new piece; none holds this token.
    }
  }
  return std::vector<TextPiece>(pieces.begin(), pieces.end());
}

}  // namespace kvlab::tokenizer
