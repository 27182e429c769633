// ParseJsonBody, RequestedModelName.
#include "server/http/json_body.h"

#include "server/http/error_response.h"
#include "server/http/limits.h"

namespace semantic::server {
namespace {

// SAX events of a body, stopping at the top-level "model" value (or at the end of the body).
class ModelNameReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string name;

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t) override { return Scalar(); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(); }
  bool string(string_t& s) override {
    if (depth_ == 1 && at_model_) {
      name = s;
      return false;  // found: stop reading
    }
    return Scalar();
  }
  bool binary(binary_t&) override { return Scalar(); }
  bool start_object(std::size_t) override { return Open(); }
  bool key(string_t& k) override {
    at_model_ = depth_ == 1 && k == "model";
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Scalar() {
    if (depth_ == 1) at_model_ = false;
    return depth_ > 0;  // a body that is a bare scalar has no model
  }
  bool Open() {
    if (depth_ == 1) at_model_ = false;
    return ++depth_ <= 1 || depth_ <= MaxJsonDepth();
  }
  bool Close() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  bool at_model_ = false;
};

}  // namespace

std::string RequestedModelName(const std::string& body) {
  ModelNameReader reader;
  nlohmann::json::sax_parse(body, &reader, nlohmann::json::input_format_t::json,
                            /*strict=*/false, /*ignore_comments=*/false);
  return reader.name;
}

bool ParseJsonBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* body,
                   bool allow_empty, ErrorSender send_error) {
  if (allow_empty && req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    *body = nlohmann::json::object();
    return true;
  }
  if (const int depth = MaxJsonDepth(); JsonNestsDeeperThan(req.body, depth)) {
    send_error(res, BadRequest("request body nests arrays/objects deeper than " +
                                   std::to_string(depth) + " levels (server.max_json_depth)",
                               "", "json_too_deep"));
    return false;
  }
  *body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded()) {
    send_error(res, {400, "request body is not valid JSON", "invalid_request_error", "",
                          "invalid_json"});
    return false;
  }
  if (!body->is_object()) {
    send_error(res, BadRequest("request body must be a JSON object", "", "invalid_json"));
    return false;
  }
  return true;
}

}  // namespace semantic::server
