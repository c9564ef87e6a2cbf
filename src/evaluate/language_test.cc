// The language evaluator: detection by script and stop words, requests in the prompt, the
// expected option, and what it cannot tell.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "evaluate/evaluate_testing.h"

namespace tyto::evaluate {
namespace {

using evaluate_testing::Make;
using evaluate_testing::Rate;

// A sentence or two in each language, long enough to tell.
const std::map<std::string, std::string>& Texts() {
  static const std::map<std::string, std::string> t = {
      {"en", "The service was restarted because the queue was full, and the latency is now back to normal."},
      {"es", "El servicio se reinició porque la cola estaba llena, y la latencia ya volvió a la normalidad."},
      {"fr", "Le service a été redémarré parce que la file était pleine, et la latence est revenue à la normale."},
      {"de", "Der Dienst wurde neu gestartet, weil die Warteschlange voll war, und die Latenz ist wieder normal."},
      {"it", "Il servizio è stato riavviato perché la coda era piena, e la latenza è tornata alla normalità."},
      {"pt", "O serviço foi reiniciado porque a fila estava cheia, e a latência já voltou ao normal."},
      {"nl", "De dienst is opnieuw gestart omdat de wachtrij vol was, en de latentie is nu weer normaal."},
      {"sv", "Tjänsten startades om eftersom kön var full, och nu är latensen normal igen för alla."},
      {"pl", "Usługa została ponownie uruchomiona, ponieważ kolejka była pełna, a opóźnienie jest już w normie."},
      {"tr", "Kuyruk dolu olduğu için hizmet yeniden başlatıldı ve gecikme şimdi tekrar normal, ama biz izliyoruz."},
      {"ru", "Сервис был перезапущен, потому что очередь была заполнена, и задержка теперь снова в норме."},
      {"uk", "Сервіс було перезапущено, тому що черга була заповнена, і затримка тепер знову в нормі."},
      {"zh", "因为队列已满，所以服务已经重新启动，现在延迟已经恢复正常。"},
      {"ja", "キューがいっぱいになったため、サービスを再起動しました。今は遅延も正常に戻っています。"},
      {"ko", "대기열이 가득 차서 서비스를 다시 시작했으며 이제 지연 시간이 정상으로 돌아왔습니다."},
      {"el", "Η υπηρεσία επανεκκινήθηκε επειδή η ουρά ήταν γεμάτη και η καθυστέρηση είναι πλέον κανονική."},
      {"he", "השירות הופעל מחדש כי התור היה מלא, והשהייה חזרה עכשיו לרמה רגילה."},
      {"ar", "تمت إعادة تشغيل الخدمة لأن قائمة الانتظار كانت ممتلئة، وعاد التأخير الآن إلى طبيعته."},
      {"hi", "सेवा को फिर से शुरू किया गया क्योंकि कतार भरी हुई थी, और अब देरी सामान्य हो गई है।"},
      {"th", "บริการถูกรีสตาร์ทเพราะคิวเต็ม และตอนนี้ความหน่วงกลับมาเป็นปกติแล้ว"},
  };
  return t;
}

TEST(Language, DetectsEachLanguage) {
  auto e = Make("language");
  for (const auto& [code, text] : Texts()) {
    const Score s = Rate(*e, text, text);
    EXPECT_EQ(s.value, 1) << code << ": " << s.explanation;
    EXPECT_EQ(s.label, code + "->" + code) << s.explanation;
  }
}

TEST(Language, MismatchNamesBothLanguages) {
  auto e = Make("language");
  const Score s = Rate(*e, Texts().at("en"), Texts().at("fr"));
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "en->fr");
  EXPECT_EQ(s.explanation, "the prompt is in English (en); the response is in French (fr)");
  EXPECT_EQ(Rate(*e, Texts().at("zh"), Texts().at("ja")).label, "zh->ja");
  EXPECT_EQ(Rate(*e, Texts().at("ru"), Texts().at("en")).label, "ru->en");
  EXPECT_EQ(Rate(*e, Texts().at("es"), Texts().at("pt")).label, "es->pt");
}

TEST(Language, TooLittleTextIsUndetermined) {
  auto e = Make("language");
  Score s = Rate(*e, "Hi!", Texts().at("en"));
  EXPECT_TRUE(std::isnan(s.value));
  EXPECT_EQ(s.label, "undetermined");
  EXPECT_EQ(s.explanation, "the prompt is in too little text to tell (2 letters); the response is in English (en)");
  EXPECT_TRUE(std::isnan(Rate(*e, Texts().at("en"), "").value));
  EXPECT_TRUE(std::isnan(Rate(*e, "12345 67890 !!!", "???").value));
  // Latin letters without stop words: the script is known, the language is not.
  s = Rate(*e, Texts().at("en"), "Kubernetes Prometheus Grafana Loki Tempo Mimir Pyroscope Alertmanager");
  EXPECT_TRUE(std::isnan(s.value));
  EXPECT_EQ(s.explanation, "the prompt is in English (en); the response is in an undetermined language in latin script");
  // ... but a different script is a mismatch all the same.
  s = Rate(*e, "Kubernetes Prometheus Grafana Loki Tempo Mimir Pyroscope Alertmanager", Texts().at("ru"));
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "latin->ru");
}

TEST(Language, CodeBlocksAreLeftOut) {
  auto e = Make("language");
  const std::string response = "Voici la fonction corrigée, elle est plus simple et plus rapide que la vôtre :\n"
                               "```python\n"
                               "def add(first_number, second_number):\n"
                               "    # return the sum of the two numbers that were given to the function\n"
                               "    return first_number + second_number\n"
                               "```\n";
  EXPECT_EQ(Rate(*e, Texts().at("fr"), response).label, "fr->fr");
  auto with_code = Make("language", {{"skip_code", "false"}});
  EXPECT_NE(Rate(*with_code, Texts().at("fr"), response).label, "fr->fr");
}

TEST(Language, FollowsRequestsInThePrompt) {
  auto e = Make("language");
  Score s = Rate(*e, "Explain what a load balancer does. Please answer in French.", Texts().at("fr"));
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.label, "fr->fr");
  EXPECT_EQ(s.explanation, "the prompt asks for French (fr); the response is in French (fr)");
  EXPECT_EQ(Rate(*e, "Translate this paragraph into German: the service was restarted.", Texts().at("de")).value, 1);
  EXPECT_EQ(Rate(*e, "Translate this paragraph into German: the service was restarted.", Texts().at("en")).label,
            "de->en");
  EXPECT_EQ(Rate(*e, "Erkläre das bitte, aber antworte auf Englisch, danke schön für alles.", Texts().at("en")).value,
            1);
  EXPECT_EQ(Rate(*e, "请用英文回答：为什么服务需要重新启动？队列已经满了吗？", Texts().at("en")).value, 1);
  EXPECT_EQ(Rate(*e, "Übersetze ins Englische: 'Vielen Dank für Ihre schnelle Antwort.'", Texts().at("en")).label,
            "en->en");
  // A translation naming no language cannot be judged.
  s = Rate(*e, "Please translate the following text for our customers in the other office.", Texts().at("es"));
  EXPECT_TRUE(std::isnan(s.value));
  EXPECT_EQ(s.label, "translation");
  // A bare "in Italian" is not a request.
  EXPECT_EQ(Rate(*e, "What is the word for the queue of a service in Italian, and why is it so?", Texts().at("en")).label,
            "en->en");
  auto literal = Make("language", {{"follow_requests", "false"}});
  EXPECT_EQ(Rate(*literal, "Explain what a load balancer does. Please answer in French.", Texts().at("fr")).label,
            "en->fr");
}

// Short prompts have few function words; English's list holds request words too.
TEST(Language, ShortEnglishPrompts) {
  auto e = Make("language");
  for (const std::string p : {"Can two people share one login?", "Write a polite email declining a meeting invitation.",
                              "Explain a p99 latency to a non-technical manager."}) {
    EXPECT_EQ(Rate(*e, p, Texts().at("en")).label, "en->en") << p;
    EXPECT_EQ(Rate(*e, p, Texts().at("de")).label, "en->de") << p;
  }
}

TEST(Language, ExpectedLanguage) {
  auto e = Make("language", {{"expected", "de"}});
  Score s = Rate(*e, Texts().at("en"), Texts().at("de"));
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.label, "de->de");
  EXPECT_EQ(s.explanation, "expected German (de); the response is in German (de)");
  EXPECT_EQ(Rate(*e, "", Texts().at("en")).label, "de->en");
  EXPECT_EQ(Rate(*e, "", Texts().at("zh")).value, 0);
  auto ja = Make("language", {{"expected", "ja"}});
  EXPECT_EQ(Rate(*ja, "", Texts().at("ja")).value, 1);
  EXPECT_EQ(Rate(*ja, "", Texts().at("zh")).label, "ja->zh");
}

TEST(Language, MixedScriptsFollowTheMajority) {
  auto e = Make("language");
  // A Japanese answer quoting an English product name stays Japanese.
  EXPECT_EQ(Rate(*e, Texts().at("ja"), "Kubernetes の Pod は、コンテナをまとめて動かすための最小の単位です。").label,
            "ja->ja");
  // Invalid bytes do not count as letters.
  EXPECT_EQ(Rate(*e, Texts().at("en"), Texts().at("en") + "\xff\xfe\xfd\xc3").label, "en->en");
}

}  // namespace
}  // namespace tyto::evaluate
