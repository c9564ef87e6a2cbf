#include "tyto/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tyto {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_EQ(s, Status::Ok());
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = InvalidArgument("bad thing");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad thing");
  EXPECT_EQ(s.ToString(), "invalid_argument: bad thing");
}

TEST(StatusTest, HelpersSetTheirCodes) {
  EXPECT_EQ(NotFound("x").code(), StatusCode::kNotFound);
  EXPECT_EQ(FailedPrecondition("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ResourceExhausted("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Unavailable("x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(IOError("x").code(), StatusCode::kIOError);
  EXPECT_EQ(Corruption("x").code(), StatusCode::kCorruption);
  EXPECT_EQ(Internal("x").code(), StatusCode::kInternal);
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(NotFound("a"), NotFound("a"));
  EXPECT_FALSE(NotFound("a") == NotFound("b"));
  EXPECT_FALSE(NotFound("a") == IOError("a"));
  EXPECT_FALSE(NotFound("") == Status::Ok());
}

TEST(StatusTest, CodeNamesAreSnakeCaseAndDistinct) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyExists), "already_exists");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed_precondition");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "resource_exhausted");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "unauthenticated");
  EXPECT_EQ(StatusCodeName(StatusCode::kPermissionDenied), "permission_denied");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "unavailable");
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "deadline_exceeded");
  EXPECT_EQ(StatusCodeName(StatusCode::kCancelled), "cancelled");
  EXPECT_EQ(StatusCodeName(StatusCode::kIOError), "io_error");
  EXPECT_EQ(StatusCodeName(StatusCode::kNoSpace), "no_space");
  EXPECT_EQ(StatusCodeName(StatusCode::kCorruption), "corruption");
  EXPECT_EQ(StatusCodeName(StatusCode::kOutOfOrderSample), "out_of_order_sample");
  EXPECT_EQ(StatusCodeName(StatusCode::kDuplicateSample), "duplicate_sample");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnimplemented), "unimplemented");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "internal");
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(200)), "unknown");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = IOError("disk on fire").WithContext("writing wal");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(s.message(), "writing wal: disk on fire");
  // Context nests, outermost first.
  EXPECT_EQ(s.WithContext("head").message(), "head: writing wal: disk on fire");
}

TEST(StatusTest, WithContextOnOkStaysOk) {
  Status s = Status::Ok().WithContext("anything");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
}

TEST(ResultTest, HoldsError) {
  Result<int> r = NotFound("no such series");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no such series");
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternalError) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, ArrowAndMutableAccess) {
  Result<std::string> r = std::string("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  r.value() += "d";
  *r += "e";
  EXPECT_EQ(*r, "abcde");
}

TEST(ResultTest, MoveOnlyValueCanBeMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

// Helpers for the macros.
Status FailIf(bool fail) { return fail ? Corruption("bad block") : Status::Ok(); }

Status ReturnIfErrorTwice(bool first_fails, bool second_fails, int* steps) {
  TYTO_RETURN_IF_ERROR(FailIf(first_fails));
  ++*steps;
  TYTO_RETURN_IF_ERROR(FailIf(second_fails));
  ++*steps;
  return Status::Ok();
}

TEST(MacroTest, ReturnIfErrorReturnsFirstErrorAndStops) {
  int steps = 0;
  Status s = ReturnIfErrorTwice(true, false, &steps);
  EXPECT_EQ(s, Corruption("bad block"));
  EXPECT_EQ(steps, 0);

  steps = 0;
  s = ReturnIfErrorTwice(false, true, &steps);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(steps, 1);

  steps = 0;
  EXPECT_TRUE(ReturnIfErrorTwice(false, false, &steps).ok());
  EXPECT_EQ(steps, 2);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

// Two uses in one function check that the macro's temporaries do not collide.
Result<int> Quarter(int x) {
  TYTO_ASSIGN_OR_RETURN(int half, Half(x));
  TYTO_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Result<std::unique_ptr<int>> MakeBox(int v) {
  if (v < 0) return InvalidArgument("negative");
  return std::make_unique<int>(v);
}

Status UseBox(int v, int* out) {
  std::unique_ptr<int> box;
  TYTO_ASSIGN_OR_RETURN(box, MakeBox(v));  // assigns to an existing variable
  *out = *box;
  return Status::Ok();
}

TEST(MacroTest, AssignOrReturnDeclaresValue) {
  Result<int> r = Quarter(12);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
}

TEST(MacroTest, AssignOrReturnPropagatesError) {
  Result<int> r = Quarter(6);  // 6 -> 3, then 3 is odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), InvalidArgument("3 is odd"));

  r = Quarter(5);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "5 is odd");
}

TEST(MacroTest, AssignOrReturnAssignsExistingVariableAndMovesOnlyTypes) {
  int out = 0;
  EXPECT_TRUE(UseBox(9, &out).ok());
  EXPECT_EQ(out, 9);
  out = 0;
  EXPECT_EQ(UseBox(-1, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out, 0);
}

}  // namespace
}  // namespace tyto
