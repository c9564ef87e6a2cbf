// Env: all file-system access goes through this interface, so tests can inject faults
// (disk full, failing fsync, torn writes) with src/testing/fault_injection_env.h.
//
// Paths are plain strings; errors carry the path and the operating system's reason.
// Implementations are thread-safe; the file objects they return are not (one owner each).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto {

// A file written front to back. Data reaches the disk only after Sync().
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Flush() = 0;  // hands buffered data to the operating system
  virtual Status Sync() = 0;   // Flush, then fdatasync: durable against power loss
  virtual Status Close() = 0;  // Flush, then close; further calls fail
};

// A file read at arbitrary offsets. Thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into *out (resized to what was read; short at end of file).
  virtual Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
  virtual Result<uint64_t> Size() const = 0;
};

// A whole file mapped read-only into memory; the bytes stay valid while the object lives.
// Thread-safe. Reading a mapped file that another process truncates can kill the process with
// SIGBUS, so only immutable files (finished blocks) are mapped.
class MmapFile {
 public:
  virtual ~MmapFile() = default;
  virtual std::string_view data() const = 0;
};

// An exclusive, advisory lock on a file, held until the object is destroyed or the process
// ends (the kernel releases it even after kill -9).
class FileLock {
 public:
  virtual ~FileLock() = default;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates or truncates the file.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens for appending, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<MmapFile>> NewMmapFile(const std::string& path) = 0;

  // The whole file, to its end (also procfs and sysfs files, whose size reads as 0).
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Names in the directory, without "." and "..", unsorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates the directory and its missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& dir) = 0;
  // Cuts the file to `size` bytes (used to drop a damaged log tail).
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes a rename or a new file in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive lock on `path`, creating it, and writes this process's PID into it.
  // Fails with kFailedPrecondition naming the holder's PID if another process (or another
  // lock object in this one) holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // The process-wide POSIX implementation. Never null, never destroyed.
  static Env* Default();
};

// `path` without trailing slashes ("/" stays "/").
std::string WithoutTrailingSlashes(std::string path);
// The directory holding `path`, trailing slashes ignored: "a/b/" -> "a", "b" -> ".", "/b" -> "/".
std::string ParentDir(const std::string& path);

// Removes a directory and everything in it (files and directories below). OK if missing.
Status RemoveTree(Env* env, const std::string& dir);

// Writes `data` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
// directory. Readers see the old or the new content, never a mix.
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data);

// fdatasync of an existing file through a descriptor opened for appending (which writes nothing):
// makes a truncation, or writes made through another descriptor, durable.
Status SyncFile(Env* env, const std::string& path);

}  // namespace tyto
