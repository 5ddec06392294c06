#include "cli/config_file.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <string>
#include <vector>

namespace hubbatch::cli {
namespace {

std::string node_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

// What an option takes, from CLI11's type name ("INT", "UINT:...", "TEXT", ...).
// integer_or_text: a flag whose type name starts with "N|" takes a count or
// a text form (sandbox --max-inputs N|OP:N,...), so `max-inputs = 100` keeps
// working beside `max-inputs = "archive:100,create:2000"`.
enum class want { flag, integer, number, text, text_list, integer_or_text };

want wanted(const CLI::Option& op) {
  if (op.get_expected_min() == 0) return want::flag;
  std::string t = op.get_type_name();
  if (t.starts_with("N|")) return want::integer_or_text;
  t = t.substr(0, t.find(':'));
  bool list = op.get_items_expected_max() > 1;
  if (t == "INT" || t == "UINT") return want::integer;
  if (t == "FLOAT") return want::number;
  return list ? want::text_list : want::text;
}

const char* describe(want w) {
  switch (w) {
    case want::flag: return "true or false";
    case want::integer: return "an integer";
    case want::number: return "a number";
    case want::text: return "a string";
    case want::text_list: return "a string or an array of strings";
    case want::integer_or_text:
      return "an integer or a string";
  }
  return "";
}

// The value as CLI11 inputs, or nullopt when its type is wrong.
std::optional<std::vector<std::string>> inputs_for(const toml::node& n, want w) {
  switch (w) {
    case want::flag:
      if (auto b = n.value_exact<bool>()) return std::vector<std::string>{*b ? "true" : "false"};
      return std::nullopt;
    case want::integer:
      if (auto i = n.value_exact<std::int64_t>()) return std::vector<std::string>{std::to_string(*i)};
      return std::nullopt;
    case want::number:
      if (auto i = n.value_exact<std::int64_t>()) return std::vector<std::string>{std::to_string(*i)};
      if (auto d = n.value_exact<double>()) return std::vector<std::string>{fmt::format("{}", *d)};
      return std::nullopt;
    case want::text:
      if (auto s = n.value_exact<std::string>()) return std::vector<std::string>{*s};
      return std::nullopt;
    case want::integer_or_text:
      if (auto i = n.value_exact<std::int64_t>()) return std::vector<std::string>{std::to_string(*i)};
      if (auto s = n.value_exact<std::string>()) return std::vector<std::string>{*s};
      return std::nullopt;
    case want::text_list: {
      if (auto s = n.value_exact<std::string>()) return std::vector<std::string>{*s};
      const toml::array* a = n.as_array();
      if (!a) return std::nullopt;
      std::vector<std::string> out;
      for (const auto& e : *a) {
        auto s = e.value_exact<std::string>();
        if (!s) return std::nullopt;
        out.push_back(*s);
      }
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

void add_config_option(CLI::App& cmd) {
  CLI::App* app = &cmd;
  cmd.add_option_function<std::string>(
         "--config", [app](const std::string& path) { apply_config_file(*app, path); },
         "TOML file of flags (key = flag name without dashes); flags on the command line win")
      ->type_name("FILE");
}

void apply_config_file(CLI::App& cmd, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    if (where.line == 0)  // not a syntax error: the file could not be read
      throw CLI::ConfigError(fmt::format("config file '{}': {}", path, e.description()));
    throw CLI::ConfigError(fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
  }
  for (const auto& [key_node, value] : root) {
    std::string key(key_node.str());
    auto line = value.source().begin.line;
    auto fail = [&](const std::string& what) {
      throw CLI::ConfigError(fmt::format("{}:{}: key '{}': {}", path, line, key, what));
    };
    CLI::Option* op = key == "config" || key == "help" ? nullptr : cmd.get_option_no_throw("--" + key);
    if (!op) fail(fmt::format("unknown key (not a flag of 'hubbatch {}')", cmd.get_name()));
    want w = wanted(*op);
    auto inputs = inputs_for(value, w);
    if (!inputs) fail(fmt::format("expected {}, got {}", describe(w), node_type_name(value)));
    if (!op->empty()) continue;  // given on the command line: the flag wins
    try {
      if (w == want::flag) {
        op->add_result(op->get_flag_value(key, inputs->front()));
      } else {
        op->add_result(*inputs);
      }
      op->run_callback();  // converts and validates now, so an error can name the line
    } catch (const CLI::ParseError& e) {
      fail(e.what());
    }
  }
}

}  // namespace hubbatch::cli
