// Streams generated text while watching for stop strings: text that might be the start of a stop string is
// held back until it is clear, and generation ends at the first full match (the stop string itself is not
// emitted, as in the OpenAI API).
#pragma once
#include <string>
#include <vector>

namespace longcat {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);
  // Adds newly decoded text; returns what can be shown now.
  std::string push(const std::string& text);
  // The held-back tail once generation is over (empty after a stop).
  std::string finish();
  bool stopped() const { return stopped_; }
  const std::string& text() const { return emitted_; }  // everything shown so far

 private:
  std::vector<std::string> stops_;
  std::string pending_, emitted_;
  bool stopped_ = false;
};

}  // namespace longcat
