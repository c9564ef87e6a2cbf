// The traffic's models: features, predictions, embeddings and answers (traffic_models.h).
#include "simulate/traffic_models.h"

#include <algorithm>
#include <cmath>

#include "simulate/node_model.h"

namespace tyto::simulate {
namespace {

// A category with its share of requests usually and under a data drift (a wave of new users on
// a free plan, on mobile, from Brazil, India, Mexico and Nigeria, asking about billing).
struct Category {
  std::string_view name;
  double usual;
  double drifted;
};

struct Country {
  std::string_view code;    // ISO 3166-1 alpha-2
  std::string_view region;  // the fairness segment
  double usual;
  double drifted;
};

constexpr std::array<Country, 12> kCountries = {{
    {"US", "na", 0.30, 0.08},
    {"CA", "na", 0.05, 0.02},
    {"MX", "latam", 0.05, 0.15},
    {"BR", "latam", 0.07, 0.30},
    {"GB", "eu", 0.09, 0.03},
    {"DE", "eu", 0.09, 0.03},
    {"FR", "eu", 0.06, 0.02},
    {"ES", "eu", 0.04, 0.02},
    {"IN", "apac", 0.10, 0.25},
    {"JP", "apac", 0.06, 0.02},
    {"AU", "apac", 0.04, 0.01},
    {"NG", "africa", 0.05, 0.07},
}};

constexpr std::array<Category, 3> kDriftedPlans = {{{"free", 0, 0.70}, {"pro", 0, 0.25}, {"enterprise", 0, 0.05}}};
constexpr std::array<Category, 3> kChannels = {{{"api", 0.55, 0.10}, {"web", 0.30, 0.30}, {"mobile", 0.15, 0.60}}};
constexpr std::array<Category, 8> kLanguages = {{{"en", 0.72, 0.35},
                                                 {"de", 0.08, 0.0},
                                                 {"fr", 0.07, 0.0},
                                                 {"es", 0.07, 0.25},
                                                 {"it", 0.03, 0.0},
                                                 {"ja", 0.03, 0.0},
                                                 {"pt", 0.0, 0.25},
                                                 {"hi", 0.0, 0.15}}};
// The corpus's eight topics: the intent router's classes.
constexpr std::array<Category, 8> kTopics = {{{"coding", 0.22, 0.10},
                                              {"billing", 0.14, 0.35},
                                              {"account", 0.12, 0.35},
                                              {"devops", 0.12, 0.05},
                                              {"data", 0.12, 0.05},
                                              {"writing", 0.12, 0.04},
                                              {"travel", 0.08, 0.03},
                                              {"cooking", 0.08, 0.03}}};

// Picks by `u` from the usual shares, or from the drifted ones when `mix_u` < `mix`.
template <typename T, size_t N>
const T& Pick(const std::array<T, N>& items, double u, double mix_u, double mix) {
  const bool drifted = mix_u < mix;
  for (const T& item : items) {
    const double w = drifted ? item.drifted : item.usual;
    if (u < w) return item;
    u -= w;
  }
  for (size_t i = N; i-- > 0;) {  // rounding: the last with a share
    if ((drifted ? items[i].drifted : items[i].usual) > 0) return items[i];
  }
  return items[N - 1];
}

// Rounded to `places` decimals, the double nearest that decimal (so that it prints and reads
// back as written).
double Round(double v, int places) {
  const double scale = std::pow(10.0, places);
  return std::round(v * scale) / scale;
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

ModelConditions::Shift ShiftOf(std::string_view feature, bool* known) {
  *known = true;
  if (feature == "prompt_length") return ModelConditions::kPromptLength;
  if (feature == "user_age") return ModelConditions::kUserAge;
  if (feature == "account_tenure_days") return ModelConditions::kTenure;
  if (feature == "input_tokens") return ModelConditions::kInputTokens;
  if (feature == "max_tokens") return ModelConditions::kMaxTokens;
  if (feature == "temperature") return ModelConditions::kTemperature;
  if (feature == "country" || feature == "region") return ModelConditions::kCountry;
  if (feature == "plan") return ModelConditions::kPlan;
  if (feature == "channel") return ModelConditions::kChannel;
  if (feature == "language") return ModelConditions::kLanguage;
  if (feature == kEmbeddingFeature) return ModelConditions::kEmbedding;
  *known = false;
  return ModelConditions::kTopic;
}

// A unit vector of `dims` standard normals.
std::vector<double> Direction(uint64_t seed, int dims) {
  Random rng(seed);
  std::vector<double> v(static_cast<size_t>(dims));
  double norm = 0;
  for (double& x : v) {
    x = rng.Normal();
    norm += x * x;
  }
  norm = std::sqrt(std::max(norm, 1e-12));
  for (double& x : v) x /= norm;
  return v;
}

const CorpusEntry* FindEntry(std::string_view prompt) {
  for (const CorpusEntry& e : Corpus()) {
    if (e.prompt == prompt) return &e;
  }
  return nullptr;
}

// Cuts `text` at a word boundary between 35% and 75% of its length, as max_tokens would.
std::string Truncate(std::string_view text, Random& rng) {
  size_t at = static_cast<size_t>(static_cast<double>(text.size()) * rng.Uniform(0.35, 0.75));
  const size_t space = text.rfind(' ', at);
  if (space != std::string_view::npos && space > 0) at = space;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;  // not inside a UTF-8 character
  std::string out(text.substr(0, at));
  while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == ',' || out.back() == '\n')) {
    out.pop_back();
  }
  return out;
}

// A phrase of `text` repeated in a loop, as a model stuck repeating itself writes it.
std::string Loop(std::string_view text, Random& rng) {
  size_t end = text.find_first_of(".!?\n");
  if (end == std::string_view::npos || end > 90 || end < 20) {
    // The first eight words.
    end = 0;
    for (int words = 0; words < 8 && end < text.size(); ++words) {
      const size_t space = text.find(' ', end + 1);
      end = space == std::string_view::npos ? text.size() : space;
    }
  }
  std::string phrase(text.substr(0, end));
  if (phrase.empty()) phrase = "I think";
  const int times = 12 + static_cast<int>(rng.Next() % 14);
  std::string out;
  for (int i = 0; i < times; ++i) {
    if (i > 0) out += ' ';
    out += phrase;
    out += '.';
  }
  return out;
}

// Valid JSON made invalid the ways models get it wrong.
std::string BreakJson(std::string_view json, Random& rng) {
  std::string s(json);
  switch (rng.Next() % 5) {
    case 0: {  // a trailing comma
      const size_t close = s.rfind('}');
      s.insert(close, ",");
      return s;
    }
    case 1:  // single quotes
      std::replace(s.begin(), s.end(), '"', '\'');
      return s;
    case 2:
      return "Sure! Here is the JSON you asked for:\n" + s;
    case 3:  // a closing brace missing
      s.pop_back();
      return s;
    default:  // the keys unquoted, as in JavaScript
      std::string out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') {
          const size_t end = s.find('"', i + 1);
          if (end != std::string::npos && end + 1 < s.size() && s[end + 1] == ':') {
            out.append(s, i + 1, end - i - 1);
            i = end;
            continue;
          }
        }
        out.push_back(s[i]);
      }
      return out;
  }
}

}  // namespace

const std::vector<TrafficModel>& TrafficModels() {
  static const std::vector<TrafficModel>* models = new std::vector<TrafficModel>{
      {NodeModel::ModelFor(ServerKind::kVllm).name,
       kModelVersion,
       {"prompt_length", "input_tokens", "max_tokens", "temperature", "language", "plan", "channel", "country"},
       false},
      {kIntentRouter, "v3", {"prompt_length", "language", "channel", "plan", "country"}, true},
      {kEscalationClassifier,
       "v7",
       {"prompt_length", "user_age", "account_tenure_days", "country", "region", "plan", "channel"},
       true},
  };
  return *models;
}

const TrafficModel* FindTrafficModel(std::string_view name) {
  for (const TrafficModel& m : TrafficModels()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

double ModelConditions::Mix(Shift s) const { return std::clamp(shift[s] / 4, 0.0, 1.0); }

ModelConditions ConditionsAt(const Scenario& scenario, std::string_view model, std::chrono::milliseconds offset) {
  ModelConditions c;
  for (const Incident& inc : scenario.incidents) {
    if (inc.kind != IncidentKind::kDataDrift && inc.kind != IncidentKind::kQualityDrop) continue;
    if (!inc.ActiveAt(offset) || (!inc.model.empty() && inc.model != model)) continue;
    const double ramp = inc.RampAt(offset);
    if (inc.kind == IncidentKind::kQualityDrop) {
      c.quality = std::max(c.quality, std::clamp(inc.severity, 0.0, 1.0) * ramp);
      continue;
    }
    const double level = inc.factor * ramp;
    if (inc.feature.empty()) {
      for (double& s : c.shift) s += level;
      continue;
    }
    bool known = false;
    const ModelConditions::Shift s = ShiftOf(inc.feature, &known);
    if (known) c.shift[s] += level;
  }
  return c;
}

RequestDraws DrawRequest(Random& rng) {
  RequestDraws d;
  d.age = rng.Normal();
  d.tenure = rng.Normal();
  d.length = rng.Normal();
  d.country = rng.Uniform();
  d.country_mix = rng.Uniform();
  d.plan = rng.Uniform();
  d.plan_mix = rng.Uniform();
  d.channel = rng.Uniform();
  d.channel_mix = rng.Uniform();
  d.language = rng.Uniform();
  d.language_mix = rng.Uniform();
  d.topic = rng.Uniform();
  d.topic_mix = rng.Uniform();
  d.escalation = rng.Uniform();
  d.escalation_score = rng.Uniform();
  d.escalation_right = rng.Uniform();
  d.intent_score = rng.Uniform();
  d.intent_right = rng.Uniform();
  d.intent_wrong = rng.Uniform();
  d.embedding_seed = rng.Next();
  return d;
}

namespace {

// The user behind a request, as one model sees it.
struct User {
  const Country* country;
  std::string_view plan;
  std::string_view channel;
  int64_t age;
  int64_t tenure_days;
};

User UserOf(const RequestFacts& f, const RequestDraws& d, const ModelConditions& c) {
  User u;
  u.country = &Pick(kCountries, d.country, d.country_mix, c.Mix(ModelConditions::kCountry));
  u.plan = d.plan_mix < c.Mix(ModelConditions::kPlan) ? Pick(kDriftedPlans, d.plan, 0, 1).name : f.plan;
  u.channel = Pick(kChannels, d.channel, d.channel_mix, c.Mix(ModelConditions::kChannel)).name;
  // Numbers move by `shift` standard deviations: users younger, accounts newer.
  u.age = std::clamp<int64_t>(std::llround(37 + 12 * (d.age - c.shift[ModelConditions::kUserAge])), 18, 90);
  u.tenure_days =
      std::clamp<int64_t>(std::llround(420 * std::exp(1.1 * (d.tenure - c.shift[ModelConditions::kTenure]))), 0, 6000);
  return u;
}

}  // namespace

std::string_view TopicOf(const RequestFacts& f, const RequestDraws& d, const ModelConditions& c) {
  const double mix = c.Mix(ModelConditions::kTopic);
  if (!f.topic.empty() && d.topic_mix >= mix) return f.topic;
  return Pick(kTopics, d.topic, d.topic_mix, mix).name;
}

std::vector<FieldValue> FeaturesFor(const TrafficModel& model, const RequestFacts& f, const RequestDraws& d,
                                    const ModelConditions& c) {
  const User u = UserOf(f, d, c);
  std::vector<FieldValue> out;
  out.reserve(model.features.size());
  auto number = [&out](std::string_view name, double v) { out.push_back({std::string(name), true, v, ""}); };
  auto text = [&out](std::string_view name, std::string_view v) {
    out.push_back({std::string(name), false, 0, std::string(v)});
  };
  for (std::string_view name : model.features) {
    if (name == "prompt_length") {
      // Characters of the whole prompt (system prompt, history and message), about 3.9 a token;
      // a drift makes prompts longer.
      number(name, static_cast<double>(
                       std::llround(static_cast<double>(f.input_tokens) * 3.9 *
                                    std::exp(0.15 * d.length + 0.5 * c.shift[ModelConditions::kPromptLength]))));
    } else if (name == "input_tokens") {
      number(name, static_cast<double>(std::llround(static_cast<double>(f.input_tokens) *
                                                    std::exp(0.5 * c.shift[ModelConditions::kInputTokens]))));
    } else if (name == "max_tokens") {
      number(name, static_cast<double>(std::llround(static_cast<double>(f.max_tokens) *
                                                    std::exp(0.7 * c.shift[ModelConditions::kMaxTokens]))));
    } else if (name == "temperature") {
      number(name, Round(std::clamp(f.temperature + 0.35 * c.shift[ModelConditions::kTemperature], 0.0, 2.0), 2));
    } else if (name == "user_age") {
      number(name, static_cast<double>(u.age));
    } else if (name == "account_tenure_days") {
      number(name, static_cast<double>(u.tenure_days));
    } else if (name == "country") {
      text(name, u.country->code);
    } else if (name == "region") {
      text(name, u.country->region);
    } else if (name == "plan") {
      text(name, u.plan);
    } else if (name == "channel") {
      text(name, u.channel);
    } else if (name == "language") {
      const double mix = c.Mix(ModelConditions::kLanguage);
      text(name, !f.language.empty() && d.language_mix >= mix ? f.language
                                                              : Pick(kLanguages, d.language, d.language_mix, mix).name);
    }
  }
  return out;
}

Prediction Classify(std::string_view model, const RequestFacts& f, const RequestDraws& d, const ModelConditions& c) {
  Prediction p;
  // Confident and mostly right (accuracy about 0.9), calibrated; a quality drop makes the model
  // right less often with the same confidence.
  const double keep = 1 - 0.45 * c.quality;
  if (model == kEscalationClassifier) {
    const User u = UserOf(f, d, c);
    // How often a conversation needs a human agent differs a little by region (the fairness
    // segment), and more with the plan, the account's age and the channel.
    const std::string_view region = u.country->region;
    double logit = region == "na"      ? -1.05
                   : region == "eu"    ? -1.25
                   : region == "apac"  ? -0.85
                   : region == "latam" ? -0.6
                                       : -0.75;
    logit += u.plan == "free" ? 0.35 : u.plan == "enterprise" ? -0.3 : 0;
    logit += u.tenure_days < 30 ? 0.45 : 0;
    logit += u.channel == "mobile" ? 0.2 : u.channel == "api" ? -0.15 : 0;
    const bool truth = d.escalation < Sigmoid(logit);
    p.score = Round(0.5 + 0.5 * std::pow(d.escalation_score, 0.25), 3);
    const bool right = d.escalation_right < p.score * keep;
    p.truth = std::string(truth ? kPositiveLabel : kNegativeLabel);
    p.label = std::string(truth == right ? kPositiveLabel : kNegativeLabel);
    return p;
  }
  const std::string_view topic = TopicOf(f, d, c);
  p.truth = std::string(topic);
  p.score = Round(0.4 + 0.6 * std::pow(d.intent_score, 0.2), 3);
  if (d.intent_right < p.score * keep) {
    p.label = p.truth;
    return p;
  }
  size_t wrong = static_cast<size_t>(d.intent_wrong * (kTopics.size() - 1));
  for (size_t i = 0; i < kTopics.size(); ++i) {
    if (kTopics[i].name == topic) continue;
    if (wrong-- == 0) {
      p.label = std::string(kTopics[i].name);
      break;
    }
  }
  if (p.label.empty()) p.label = std::string(kTopics[0].name == topic ? kTopics[1].name : kTopics[0].name);
  return p;
}

std::vector<double> Embedding(std::string_view topic, const RequestDraws& d, const ModelConditions& c, int dims,
                              uint64_t seed) {
  size_t topic_index = 0;
  for (size_t i = 0; i < kTopics.size(); ++i) {
    if (kTopics[i].name == topic) topic_index = i;
  }
  const std::vector<double> centre = Direction(MixSeed(seed, topic_index + 1), dims);
  const std::vector<double> drift = Direction(MixSeed(seed, 0xd71f7), dims);
  const double shift = 0.45 * c.shift[ModelConditions::kEmbedding];
  Random noise(d.embedding_seed);
  std::vector<double> v(static_cast<size_t>(dims));
  double norm = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = centre[i] + 0.2 * noise.Normal() + shift * drift[i];
    norm += v[i] * v[i];
  }
  norm = std::sqrt(std::max(norm, 1e-12));
  for (double& x : v) x = Round(x / norm, 4);
  return v;
}

std::string_view AnswerName(Answer a) {
  switch (a) {
    case Answer::kGood:
      return "good";
    case Answer::kRefusal:
      return "refusal";
    case Answer::kIrrelevant:
      return "irrelevant";
    case Answer::kTruncated:
      return "truncated";
    case Answer::kEmpty:
      return "empty";
    case Answer::kDegenerate:
      return "degenerate";
    case Answer::kWrongLanguage:
      return "wrong_language";
    case Answer::kJsonValid:
      return "json_valid";
    case Answer::kJsonInvalid:
      return "json_invalid";
  }
  return "";
}

bool IsGoodAnswer(Answer a) { return a == Answer::kGood || a == Answer::kJsonValid; }

Answer DrawAnswer(Random& rng, bool structured, bool truncated, double quality) {
  if (truncated) return Answer::kTruncated;
  const double u = rng.Uniform();
  if (structured) return u < 0.05 + 0.30 * quality ? Answer::kJsonInvalid : Answer::kJsonValid;
  struct Share {
    Answer answer;
    double usual;
    double dropped;  // added at full quality drop
  };
  static constexpr std::array<Share, 5> kBad = {{{Answer::kRefusal, 0.03, 0.10},
                                                 {Answer::kIrrelevant, 0.02, 0.15},
                                                 {Answer::kEmpty, 0.01, 0.03},
                                                 {Answer::kDegenerate, 0.01, 0.08},
                                                 {Answer::kWrongLanguage, 0.006, 0.02}}};
  double at = u;
  for (const Share& s : kBad) {
    const double p = s.usual + s.dropped * quality;
    if (at < p) return s.answer;
    at -= p;
  }
  return Answer::kGood;
}

AnswerText WriteAnswer(Answer a, const CorpusEntry& entry, Random& rng) {
  AnswerText t{entry.prompt, std::string(), entry.topic, entry.language};
  switch (a) {
    case Answer::kGood:
    case Answer::kJsonValid:
      t.response = std::string(entry.response);
      break;
    case Answer::kRefusal: {
      const auto refusals = Refusals();
      t.response = std::string(refusals[rng.Next() % refusals.size()]);
      break;
    }
    case Answer::kIrrelevant: {
      const auto corpus = Corpus();
      const CorpusEntry* other = &corpus[rng.Next() % corpus.size()];
      for (int i = 0; i < 16 && other->topic == entry.topic; ++i) other = &corpus[rng.Next() % corpus.size()];
      t.response = std::string(other->response);
      break;
    }
    case Answer::kTruncated:
      t.response = Truncate(entry.response, rng);
      break;
    case Answer::kEmpty:
      break;
    case Answer::kDegenerate:
      t.response = Loop(entry.response, rng);
      break;
    case Answer::kWrongLanguage: {
      const auto answers = WrongLanguageAnswers();
      const WrongLanguageAnswer& w = answers[rng.Next() % answers.size()];
      const CorpusEntry* prompt = FindEntry(w.prompt);
      t.prompt = w.prompt;
      t.response = std::string(w.response);
      t.topic = prompt != nullptr ? prompt->topic : entry.topic;
      t.language = prompt != nullptr ? prompt->language : "en";
      break;
    }
    case Answer::kJsonInvalid:
      t.response = BreakJson(entry.response, rng);
      break;
  }
  return t;
}

int RateAnswer(Answer a, Random& rng) {
  static constexpr std::array<double, 5> kGoodRatings = {0.02, 0.03, 0.10, 0.30, 0.55};  // 1..5
  static constexpr std::array<double, 5> kBadRatings = {0.45, 0.30, 0.15, 0.07, 0.03};
  const auto& shares = IsGoodAnswer(a) ? kGoodRatings : kBadRatings;
  double u = rng.Uniform();
  for (size_t i = 0; i < shares.size(); ++i) {
    if (u < shares[i]) return static_cast<int>(i) + 1;
    u -= shares[i];
  }
  return 5;
}

}  // namespace tyto::simulate
