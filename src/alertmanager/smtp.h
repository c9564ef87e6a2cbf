// SmtpSend: one message through one SMTP conversation (RFC 5321), as Alertmanager's email
// integration holds it: connect (implicit TLS when asked, as for port 465), greeting, EHLO
// (HELO when EHLO is refused), STARTTLS when the server offers it (an error when TLS is required
// and not offered), AUTH (the first of the server's mechanisms that the credentials allow:
// CRAM-MD5 with a secret, PLAIN or LOGIN with a password; PLAIN and LOGIN only over TLS or to a
// loopback host), MAIL FROM, RCPT TO for each recipient, DATA with dot-stuffing, QUIT.
//
// POSIX sockets and OpenSSL; every read and write is bounded by one deadline over the whole
// conversation, and replies by line length and line count. Each failure names the step and the
// server's reply code. Blocking; thread-safe (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::alertmanager {

struct SmtpOptions {
  std::string host;  // a name or an IP literal
  uint16_t port = 25;
  std::string hello = "localhost";  // the EHLO name
  bool implicit_tls = false;        // TLS from the first byte (port 465)
  bool require_tls = true;          // fail rather than send over a plain connection
  // TLS: the name verified and sent as SNI (empty: host); extra trusted CAs (PEM); or no check.
  std::string server_name;
  std::string ca_file;
  bool insecure_skip_verify = false;
  // AUTH, when the server offers it and username is set.
  std::string username;
  std::string password;
  std::string identity;  // PLAIN's authorization identity
  std::string secret;    // CRAM-MD5
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct SmtpMessage {
  std::string from;             // the envelope sender, a bare address
  std::vector<std::string> to;  // envelope recipients, bare addresses
  std::string data;             // headers and body; lines end in "\n" or "\r\n"
};

struct SmtpResult {
  Status status;
  // Whether trying again may help: network errors, timeouts and 4xx replies (transient, by
  // RFC 5321), not 5xx replies or a configuration that cannot work.
  bool retry = false;
  int reply_code = 0;  // the failing reply's code, 0 when the failure was not a reply
};

SmtpResult SmtpSend(const SmtpOptions& options, const SmtpMessage& message);

// The bare addresses in an address list as written in From and To headers:
// "Ops <ops@example.com>, dev@example.com" -> {"ops@example.com", "dev@example.com"}.
// kInvalidArgument for an empty list or an address without '@'.
Result<std::vector<std::string>> ParseAddressList(std::string_view list);

// Data as DATA sends it: lines ending in CRLF, a '.' doubled at the start of a line, and the
// final ".\r\n".
std::string DotStuff(std::string_view data);

}  // namespace tyto::alertmanager
