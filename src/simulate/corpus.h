// The simulator's conversation corpus: prompts and the responses a chat model gave them, written
// for this project (none is taken from a data set or a real conversation). The simulated traffic
// (traffic.h) attaches them to a sample of requests, as gen_ai.input.messages and
// gen_ai.output.messages on spans and as prompt and response in inference events.
//
// SYNTHETIC PERSONAL DATA: some entries hold made-up personal data and secrets so that redaction
// can be demonstrated: e-mail addresses at the reserved example.com/.org/.net domains, phone
// numbers from the ranges set aside for fiction (555-01xx in North America, 020 7946 0xxx in
// London), payment-card test numbers that pass the Luhn check (4111 1111 1111 1111 and the like,
// which card networks publish for testing), IP addresses from the documentation ranges
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and private ranges, an IBAN and an AWS key from
// their issuers' documentation, and `sk-` API keys that never existed. None belongs to anyone.
#pragma once

#include <span>
#include <string_view>

namespace tyto::simulate {

struct CorpusEntry {
  std::string_view topic;     // "billing", "account", "coding", "devops", "travel", "writing", "cooking", "data"
  std::string_view language;  // ISO 639-1 code of the prompt
  std::string_view prompt;
  std::string_view response;
  // Whether the prompt or the response holds synthetic personal data or secrets (see above).
  bool synthetic_pii = false;
};

// Every entry, in a fixed order (a seed picks the same entries everywhere).
std::span<const CorpusEntry> Corpus();

// The structured-output endpoint's requests (/v1/extract): each prompt asks for JSON only, and
// each response is one valid JSON object (CorpusTest parses them). The traffic breaks some of them
// on purpose (traffic_models.h). No personal data.
std::span<const CorpusEntry> StructuredCorpus();

// How a chat model declines: "I can't help with that." and the like.
std::span<const std::string_view> Refusals();

// A prompt of Corpus() (English, with no personal data) answered correctly but in another
// language: what a model that lost track of the conversation's language says.
struct WrongLanguageAnswer {
  std::string_view prompt;    // exactly an English prompt of Corpus()
  std::string_view language;  // ISO 639-1 code of the response
  std::string_view response;
};
std::span<const WrongLanguageAnswer> WrongLanguageAnswers();

}  // namespace tyto::simulate
