#include "cluster/memory_kv.h"

#include <gtest/gtest.h>

#include "nats/kv_contract.h"

namespace tyto::cluster {
namespace {

// The checks every KeyValue must pass, NATS's bucket included (src/nats/kv_contract.h).
TEST(MemoryKeyValueTest, Contract) {
  MemoryKeyValue kv;
  testing::CheckKeyValueContract(&kv, "t1/");
}

TEST(MemoryKeyValueTest, CreateUpdateCompareAndSet) {
  MemoryKeyValue kv;
  Result<uint64_t> r1 = kv.Create("a", "1");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(kv.Create("a", "2").status().code(), StatusCode::kAlreadyExists);
  Result<uint64_t> r2 = kv.Update("a", "2", *r1);
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(*r2, *r1);
  // The old revision loses.
  EXPECT_EQ(kv.Update("a", "3", *r1).status().code(), StatusCode::kAlreadyExists);
  // Update of a missing key loses too.
  EXPECT_EQ(kv.Update("b", "3", 1).status().code(), StatusCode::kAlreadyExists);
  auto e = kv.Get("a");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->value, "2");
  EXPECT_EQ((*e)->revision, *r2);
}

TEST(MemoryKeyValueTest, DeleteThenCreateAndRevisionsGrow) {
  MemoryKeyValue kv;
  Result<uint64_t> a = kv.Put("x", "1");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(kv.Delete("x").ok());
  ASSERT_TRUE(kv.Delete("x").ok());  // absent: no error
  auto gone = kv.Get("x");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  Result<uint64_t> b = kv.Create("x", "2");
  ASSERT_TRUE(b.ok());
  EXPECT_GT(*b, *a + 1);  // the delete moved the bucket's revision on
}

TEST(MemoryKeyValueTest, ListByPrefixSorted) {
  MemoryKeyValue kv;
  ASSERT_TRUE(kv.Put("s.b", "2").ok());
  ASSERT_TRUE(kv.Put("s.a", "1").ok());
  ASSERT_TRUE(kv.Put("t.a", "3").ok());
  ASSERT_TRUE(kv.Put("s", "0").ok());
  auto l = kv.List("s.");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].key, "s.a");
  EXPECT_EQ((*l)[1].key, "s.b");
}

TEST(MemoryKeyValueTest, UnavailableFailsEveryCall) {
  MemoryKeyValue kv;
  kv.SetUnavailable(true);
  EXPECT_EQ(kv.Put("a", "1").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(kv.Get("a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(kv.Health().code(), StatusCode::kUnavailable);
  kv.SetUnavailable(false);
  EXPECT_TRUE(kv.Health().ok());
}

}  // namespace
}  // namespace tyto::cluster
