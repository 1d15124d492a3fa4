// Reading a journal file that may be damaged, without trusting it: the size is checked
// against what the database claims before any page is read (a truncated file would
// otherwise fault on access), every entry's checksum is verified, read errors are skipped
// over where the rest can still be reached, and what was lost is counted. The daemon
// refuses to start over a damaged journal unless told to salvage it (anamed
// --journal-salvage), and `anamed --journal-check` prints the report.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "journal_format.hpp"

namespace anamed {

struct JournalReport {
    std::string path;
    bool exists = false;
    std::vector<journal_format::Entry> entries;  // intact, oldest first
    std::map<std::string, journal_format::FlushMark> flushed;
    size_t recorded = 0;                // entries the database says it holds
    size_t bad = 0;                     // entries read but failing their checksum or format
    size_t truncated_to = 0;            // the file's size when it is shorter than its pages
    size_t needed = 0;                  // the size its pages need
    std::vector<std::string> problems;  // empty: the journal is intact

    bool intact() const { return problems.empty(); }
    // How many recorded changes cannot be replayed (unreadable or failing their checksum).
    size_t lost() const;
    std::string describe() const;  // the problems and what is lost, in one paragraph
};

// Read-only; never modifies the file, never faults on a short one.
JournalReport inspect_journal(const std::string& path);

// Moves the damaged file aside (returned: PATH.damaged-YYYYMMDDTHHMMSS) and writes the
// report's intact entries and flush marks to a fresh journal at `path` (for a truncated
// file, a padded copy is read so that the pages still present are recovered). Throws
// std::runtime_error when it cannot.
std::string salvage_journal(const std::string& path, const JournalReport& report);

}  // namespace anamed
