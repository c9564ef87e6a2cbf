#include "alertmanager/silence.h"

#include <gtest/gtest.h>

namespace tyto::alertmanager {
namespace {

constexpr int64_t kT = 1'800'000'000'000;  // a fixed "now", Unix ms
constexpr int64_t kHour = 3'600'000;

Silence Make(std::string_view matchers, int64_t starts, int64_t ends) {
  Silence s;
  auto ms = ParseMatchers(matchers);
  EXPECT_TRUE(ms.ok()) << ms.status().ToString();
  if (ms.ok()) s.matchers = *ms;
  s.starts_at = starts;
  s.ends_at = ends;
  s.created_by = "alice";
  s.comment = "maintenance";
  return s;
}

TEST(Silence, StatesAreHalfOpen) {
  Silence s = Make("job=db", kT, kT + kHour);
  EXPECT_EQ(s.StateAt(kT - 1), SilenceState::kPending);
  EXPECT_EQ(s.StateAt(kT), SilenceState::kActive);
  EXPECT_EQ(s.StateAt(kT + kHour - 1), SilenceState::kActive);
  EXPECT_EQ(s.StateAt(kT + kHour), SilenceState::kExpired);
  EXPECT_EQ(SilenceStateName(SilenceState::kPending), "pending");
  EXPECT_TRUE(s.Mutes({{"job", "db"}, {"x", "y"}}, kT));
  EXPECT_FALSE(s.Mutes({{"job", "db"}}, kT - 1));
  EXPECT_FALSE(s.Mutes({{"job", "web"}}, kT));
}

// Alertmanager's silence validation (silence/silence.go validateSilence, and the docs' note that
// a silence must have a matcher that does not match everything).
TEST(Silence, Validation) {
  Silence ok = Make("job=db", kT, kT + kHour);
  ok.id = "x";
  EXPECT_TRUE(ValidateSilence(ok).ok());
  Silence no_id = ok;
  no_id.id = "";
  EXPECT_EQ(ValidateSilence(no_id).message(), "silence id missing");
  Silence none = ok;
  none.matchers.clear();
  EXPECT_EQ(ValidateSilence(none).message(), "at least one matcher required");
  Silence empty = Make(R"(job=~".*", team="")", kT, kT + kHour);
  empty.id = "x";
  EXPECT_EQ(ValidateSilence(empty).message(), "at least one matcher must not match the empty string");
  Silence mixed = Make(R"(job=~".*", team="a")", kT, kT + kHour);
  mixed.id = "x";
  EXPECT_TRUE(ValidateSilence(mixed).ok());
  Silence backwards = ok;
  backwards.ends_at = kT - 1;
  EXPECT_EQ(ValidateSilence(backwards).message(), "end time must not be before start time");
  Silence zero = ok;
  zero.starts_at = 0;
  EXPECT_EQ(ValidateSilence(zero).message(), "invalid zero start timestamp");
}

TEST(Silence, MutesOnlyItsTenantsAlerts) {
  Silence s = Make("job=db", kT, kT + kHour);
  LabelSet plain{{"job", "db"}};
  LabelSet acme = plain;
  SetAlertTenant(&acme, "acme");
  EXPECT_TRUE(s.Mutes(plain, kT));
  EXPECT_FALSE(s.Mutes(acme, kT));
  s.tenant = "acme";
  EXPECT_FALSE(s.Mutes(plain, kT));
  EXPECT_TRUE(s.Mutes(acme, kT));
  s.tenant.clear();
  EXPECT_EQ(ValidateSilence(s).code(), StatusCode::kInvalidArgument);
}

TEST(SilenceStore, AddExpireList) {
  SilenceStore store;
  auto a = store.Add(Make("job=db", kT + kHour, kT + 2 * kHour), kT);  // pending
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, "silence-1");
  auto b = store.Add(Make("severity=~\"warn.*\"", kT - kHour, kT + kHour), kT);  // starts clamped to now
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(store.Get(*b)->starts_at, kT);
  EXPECT_EQ(store.Get(*b)->created_by, "alice");

  Silence dup = Make("a=b", kT, kT + 1);
  dup.id = *a;
  EXPECT_EQ(store.Add(dup, kT).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store.Add(Make("a=b", kT - 2 * kHour, kT - kHour), kT).status().message(),
            "end time must not be in the past");
  EXPECT_EQ(store.Add(Make("a=~\".*\"", kT, kT + 1), kT).status().code(), StatusCode::kInvalidArgument);

  LabelSet alert{{"job", "db"}, {"severity", "warning"}};
  EXPECT_EQ(store.Silenced(alert, kT), std::vector<std::string>{*b});
  EXPECT_EQ(store.Silenced(alert, kT + kHour), std::vector<std::string>{*a});
  SilenceState pending = SilenceState::kPending;
  EXPECT_EQ(store.List(kT, &pending).size(), 1u);
  EXPECT_EQ(store.List(kT).size(), 2u);

  ASSERT_TRUE(store.Expire(*a, kT).ok());  // pending: ends (and starts) now
  EXPECT_EQ(store.Get(*a)->StateAt(kT), SilenceState::kExpired);
  ASSERT_TRUE(store.Expire(*b, kT + 10).ok());  // active: ends now
  EXPECT_EQ(store.Get(*b)->ends_at, kT + 10);
  EXPECT_TRUE(store.Silenced(alert, kT + 10).empty());
  EXPECT_EQ(store.Expire(*b, kT + 20).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.Expire("nope", kT).code(), StatusCode::kNotFound);

  EXPECT_EQ(store.GarbageCollect(kT + 10 + kHour - 1, kHour), 1u);  // only a has been expired long enough
  EXPECT_EQ(store.GarbageCollect(kT + 10 + kHour, kHour), 1u);
  EXPECT_TRUE(store.List(kT).empty());
}

}  // namespace
}  // namespace tyto::alertmanager
