// Writing ClickHouse SQL safely: every value that comes from outside (a service name, an
// attribute, a trace id, the log search box) reaches a query only through these functions, never
// pasted in as it came. ClickHouse 18.16 has no query parameters over HTTP ({name:Type} came in
// 19.x), so values are written as quoted literals; one function quotes them all, and a fuzzer
// (tests/fuzz/corpus/clickhouse_sql/) checks that no input escapes its quotes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::clickhouse {

// A string literal: 'text' with \ and ' escaped by a backslash, and every byte below 0x20 and
// 0x7f written as \xHH. Bytes from 0x80 up are kept (UTF-8 stays readable in query logs).
std::string QuoteString(std::string_view s);

// What ClickHouse reads back from QuoteString's output (for tests and the fuzzer): the literal
// at the start of `sql`, and in *rest what follows it. kInvalidArgument when `sql` does not
// start with a well-formed literal.
Result<std::string> UnquoteString(std::string_view sql, std::string_view* rest);

// Whether `name` can name a database, table or cluster here: [A-Za-z_][A-Za-z0-9_]*, at most 64
// bytes. Configuration is checked with it, so identifiers never need escaping.
bool IsPlainIdentifier(std::string_view name);

// `name` in backquotes (a plain identifier, see above).
std::string QuoteIdentifier(std::string_view name);

// unhex('...') of `bytes` (ids kept as FixedString).
std::string HexLiteral(std::string_view bytes);

// The log search box (eventstore/text_query.h's syntax, checked by TranslateSearchText so both
// stores accept and refuse the same text) as a condition over the String column `column`:
// each word or phrase is a regular expression matched against lowerUTF8(column) with word
// boundaries ("[^\pL\pN]", start or end), letters written as classes of their accented forms
// (Latin-1 and Latin Extended-A), so case and those diacritics are ignored as unicode61 ignores
// them; a prefix term has no boundary after it. Errors: TranslateSearchText's.
Result<std::string> SearchTextCondition(std::string_view column, std::string_view text);

// The regular expression of one word or phrase (exposed for tests); empty when it has no word.
std::string TermRegex(std::string_view term, bool prefix);

}  // namespace tyto::clickhouse
