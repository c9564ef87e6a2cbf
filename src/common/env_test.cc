#include "tyto/env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"

namespace tyto {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// Each test runs in a fresh directory under /tmp, removed afterwards.
class EnvTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return tmp_.Path(name); }

  // Writes `data` with NewWritableFile and Close.
  void Write(Env* env, const std::string& path, std::string_view data) {
    auto f = env->NewWritableFile(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(data).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }

  std::string Read(const std::string& path) {
    auto r = env_->ReadFile(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "<error>";
  }

  Env* env_ = Env::Default();
  testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
};

TEST_F(EnvTest, MmapFileSeesTheWholeFileAndEmptyFilesWork) {
  Write(env_, Path("m"), "mapped bytes");
  auto m = env_->NewMmapFile(Path("m"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->data(), "mapped bytes");
  Write(env_, Path("empty"), "");
  auto e = env_->NewMmapFile(Path("empty"));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)->data().empty());
  EXPECT_EQ(env_->NewMmapFile(Path("missing")).status().code(), StatusCode::kNotFound);
}

TEST(PathTest, ParentDirAndTrailingSlashes) {
  EXPECT_EQ(ParentDir("a/b"), "a");
  EXPECT_EQ(ParentDir("a/b/"), "a");
  EXPECT_EQ(ParentDir("b"), ".");
  EXPECT_EQ(ParentDir("/b"), "/");
  EXPECT_EQ(ParentDir("/a/b//"), "/a");
  EXPECT_EQ(WithoutTrailingSlashes("a//"), "a");
  EXPECT_EQ(WithoutTrailingSlashes("/"), "/");
}

TEST_F(EnvTest, RemoveTreeRemovesNestedDirectories) {
  ASSERT_TRUE(env_->CreateDirs(Path("t/a/b")).ok());
  Write(env_, Path("t/f"), "1");
  Write(env_, Path("t/a/b/g"), "2");
  ASSERT_TRUE(RemoveTree(env_, Path("t")).ok());
  EXPECT_FALSE(env_->FileExists(Path("t")));
  EXPECT_TRUE(RemoveTree(env_, Path("t")).ok());  // already gone
}

TEST_F(EnvTest, DefaultIsASingleton) {
  ASSERT_NE(Env::Default(), nullptr);
  EXPECT_EQ(Env::Default(), Env::Default());
}

TEST_F(EnvTest, WriteThenRead) {
  std::string path = Path("a");
  EXPECT_FALSE(env_->FileExists(path));
  auto f = env_->NewWritableFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(Read(path), "hello world") << "Sync must make appended data visible";
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_TRUE((*f)->Close().ok()) << "a second Close is harmless";
  EXPECT_FALSE((*f)->Append("more").ok()) << "append after close must fail";
  EXPECT_TRUE(env_->FileExists(path));
  auto size = env_->FileSize(path);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 11u);
}

TEST_F(EnvTest, NewWritableFileTruncates) {
  std::string path = Path("a");
  Write(env_, path, "a long first version");
  Write(env_, path, "short");
  EXPECT_EQ(Read(path), "short");
}

TEST_F(EnvTest, AppendableFileKeepsExistingContent) {
  std::string path = Path("log");
  Write(env_, path, "one\n");
  auto f = env_->NewAppendableFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append("two\n").ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(Read(path), "one\ntwo\n");

  // Creates the file when missing.
  auto g = env_->NewAppendableFile(Path("new"));
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE((*g)->Append("x").ok());
  ASSERT_TRUE((*g)->Close().ok());
  EXPECT_EQ(Read(Path("new")), "x");
}

TEST_F(EnvTest, LargeAppendsBypassTheBufferInOrder) {
  std::string path = Path("big");
  std::string big(200 * 1024, 'b');
  auto f = env_->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("head").ok());
  ASSERT_TRUE((*f)->Append(big).ok());
  ASSERT_TRUE((*f)->Append("tail").ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(Read(path), "head" + big + "tail");
}

TEST_F(EnvTest, RandomAccessRead) {
  std::string path = Path("r");
  Write(env_, path, "0123456789");
  auto f = env_->NewRandomAccessFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  std::string out;
  ASSERT_TRUE((*f)->Read(3, 4, &out).ok());
  EXPECT_EQ(out, "3456");
  ASSERT_TRUE((*f)->Read(8, 100, &out).ok());
  EXPECT_EQ(out, "89") << "short read at end of file";
  ASSERT_TRUE((*f)->Read(20, 5, &out).ok());
  EXPECT_EQ(out, "");
  auto size = (*f)->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 10u);
}

TEST_F(EnvTest, ReadFileReadsProcFilesWhoseSizeIsZero) {
  ASSERT_EQ(*env_->FileSize("/proc/self/status"), 0u);  // what procfs reports
  auto status = env_->ReadFile("/proc/self/status");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_THAT(*status, HasSubstr("Name:"));
  EXPECT_THAT(*status, HasSubstr("VmRSS:"));  // the end of it, past any first read
}

TEST_F(EnvTest, ReadFileOfEmptyAndMissingFiles) {
  Write(env_, Path("empty"), "");
  EXPECT_EQ(Read(Path("empty")), "");
  auto missing = env_->ReadFile(Path("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(Path("missing")));
  EXPECT_EQ(env_->FileSize(Path("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env_->NewRandomAccessFile(Path("missing")).status().code(), StatusCode::kNotFound);
}

TEST_F(EnvTest, ListDirNamesEntriesWithoutDots) {
  Write(env_, Path("a"), "1");
  Write(env_, Path("b"), "2");
  ASSERT_TRUE(env_->CreateDirs(Path("sub")).ok());
  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_THAT(*names, UnorderedElementsAre("a", "b", "sub"));
  EXPECT_EQ(env_->ListDir(Path("nope")).status().code(), StatusCode::kNotFound);
}

TEST_F(EnvTest, CreateDirsMakesParentsAndIsIdempotent) {
  std::string nested = Path("x/y/z");
  ASSERT_TRUE(env_->CreateDirs(nested).ok());
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_TRUE(env_->CreateDirs(nested).ok()) << "existing directory is OK";
  EXPECT_TRUE(env_->CreateDirs(Path("x/y/")).ok()) << "trailing slash";
  Write(env_, Path("x/y/z/f"), "in nested dir");
  EXPECT_EQ(Read(Path("x/y/z/f")), "in nested dir");
}

TEST_F(EnvTest, CreateDirsOverAFileFails) {
  Write(env_, Path("file"), "");
  Status s = env_->CreateDirs(Path("file"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(env_->CreateDirs(Path("file/sub")).ok());
  EXPECT_EQ(env_->CreateDirs("").code(), StatusCode::kInvalidArgument);
}

TEST_F(EnvTest, RenameReplacesTarget) {
  Write(env_, Path("from"), "new");
  Write(env_, Path("to"), "old");
  ASSERT_TRUE(env_->RenameFile(Path("from"), Path("to")).ok());
  EXPECT_FALSE(env_->FileExists(Path("from")));
  EXPECT_EQ(Read(Path("to")), "new");
  EXPECT_EQ(env_->RenameFile(Path("from"), Path("to")).code(), StatusCode::kNotFound);
}

TEST_F(EnvTest, RemoveFile) {
  Write(env_, Path("f"), "x");
  ASSERT_TRUE(env_->RemoveFile(Path("f")).ok());
  EXPECT_FALSE(env_->FileExists(Path("f")));
  Status s = env_->RemoveFile(Path("f"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(Path("f")));
}

TEST_F(EnvTest, SyncDir) {
  EXPECT_TRUE(env_->SyncDir(dir_).ok());
  EXPECT_EQ(env_->SyncDir(Path("missing")).code(), StatusCode::kNotFound);
}

TEST_F(EnvTest, WriteFileAtomicallyReplacesContentAndLeavesNoTemporary) {
  std::string path = Path("config.json");
  ASSERT_TRUE(WriteFileAtomically(env_, path, "v1").ok());
  EXPECT_EQ(Read(path), "v1");
  ASSERT_TRUE(WriteFileAtomically(env_, path, "version two").ok());
  EXPECT_EQ(Read(path), "version two");
  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, UnorderedElementsAre("config.json"));
}

TEST_F(EnvTest, LockFileWritesPidAndExcludesSecondLockInSameProcess) {
  std::string path = Path("LOCK");
  auto first = env_->LockFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)->path(), path);
  EXPECT_EQ(Read(path), std::to_string(::getpid()) + "\n");

  auto second = env_->LockFile(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("process " + std::to_string(::getpid())));
  EXPECT_THAT(second.status().message(), HasSubstr(path));

}

TEST_F(EnvTest, LockCanBeRetakenAfterHolderIsDestroyed) {
  std::string path = Path("LOCK");
  {
    auto first = env_->LockFile(path);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_FALSE(env_->LockFile(path).ok());
  }
  auto again = env_->LockFile(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Read(path), std::to_string(::getpid()) + "\n");
}

TEST_F(EnvTest, LockFileHeldByAnotherProcessNamesItsPid) {
  std::string path = Path("LOCK");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Child: take the lock, report, and hold it until killed.
    ::close(ready[0]);
    auto lock = Env::Default()->LockFile(path);
    char c = lock.ok() ? '1' : '0';
    (void)!::write(ready[1], &c, 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ssize_t n;
  do {
    n = ::read(ready[0], &c, 1);
  } while (n < 0 && errno == EINTR);
  ::close(ready[0]);

  auto mine = env_->LockFile(path);

  ::kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);

  ASSERT_EQ(n, 1);
  ASSERT_EQ(c, '1') << "the child could not take the lock";
  ASSERT_FALSE(mine.ok());
  EXPECT_EQ(mine.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(mine.status().message(), HasSubstr("process " + std::to_string(child)));

  // The kernel released the dead child's lock.
  auto after = env_->LockFile(path);
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

class FaultInjectionEnvTest : public EnvTest {
 protected:
  testing::FaultInjectionEnv faulty_{Env::Default()};
};

TEST_F(FaultInjectionEnvTest, PassesThroughWhenNoFaultIsSet) {
  Write(&faulty_, Path("f"), "data");
  auto r = faulty_.ReadFile(Path("f"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "data");
  EXPECT_TRUE(WriteFileAtomically(&faulty_, Path("g"), "atomic").ok());
  EXPECT_EQ(Read(Path("g")), "atomic");
}

TEST_F(FaultInjectionEnvTest, WriteBudgetTearsTheCrossingWrite) {
  std::string path = Path("wal");
  faulty_.SetWriteBudget(10);
  auto f = faulty_.NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("abcd").ok());
  Status s = (*f)->Append("0123456789");
  EXPECT_EQ(s.code(), StatusCode::kNoSpace) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(path));
  // The first part of the crossing write reached the file, the rest did not.
  EXPECT_EQ(Read(path), "abcd012345");
  // The disk stays full.
  EXPECT_EQ((*f)->Append("x").code(), StatusCode::kNoSpace);
  EXPECT_EQ(Read(path), "abcd012345");
  (void)(*f)->Close();
  EXPECT_EQ(Read(path), "abcd012345");
}

TEST_F(FaultInjectionEnvTest, WriteBudgetIsSharedAcrossFilesAndCanBeLifted) {
  faulty_.SetWriteBudget(3);
  auto a = faulty_.NewWritableFile(Path("a"));
  auto b = faulty_.NewWritableFile(Path("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Append("12").ok());
  EXPECT_EQ((*b)->Append("34").code(), StatusCode::kNoSpace);
  faulty_.SetWriteBudget(-1);
  EXPECT_TRUE((*b)->Append("56").ok());
  ASSERT_TRUE((*a)->Close().ok());
  ASSERT_TRUE((*b)->Close().ok());
  EXPECT_EQ(Read(Path("a")), "12");
  EXPECT_EQ(Read(Path("b")), "356");
}

TEST_F(FaultInjectionEnvTest, FailSyncsMakesSyncFail) {
  auto f = faulty_.NewWritableFile(Path("f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  faulty_.FailSyncs(true);
  Status s = (*f)->Sync();
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_EQ(faulty_.SyncDir(dir_).code(), StatusCode::kIOError);
  faulty_.FailSyncs(false);
  EXPECT_TRUE((*f)->Sync().ok());
  EXPECT_TRUE(faulty_.SyncDir(dir_).ok());
}

TEST_F(FaultInjectionEnvTest, FailAllMakesOpenAndOtherCallsFail) {
  Write(env_, Path("existing"), "x");
  faulty_.FailAll(true);
  auto w = faulty_.NewWritableFile(Path("f"));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kIOError);
  EXPECT_THAT(w.status().message(), HasSubstr(Path("f")));
  EXPECT_FALSE(env_->FileExists(Path("f"))) << "a failed open must not create the file";
  EXPECT_EQ(faulty_.NewAppendableFile(Path("f")).status().code(), StatusCode::kIOError);
  EXPECT_EQ(faulty_.NewRandomAccessFile(Path("existing")).status().code(), StatusCode::kIOError);
  EXPECT_EQ(faulty_.ReadFile(Path("existing")).status().code(), StatusCode::kIOError);
  EXPECT_EQ(faulty_.RemoveFile(Path("existing")).code(), StatusCode::kIOError);
  EXPECT_TRUE(env_->FileExists(Path("existing")));
  EXPECT_EQ(faulty_.LockFile(Path("LOCK")).status().code(), StatusCode::kIOError);
}

TEST_F(FaultInjectionEnvTest, FailAllBreaksFilesAlreadyOpen) {
  auto f = faulty_.NewWritableFile(Path("f"));
  ASSERT_TRUE(f.ok());
  faulty_.FailAll(true);
  EXPECT_EQ((*f)->Append("x").code(), StatusCode::kIOError);
  EXPECT_EQ((*f)->Flush().code(), StatusCode::kIOError);
  EXPECT_EQ((*f)->Sync().code(), StatusCode::kIOError);
}

// Whatever breaks, WriteFileAtomically leaves the old content whole and no temporary behind.
TEST_F(FaultInjectionEnvTest, WriteFileAtomicallyKeepsOldContentOnFailure) {
  std::string path = Path("state.json");
  ASSERT_TRUE(WriteFileAtomically(env_, path, "old content").ok());
  std::string big(1000, 'n');

  faulty_.SetWriteBudget(10);
  Status s = WriteFileAtomically(&faulty_, path, big);
  EXPECT_EQ(s.code(), StatusCode::kNoSpace) << s.ToString();
  EXPECT_EQ(Read(path), "old content");
  faulty_.SetWriteBudget(-1);

  faulty_.FailSyncs(true);
  s = WriteFileAtomically(&faulty_, path, big);
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_EQ(Read(path), "old content");
  faulty_.FailSyncs(false);

  faulty_.FailAll(true);
  s = WriteFileAtomically(&faulty_, path, big);
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_EQ(Read(path), "old content");
  faulty_.FailAll(false);

  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, UnorderedElementsAre("state.json"));

  ASSERT_TRUE(WriteFileAtomically(&faulty_, path, big).ok());
  EXPECT_EQ(Read(path), big);
}

}  // namespace
}  // namespace tyto
