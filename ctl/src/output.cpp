#include "fwd/ctl/output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace fwd::ctl {
namespace {

using nlohmann::json;

json maps_json(const std::vector<loader::MapFill>& maps) {
    json result = json::array();
    for (const auto& fill : maps)
        result.push_back(
            {{"name", fill.name}, {"entries", fill.entries}, {"max_entries", fill.max_entries}});
    return result;
}

std::string maps_text(const std::vector<loader::MapFill>& maps) {
    std::string text;
    for (const auto& fill : maps)
        text += fmt::format("  {:<12} {}/{}\n", fill.name, fill.entries, fill.max_entries);
    return text;
}

std::string attachment_text(const loader::InterfaceAttachment& attachment) {
    if (!attachment.attached()) return fmt::format("  {:<15} NOT ATTACHED\n", attachment.ifname);
    std::string text = fmt::format("  {:<15} {:<3} ingress prog {}  egress prog {}",
                                   attachment.ifname, loader::to_string(attached_mode(attachment)),
                                   attachment.ingress_prog_id, attachment.egress_prog_id);
    if (attachment.xdp_prog_id != 0)
        text += fmt::format("  xdp prog {} ({})", attachment.xdp_prog_id,
                            loader::to_string(attachment.xdp_mode));
    return text + "\n";
}

}  // namespace

loader::AttachMode attached_mode(const loader::InterfaceAttachment& attachment) {
    return attachment.xdp_prog_id != 0 ? loader::AttachMode::Xdp : loader::AttachMode::Tc;
}

std::string format_attach_line(const loader::InterfaceAttachment& attachment) {
    std::string text = fmt::format("attached {} (ingress prog {}, egress prog {}", attachment.ifname,
                                   attachment.ingress_prog_id, attachment.egress_prog_id);
    if (attachment.xdp_prog_id != 0)
        text += fmt::format(", xdp prog {} {}", attachment.xdp_prog_id,
                            loader::to_string(attachment.xdp_mode));
    return text + ")\n";
}

json mapping_json(const Mapping& mapping) {
    json object{{"host_ip", mapping.host_addr.to_string()},
                {"host_port", mapping.host_port},
                {"proto", to_string(mapping.proto)},
                {"container_ip", mapping.container_addr.to_string()},
                {"container_port", mapping.container_port},
                {"name", mapping.name}};
    if (!mapping.allow.empty()) {
        object["allow"] = json::array();
        for (const auto& cidr : mapping.allow) object["allow"].push_back(cidr.to_string());
    }
    return object;
}

std::string format_mapping_lines(const std::vector<Mapping>& mappings) {
    std::string text;
    for (const auto& mapping : mappings) text += to_string(mapping) + "\n";
    return text;
}

std::string format_mappings_json(const std::vector<Mapping>& mappings) {
    json result = json::array();
    for (const auto& mapping : mappings) result.push_back(mapping_json(mapping));
    return result.dump(2) + "\n";
}

std::string format_status(const StatusReport& report, bool as_json) {
    if (as_json) {
        json interfaces = json::array();
        for (const auto& attachment : report.interfaces)
            interfaces.push_back({{"name", attachment.ifname},
                                  {"mode", loader::to_string(attached_mode(attachment))},
                                  {"attached", attachment.attached()},
                                  {"ingress_prog_id", attachment.ingress_prog_id},
                                  {"egress_prog_id", attachment.egress_prog_id},
                                  {"xdp_prog_id", attachment.xdp_prog_id},
                                  {"xdp_mode", loader::to_string(attachment.xdp_mode)}});
        json cgroups = json::array();
        for (const auto& attachment : report.cgroups) {
            json programs = json::object();
            for (const auto& [hook, id] : attachment.programs) programs[hook] = id;
            cgroups.push_back({{"path", attachment.path},
                               {"attached", attachment.attached()},
                               {"programs", programs}});
        }
        json features = json::object();
        if (report.features) {
            features["set_retval"] = report.features->set_retval;
            features["batch_ops"] = report.features->batch_ops;
            features["tcx"] = false;  // libbpf 1.1 cannot attach through tcx; tc netlink is used
        }
        json root{{"loaded", report.loaded},
                  {"kernel_features", features},
                  {"cgroups", cgroups},
                  {"pin_dir", report.pin_dir},
                  {"state_file", report.state_file},
                  {"interfaces", interfaces},
                  {"fast_path", report.fast_path},
                  {"maps", maps_json(report.maps)},
                  {"mappings", report.mapping_count},
                  {"mapping_capacity",
                   report.mapping_capacity ? json(*report.mapping_capacity) : json(nullptr)}};
        return root.dump(2) + "\n";
    }
    std::string text = fmt::format("programs: {}\npin dir: {}\nstate file: {}\n",
                                   report.loaded ? "loaded" : "not loaded (run fwdctl attach)",
                                   report.pin_dir, report.state_file);
    text += "interfaces:\n";
    if (report.interfaces.empty()) text += "  (none)\n";
    for (const auto& attachment : report.interfaces) text += attachment_text(attachment);
    text += fmt::format("fast path: {}\n",
                        report.fast_path ? "on (translated packets go straight to the next hop)"
                                         : "off (translated packets go through the stack)");
    text += "socket programs:\n";
    if (report.cgroups.empty()) text += "  (none)\n";
    for (const auto& attachment : report.cgroups) {
        text += fmt::format("  {}{}\n", attachment.path, attachment.attached() ? "" : "  NOT ATTACHED");
        for (const auto& [hook, id] : attachment.programs)
            text += fmt::format("    {:<12} prog {}\n", hook, id);
    }
    if (!report.maps.empty()) text += "maps:\n" + maps_text(report.maps);
    text += fmt::format("mappings: {}", report.mapping_count);
    if (report.mapping_capacity) text += fmt::format(" of at most {}", *report.mapping_capacity);
    text += "\n";
    if (report.features)
        text += fmt::format(
            "kernel: bpf_set_retval {} (refused binds get {}), batch map ops {}, tcx not used "
            "(tc netlink attach)\n",
            report.features->set_retval ? "yes" : "no",
            report.features->set_retval ? "EADDRINUSE" : "EPERM",
            report.features->batch_ops ? "yes" : "no");
    return text;
}

namespace {

// A label value in the exposition format: backslash, double quote and newline escaped.
std::string prometheus_label(const std::string& value) {
    std::string escaped;
    for (const char c : value) {
        if (c == '\\' || c == '"') escaped += '\\';
        if (c == '\n') {
            escaped += "\\n";
            continue;
        }
        escaped += c;
    }
    return escaped;
}

// The labels that name a mapping: its host side, container side and owner.
std::string mapping_labels(const Mapping& mapping) {
    return fmt::format(R"(host_ip="{}",host_port="{}",proto="{}",container_ip="{}",)"
                       R"(container_port="{}",name="{}")",
                       mapping.host_addr.to_string(), mapping.host_port, to_string(mapping.proto),
                       mapping.container_addr.to_string(), mapping.container_port,
                       prometheus_label(mapping.name));
}

void metric_header(std::string& text, const char* name, const char* type, const char* help) {
    text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// A global counter's family and label: pass_* are packets passed unchanged (by reason), drop_*
// packets dropped (by reason), err_* failures, the rest what the data plane did.
std::pair<const char*, std::string> counter_metric(const std::string& counter) {
    const auto after = [&](std::size_t prefix) { return counter.substr(prefix); };
    if (counter.rfind("pass_", 0) == 0) return {"fwd_packets_passed_total", "reason=\"" + after(5) + "\""};
    if (counter.rfind("drop_", 0) == 0) return {"fwd_packets_dropped_total", "reason=\"" + after(5) + "\""};
    if (counter.rfind("err_", 0) == 0) return {"fwd_errors_total", "kind=\"" + after(4) + "\""};
    return {"fwd_events_total", "event=\"" + counter + "\""};
}

std::string format_prometheus(const StatsReport& report) {
    std::string text;
    const auto per_direction = [&](const char* family, const char* help, auto in, auto out) {
        metric_header(text, family, "counter", help);
        for (const auto& row : report.rows) {
            const auto labels = mapping_labels(row.mapping);
            text += fmt::format("{}{{{},direction=\"in\"}} {}\n", family, labels, in(row.counters));
            text += fmt::format("{}{{{},direction=\"out\"}} {}\n", family, labels, out(row.counters));
        }
    };
    using Counters = loader::MappingCounters;
    per_direction("fwd_mapping_packets_total",
                  "Packets translated through a mapping (in: client to container, out: replies).",
                  [](const Counters& c) { return c.packets_in; },
                  [](const Counters& c) { return c.packets_out; });
    per_direction("fwd_mapping_bytes_total",
                  "Bytes translated through a mapping (in: client to container, out: replies).",
                  [](const Counters& c) { return c.bytes_in; },
                  [](const Counters& c) { return c.bytes_out; });
    metric_header(text, "fwd_mapping_new_flows_total", "counter",
                  "Flows a mapping started tracking.");
    for (const auto& row : report.rows)
        text += fmt::format("fwd_mapping_new_flows_total{{{}}} {}\n", mapping_labels(row.mapping),
                            row.counters.new_flows);
    // One family at a time (the format wants each family's samples together).
    for (const char* family : {"fwd_packets_passed_total", "fwd_packets_dropped_total",
                               "fwd_errors_total", "fwd_events_total"}) {
        bool header = false;
        for (const auto& counter : report.counters) {
            const auto [name, label] = counter_metric(counter.name);
            if (std::string_view(name) != family) continue;
            if (!header) {
                metric_header(text, family, "counter",
                              "Data-plane counters (fwdctl stats), by reason or event.");
                header = true;
            }
            text += fmt::format("{}{{{}}} {}\n", family, label, counter.value);
        }
    }
    metric_header(text, "fwd_map_entries", "gauge", "Entries in a BPF map (conntrack fill: fwd_ct4).");
    for (const auto& map : report.maps)
        text += fmt::format("fwd_map_entries{{map=\"{}\"}} {}\n", map.name, map.entries);
    metric_header(text, "fwd_map_max_entries", "gauge", "Size of a BPF map.");
    for (const auto& map : report.maps)
        text += fmt::format("fwd_map_max_entries{{map=\"{}\"}} {}\n", map.name, map.max_entries);
    return text;
}

}  // namespace

std::string format_stats(const StatsReport& report, StatsFormat format) {
    if (format == StatsFormat::Prometheus) return format_prometheus(report);
    if (format == StatsFormat::Json) {
        json rows = json::array();
        for (const auto& row : report.rows) {
            json item = mapping_json(row.mapping);
            item["packets_in"] = row.counters.packets_in;
            item["bytes_in"] = row.counters.bytes_in;
            item["packets_out"] = row.counters.packets_out;
            item["bytes_out"] = row.counters.bytes_out;
            item["new_flows"] = row.counters.new_flows;
            rows.push_back(item);
        }
        json counters = json::object();
        for (const auto& counter : report.counters) counters[counter.name] = counter.value;
        json root{{"mappings", rows}, {"counters", counters}, {"maps", maps_json(report.maps)}};
        return root.dump(2) + "\n";
    }
    std::string text = fmt::format("{:<44} {:<12} {:>10} {:>12} {:>10} {:>12} {:>9}\n", "MAPPING",
                                   "NAME", "PKTS_IN", "BYTES_IN", "PKTS_OUT", "BYTES_OUT", "FLOWS");
    for (const auto& row : report.rows)
        text += fmt::format("{:<44} {:<12} {:>10} {:>12} {:>10} {:>12} {:>9}\n",
                            to_string(row.mapping), row.mapping.name.empty() ? "-" : row.mapping.name,
                            row.counters.packets_in, row.counters.bytes_in,
                            row.counters.packets_out, row.counters.bytes_out,
                            row.counters.new_flows);
    text += "counters:\n";
    for (const auto& counter : report.counters)
        text += fmt::format("  {:<16} {}\n", counter.name, counter.value);
    text += "maps:\n" + maps_text(report.maps);
    return text;
}

}  // namespace fwd::ctl
