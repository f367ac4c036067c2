// Typed access to tokenizer.json fields that names the offending field in every error, e.g.
// `error: expected a string (tokenizer.json: pre_tokenizer.pretokenizers[1].pattern.Regex)`.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "util/error.h"

namespace longcat::tokenizer {

using Json = nlohmann::json;

inline std::string field_path(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

inline const Json& require_field(const Json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) throw Error("expected an object", where);
  auto it = obj.find(key);
  if (it == obj.end()) throw Error("missing field", field_path(where, key));
  return *it;
}

inline bool has_value(const Json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

inline std::string get_string(const Json& obj, const char* key, const std::string& where) {
  const Json& v = require_field(obj, key, where);
  if (!v.is_string()) throw Error("expected a string", field_path(where, key));
  return v.get<std::string>();
}

inline std::string get_string_or(const Json& obj, const char* key, const std::string& where, std::string dflt) {
  return has_value(obj, key) ? get_string(obj, key, where) : dflt;
}

inline bool get_bool_or(const Json& obj, const char* key, const std::string& where, bool dflt) {
  if (!has_value(obj, key)) return dflt;
  const Json& v = obj.at(key);
  if (!v.is_boolean()) throw Error("expected true or false", field_path(where, key));
  return v.get<bool>();
}

inline long long get_int_or(const Json& obj, const char* key, const std::string& where, long long dflt) {
  if (!has_value(obj, key)) return dflt;
  const Json& v = obj.at(key);
  if (!v.is_number_integer()) throw Error("expected an integer", field_path(where, key));
  return v.get<long long>();
}

inline const Json& get_array(const Json& obj, const char* key, const std::string& where) {
  const Json& v = require_field(obj, key, where);
  if (!v.is_array()) throw Error("expected an array", field_path(where, key));
  return v;
}

// The `type` tag every pipeline component carries.
inline std::string component_type(const Json& obj, const std::string& where) {
  return get_string(obj, "type", where);
}

}  // namespace longcat::tokenizer
