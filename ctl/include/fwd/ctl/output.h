// How fwdctl prints mappings, status and stats (text and JSON).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fwd/ctl/state.h"
#include "fwd/loader/datapath.h"
#include "fwd/types.h"

namespace fwd::ctl {

// One "0.0.0.0:80/tcp -> 172.17.0.2:8080" line per mapping, in the given order.
[[nodiscard]] std::string format_mapping_lines(const std::vector<Mapping>& mappings);
// {host_ip, host_port, proto, container_ip, container_port, name}: the contract's object form.
[[nodiscard]] nlohmann::json mapping_json(const Mapping& mapping);
// JSON array of mapping_json objects.
[[nodiscard]] std::string format_mappings_json(const std::vector<Mapping>& mappings);

// What runs on an interface: xdp when fwd's XDP program is there.
[[nodiscard]] loader::AttachMode attached_mode(const loader::InterfaceAttachment& attachment);
// "attached IFACE (ingress prog A, egress prog B[, xdp prog C native])".
[[nodiscard]] std::string format_attach_line(const loader::InterfaceAttachment& attachment);

struct StatusReport {
    bool loaded = false;
    std::string pin_dir;
    std::string state_file;
    std::vector<loader::InterfaceAttachment> interfaces;  // every interface in the state
    std::vector<loader::CgroupAttachment> cgroups;         // every cgroup in the state
    std::vector<loader::MapFill> maps;
    std::size_t mapping_count = 0;
    std::optional<std::uint32_t> mapping_capacity;  // the pinned service map's, once loaded
    bool fast_path = true;
    std::optional<loader::KernelFeatures> features;  // probed when this command loaded programs
};
[[nodiscard]] std::string format_status(const StatusReport& report, bool json);

struct MappingStatsRow {
    Mapping mapping;
    loader::MappingCounters counters;
};
struct StatsReport {
    std::vector<MappingStatsRow> rows;
    std::vector<loader::GlobalCounter> counters;
    std::vector<loader::MapFill> maps;
};
// `stats`: a table, `--json`, or `--format prometheus` (the text exposition format, for the
// node_exporter textfile collector).
enum class StatsFormat { Text, Json, Prometheus };
[[nodiscard]] std::string format_stats(const StatsReport& report, StatsFormat format);

}  // namespace fwd::ctl
