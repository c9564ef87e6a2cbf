// Case mapping for the lowercase and uppercase relabel actions: what Go's strings.ToLower and
// strings.ToUpper (which Prometheus calls) do, code point by code point with Unicode's simple
// (one-to-one) mappings, for the scripts label values are written in:
//
//   U+0000-U+007F   Basic Latin (ASCII)
//   U+0080-U+00FF   Latin-1 Supplement  (µ uppercases to Greek Μ; ÿ to Ÿ; ß has no simple
//                                        uppercase and stays, as in Go)
//   U+0100-U+017F   Latin Extended-A    (İ lowercases to i, ı uppercases to I, ſ to S)
//   U+0345          the combining iota subscript (uppercases to Ι)
//   U+0370-U+03FF   Greek and Coptic    (ς uppercases to Σ; Σ lowercases to σ, never ς:
//                                        like Go, no rule looks at the neighbours)
//   U+0400-U+052F   Cyrillic and Cyrillic Supplement
//
// Other code points are left as they are, where Go would map some (Latin Extended-B, Armenian,
// Georgian, Greek Extended, Latin Extended Additional, fullwidth Latin, ...). A byte that does not
// start a valid UTF-8 sequence becomes U+FFFD, as in Go.
#pragma once

#include <string>
#include <string_view>

namespace tyto::relabel {

std::string ToLower(std::string_view utf8);
std::string ToUpper(std::string_view utf8);

// One code point's simple mapping; `c` itself when it has none (or lies outside the blocks above).
char32_t LowerRune(char32_t c);
char32_t UpperRune(char32_t c);

}  // namespace tyto::relabel
