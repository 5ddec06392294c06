// Whole-file helpers for small text files the CLI and the sandbox read and
// write (reports, metrics, CA and key PEMs). Not for the input or the
// journal, which stream.
#pragma once

#include <string>
#include <string_view>

namespace hubbatch::io {

// Reads a whole file. Throws std::runtime_error naming the path and the cause
// ("cannot read 'x.pem': No such file or directory") when it cannot be
// opened or read (a directory included).
std::string read_file(const std::string& path);

// Replaces `path` with `text` atomically: written to a temporary file in the
// same directory (mode 0644 less the umask), flushed with fsync, then renamed
// over `path`, so a reader sees the old file or the new one, never half of
// one. On any failure (no such directory, permission, a full disk, `path`
// being a directory) the temporary is removed, `path` is left as it was, and
// a std::runtime_error names the path and the cause ("cannot write
// 'r.json': No space left on device").
void write_file_atomic(const std::string& path, std::string_view text);

// Writes all of `data` to `fd`, again after EINTR and short writes. 0 on
// success, else the errno of the write that failed (EIO for a write of 0).
int write_all(int fd, std::string_view data);

}  // namespace hubbatch::io
