// The behaviour every cluster::KeyValue (src/cluster/kv.h) must show, as GoogleTest checks that
// any implementation's test can run: NATS's (kv_store_test.cc) and the in-memory one. Tests only.
//
//   TEST(MyKeyValueTest, Contract) { MyKeyValue kv; tyto::cluster::testing::CheckKeyValueContract(&kv, "t1/"); }
#pragma once

#include <string_view>

#include "cluster/kv.h"

namespace tyto::cluster::testing {

// Runs every check with keys under `prefix` (so a store shared with other data works), failing
// the current test (EXPECT/ADD_FAILURE) on each violation: Get/Create/Update/Put/Delete and
// their revisions, List's prefix, order and deleted keys, keys and values of any bytes, and
// races: concurrent Creates and Updates of one revision have exactly one winner, and
// compare-and-set increments from several threads lose none.
void CheckKeyValueContract(KeyValue* kv, std::string_view prefix);

}  // namespace tyto::cluster::testing
