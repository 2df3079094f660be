// The privacy conformance record (docs/privacy-conformance.md) is kept honest by the build:
// every numbered item of the policy (1–37) and its closing "change" section has a row, and
// every test a row names exists: a gtest by its name (Name, Suite.Name or Suite.*), a file
// by its path, a browser test by its title (pieces around "…" each found in that file).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
const fs::path kRoot = NJ_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Row {
  int line = 0;
  std::string clause, proof;
};

// The table's rows: "| clause | promise | how | proved by |", header and rule left out.
std::vector<Row> rows() {
  std::vector<Row> out;
  std::istringstream in(read(kRoot / "docs/privacy-conformance.md"));
  int n = 0;
  bool header_seen = false;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.starts_with("| ")) continue;
    if (!header_seen) {  // the first row of the table names its columns
      header_seen = true;
      continue;
    }
    std::vector<std::string> cells;
    size_t at = 1;
    for (size_t bar; (bar = line.find('|', at)) != std::string::npos; at = bar + 1) {
      cells.push_back(line.substr(at, bar - at));
    }
    if (cells.size() != 4) {
      ADD_FAILURE() << "line " << n << " has " << cells.size() << " cells, not 4";
      continue;
    }
    out.push_back({n, cells[0], cells[3]});
  }
  return out;
}

// Every gtest declared in the tree: suite → names.
std::map<std::string, std::set<std::string>> all_tests(std::map<std::string, std::string>* files) {
  std::map<std::string, std::set<std::string>> tests;
  const std::regex decl(R"(\b(?:TEST|TEST_F|TEST_P)\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  for (const char* dir : {"src", "tests", "cam", "fuzz"}) {
    for (const auto& e : fs::recursive_directory_iterator(kRoot / dir)) {
      if (!e.is_regular_file() || e.path().extension() != ".cc") continue;
      const std::string text = read(e.path());
      (*files)[fs::relative(e.path(), kRoot).string()] = text;
      for (std::sregex_iterator it(text.begin(), text.end(), decl), end; it != end; ++it) {
        tests[(*it)[1]].insert((*it)[2]);
      }
    }
  }
  return tests;
}

TEST(PrivacyConformance, EveryItemOfThePolicyHasARow) {
  std::set<std::string> covered;
  const std::regex number(R"(\b(\d{1,2})\b)");
  for (const auto& row : rows()) {
    for (std::sregex_iterator it(row.clause.begin(), row.clause.end(), number), end; it != end;
         ++it) {
      covered.insert((*it)[1]);
    }
    if (row.clause.find("change") != std::string::npos) covered.insert("change");
  }
  for (int item = 1; item <= 37; ++item) {
    EXPECT_TRUE(covered.count(std::to_string(item))) << "policy item " << item << " has no row";
  }
  EXPECT_TRUE(covered.count("change")) << "the policy's \"change\" section has no row";
}

TEST(PrivacyConformance, EveryTestARowNamesExists) {
  std::map<std::string, std::string> sources;
  const auto tests = all_tests(&sources);
  const std::regex test_name(R"(^([A-Z][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+|\*))?$)");
  int named = 0;
  for (const auto& row : rows()) {
    std::string file;  // the last file named in this cell
    const std::string& cell = row.proof;
    for (size_t i = 0; i < cell.size(); ++i) {
      const char open = cell[i];
      if (open != '`' && open != '"') continue;
      const size_t close = cell.find(open, i + 1);
      if (close == std::string::npos) break;
      const std::string token = cell.substr(i + 1, close - i - 1);
      i = close;
      const auto where = "line " + std::to_string(row.line) + ": ";
      if (open == '"') {  // a browser test's title, in the last .mjs named
        if (!file.ends_with(".mjs")) continue;
        std::string text = read(kRoot / file);
        // Titles in the file escape their quotes (camera\'s); the record does not.
        for (size_t q; (q = text.find("\\'")) != std::string::npos;) text.erase(q, 1);
        size_t from = 0;
        for (size_t cut; from <= token.size(); from = cut + std::string("…").size()) {
          cut = token.find("…", from);
          if (cut == std::string::npos) cut = token.size();
          std::string piece = token.substr(from, cut - from);
          while (!piece.empty() && piece.back() == ' ') piece.pop_back();
          while (!piece.empty() && piece.front() == ' ') piece.erase(0, 1);
          if (!piece.empty()) {
            ++named;
            EXPECT_NE(text.find(piece), std::string::npos)
                << where << file << " has no test titled \"" << piece << "\"";
          }
          if (cut == token.size()) break;
        }
        continue;
      }
      if (token.ends_with(".cc") || token.ends_with(".mjs") || token.ends_with(".sh")) {
        // A path from the root, or a file beside the last one named.
        fs::path p = token.find('/') == std::string::npos && !file.empty()
                         ? fs::path(file).parent_path() / token
                         : fs::path(token);
        ++named;
        EXPECT_TRUE(fs::exists(kRoot / p)) << where << p << " does not exist";
        file = p.string();
        continue;
      }
      std::smatch m;
      if (!std::regex_match(token, m, test_name)) continue;  // code, a field, a header
      const std::string first = m[1], second = m[2];
      ++named;
      if (second.empty()) {  // a test's name, in the file named before it if there is one
        bool found = false;
        const std::regex in_file(R"(\b(?:TEST|TEST_F|TEST_P)\(\s*\w+\s*,\s*)" + first + R"(\s*\))");
        if (!file.empty() && sources.count(file)) {
          found = std::regex_search(sources.at(file), in_file);
        } else {
          for (const auto& [suite, names] : tests) found = found || names.count(first);
        }
        EXPECT_TRUE(found) << where << "no test " << first << (file.empty() ? "" : " in " + file);
      } else if (second == "*") {
        EXPECT_TRUE(tests.count(first)) << where << "no test suite " << first;
      } else {
        EXPECT_TRUE(tests.count(first) && tests.at(first).count(second))
            << where << "no test " << first << "." << second;
      }
    }
  }
  EXPECT_GT(named, 50) << "the record names almost no tests: is the table being read?";
}

}  // namespace
