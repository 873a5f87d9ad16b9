// Private n-gram keys and clipped-match counting shared by BLEU and chrF.
//
// An n-gram of small integers (token ids for BLEU, code points for chrF) is packed into two 64-bit
// words, so that counting n-grams is hashing two integers rather than strings. Keys of one order
// are only ever compared with keys of the same order, so unused slots need no marker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace heed {

struct NgramKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  friend bool operator==(const NgramKey&, const NgramKey&) = default;
};

// Turns the keys of all n-grams of order n - 1 over values[0..length) into those of order n, in
// place (keys[i] always holds the n-gram that starts at values[i]): each key gains one value and
// the last key, which has no successor, is dropped. Called with n = 1, 2, ... on the same vector.
// Each value takes `bits` bits; the first 64 / bits values of an n-gram go into `high`, the rest
// into `low`, so n · bits <= 128 must hold.
template <typename Value>
void extend_ngrams(std::vector<NgramKey>& keys, const Value* values, std::size_t length, int n,
                   int bits) {
  if (n == 1) keys.assign(length, NgramKey{});
  if (length < static_cast<std::size_t>(n)) {
    keys.clear();
    return;
  }
  keys.resize(length - n + 1);
  const bool in_high = n <= 64 / bits;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::uint64_t& word = in_high ? keys[i].high : keys[i].low;
    word = (word << bits) | static_cast<std::uint64_t>(values[i + n - 1]);
  }
}

// Counts clipped matches, Σ over distinct n-grams of min(count in hyp, count in ref), with an
// open-addressing hash table that is reused from call to call: the reference n-grams are counted
// into it, then each hypothesis n-gram takes one remaining reference occurrence if there is one.
// Slots are tagged with the call's stamp, so a call never has to clear the table.
class ClippedMatchCounter {
 public:
  std::int64_t count(const std::vector<NgramKey>& hyp, const std::vector<NgramKey>& ref) {
    if (hyp.empty() || ref.empty()) return 0;
    std::size_t capacity = 16;
    while (capacity < 2 * ref.size()) capacity *= 2;  // load factor <= 1/2
    if (slots_.size() < capacity) slots_.assign(capacity, Slot{});
    if (++stamp_ == 0) {  // the stamp wrapped around: old tags could look current
      for (Slot& slot : slots_) slot.stamp = 0;
      stamp_ = 1;
    }
    const std::size_t mask = capacity - 1;
    for (const NgramKey& key : ref) {
      Slot& slot = find(key, mask);
      if (slot.stamp != stamp_) slot = Slot{key, 0, stamp_};
      ++slot.remaining;
    }
    std::int64_t matches = 0;
    for (const NgramKey& key : hyp) {
      Slot& slot = find(key, mask);
      if (slot.stamp == stamp_ && slot.remaining > 0) {
        --slot.remaining;
        ++matches;
      }
    }
    return matches;
  }

 private:
  struct Slot {
    NgramKey key;
    std::int64_t remaining = 0;  // reference occurrences not yet matched
    std::uint32_t stamp = 0;     // the call that filled this slot; 0 = never
  };

  // The slot holding `key` in this call, or the empty slot where it would go (linear probing).
  Slot& find(const NgramKey& key, std::size_t mask) {
    // Multiply-xorshift mixing: the table index (low bits) depends on every bit of the key.
    std::uint64_t hash = (key.high ^ (key.low * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull;
    hash ^= hash >> 32;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots_[i].stamp != stamp_ || slots_[i].key == key) return slots_[i];
    }
  }

  std::vector<Slot> slots_;
  std::uint32_t stamp_ = 0;
};

}  // namespace heed
