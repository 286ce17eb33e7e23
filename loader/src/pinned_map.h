// Typed access to a pinned BPF map. Opened once and checked against the ABI
// struct sizes, so call sites never pass void* or sizes around.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <algorithm>
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

// Entries per batch syscall: large enough that a 60,000-mapping change is a handful of calls,
// small enough to bound the buffers (and never below a hash bucket's size).
inline constexpr std::uint32_t kBatchChunk = 8192;

// Options for the batch calls (libbpf's LIBBPF_OPTS is C, not C++).
[[nodiscard]] inline bpf_map_batch_opts batch_opts() {
    bpf_map_batch_opts opts{};
    opts.sz = sizeof(opts);
    return opts;
}

// True when a batch call failed because the kernel has no batch ops for this map (before 5.6,
// or a map type without them): the caller falls back to one call per element.
[[nodiscard]] inline bool batch_unsupported(int err) {
    constexpr int kEnotsupp = 524;  // the kernel-internal ENOTSUPP leaks to user space here
    return err == EINVAL || err == EOPNOTSUPP || err == kEnotsupp;
}

// Runs `batch(first, &count)` over elements [0, total) in chunks of kBatchChunk: it returns 0,
// or -1 with errno, and leaves in count how many elements it did. Where the kernel has no
// batch ops for the map (the first call fails having done nothing) the rest goes through
// `one(i)`, an element at a time. With `skip_missing` (deletes), a batch that stopped at a
// missing element skips it and goes on. `what` names the call in errors.
template <typename Batch, typename One>
[[nodiscard]] Result<void> in_batches(std::size_t total, Batch&& batch, One&& one,
                                      bool skip_missing, const std::string& what) {
    for (std::size_t done = 0; done < total;) {
        auto count = static_cast<__u32>(std::min<std::size_t>(kBatchChunk, total - done));
        if (batch(done, &count) == 0) {
            done += count;
            continue;
        }
        if (skip_missing && errno == ENOENT) {
            done += count + 1;
            continue;
        }
        if (done != 0 || count != 0 || !batch_unsupported(errno)) return errno_error(what);
        for (; done < total; ++done)
            if (auto ok = one(done); !ok) return ok;
    }
    return {};
}

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
    // Every entry, read with BPF_MAP_LOOKUP_BATCH (one call per kBatchChunk entries) where the
    // kernel has it, else one key walk plus a lookup per entry.
    [[nodiscard]] Result<std::vector<std::pair<Key, Value>>> entries() const {
        std::vector<std::pair<Key, Value>> result;
        std::vector<Key> keys(kBatchChunk);
        std::vector<Value> values(kBatchChunk);
        __u32 in_batch = 0;
        __u32 out_batch = 0;
        for (bool first = true;; first = false) {
            __u32 count = kBatchChunk;
            const auto opts = batch_opts();
            const int ret = bpf_map_lookup_batch(fd_.get(), first ? nullptr : &in_batch, &out_batch,
                                                 keys.data(), values.data(), &count, &opts);
            const int err = ret == 0 ? 0 : errno;
            for (__u32 i = 0; i < count; ++i) result.emplace_back(keys[i], values[i]);
            if (ret == 0) {
                in_batch = out_batch;
                continue;
            }
            if (err == ENOENT) return result;  // the end of the map
            if (first && count == 0 && batch_unsupported(err)) return entries_one_by_one();
            errno = err;
            return errno_error(context("batch lookup"));
        }
    }

    // Inserts or replaces every (keys[i], values[i]) with BPF_MAP_UPDATE_BATCH where the kernel
    // has it. On failure some entries may be written: callers undo what they recorded.
    [[nodiscard]] Result<void> update_all(const std::vector<Key>& keys,
                                          const std::vector<Value>& values) {
        const auto opts = batch_opts();  // elem_flags 0: BPF_ANY
        return in_batches(
            keys.size(),
            [&](std::size_t first, __u32* count) {
                return bpf_map_update_batch(fd_.get(), keys.data() + first, values.data() + first,
                                            count, &opts);
            },
            [&](std::size_t i) { return update(keys[i], values[i]); }, false,
            context("batch update"));
    }

    // Deletes every key with BPF_MAP_DELETE_BATCH where the kernel has it. A key that is gone
    // already (an LRU eviction, say) is skipped, as erase() does.
    [[nodiscard]] Result<void> erase_all(const std::vector<Key>& keys) {
        const auto opts = batch_opts();
        return in_batches(
            keys.size(),
            [&](std::size_t first, __u32* count) {
                return bpf_map_delete_batch(fd_.get(), keys.data() + first, count, &opts);
            },
            [&](std::size_t i) { return erase(keys[i]); }, true, context("batch delete"));
    }

    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    PinnedMap(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

    [[nodiscard]] Result<std::vector<std::pair<Key, Value>>> entries_one_by_one() const {
        auto all_keys = keys();
        if (!all_keys) return all_keys.error();
        std::vector<std::pair<Key, Value>> result;
        for (const auto& key : *all_keys) {
            auto value = lookup(key);
            if (value) result.emplace_back(key, *value);  // else removed meanwhile
        }
        return result;
    }
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

    // zero() for many slots, in batch calls where the kernel has them.
    [[nodiscard]] Result<void> zero_all(const std::vector<std::uint32_t>& indexes) {
        const auto cpus = static_cast<std::size_t>(possible_cpus());
        const std::vector<Value> zeros(std::min<std::size_t>(kBatchChunk, indexes.size()) * cpus);
        const auto opts = batch_opts();
        return in_batches(
            indexes.size(),
            [&](std::size_t first, __u32* count) {
                return bpf_map_update_batch(fd_.get(), indexes.data() + first, zeros.data(), count,
                                            &opts);
            },
            [&](std::size_t i) { return zero(indexes[i]); }, false,
            "map " + name_ + ": batch update");
    }

private:
    PerCpuArray(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
    // Per-CPU values are 8-byte aligned per slot; the ABI structs are multiples of 8.
    static_assert(sizeof(Value) % 8 == 0);

    UniqueFd fd_;
    std::string name_;
};

}  // namespace fwd::loader
