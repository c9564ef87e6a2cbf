#include "evaluate/stop_words.h"

namespace tyto::evaluate {

const std::vector<StopWordList>& StopWordLists() {
  // Function words only (articles, pronouns, prepositions, conjunctions, auxiliaries), so that
  // dropping them never drops a topic word. Lists overlap ("de" is Spanish, French, Portuguese
  // and Dutch); the language evaluator weighs a shared word less.
  static const std::vector<StopWordList> kLists = {
      {"en", "English", Script::kLatin, true,
       "a about above after again against all also am an and any are aren't as at be because been before being "
       "below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down "
       "during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here "
       "here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself "
       "just let's may me might more most must mustn't my myself no nor not of off on once only or other ought "
       "our ours ourselves out over own please same shall shan't she she'd she'll she's should shouldn't so some "
       "such than that that's the their theirs them themselves then there there's these they they'd they'll "
       "they're they've this those through to too under until up us very was wasn't we we'd we'll we're we've "
       "were weren't what what's when when's where where's which while who who's whom why why's will with won't "
       "would wouldn't yes you you'd you'll you're you've your yours yourself yourselves "
       // Words of requests that carry no topic and are English only, so that a short English
       // prompt ("Write a polite email declining a meeting invitation.") can be told.
       "anything describe everything explain get give help know like make need new one please rewrite show "
       "something summarise summarize tell thing two use way write"},
      {"es", "Spanish", Script::kLatin, true,
       "a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e el él ella "
       "ellas ellos en entre era es esa esas ese eso esos esta está están estas este esto estos fue ha hasta hay "
       "la las le les lo los más me mi mí mis mucho muchos muy nada ni no nos nosotros o os otra otras otro otros "
       "para pero poco por porque puede que qué quien quienes se sea ser si sí sin sobre son su sus también tanto "
       "te tiene todo todos tu tú tus un una uno unos y ya yo"},
      {"fr", "French", Script::kLatin, true,
       "à a afin alors au aussi autre aux avec avez avons c'est car ce cela ces cet cette comme d'un d'une dans "
       "de des donc dont du elle elles en entre est et été être eu fait il ils j'ai je l'on la le les leur leurs "
       "lui ma mais me même mes moi mon n'est ne nos notre nous on ont ou où par pas peu peut plus pour qu'il "
       "quand que qui sa sans se ses si son sont sous sur ta te tes toi ton tous tout toute toutes très tu un une "
       "vos votre vous y"},
      {"de", "German", Script::kLatin, true,
       "aber als also am an auch auf aus bei bin bis bist da damit dann das dass dein deine dem den denn der des "
       "dich die dies diese dieser dieses dir doch du durch ein eine einem einen einer eines er es euch für hat "
       "haben hier ich ihm ihn ihr ihre im in ist ja jetzt kann kein keine können man mehr mein meine mich mir "
       "mit muss nach nicht noch nur ob oder ohne schon sehr sein seine sich sie sind so soll über um und uns "
       "unser unter vom von vor war wenn wer werden wie wir wird wo wurde zu zum zur zwischen"},
      {"it", "Italian", Script::kLatin, true,
       "a ai al alla alle anche ancora avere c'è che chi ci come con cosa così da dal dalla dei del della delle "
       "di dove e è ed essere fa gli ha hanno ho i il in io l'ho la le lei lo loro lui ma mi mio molto ne nei nel "
       "nella noi non o per perché più poi può quando quella quello questa questo se sei si sia sono su sua sul "
       "sulla suo tra tu tutti tutto un una uno voi"},
      {"pt", "Portuguese", Script::kLatin, true,
       "a à ao aos as às até com como da das de dela dele deles depois do dos e é ela elas ele eles em entre era "
       "essa essas esse esses esta está estão este eu foi foram há isso já lhe mais mas me mesmo meu minha muito "
       "na não nas nem no nos nós num numa o os ou para pela pelas pelo pelos por qual quando que quem se sem "
       "ser seu seus só sua suas também te tem têm tinha um uma você"},
      {"nl", "Dutch", Script::kLatin, true,
       "aan al als bij dan dat de deze die dit door een en er geen had heb hebben heeft het hij hoe hun ik in is "
       "je jij jouw kan maar met mijn moet naar niet nog nu of om ons ook op over te tot uit van voor waar wat "
       "was wel werd wie wij wordt worden ze zei zij zijn zo zou"},
      {"sv", "Swedish", Script::kLatin, true,
       "alla att av bara blir de dem den denna dessa det detta du efter eller en ett finns från för har hade han "
       "hans hennes hon honom hur här i inte jag kan man med mig mot mycket men när nu och också om på sig sin "
       "sina skulle som så till under ut var vad vi vid är över"},
      {"pl", "Polish", Script::kLatin, true,
       "a ale bardzo bo być był była było będzie ci co czy dla do gdy go i ich ja jak jako jednak jego jej jest "
       "jeszcze już która które który lub ma mi mnie może na nie o od on ona oni oraz po pod przez przy się są "
       "ta tak także te tego tej ten to tu tylko w we więc z za ze że"},
      {"tr", "Turkish", Script::kLatin, true,
       "ama ben bir biz bu bunu da daha de değil diye en gibi göre hem her için ile ise kadar ki mi mı mu mü ne "
       "neden nasıl o olan olarak olduğu onlar sen siz sonra şey şu var ve veya ya yok çok çünkü"},
      {"ru", "Russian", Script::kCyrillic, true,
       "а без больше будет бы был была были было быть в вам вас весь во вот все всегда всех вы где да даже для "
       "до его ее её если есть еще ещё же за здесь и из или им их к как какой когда кто ли меня мне может можно "
       "мой мы на над надо нас не него нее нет ни них ничего но ну о об он она они оно от очень по под после "
       "потому почему при про с сам себя со так также такой там тебя то того тоже только тот тут ты у уже хотя "
       "чем через что чтобы эта эти это этого этой этом этот я"},
      {"uk", "Ukrainian", Script::kCyrillic, true,
       "а або але б без більше буде був була були було бути в вам вас весь ви від вона вони воно все всі де для "
       "до є ж за з із і й її їх його коли ми мене мені може можна на над нас не немає ні ніж нього ну о от по "
       "під після про так також там те тебе теж ти тільки то тоді тому тут у усі це цей ці цього чи що щоб я як "
       "який"},
      {"zh", "Chinese", Script::kHan, false,
       "的 了 是 在 我 你 他 她 它 们 这 那 和 有 也 就 都 不 吗 呢 吧 啊 个 与 及 或 而 之 于 以 为 被 把 对 从 到 给 着 过 "
       "会 能 要 可 很 还 又 将 已 并 等 其 此 些 么 什 如 何"},
      {"ja", "Japanese", Script::kKana, false,
       "の に は を が で と た し て も な い か ら れ る す だ よ ね う こ そ あ ど ま せ ん っ ー ず ぬ へ や ゆ"},
  };
  return kLists;
}

uint32_t StopWordMask(uint64_t hash) {
  static const WordTable<uint32_t>* table = [] {
    auto* t = new WordTable<uint32_t>(1024);
    const std::vector<StopWordList>& lists = StopWordLists();
    for (size_t i = 0; i < lists.size(); ++i) {
      ForEachWord(lists[i].words, [&](const Word& w) { (*t)[HashWord(w.text)] |= uint32_t{1} << i; });
    }
    return t;
  }();
  const uint32_t* m = table->Find(hash);
  return m == nullptr ? 0 : *m;
}

}  // namespace tyto::evaluate
