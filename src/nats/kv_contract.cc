#include "nats/kv_contract.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace tyto::cluster::testing {
namespace {

std::string Key(std::string_view prefix, std::string_view name) { return std::string(prefix) + std::string(name); }

// The value, or "<absent>" / "<error: ...>", for readable failures.
std::string ValueOf(KeyValue* kv, const std::string& key) {
  auto e = kv->Get(key);
  if (!e.ok()) return "<error: " + e.status().ToString() + ">";
  if (!e->has_value()) return "<absent>";
  return (*e)->value;
}

uint64_t RevisionOf(KeyValue* kv, const std::string& key) {
  auto e = kv->Get(key);
  if (!e.ok() || !e->has_value()) return 0;
  return (*e)->revision;
}

void CheckSingleKey(KeyValue* kv, std::string_view prefix) {
  const std::string k = Key(prefix, "single");
  auto missing = kv->Get(k);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value()) << "a key never written must read as absent";

  auto absent = kv->Update(k, "v0", 1);
  ASSERT_FALSE(absent.ok()) << "Update of an absent key must fail";
  EXPECT_EQ(absent.status().code(), StatusCode::kAlreadyExists) << absent.status().ToString();
  EXPECT_EQ(ValueOf(kv, k), "<absent>");

  auto r1 = kv->Create(k, "v1");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_GT(*r1, 0u);
  auto got = kv->Get(k);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->key, k);
  EXPECT_EQ((*got)->value, "v1");
  EXPECT_EQ((*got)->revision, *r1) << "Get must return the revision Create returned";

  auto again = kv->Create(k, "other");
  ASSERT_FALSE(again.ok()) << "Create of an existing key must fail";
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  EXPECT_EQ(ValueOf(kv, k), "v1");

  auto r2 = kv->Update(k, "v2", *r1);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_GT(*r2, *r1) << "every write must raise the revision";
  EXPECT_EQ(ValueOf(kv, k), "v2");
  EXPECT_EQ(RevisionOf(kv, k), *r2);

  auto zero = kv->Update(k, "v3", 0);
  ASSERT_FALSE(zero.ok()) << "no key is at revision 0";
  EXPECT_EQ(zero.status().code(), StatusCode::kAlreadyExists) << zero.status().ToString();

  auto stale = kv->Update(k, "v3", *r1);
  ASSERT_FALSE(stale.ok()) << "Update with a stale revision must fail";
  EXPECT_EQ(stale.status().code(), StatusCode::kAlreadyExists) << stale.status().ToString();
  EXPECT_EQ(ValueOf(kv, k), "v2");

  auto r3 = kv->Put(k, "v4");
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_GT(*r3, *r2);
  EXPECT_EQ(ValueOf(kv, k), "v4");

  ASSERT_TRUE(kv->Delete(k).ok());
  auto gone = kv->Get(k);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_FALSE(gone->has_value()) << "a deleted key must read as absent";
  EXPECT_TRUE(kv->Delete(k).ok()) << "deleting an absent key is no error";
  EXPECT_TRUE(kv->Delete(Key(prefix, "never-written")).ok()) << "deleting a key never written is no error";

  auto after_delete = kv->Update(k, "v5", *r3);
  EXPECT_FALSE(after_delete.ok()) << "Update of a deleted key with its old revision must fail";
  if (!after_delete.ok()) {
    EXPECT_EQ(after_delete.status().code(), StatusCode::kAlreadyExists);
  }

  auto r4 = kv->Create(k, "v6");
  ASSERT_TRUE(r4.ok()) << "Create after Delete must succeed: " << r4.status().ToString();
  EXPECT_GT(*r4, *r3);
  EXPECT_EQ(ValueOf(kv, k), "v6");

  auto p = kv->Put(Key(prefix, "put-new"), "x");
  ASSERT_TRUE(p.ok()) << "Put of a new key must succeed: " << p.status().ToString();
  EXPECT_GT(*p, *r4) << "revisions grow across the whole store";
}

void CheckBytes(KeyValue* kv, std::string_view prefix) {
  const std::vector<std::string> keys = {Key(prefix, "with space"), Key(prefix, ".leading-dot"),
                                         Key(prefix, "trailing-dot."), Key(prefix, "a..b"),
                                         Key(prefix, "uni\xc3\xbc*>=%"), Key(prefix, std::string("nul\0byte", 8))};
  const std::string binary("\0\x01\xff value\n", 10);
  for (const std::string& k : keys) {
    auto r = kv->Put(k, binary);
    ASSERT_TRUE(r.ok()) << "key '" << k << "': " << r.status().ToString();
    EXPECT_EQ(ValueOf(kv, k), binary) << "key '" << k << "'";
  }
  auto empty = kv->Put(Key(prefix, "empty-value"), "");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  auto e = kv->Get(Key(prefix, "empty-value"));
  ASSERT_TRUE(e.ok() && e->has_value()) << "an empty value is a value, not a deletion";
  EXPECT_EQ((*e)->value, "");
}

void CheckList(KeyValue* kv, std::string_view prefix) {
  const std::string p = Key(prefix, "list/");
  ASSERT_TRUE(kv->Put(p + "b", "2").ok());
  ASSERT_TRUE(kv->Put(p + "a", "1").ok());
  ASSERT_TRUE(kv->Put(p + "ab", "12").ok());
  ASSERT_TRUE(kv->Put(p + "c", "3").ok());
  ASSERT_TRUE(kv->Delete(p + "c").ok());
  ASSERT_TRUE(kv->Put(Key(prefix, "list-sibling"), "no").ok());

  auto all = kv->List(p);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> keys;
  for (const Entry& e : *all) {
    keys.push_back(e.key);
    EXPECT_EQ(e.revision, RevisionOf(kv, e.key)) << e.key;
    EXPECT_EQ(e.value, ValueOf(kv, e.key)) << e.key;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{p + "a", p + "ab", p + "b"})) << "sorted, live keys under the prefix only";

  auto some = kv->List(p + "a");
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0].key, p + "a");
  EXPECT_EQ((*some)[1].key, p + "ab");

  auto none = kv->List(Key(prefix, "nothing-here/"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

void CheckRaces(KeyValue* kv, std::string_view prefix) {
  constexpr int kThreads = 8;
  // Create races: one winner.
  {
    const std::string k = Key(prefix, "race-create");
    std::atomic<int> ready{0}, winners{0}, conflicts{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i) {
      ts.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        auto r = kv->Create(k, "creator-" + std::to_string(i));
        if (r.ok()) {
          winners.fetch_add(1);
        } else if (r.status().code() == StatusCode::kAlreadyExists) {
          conflicts.fetch_add(1);
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(winners.load(), 1) << "concurrent Creates of one key: exactly one must win";
    EXPECT_EQ(conflicts.load(), kThreads - 1);
  }
  // Update races on one revision: one winner, and the value is the winner's.
  for (int round = 0; round < 3; ++round) {
    const std::string k = Key(prefix, "race-update");
    auto base = kv->Put(k, "base");
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    std::atomic<int> ready{0}, winners{0}, conflicts{0};
    std::atomic<int> winner{-1};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i) {
      ts.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        auto r = kv->Update(k, "updater-" + std::to_string(i), *base);
        if (r.ok()) {
          winners.fetch_add(1);
          winner.store(i);
        } else if (r.status().code() == StatusCode::kAlreadyExists) {
          conflicts.fetch_add(1);
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(winners.load(), 1) << "concurrent Updates of one revision: exactly one must win (round " << round << ")";
    EXPECT_EQ(conflicts.load(), kThreads - 1);
    EXPECT_EQ(ValueOf(kv, k), "updater-" + std::to_string(winner.load()));
  }
  // Compare-and-set increments: none lost.
  {
    const std::string k = Key(prefix, "counter");
    ASSERT_TRUE(kv->Put(k, "0").ok());
    constexpr int kIncrements = 10;
    std::atomic<int> errors{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {
      ts.emplace_back([&] {
        for (int n = 0; n < kIncrements; ++n) {
          for (int attempt = 0; attempt < 1000; ++attempt) {
            auto e = kv->Get(k);
            if (!e.ok() || !e->has_value()) {
              errors.fetch_add(1);
              return;
            }
            const int v = std::stoi((*e)->value);
            auto r = kv->Update(k, std::to_string(v + 1), (*e)->revision);
            if (r.ok()) break;
            if (r.status().code() != StatusCode::kAlreadyExists) {
              errors.fetch_add(1);
              return;
            }
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(ValueOf(kv, k), std::to_string(4 * kIncrements)) << "compare-and-set increments must lose none";
  }
}

}  // namespace

void CheckKeyValueContract(KeyValue* kv, std::string_view prefix) {
  {
    SCOPED_TRACE("single key");
    CheckSingleKey(kv, prefix);
  }
  {
    SCOPED_TRACE("keys and values of any bytes");
    CheckBytes(kv, prefix);
  }
  {
    SCOPED_TRACE("List");
    CheckList(kv, prefix);
  }
  {
    SCOPED_TRACE("races");
    CheckRaces(kv, prefix);
  }
  EXPECT_TRUE(kv->Health().ok()) << kv->Health().ToString();
}

}  // namespace tyto::cluster::testing
