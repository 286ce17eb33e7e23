// The state file: fwd's desired state (mappings and attached interfaces). The
// maps follow it. Written atomically (temp file, fsync, rename) under a lock.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fwd/ctl/docker_spec.h"
#include "fwd/loader/datapath.h"
#include "fwd/result.h"
#include "fwd/types.h"

namespace fwd::ctl {

struct InterfaceRecord {
    std::string name;
    bool created_clsact = false;  // fwd created the qdisc, so detach removes it
    loader::AttachMode mode = loader::AttachMode::Tc;
    bool operator==(const InterfaceRecord&) const = default;
};

// A container made with `publish`: its addresses, exposed ports and --env (for link-env).
// Its published ports are the mappings whose name is the container's name.
struct ContainerRecord {
    std::string name;
    std::optional<Ipv4Addr> ip;   // at least one of ip and ip6 is set
    std::optional<Ipv6Addr> ip6;
    std::vector<ContainerPort> exposed;  // sorted, unique
    std::vector<EnvVar> env;             // in the order given
    bool operator==(const ContainerRecord&) const = default;
};

// Where the last pool allocation for (addr, proto) ended: the next one starts after it, so
// a freed port is reused only after the rest of the pool (as Docker's allocator does).
struct AllocationCursor {
    IpAddr addr;
    Proto proto = Proto::Tcp;
    std::uint16_t last = 0;
    bool operator==(const AllocationCursor&) const = default;
};

struct State {
    std::vector<Mapping> mappings;
    std::vector<InterfaceRecord> interfaces;
    std::vector<ContainerRecord> containers;
    std::vector<AllocationCursor> cursors;
    std::vector<std::string> cgroups;  // cgroup v2 dirs with fwd's socket programs
    bool fast_path = true;  // translated packets go straight to the next hop (attach --fast-path)
    // The maps' sizes (attach --max-mappings/--max-flows), so restore recreates them alike;
    // mapping ids stay below max_mappings.
    loader::MapSizes map_sizes = loader::default_map_sizes();
    bool operator==(const State&) const = default;

    [[nodiscard]] const ContainerRecord* find_container(std::string_view name) const;
    [[nodiscard]] bool name_in_use(std::string_view name) const;
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
