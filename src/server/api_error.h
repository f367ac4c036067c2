// Errors in the OpenAI format: an HTTP status and {"error": {"message", "type", "param", "code"}}.
#pragma once
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace longcat::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = "", std::string type = "invalid_request_error",
           std::string code = "")
      : std::runtime_error(message), status_(status), message_(std::move(message)), param_(std::move(param)),
        type_(std::move(type)), code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& param() const { return param_; }

  nlohmann::json body() const {
    auto nullable = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    return {{"error", {{"message", message_}, {"type", type_}, {"param", nullable(param_)}, {"code", nullable(code_)}}}};
  }

 private:
  int status_;
  std::string message_, param_, type_, code_;
};

inline ApiError bad_request(const std::string& message, const std::string& param = "") {
  return ApiError(400, message, param);
}

}  // namespace longcat::server
