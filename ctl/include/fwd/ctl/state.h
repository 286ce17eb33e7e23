// The state file: fwd's desired state (mappings and attached interfaces). The
// maps follow it. Written atomically (temp file, fsync, rename) under a lock.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::ctl {

struct InterfaceRecord {
    std::string name;
    bool created_clsact = false;  // fwd created the qdisc, so detach removes it
    bool operator==(const InterfaceRecord&) const = default;
};

struct State {
    std::vector<Mapping> mappings;
    std::vector<InterfaceRecord> interfaces;
    bool operator==(const State&) const = default;
};

// Parses and validates a state file's text; any defect is an Incompatible error
// naming what is wrong. Never throws.
[[nodiscard]] Result<State> parse_state(std::string_view text);
[[nodiscard]] std::string serialize_state(const State& state);

// An exclusive lock on the state dir, held for the object's lifetime.
class StateStore {
public:
    // Creates the dir if needed and waits for the lock.
    [[nodiscard]] static Result<StateStore> open(const std::string& dir);

    StateStore(StateStore&& other) noexcept;
    StateStore& operator=(StateStore&&) = delete;
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;
    ~StateStore();

    // A missing file is an empty state.
    [[nodiscard]] Result<State> load() const;
    [[nodiscard]] Result<void> save(const State& state) const;
    [[nodiscard]] std::string file_path() const;

private:
    StateStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

    std::string dir_;
    int lock_fd_ = -1;
};

}  // namespace fwd::ctl
