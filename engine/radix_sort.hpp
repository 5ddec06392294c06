// Stable LSD radix sort on an unsigned 64-bit key, for the largest sort of the
// client's hot path: the line numbers the journal records (engine/journal.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hubbatch::engine {

// Sorts v by key(x) (returning std::uint64_t), keeping the order of equal
// keys. 8 bits a pass, and a byte that is the same in every key costs no pass
// (ids below 2^40 take five passes, line numbers below 2^24 three): one read
// of v finds those bytes, a second counts the others, then one scatter per
// byte. `scratch` is reused between calls so the steady state does not
// allocate.
template <class T, class Key>
void radix_sort(std::vector<T>& v, std::vector<T>& scratch, Key key) {
  if (v.size() < 64) {
    std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
    return;
  }
  std::uint64_t any = 0;
  std::uint64_t all = ~std::uint64_t{0};
  for (const T& x : v) {
    const std::uint64_t k = key(x);
    any |= k;
    all &= k;
  }
  const std::uint64_t varying = any ^ all;  // bits not the same in every key
  unsigned shift[8];
  unsigned passes = 0;
  for (unsigned b = 0; b < 64; b += 8) {
    if (((varying >> b) & 0xff) != 0) shift[passes++] = b;
  }
  if (passes == 0) return;
  std::size_t count[8][256];  // rows [0, passes) used
  for (unsigned p = 0; p < passes; ++p) std::fill(std::begin(count[p]), std::end(count[p]), std::size_t{0});
  for (const T& x : v) {
    const std::uint64_t k = key(x);
    for (unsigned p = 0; p < passes; ++p) ++count[p][(k >> shift[p]) & 0xff];
  }
  scratch.resize(v.size());
  std::vector<T>* src = &v;
  std::vector<T>* dst = &scratch;
  for (unsigned p = 0; p < passes; ++p) {
    std::size_t sum = 0;
    for (std::size_t& c : count[p]) {
      const std::size_t n = c;
      c = sum;
      sum += n;
    }
    T* out = dst->data();
    for (const T& x : *src) out[count[p][(key(x) >> shift[p]) & 0xff]++] = x;
    std::swap(src, dst);
  }
  if (src != &v) v.swap(scratch);
}

}  // namespace hubbatch::engine
