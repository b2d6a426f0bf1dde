// A folder under /tmp that is removed with everything in it at scope exit.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace verbd::test {

// What a files store's scratch folder holds besides its lock files, its
// write count and the supervisor's list of quarantined plugins: the
// leftovers of writes, which
// there should never be once they are over.
inline std::vector<std::string> scratch_leftovers(const std::filesystem::path& data_root) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(data_root / ".verbd-tmp"))
    if (entry.path().filename() != "locks" && entry.path().filename() != "dav-locks" &&
        entry.path().filename() != "writes" && entry.path().filename() != "journal" &&
        entry.path().filename() != "quarantined")
      names.push_back(entry.path().filename().string());
  return names;
}

class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "verbd-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  void write(const std::string& name, const std::string& bytes) const {
    std::filesystem::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary) << bytes;
  }

  std::string read(const std::string& name) const {
    std::ifstream in(path_ / name, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

 private:
  std::filesystem::path path_;
};

}  // namespace verbd::test
