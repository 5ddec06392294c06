#include "sandbox/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <span>
#include <vector>

#include <unistd.h>

using namespace hubbatch;
using namespace hubbatch::sandbox;

namespace {
object_type type(const char* t) { return *resolve_object_type(t); }
}  // namespace

TEST(sandbox_store, archive_removes_both_directions_and_is_idempotent) {
  association_store s;
  std::vector<pair_id> seed{{101, 9001}, {101, 9002}, {102, 9001}, {101, 9001}};
  s.add(type("contacts"), type("companies"), seed);
  s.finalize();
  EXPECT_EQ(s.remaining_total(), 3u);  // duplicate dropped

  auto fwd = s.find(type("contact"), type("0-2"));
  ASSERT_TRUE(fwd.t);
  EXPECT_TRUE(fwd.t->contains(fwd.oriented({101, 9001})));
  EXPECT_EQ(fwd.t->remove(fwd.oriented({101, 9001})), 1u);
  EXPECT_EQ(fwd.t->remove(fwd.oriented({101, 9001})), 0u);

  auto rev = s.find(type("companies"), type("contacts"));  // swapped direction
  ASSERT_TRUE(rev.t);
  EXPECT_TRUE(rev.swapped);
  EXPECT_EQ(rev.t->remove(rev.oriented({9002, 101})), 1u);
  EXPECT_EQ(s.remaining_pairs(type("contacts"), type("companies")), (std::vector<pair_id>{{102, 9001}}));
  EXPECT_EQ(s.remaining_pairs(type("companies"), type("contacts")), (std::vector<pair_id>{{9001, 102}}));
  EXPECT_FALSE(s.find(type("deals"), type("contacts")).t);
}

TEST(sandbox_store, same_type_associations_are_bidirectional) {
  association_store s;
  std::vector<pair_id> seed{{1, 2}, {3, 4}};
  s.add(type("contacts"), type("contacts"), seed);
  s.finalize();
  auto h = s.find(type("contacts"), type("contacts"));
  EXPECT_TRUE(h.t->contains({2, 1}));
  EXPECT_EQ(h.t->remove({2, 1}), 1u);
  EXPECT_EQ(s.remaining_total(), 1u);
}

// The hashed lookup against a plain set: random seeds with duplicates, a
// same-type table (removal takes both orientations), lookups of absent pairs
// and of pairs already removed, in random order.
TEST(sandbox_store, lookups_and_removals_match_a_set) {
  std::mt19937_64 rng(23);
  for (bool same_type : {false, true}) {
    association_store s;
    std::vector<pair_id> seed;
    for (int i = 0; i < 20000; ++i) seed.push_back({1 + rng() % 3000, 1 + rng() % 3000});
    const object_type a = type("contacts");
    const object_type b = same_type ? type("contacts") : type("companies");
    s.add(a, b, seed);
    s.finalize();
    std::set<pair_id> model(seed.begin(), seed.end());
    auto present = [&](pair_id p) {
      return model.count(p) != 0 || (same_type && model.count(pair_id{p.to, p.from}) != 0);
    };
    auto h = s.find(a, b);
    ASSERT_TRUE(h.t);
    for (int i = 0; i < 40000; ++i) {
      const pair_id p = i % 2 ? seed[rng() % seed.size()] : pair_id{1 + rng() % 3000, 1 + rng() % 3000};
      ASSERT_EQ(h.t->contains(p), present(p)) << p.from << "," << p.to;
      if (i % 1000 == 0) {  // the prefetching batch lookup, both request directions
        std::vector<pair_id> batch;
        for (int k = 0; k < 100; ++k) batch.push_back(k % 2 ? seed[rng() % seed.size()] : pair_id{1 + rng() % 3000, 1 + rng() % 3000});
        std::vector<std::uint8_t> got(batch.size());
        h.contains_many(batch, got.data());
        auto back = s.find(b, a);
        std::vector<pair_id> reversed;
        for (auto q : batch) reversed.push_back({q.to, q.from});
        std::vector<std::uint8_t> got_back(batch.size());
        back.contains_many(reversed, got_back.data());
        for (std::size_t k = 0; k < batch.size(); ++k) {
          ASSERT_EQ(got[k] != 0, present(batch[k]));
          ASSERT_EQ(got_back[k] != 0, present(batch[k]));
        }
      }
      if (i % 1000 == 500) {  // the prefetching batch removal, only where asked
        std::vector<pair_id> batch;
        std::vector<std::uint8_t> only_if;
        std::uint64_t expected = 0;
        for (int k = 0; k < 50; ++k) {
          const pair_id q = seed[rng() % seed.size()];
          batch.push_back(q);
          only_if.push_back(rng() % 2);
          if (only_if.back()) {
            expected += model.erase(q);
            if (same_type && q.from != q.to) expected += model.erase(pair_id{q.to, q.from});
          }
        }
        ASSERT_EQ(h.remove_many(batch, only_if.data()), expected);
        for (std::size_t k = 0; k < batch.size(); ++k) ASSERT_EQ(h.t->contains(batch[k]), present(batch[k]));
      }
      if (rng() % 2) {
        std::uint32_t expected = static_cast<std::uint32_t>(model.erase(p));
        if (same_type && p.from != p.to) expected += static_cast<std::uint32_t>(model.erase(pair_id{p.to, p.from}));
        ASSERT_EQ(h.t->remove(p), expected);
        ASSERT_FALSE(h.t->contains(p));
      }
    }
    EXPECT_EQ(s.remaining_total(), model.size());
    EXPECT_EQ(s.remaining_pairs(a, b), std::vector<pair_id>(model.begin(), model.end()));
  }
}

TEST(sandbox_store, seeds_from_csv_with_header_and_memory) {
  std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "-sandbox_store_seed.csv";
  {
    std::ofstream f(path);
    f << "from_id,to_id\n1,10\n2,20\r\n3,30";
  }
  config cfg;
  cfg.seeds.push_back({"contacts", "companies", path, {{4, 40}}});
  cfg.seeds.push_back({"deals", "contacts", "", {{7, 1}}});
  association_store s;
  load_seeds(cfg, s);
  EXPECT_EQ(s.remaining_pairs(type("contacts"), type("companies")),
            (std::vector<pair_id>{{1, 10}, {2, 20}, {3, 30}, {4, 40}}));
  EXPECT_EQ(s.remaining_pairs(type("contacts"), type("deals")), (std::vector<pair_id>{{1, 7}}));
  std::remove(path.c_str());
}

TEST(sandbox_store, bad_seed_line_and_unknown_type_fail_loudly) {
  std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "-sandbox_store_bad.csv";
  {
    std::ofstream f(path);
    f << "1,10\nx,20\n";
  }
  config cfg;
  cfg.seeds.push_back({"contacts", "companies", path, {}});
  association_store s;
  try {
    load_seeds(cfg, s);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  config cfg2;
  cfg2.seeds.push_back({"widgets", "companies", "", {}});
  association_store s2;
  EXPECT_THROW(load_seeds(cfg2, s2), std::runtime_error);
  std::remove(path.c_str());
}

TEST(sandbox_store, ten_million_pairs_fit_in_well_under_a_gibibyte) {
  // 16 bytes a pair plus 1 bit: the table itself is the only large allocation.
  association_store s;
  std::vector<pair_id> seed;
  seed.reserve(10'000'000);
  for (std::uint64_t i = 0; i < 10'000'000; ++i) seed.push_back({i / 4 + 1, 1'000'000 + (i * 7919) % 10'000'000});
  s.add(type("contacts"), type("companies"), seed);
  seed.clear();
  seed.shrink_to_fit();
  s.finalize();
  EXPECT_EQ(s.remaining_total(), 10'000'000u);
  auto h = s.find(type("contacts"), type("companies"));
  EXPECT_EQ(h.t->remove({1, 1'000'000}), 1u);
  EXPECT_EQ(s.remaining_total(), 9'999'999u);
}

// Issue 13: types. A seed carries the default type; a labelled create adds
// the label and the default; removing the default removes everything.
TEST(sandbox_store, labelled_create_adds_the_default_and_removing_it_cascades) {
  association_store s;
  std::vector<pair_id> seed{{1, 10}};
  s.add(type("contacts"), type("companies"), seed);
  s.finalize();
  auto h = s.find(type("contacts"), type("companies"));
  const assoc_type unlabelled{279, assoc_category::hubspot_defined};
  const assoc_type primary{1, assoc_category::hubspot_defined};
  const assoc_type billing{36, assoc_category::user_defined};
  ASSERT_EQ(h.t->default_type(), unlabelled);
  std::vector<assoc_type> got;
  h.t->types_of({1, 10}, got);
  EXPECT_EQ(got, std::vector<assoc_type>{unlabelled});

  std::vector<assoc_type> want{billing};
  auto r = h.t->create({2, 20}, want);
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.added, 2u);
  h.t->types_of({2, 20}, got);
  EXPECT_EQ(got, (std::vector<assoc_type>{billing, unlabelled}));  // sorted by id: 36 < 279
  EXPECT_EQ(s.remaining_total(), 2u);
  r = h.t->create({2, 20}, want);  // idempotent
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.added, 0u);

  std::vector<assoc_type> labels{billing, primary};
  auto rm = h.t->remove_types({2, 20}, labels);
  EXPECT_EQ(rm.labels, 1u);
  EXPECT_EQ(rm.associations, 0u);
  EXPECT_TRUE(h.t->contains({2, 20}));
  std::vector<assoc_type> with_primary{primary};
  h.t->create({1, 10}, with_primary);
  std::vector<assoc_type> only_default{unlabelled};
  rm = h.t->remove_types({1, 10}, only_default);
  EXPECT_EQ(rm.associations, 1u);
  EXPECT_FALSE(h.t->contains({1, 10}));
  h.t->types_of({1, 10}, got);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(s.remaining_pairs(type("companies"), type("contacts")), (std::vector<pair_id>{{20, 2}}));
}

TEST(sandbox_store, create_on_a_type_pair_without_seeds_adds_its_table) {
  association_store s;
  s.finalize();
  EXPECT_FALSE(s.find(type("companies"), type("deals")).t);
  auto h = s.find_or_add(type("companies"), type("deals"));
  ASSERT_TRUE(h.t);
  EXPECT_EQ(h.t->create(h.oriented({5, 6}), {}).created, true);
  EXPECT_EQ(s.remaining_pairs(type("deals"), type("companies")), (std::vector<pair_id>{{6, 5}}));
  EXPECT_EQ(s.find(type("deals"), type("companies")).t, h.t);
}

// Random create / archive / labels-archive against a map of type sets, for a
// two-type and a same-type table, with seeds; degrees and read pages
// (associated()) checked too.
TEST(sandbox_store, typed_operations_match_a_model) {
  std::mt19937_64 rng(13);
  for (bool same_type : {false, true}) {
    association_store s;
    const object_type a = type("contacts");
    const object_type b = same_type ? type("contacts") : type("companies");
    std::vector<pair_id> seed;
    for (int i = 0; i < 300; ++i) seed.push_back({1 + rng() % 40, 1 + rng() % 40});
    s.add(a, b, seed);
    s.finalize();
    auto h = s.find(a, b);
    const assoc_type def = h.t->default_type();
    const std::vector<assoc_type> pool{def, {1, assoc_category::hubspot_defined}, {36, assoc_category::user_defined},
                                       {7, assoc_category::work}};
    auto key = [&](pair_id p) {
      return same_type && p.from > p.to ? pair_id{p.to, p.from} : pair_id{p.from, p.to};
    };
    std::map<pair_id, std::set<assoc_type>> model;
    for (auto p : seed) model[key(p)].insert(def);
    auto pick = [&] {
      std::vector<assoc_type> v;
      for (auto t : pool)
        if (rng() % 3 == 0) v.push_back(t);
      return v;
    };
    std::vector<assoc_type> got;
    for (int i = 0; i < 20000; ++i) {
      const pair_id p{1 + rng() % 40, 1 + rng() % 40};
      const pair_id k = key(p);
      switch (rng() % 4) {
        case 0: {
          auto types = pick();
          auto r = h.t->create(p, types);
          const bool was = model.count(k) != 0;
          auto& m = model[k];
          const std::size_t before = m.size();
          m.insert(def);
          m.insert(types.begin(), types.end());
          ASSERT_EQ(r.created, !was);
          ASSERT_EQ(r.added, m.size() - before);
          break;
        }
        case 1:
          ASSERT_EQ(h.t->remove(p) != 0, model.erase(k) != 0);
          break;
        case 2: {
          auto types = pick();
          auto r = h.t->remove_types(p, types);
          auto it = model.find(k);
          if (it == model.end()) {
            ASSERT_EQ(r.associations + r.labels, 0u);
          } else if (std::find(types.begin(), types.end(), def) != types.end()) {
            ASSERT_NE(r.associations, 0u);
            model.erase(it);
          } else {
            std::uint32_t n = 0;
            for (auto t : types) n += static_cast<std::uint32_t>(it->second.erase(t));
            ASSERT_EQ(r.labels, n);
          }
          break;
        }
        default: {
          const bool first = rng() % 2;
          std::set<std::uint64_t> others;
          const std::uint64_t id = p.from;
          for (const auto& [q, set] : model) {
            if (same_type) {
              if (q.from == id) others.insert(q.to);
              if (q.to == id) others.insert(q.from);
            } else if (first ? q.from == id : q.to == id) {
              others.insert(first ? q.to : q.from);
            }
          }
          ASSERT_EQ(h.t->degree(id, first), others.size()) << id << " first=" << first << " same=" << same_type;
          // batch/read's view: a page of the ids from some point on.
          const std::uint64_t min_id = rng() % 45;
          const std::size_t limit = 1 + rng() % 8;
          std::vector<std::uint64_t> want(others.lower_bound(min_id), others.end()), page;
          const bool more = h.t->associated(id, first, min_id, limit, page);
          ASSERT_EQ(more, want.size() > limit);
          if (more) want.resize(limit);
          ASSERT_EQ(page, want) << id << " first=" << first << " same=" << same_type << " min=" << min_id;
        }
      }
      h.t->types_of(p, got);
      auto it = model.find(k);
      ASSERT_EQ(got, it == model.end() ? std::vector<assoc_type>{}
                                       : std::vector<assoc_type>(it->second.begin(), it->second.end()));
      ASSERT_EQ(h.t->contains(p), it != model.end());
    }
    std::vector<pair_id> typed;
    for (const auto& [k, set] : model)
      for (auto t : set) typed.push_back({k.from, k.to, t});
    if (!same_type) {  // a same-type seed keeps its seeded orientation in listings
      EXPECT_EQ(s.typed_pairs(a, b), typed);
      EXPECT_EQ(s.remaining_total(), model.size());
    }
  }
}

// Issue 14 prep: associated() pages through a record's seeds from either side
// without gaps or repeats, skipping archived ones, and sees pairs created
// after its first call (the overlay index is kept up to date from then on).
TEST(sandbox_store, associated_pages_from_both_sides_and_follows_later_creates) {
  association_store s;
  std::vector<pair_id> seed;
  for (std::uint64_t to = 1; to <= 10; ++to) seed.push_back({7, 100 + to});
  seed.push_back({8, 105});
  s.add(type("contacts"), type("companies"), seed);
  s.finalize();
  auto fwd = s.find(type("contacts"), type("companies"));
  std::vector<std::uint64_t> page, all;
  std::uint64_t min_id = 0;
  for (bool more = true; more;) {
    more = fwd.t->associated(7, true, min_id, 3, page);
    all.insert(all.end(), page.begin(), page.end());
    if (more) min_id = page.back() + 1;
  }
  EXPECT_EQ(all, (std::vector<std::uint64_t>{101, 102, 103, 104, 105, 106, 107, 108, 109, 110}));
  EXPECT_EQ(fwd.t->remove({7, 102}), 1u);
  EXPECT_FALSE(fwd.t->associated(7, true, 0, 9, page));
  EXPECT_EQ(page.size(), 9u);
  EXPECT_TRUE(fwd.t->associated(7, true, 0, 2, page));
  EXPECT_EQ(page, (std::vector<std::uint64_t>{101, 103}));

  // From the companies side (the table's second type).
  EXPECT_FALSE(fwd.t->associated(105, false, 0, 10, page));
  EXPECT_EQ(page, (std::vector<std::uint64_t>{7, 8}));
  fwd.t->create({9, 105}, {});
  fwd.t->create({3, 105}, {});
  EXPECT_FALSE(fwd.t->associated(105, false, 0, 10, page));
  EXPECT_EQ(page, (std::vector<std::uint64_t>{3, 7, 8, 9}));
  EXPECT_EQ(fwd.t->remove({3, 105}), 1u);
  fwd.t->create({9, 105}, std::vector<assoc_type>{{36, assoc_category::user_defined}});
  EXPECT_FALSE(fwd.t->associated(105, false, 4, 10, page));
  EXPECT_EQ(page, (std::vector<std::uint64_t>{7, 8, 9}));
  EXPECT_FALSE(fwd.t->associated(999, true, 0, 10, page));
  EXPECT_TRUE(page.empty());
}

// Issue 15: --seed-generated. The store holds gen-pairs --keyed's pairs
// without storing them: found, archived once (a second archive finds
// nothing), gone from reads from either side and from the listing, in
// either table orientation (contacts:companies is stored turned round).
TEST(sandbox_store, a_generated_seed_archives_once_and_reads_leave_removed_pairs_out) {
  for (const char* types : {"contacts:companies", "companies:contacts"}) {
    SCOPED_TRACE(types);
    const std::string t = types;
    config cfg;
    cfg.seed_generated = {5000, 7, t.substr(0, t.find(':')), t.substr(t.find(':') + 1)};
    association_store s;
    load_seeds(cfg, s);
    const object_type from = type(cfg.seed_generated.from_type.c_str());
    const object_type to = type(cfg.seed_generated.to_type.c_str());
    EXPECT_EQ(s.remaining_total(), 5000u);
    std::vector<pair_id> pairs;
    generated_pairs(5000, 7).each([&](std::uint64_t, pair_id p) { pairs.push_back(p); });
    auto h = s.find(from, to);
    ASSERT_TRUE(h.t);
    std::set<pair_id> model(pairs.begin(), pairs.end());
    for (auto p : pairs) ASSERT_TRUE(h.t->contains(h.oriented(p)));
    EXPECT_FALSE(h.t->contains(h.oriented({pairs[0].from, pairs[0].to + 1})));
    EXPECT_FALSE(h.t->contains(h.oriented({pairs[0].to, pairs[0].from})));
    EXPECT_EQ(h.t->remove(h.oriented({1, 2})), 0u);

    // Archive every third pair, half through the batch path; then again.
    std::vector<pair_id> gone;
    for (std::size_t i = 0; i < pairs.size(); i += 3) gone.push_back(pairs[i]);
    const std::vector<std::uint8_t> all(gone.size(), 1);
    const std::size_t half = gone.size() / 2;
    EXPECT_EQ(h.remove_many(std::span(gone).first(half), all.data()), half);
    for (std::size_t i = half; i < gone.size(); ++i) EXPECT_EQ(h.t->remove(h.oriented(gone[i])), 1u);
    for (auto p : gone) model.erase(p);
    EXPECT_EQ(s.remaining_total(), model.size());
    EXPECT_EQ(h.remove_many(gone, all.data()), 0u);  // idempotent
    EXPECT_EQ(s.remaining_total(), model.size());
    std::vector<std::uint8_t> present(gone.size());
    h.contains_many(gone, present.data());
    EXPECT_EQ(std::count(present.begin(), present.end(), 0), static_cast<std::ptrdiff_t>(gone.size()));

    // Reads from the from-ids' side and from the to-ids' side (the reverse
    // direction), against the model.
    auto rev = s.find(to, from);
    std::vector<std::uint64_t> got;
    for (std::size_t i = 0; i < 300; ++i) {
      const pair_id p = pairs[i];
      std::vector<std::uint64_t> want;
      for (auto it = model.lower_bound({p.from, 0}); it != model.end() && it->from == p.from; ++it)
        want.push_back(it->to);
      EXPECT_FALSE(h.t->associated(p.from, !h.swapped, 0, 100, got));
      EXPECT_EQ(got, want) << p.from;
      want.clear();
      for (auto q : model)
        if (q.to == p.to) want.push_back(q.from);
      EXPECT_FALSE(rev.t->associated(p.to, !rev.swapped, 0, 100, got));
      EXPECT_EQ(got, want) << p.to;
    }
    EXPECT_EQ(s.remaining_pairs(from, to), std::vector<pair_id>(model.begin(), model.end()));
  }
}

TEST(sandbox_store, a_generated_seed_shares_its_types_with_no_other_seed) {
  config cfg;
  cfg.seed_generated = {100, 1, "companies", "contacts"};
  cfg.seeds.push_back({"contacts", "companies", "", {{4, 40}}});
  association_store s;
  EXPECT_THROW(load_seeds(cfg, s), std::runtime_error);
  EXPECT_NE(validate_config(cfg), "");
  cfg.seeds.clear();
  cfg.seed_generated.to_type = "companies";
  EXPECT_NE(validate_config(cfg), "");  // one type with itself
  association_store s2;
  EXPECT_THROW(load_seeds(cfg, s2), std::runtime_error);
}
