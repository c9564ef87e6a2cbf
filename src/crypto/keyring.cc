#include "crypto/keyring.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace tyto::crypto {
namespace {

constexpr std::string_view kIndexKeyLabel = "tyto index key v1";

std::string ErrnoText(int err) { return std::strerror(err); }

std::string DeriveIndexKey(std::string_view key_bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_bytes.data(), static_cast<int>(key_bytes.size()),
           reinterpret_cast<const unsigned char*>(kIndexKeyLabel.data()), kIndexKeyLabel.size(), out, &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

Status CheckKey(const Key& k, std::string_view where) {
  if (!ValidKeyId(k.id)) {
    return InvalidArgument(std::string(where) + ": key id must be 1 to 64 of [A-Za-z0-9_.-]");
  }
  if (k.bytes.size() != kKeyBytes) {
    return InvalidArgument(std::string(where) + ": key " + k.id + " must be base64 of 32 bytes, is " +
                           std::to_string(k.bytes.size()) + " bytes");
  }
  return Status::Ok();
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Reads all of an open descriptor.
Status ReadAll(int fd, const std::string& path, std::string* out) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IOError("read " + path + ": " + ErrnoText(errno));
    }
    if (n == 0) return Status::Ok();
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > (1u << 20)) return InvalidArgument(path + ": key file larger than 1 MiB");
  }
}

// Writes `text` to `path`.tmp (mode `mode`), syncs it, renames it over `path` and syncs the
// directory. With `exclusive`, fails when `path` exists.
Status WriteKeyFile(const std::string& path, std::string_view text, mode_t mode, bool exclusive) {
  if (exclusive) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return Status(StatusCode::kAlreadyExists, path + " exists; not overwriting a key file");
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IOError("create " + tmp + ": " + ErrnoText(errno));
  Status st = Status::Ok();
  if (::fchmod(fd, mode) != 0) st = IOError("chmod " + tmp + ": " + ErrnoText(errno));
  size_t off = 0;
  while (st.ok() && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = IOError("write " + tmp + ": " + ErrnoText(errno));
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = IOError("fsync " + tmp + ": " + ErrnoText(errno));
  ::close(fd);
  if (st.ok() && exclusive) {
    // link(2) fails when the name exists, so two concurrent generates cannot both win.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      st = errno == EEXIST ? Status(StatusCode::kAlreadyExists, path + " exists; not overwriting a key file")
                           : IOError("link " + path + ": " + ErrnoText(errno));
    }
    ::unlink(tmp.c_str());
  } else if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = IOError("rename " + tmp + " to " + path + ": " + ErrnoText(errno));
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    const bool pad = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alpha && !pad) return false;
  }
  out->assign(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out->resize(static_cast<size_t>(n) - pad);
  return true;
}

Result<Keyring> Keyring::FromKeys(std::vector<Key> keys) {
  if (keys.empty()) return InvalidArgument("no key");
  std::set<std::string_view> seen;
  for (Key& k : keys) {
    if (Status st = CheckKey(k, "key"); !st.ok()) return st;
    if (!seen.insert(k.id).second) return InvalidArgument("key id " + k.id + " appears twice");
    k.index_key = DeriveIndexKey(k.bytes);
    if (k.index_key.empty()) return Internal("HMAC-SHA256 failed deriving the index key of " + k.id);
  }
  return Keyring(std::move(keys));
}

Result<Keyring> Keyring::Parse(std::string_view text, std::string_view name) {
  std::vector<Key> keys;
  std::set<std::string, std::less<>> seen;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
    while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = std::string(name) + ":" + std::to_string(line_no);
    size_t sp = 0;
    while (sp < line.size() && !IsSpace(line[sp])) ++sp;
    if (sp == line.size()) return InvalidArgument(where + ": expected `<key-id> <base64 of 32 bytes>`");
    Key k;
    k.id = std::string(line.substr(0, sp));
    std::string_view b64 = line.substr(sp);
    while (!b64.empty() && IsSpace(b64.front())) b64.remove_prefix(1);
    if (b64.find_first_of(" \t") != std::string_view::npos) {
      return InvalidArgument(where + ": expected `<key-id> <base64 of 32 bytes>`, found more fields");
    }
    if (!ValidKeyId(k.id)) return InvalidArgument(where + ": key id must be 1 to 64 of [A-Za-z0-9_.-]");
    if (!Base64Decode(b64, &k.bytes)) return InvalidArgument(where + ": key " + k.id + " is not valid base64");
    if (Status st = CheckKey(k, where); !st.ok()) return st;
    if (!seen.insert(k.id).second) return InvalidArgument(where + ": key id " + k.id + " appears twice");
    keys.push_back(std::move(k));
  }
  if (keys.empty()) return InvalidArgument(std::string(name) + ": no key (expected lines `<key-id> <base64 of 32 bytes>`)");
  return FromKeys(std::move(keys));
}

Result<Keyring> Keyring::Load(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IOError("open key file " + path + ": " + ErrnoText(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IOError("stat key file " + path + ": " + ErrnoText(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("key file " + path + " is not a regular file");
  }
  const mode_t mode = st.st_mode & 07777;
  if (mode != 0600 && mode != 0400) {
    ::close(fd);
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
    return Status(StatusCode::kPermissionDenied, "key file " + path + " has mode " + octal +
                                               "; it must be 0600 or 0400 (readable by its owner only): chmod 600 " +
                                               path);
  }
  std::string text;
  Status read = ReadAll(fd, path, &text);
  ::close(fd);
  if (!read.ok()) return read;
  return Parse(text, path);
}

const Key* Keyring::Find(std::string_view id) const {
  for (const Key& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

std::string Keyring::Serialize() const {
  std::string out =
      "# Tyto encryption keys (docs/format/keys.md): <key-id> <base64 of 32 bytes>.\n"
      "# The first key encrypts new data; older keys stay to read data written under them.\n";
  for (const Key& k : keys_) out += k.id + " " + Base64Encode(k.bytes) + "\n";
  return out;
}

Result<Key> NewKey() {
  Key k;
  k.bytes.assign(kKeyBytes, '\0');
  unsigned char id[6];
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.bytes.data()), static_cast<int>(kKeyBytes)) != 1 ||
      RAND_bytes(id, sizeof(id)) != 1) {
    return Internal("OpenSSL RAND_bytes failed making a key");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  k.id = "k";
  for (unsigned char b : id) {
    k.id += kHex[b >> 4];
    k.id += kHex[b & 15];
  }
  k.index_key = DeriveIndexKey(k.bytes);
  return k;
}

Result<std::string> GenerateKeyFile(const std::string& path) {
  Result<Key> k = NewKey();
  if (!k.ok()) return k.status();
  const std::string id = k->id;
  std::vector<Key> keys;
  keys.push_back(std::move(k).value());
  Result<Keyring> ring = Keyring::FromKeys(std::move(keys));
  if (!ring.ok()) return ring.status();
  if (Status st = WriteKeyFile(path, ring->Serialize(), 0600, /*exclusive=*/true); !st.ok()) return st;
  return id;
}

Result<std::string> RotateKeyFile(const std::string& path) {
  Result<Keyring> old = Keyring::Load(path);
  if (!old.ok()) return old.status();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return IOError("stat key file " + path + ": " + ErrnoText(errno));
  Result<Key> k = NewKey();
  if (!k.ok()) return k.status();
  while (old->Find(k->id) != nullptr) {  // 48 random bits: practically never
    k = NewKey();
    if (!k.ok()) return k.status();
  }
  const std::string id = k->id;
  std::vector<Key> keys;
  keys.push_back(std::move(k).value());
  for (const Key& o : old->keys()) keys.push_back(o);
  Result<Keyring> ring = Keyring::FromKeys(std::move(keys));
  if (!ring.ok()) return ring.status();
  if (Status s = WriteKeyFile(path, ring->Serialize(), st.st_mode & 07777, /*exclusive=*/false); !s.ok()) {
    return s;
  }
  return id;
}

}  // namespace tyto::crypto
