#include "io/secret.hpp"

#include <openssl/crypto.h>

namespace hubbatch::io {

void wipe(char* p, std::size_t n) noexcept {
  if (p && n) OPENSSL_cleanse(p, n);
}

void wipe(std::string& s) noexcept {
  // data() is writable up to capacity(); earlier, longer contents of the
  // same buffer may sit past size().
  wipe(s.data(), s.capacity());
  s.clear();
}

}  // namespace hubbatch::io
