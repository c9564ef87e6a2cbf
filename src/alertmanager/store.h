// Snapshots of the dispatcher's durable state in its data directory: silences
// (silences.snap) and the notification log (nflog.snap), so that a restart neither forgets a
// silence nor notifies again what was already sent. Byte layout: docs/format/alertmanager.md.
//
// A snapshot is written whole: to PATH.tmp, synced, renamed over PATH, directory synced
// (WriteFileAtomically). Decoding checks the magic, the kind, the length and a CRC-32 over
// everything before it; a damaged or truncated file is kCorruption naming what is wrong, and
// never reads past the buffer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/nflog.h"
#include "alertmanager/silence.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::alertmanager {

inline constexpr char kSilencesSnapshot[] = "silences.snap";
inline constexpr char kNflogSnapshot[] = "nflog.snap";

std::string EncodeSilences(const std::vector<Silence>& silences);
Result<std::vector<Silence>> DecodeSilences(std::string_view data);

std::string EncodeNflog(const NotificationLog& log);
Result<NotificationLog> DecodeNflog(std::string_view data);

// Writes `data` to dir/name atomically (creating dir).
Status WriteSnapshot(Env* env, const std::string& dir, const std::string& name, std::string_view data);
// The bytes of dir/name; kNotFound when there is none.
Result<std::string> ReadSnapshot(Env* env, const std::string& dir, const std::string& name);

}  // namespace tyto::alertmanager
