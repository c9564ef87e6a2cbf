// The corpus's text. Written for this project; every name, address, number and key in it is made
// up (corpus.h says from which reserved ranges), and entries holding such data are marked.
#include "simulate/corpus.h"

#include <array>

namespace tyto::simulate {
namespace {

constexpr bool kPii = true;

constexpr std::array kEntries = std::to_array<CorpusEntry>({
    // --- billing ---------------------------------------------------------------------------------
    {"billing", "en", "Why was I charged twice for my subscription this month?",
     "I'm sorry about that. A second charge usually means the first payment was retried after a temporary "
     "decline; the duplicate is normally reversed within 3-5 business days. If it is still there after that, "
     "reply with the last four digits of the card and the dates of both charges and I will open a refund request."},
    {"billing", "en",
     "Please update my card on file to 4111 1111 1111 1111, expiry 12/29, CVV 123. My account email is "
     "jane.doe@example.com.",
     "For your security I can't take card details in chat. Please update the card under Settings > Billing > "
     "Payment methods. I've noted that the request came from jane.doe@example.com, and nothing has been changed yet.",
     kPii},
    {"billing", "en", "Can I get an invoice with my company's VAT number on it?",
     "Yes. Add the VAT number under Settings > Billing > Tax details; invoices issued after that will show it. "
     "For earlier invoices, download them again from the billing history once the number is saved."},
    {"billing", "en",
     "I paid with my Mastercard 5555 5555 5555 4444 but the order still shows as unpaid. Call me at "
     "+1 415-555-0132 if you need anything.",
     "Thanks, I can see a pending authorisation from a card ending in 4444. Payments can take up to an hour to "
     "settle; the order will switch to paid automatically. We won't need to call you at 415-555-0132, but I've "
     "added the number to the ticket.",
     kPii},
    {"billing", "en", "What happens if I downgrade from the Team plan to the Starter plan mid-cycle?",
     "The downgrade takes effect at the end of the current billing cycle, so you keep Team features until then. "
     "Unused seats beyond the Starter limit will be deactivated on that date; their data is kept for 30 days."},
    {"billing", "en", "Refund request for order #A-20931, it arrived damaged.",
     "I'm sorry the order arrived damaged. I've started a refund for order #A-20931; you'll get a confirmation "
     "email shortly and the money back on the original payment method within 5-10 business days."},
    {"billing", "en",
     "My bank says the transfer to IBAN GB82 WEST 1234 5698 7654 32 bounced. Can you check the details on your "
     "side? Reference: invoice 7781.",
     "The IBAN you quoted, GB82 WEST 1234 5698 7654 32, doesn't match the account on invoice 7781. Please use the "
     "bank details printed on the invoice PDF; I've flagged the bounced transfer so it isn't counted as late.",
     kPii},
    // --- account ---------------------------------------------------------------------------------
    {"account", "en", "How do I reset my password if I no longer have access to my recovery email?",
     "Use the 'Can't access your email?' link on the sign-in page. We'll ask you to verify your identity with a "
     "recent invoice number or the last four digits of the card on file before we set a new recovery address."},
    {"account", "en",
     "Please change the email on my account from m.rossi@example.org to marco.rossi@example.net. My phone is "
     "(206) 555-0147.",
     "I've sent a confirmation link to marco.rossi@example.net. The change from m.rossi@example.org takes effect "
     "once you click it. For security we also texted a code to the number ending in 0147.",
     kPii},
    {"account", "en", "Can two people share one login?",
     "Each person needs their own login; shared logins break the audit log and are against the terms of service. "
     "You can invite a second user from Settings > Members, and on the Team plan extra seats are prorated."},
    {"account", "en", "I want to delete my account and all of my data.",
     "I can help with that. Deleting the account removes your projects, files and billing history after a 14-day "
     "grace period. Go to Settings > Account > Delete account; you'll receive an email confirming the date."},
    {"account", "de", "Wie kann ich die Zwei-Faktor-Authentifizierung aktivieren?",
     "Öffnen Sie Einstellungen > Sicherheit > Zwei-Faktor-Authentifizierung und scannen Sie den QR-Code mit einer "
     "Authenticator-App. Bewahren Sie die angezeigten Wiederherstellungscodes an einem sicheren Ort auf."},
    {"account", "en",
     "I keep getting locked out. Our office IP is 203.0.113.42 and I log in as admin@acme.example.com, can you "
     "whitelist us?",
     "Lockouts come from repeated failed sign-ins, not from the IP address. I've cleared the lock on "
     "admin@acme.example.com. If you want sign-ins limited to 203.0.113.42, an admin can add it under "
     "Settings > Security > Allowed networks.",
     kPii},
    {"account", "fr", "Je n'arrive pas à me connecter depuis mon téléphone.",
     "Essayez de mettre l'application à jour, puis de vous déconnecter et reconnecter. Si le problème continue, "
     "indiquez-moi le modèle du téléphone et le message d'erreur exact."},
    // --- coding ----------------------------------------------------------------------------------
    {"coding", "en", "How do I reverse a linked list in Python?",
     "Walk the list once and flip each pointer:\n\n```python\ndef reverse(head):\n    prev = None\n    while head:\n"
     "        head.next, prev, head = prev, head, head.next\n    return prev\n```\n\nIt runs in O(n) time and O(1) "
     "extra space."},
    {"coding", "en", "What's the difference between a process and a thread?",
     "A process has its own address space and resources; threads are units of execution inside a process that "
     "share its memory. Threads are cheaper to create and communicate through shared memory, which is also why "
     "they need locks; processes are isolated, so a crash in one doesn't take down the others."},
    {"coding", "en",
     "My script fails with 401 Unauthorized. Here is the code:\n\nimport openai\nclient = openai.OpenAI("
     "api_key=\"sk-proj-Q7vN2xK9mR4tL8wB3yH6jD1fS5aZ0cEuTgPq\")\nclient.models.list()",
     "A 401 means the key was rejected: it may have been revoked or belong to another organisation. Also, the key "
     "sk-proj-Q7vN2xK9mR4tL8wB3yH6jD1fS5aZ0cEuTgPq is now exposed in this chat, so revoke it and create a new one. "
     "Load the new key from an environment variable instead of writing it in the code.",
     kPii},
    {"coding", "en", "Write a SQL query that returns the top 5 customers by total order value in 2024.",
     "```sql\nSELECT c.id, c.name, SUM(o.total) AS total_2024\nFROM customers c\nJOIN orders o ON o.customer_id = "
     "c.id\nWHERE o.created_at >= '2024-01-01' AND o.created_at < '2025-01-01'\nGROUP BY c.id, c.name\nORDER BY "
     "total_2024 DESC\nLIMIT 5;\n```"},
    {"coding", "en", "Explain what a race condition is with a short example.",
     "A race condition happens when the result depends on the timing of threads. Two threads doing `count += 1` "
     "can both read 41, both add one and both write 42, losing an increment. Guard the read-modify-write with a "
     "mutex or use an atomic increment."},
    {"coding", "en", "Why does my React component render twice in development?",
     "React's StrictMode intentionally calls components twice in development to surface side effects in render. "
     "It doesn't happen in production builds. Move side effects into useEffect and make rendering pure."},
    {"coding", "en",
     "Is it safe to commit this config? AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE "
     "OPENAI_API_KEY=sk-live-4mT9qXw2Lr7Vb1Nc8Hs3Jd6Kf0GzPyEa",
     "No. Both values are credentials: anyone who can read the repository could use them. Remove them from the "
     "file and from the history, rotate both keys, and read them from a secret manager or environment variables "
     "at run time.",
     kPii},
    {"coding", "en",
     "Convert this to a list comprehension: result = []\nfor x in data:\n    if x > 0:\n        "
     "result.append(x * 2)",
     "`result = [x * 2 for x in data if x > 0]`"},
    {"coding", "en", "What does `git rebase -i HEAD~3` do?",
     "It opens an editor listing your last three commits so you can reorder, squash, edit or drop them. Git then "
     "replays them in the new order. Only do this on commits you haven't pushed to a shared branch."},
    // --- devops ----------------------------------------------------------------------------------
    {"devops", "en", "Our Kubernetes pod is stuck in CrashLoopBackOff. Where do I start?",
     "Start with `kubectl describe pod <name>` for events (OOMKilled, failed probes, image errors) and "
     "`kubectl logs <name> --previous` for the output of the last crashed container. The exit code tells you "
     "whether it was killed (137) or failed on its own."},
    {"devops", "en",
     "The database at 10.12.4.31 refuses connections from the app server 198.51.100.7. pg_hba.conf has "
     "`host all all 10.0.0.0/8 md5`. What's wrong?",
     "The app server's address 198.51.100.7 is outside 10.0.0.0/8, so no pg_hba.conf line matches it. Add a "
     "line for 198.51.100.7/32 (or the app subnet), reload PostgreSQL, and check that the database at 10.12.4.31 "
     "listens on that interface (listen_addresses).",
     kPii},
    {"devops", "en", "How do I see which process is listening on port 8080?",
     "On Linux, `ss -ltnp 'sport = :8080'` shows the listening socket with its process; `lsof -i :8080` works "
     "too. You need root to see other users' processes."},
    {"devops", "en", "What's a sensible alert for disk space?",
     "Alert on the trend rather than a fixed threshold: for example, fire when the filesystem is predicted to "
     "fill within 4 hours (predict_linear over the last 6 hours) and is already more than 80% full."},
    {"devops", "en", "Nginx returns 502 Bad Gateway after I deployed. The upstream is 192.0.2.15:9000.",
     "A 502 means Nginx couldn't get a valid response from 192.0.2.15:9000. Check that the application is "
     "running and listening on that port, then look at the Nginx error log for 'connect() failed' or 'upstream "
     "prematurely closed connection' to see which.",
     kPii},
    {"devops", "en", "Should I use a liveness probe on my inference server?",
     "Yes, but keep it cheap and generous: model loading can take minutes, so use a startup probe with a long "
     "failure threshold, and a liveness probe that checks the process answers /health, not that a generation "
     "succeeds."},
    // --- travel ----------------------------------------------------------------------------------
    {"travel", "en", "Plan a 3-day itinerary for Lisbon on a budget.",
     "Day 1: Alfama and the castle, sunset at Miradouro da Senhora do Monte. Day 2: Belém (tower, monastery, "
     "pastéis), then LX Factory. Day 3: a day trip to Sintra by train. A 24-hour transport card covers trams and "
     "the metro."},
    {"travel", "en", "What should I pack for a week of hiking in Iceland in June?",
     "Layers: a waterproof shell, a warm fleece, thermal base layers, waterproof boots, a hat and gloves. June has "
     "almost 24 hours of daylight, so bring an eye mask. Weather changes fast; always check the forecast before "
     "you set out."},
    {"travel", "es", "¿Cuál es la mejor época para visitar Japón?",
     "La primavera (finales de marzo a principios de abril) por los cerezos en flor y el otoño (noviembre) por "
     "los colores de las hojas. El verano es caluroso y húmedo, y el invierno es ideal para esquiar en Hokkaido."},
    {"travel", "en",
     "Book me a table for four at 8pm Friday under the name Priya Sharma, phone +44 20 7946 0958, email "
     "priya.sharma@example.co.uk.",
     "I can't make bookings directly, but here is a message you can send to the restaurant: 'Table for four, "
     "Friday 8pm, name Priya Sharma, contact +44 20 7946 0958 or priya.sharma@example.co.uk.'",
     kPii},
    {"travel", "en", "Is it better to exchange money before I travel or at the airport?",
     "Usually neither: a card without foreign transaction fees, or an ATM withdrawal on arrival, gives a rate "
     "close to the market rate. Airport exchange counters have the worst rates. Always pay in the local currency "
     "when a card terminal asks."},
    // --- writing ---------------------------------------------------------------------------------
    {"writing", "en",
     "Summarize this in one sentence: The quarterly review found that support tickets fell 12% "
     "after the new onboarding flow launched, while activation rose 4 points.",
     "The new onboarding flow cut support tickets by 12% and raised activation by 4 points in the quarter."},
    {"writing", "en", "Write a polite email declining a meeting invitation.",
     "Subject: Re: Thursday sync\n\nHi Sam,\n\nThank you for the invitation. Unfortunately I can't make Thursday's "
     "meeting. Could you share the notes afterwards? I'm happy to follow up on anything that needs my input.\n\n"
     "Best regards,\nAlex"},
    {"writing", "en", "Give me three title ideas for a blog post about reducing cloud costs.",
     "1. Cutting the Cloud Bill Without Cutting Corners\n2. Where Your Cloud Budget Really Goes\n3. Seven Habits "
     "of Teams With Small Cloud Bills"},
    {"writing", "en",
     "Proofread: 'Dear Mr. Okafor, as discussed on the phone (+1 312-555-0198), please find attached the signed "
     "contract. Reach me at c.okafor@example.com.'",
     "It reads well. One suggestion: 'As discussed on the phone (+1 312-555-0198), please find the signed contract "
     "attached. You can reach me at c.okafor@example.com.' Also check that the signature is from the right "
     "person: the greeting and the email address share the same surname.",
     kPii},
    {"writing", "de", "Übersetze ins Englische: 'Vielen Dank für Ihre schnelle Antwort.'",
     "\"Thank you very much for your quick reply.\""},
    {"writing", "en", "Rewrite this to sound more confident: 'I think maybe we could try to ship on Friday?'",
     "\"Let's ship on Friday.\""},
    {"writing", "en", "Write a haiku about GPUs.",
     "Silicon rivers\nten thousand cores hum in heat\nthe model dreams on"},
    // --- cooking ---------------------------------------------------------------------------------
    {"cooking", "en", "How long should I boil an egg for a runny yolk?",
     "About 6 minutes from the moment the egg goes into boiling water, then straight into cold water for a "
     "minute. Use 7 minutes for a jammy yolk and 9-10 for hard-boiled."},
    {"cooking", "en", "What can I use instead of buttermilk?",
     "Stir one tablespoon of lemon juice or white vinegar into a cup of milk and let it stand for 5 minutes. Plain "
     "yogurt thinned with a little milk works too."},
    {"cooking", "it", "Come si prepara una carbonara tradizionale?",
     "Rosola il guanciale, cuoci gli spaghetti, poi mescolali fuori dal fuoco con tuorli, pecorino romano e pepe "
     "nero, aggiungendo un po' d'acqua di cottura. Niente panna: la cremosità viene dalle uova e dal formaggio."},
    {"cooking", "en", "Give me a quick vegetarian dinner idea with chickpeas.",
     "Chickpea curry: soften an onion, garlic and ginger, add curry powder, a can of tomatoes, a can of chickpeas "
     "and a splash of coconut milk, simmer for 15 minutes and serve with rice and fresh coriander."},
    // --- data ------------------------------------------------------------------------------------
    {"data", "en", "What's the difference between precision and recall?",
     "Precision is the share of predicted positives that are correct; recall is the share of actual positives "
     "that were found. Raising the decision threshold usually raises precision and lowers recall."},
    {"data", "en", "How do I detect data drift in production features?",
     "Compare each feature's recent distribution with a reference window: population stability index or a "
     "Kolmogorov-Smirnov test for numbers, chi-squared or PSI over categories. Alert on sustained shifts, and "
     "check the upstream pipeline first: most drift is a schema or unit change."},
    {"data", "en",
     "Clean this CSV row: 'Lena Fischer, lena.fischer@example.de, 4242 4242 4242 4242, 10.0.3.17, signed up "
     "2024-02-30'",
     "Issues found: the card number 4242 4242 4242 4242 should not be stored in a CSV at all (mask it as "
     "**** 4242), the date 2024-02-30 does not exist, and the internal IP 10.0.3.17 looks out of place in a "
     "customer record. The email lena.fischer@example.de is well formed.",
     kPii},
    {"data", "en", "Explain a p99 latency to a non-technical manager.",
     "If we line up 100 requests from fastest to slowest, p99 is how long the 99th one took. It tells us what "
     "our slowest users experience, which an average hides."},
    {"data", "en", "Which chart type should I use to show revenue by month?",
     "A column chart for a year or less of months, a line chart for longer trends. Start the axis at zero for "
     "columns, and annotate unusual months rather than adding more series."},
    {"data", "en",
     "Our fraud model flagged card 3782 822463 10005 for customer ID 88213 (r.nakamura@example.jp). Is that a "
     "false positive?",
     "I can't see the transaction history, but a few checks help: compare the flagged amount with the customer's "
     "usual spend, check whether the device and IP are new for this customer, and look at the model's top "
     "features for the score. Mask the card number (**** 0005) when you share this case.",
     kPii},
});

constexpr std::array kStructured = std::to_array<CorpusEntry>({
    {"billing", "en",
     "Extract the order number, amount, currency and reason as JSON with the keys order_id, amount, currency "
     "and reason. Answer with JSON only. Text: 'Refund request for order #A-20931: 49.90 EUR, the parcel arrived "
     "damaged.'",
     R"({"order_id": "A-20931", "amount": 49.90, "currency": "EUR", "reason": "damaged"})"},
    {"billing", "en",
     "Return JSON with the keys invoice, due_date (YYYY-MM-DD) and total for: 'Invoice 7781 is due on 14 March "
     "2025, total 1,250.00 USD.' JSON only.",
     R"({"invoice": "7781", "due_date": "2025-03-14", "total": 1250.00, "currency": "USD"})"},
    {"account", "en",
     "Classify this support message and answer in JSON with the keys category, urgency (low, medium, high) and "
     "needs_human (true or false): 'I can't log in and my team's demo starts in ten minutes!'",
     R"({"category": "login", "urgency": "high", "needs_human": true})"},
    {"travel", "en",
     "Turn this into JSON with the keys from, to, date and passengers: 'Two adults flying Lisbon to Reykjavik on "
     "the 3rd of June 2025.' Only the JSON, please.",
     R"({"from": "LIS", "to": "KEF", "date": "2025-06-03", "passengers": 2})"},
    {"devops", "en",
     "Parse this alert into JSON with the keys service, severity, metric and value: 'CRITICAL checkout-api "
     "p99 latency 2.4s above 1s for 10m'. Respond with JSON only.",
     R"({"service": "checkout-api", "severity": "critical", "metric": "p99_latency_seconds", "value": 2.4})"},
    {"data", "en",
     "Extract the fields of this product review as JSON (keys: product, rating 1-5, sentiment, topics as a "
     "list): 'The X200 headphones sound great but the battery dies after 4 hours. 3 stars.'",
     R"({"product": "X200 headphones", "rating": 3, "sentiment": "mixed", "topics": ["sound", "battery"]})"},
    {"coding", "en",
     "Give me a JSON object describing this function signature with the keys name, parameters (a list of "
     "{name, type}) and returns: 'def top_customers(year: int, limit: int = 5) -> list[str]'. JSON only.",
     R"({"name": "top_customers", "parameters": [{"name": "year", "type": "int"}, {"name": "limit", "type": "int"}], "returns": "list[str]"})"},
    {"cooking", "en",
     "Convert this recipe line into JSON with the keys ingredient, quantity and unit: '250 g dried spaghetti'. "
     "Answer with JSON only.",
     R"({"ingredient": "dried spaghetti", "quantity": 250, "unit": "g"})"},
});

constexpr std::array<std::string_view, 6> kRefusals = {
    "I can't help with that.",           "I'm sorry, but I can't help with that request.",
    "I'm not able to help with that.",   "Sorry, I can't assist with that.",
    "I can't provide that information.", "I'm unable to help with this request.",
};

constexpr std::array kWrongLanguage = std::to_array<WrongLanguageAnswer>({
    {"Why was I charged twice for my subscription this month?", "de",
     "Das tut mir leid. Eine zweite Abbuchung bedeutet meist, dass die erste Zahlung nach einer vorübergehenden "
     "Ablehnung erneut versucht wurde; die doppelte Buchung wird normalerweise innerhalb von 3-5 Werktagen "
     "storniert."},
    {"How do I reverse a linked list in Python?", "fr",
     "Parcourez la liste en gardant trois pointeurs : précédent, courant et suivant. À chaque étape, faites "
     "pointer le nœud courant vers le précédent, puis avancez. À la fin, le précédent est la nouvelle tête."},
    {"What should I pack for a week of hiking in Iceland in June?", "es",
     "Lleva capas: ropa térmica, un forro polar, una chaqueta impermeable y pantalones impermeables, botas de "
     "montaña ya usadas, gorro y guantes ligeros. En junio hay luz casi las 24 horas, así que un antifaz ayuda."},
    {"Write a polite email declining a meeting invitation.", "de",
     "Betreff: Re: Abstimmung am Donnerstag\n\nHallo Sam,\n\nvielen Dank für die Einladung. Leider kann ich am "
     "Donnerstag nicht teilnehmen. Könntest du mir danach die Notizen schicken?\n\nViele Grüße\nAlex"},
    {"What's the difference between precision and recall?", "fr",
     "La précision est la part des prédictions positives qui sont correctes ; le rappel est la part des vrais "
     "positifs qui ont été trouvés. Relever le seuil de décision augmente en général la précision et baisse le "
     "rappel."},
    {"How long should I boil an egg for a runny yolk?", "it",
     "Metti l'uovo in acqua già bollente e cuocilo per 6 minuti, poi raffreddalo subito in acqua fredda: "
     "l'albume sarà sodo e il tuorlo ancora morbido."},
});

}  // namespace

std::span<const CorpusEntry> Corpus() { return kEntries; }
std::span<const CorpusEntry> StructuredCorpus() { return kStructured; }
std::span<const std::string_view> Refusals() { return kRefusals; }
std::span<const WrongLanguageAnswer> WrongLanguageAnswers() { return kWrongLanguage; }

}  // namespace tyto::simulate
