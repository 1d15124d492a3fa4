// A unit test's own temporary directory.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace anamed::test {

// A directory of one test's own under $TMPDIR (or /tmp), removed with its contents when the
// test ends: tests that run at the same time (ctest -j) never share a file name.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string templ = std::string(base && *base ? base : "/tmp") + "/anamed-unit-XXXXXX";
        if (mkdtemp(templ.data()) == nullptr)
            throw std::runtime_error("mkdtemp " + templ + ": " + std::strerror(errno));
        dir_ = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return dir_; }
    std::string file(const std::string& name) const { return dir_ + "/" + name; }
    // Writes `content` to the file `name` in this directory and returns its path.
    std::string write(const std::string& name, const std::string& content) const {
        const std::string p = file(name);
        std::ofstream(p) << content;
        return p;
    }

private:
    std::string dir_;
};

}  // namespace anamed::test
