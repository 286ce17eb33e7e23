// Typed access to a pinned BPF map. Opened once and checked against the ABI
// struct sizes, so call sites never pass void* or sizes around.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bpf_error.h"
#include "fwd/result.h"
#include "unique_fd.h"

namespace fwd::loader {

struct MapShape {
    std::uint32_t type = 0;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
    std::uint32_t max_entries = 0;
};

// Opens the pin at path and checks its type and key/value sizes (max_entries 0 = any).
[[nodiscard]] Result<UniqueFd> open_pinned_map(const std::string& path, const MapShape& expected);
// Reads a map's shape from the kernel.
[[nodiscard]] Result<MapShape> map_shape(int fd, const std::string& name);
[[nodiscard]] int possible_cpus();

template <typename Key, typename Value>
class PinnedMap {
public:
    static Result<PinnedMap> open(const std::string& pin_dir, const std::string& name,
                                  std::uint32_t type) {
        auto fd = open_pinned_map(pin_dir + "/" + name,
                                  MapShape{type, sizeof(Key), sizeof(Value), 0});
        if (!fd) return fd.error();
        return PinnedMap(std::move(*fd), name);
    }

    // Returns NotFound when the key is absent.
    [[nodiscard]] Result<Value> lookup(const Key& key) const {
        Value value{};
        if (bpf_map_lookup_elem(fd_.get(), &key, &value) != 0)
            return errno_error(context("lookup"));
        return value;
    }
    [[nodiscard]] Result<void> update(const Key& key, const Value& value) {
        if (bpf_map_update_elem(fd_.get(), &key, &value, BPF_ANY) != 0)
            return errno_error(context("update"));
        return {};
    }
    [[nodiscard]] Result<void> erase(const Key& key) {
        if (bpf_map_delete_elem(fd_.get(), &key) != 0 && errno != ENOENT)
            return errno_error(context("delete"));
        return {};
    }
    // All keys, collected first so callers may delete while walking.
    [[nodiscard]] Result<std::vector<Key>> keys() const {
        std::vector<Key> result;
        Key key{};
        Key next{};
        const Key* cursor = nullptr;
        while (bpf_map_get_next_key(fd_.get(), cursor, &next) == 0) {
            result.push_back(next);
            key = next;
            cursor = &key;
        }
        if (errno != ENOENT) return errno_error(context("iterate"));
        return result;
    }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    PinnedMap(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
    [[nodiscard]] std::string context(const char* op) const { return "map " + name_ + ": " + op; }

    UniqueFd fd_;
    std::string name_;
};

// A per-CPU array of Value, read and written as one slot per possible CPU.
template <typename Value>
class PerCpuArray {
public:
    static Result<PerCpuArray> open(const std::string& pin_dir, const std::string& name,
                                    std::uint32_t type) {
        auto fd = open_pinned_map(pin_dir + "/" + name,
                                  MapShape{type, sizeof(std::uint32_t), sizeof(Value), 0});
        if (!fd) return fd.error();
        return PerCpuArray(std::move(*fd), name);
    }

    [[nodiscard]] Result<std::vector<Value>> lookup(std::uint32_t index) const {
        std::vector<Value> per_cpu(static_cast<std::size_t>(possible_cpus()));
        if (bpf_map_lookup_elem(fd_.get(), &index, per_cpu.data()) != 0)
            return errno_error("map " + name_ + ": lookup");
        return per_cpu;
    }
    [[nodiscard]] Result<void> zero(std::uint32_t index) {
        std::vector<Value> per_cpu(static_cast<std::size_t>(possible_cpus()));
        if (bpf_map_update_elem(fd_.get(), &index, per_cpu.data(), BPF_ANY) != 0)
            return errno_error("map " + name_ + ": update");
        return {};
    }

private:
    PerCpuArray(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
    // Per-CPU values are 8-byte aligned per slot; the ABI structs are multiples of 8.
    static_assert(sizeof(Value) % 8 == 0);

    UniqueFd fd_;
    std::string name_;
};

}  // namespace fwd::loader
