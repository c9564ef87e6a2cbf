// The log search box: what a user types, checked and turned into an SQLite FTS5 expression
// over the log body. User text never reaches FTS5 as syntax: every word and phrase is written
// as a quoted FTS5 string, so FTS5's own operators, column filters and special characters in
// the input are only text.
//
// Syntax:
//   timeout upstream     both words occur (in any order)
//   "connection reset"   these words next to each other, in this order
//   time*                a word starting with "time" (also "a phra"*: a phrase whose last word
//                        starts so)
//   error OR warning     either; OR binds tighter than the implicit AND, so
//                        `db error OR warning` means db AND (error OR warning)
//   -debug, NOT debug    does not occur (a word or a phrase); needs at least one positive term
//   AND                  accepted and ignored (AND is implied)
// Words are what the unicode61 tokenizer makes of the text: letters and digits, case and
// diacritics ignored; punctuation inside a word separates words ("user-id" finds the phrase
// "user id"), and a term of punctuation only ("->", ":", a lone "-") is passed over.
#pragma once

#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto::eventstore {

// Longest text and most terms accepted, so one query's work stays bounded.
inline constexpr size_t kMaxSearchTextBytes = 2048;
inline constexpr size_t kMaxSearchTerms = 32;

// The FTS5 expression for `text` (without a column filter; the caller adds `body : (...)`).
// kInvalidArgument, naming the 1-based character position, for an unterminated quote, OR
// without a term on both sides or next to an excluded term, NOT without a term after it, only
// excluded terms, nothing to search for (no letter or digit at all), or text past the limits
// above.
Result<std::string> TranslateSearchText(std::string_view text);

}  // namespace tyto::eventstore
