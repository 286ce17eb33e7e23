// fwdctl: command-line boundary only. Parses options, runs one Controller
// command, prints its output, and maps errors to exit codes (1 failed, 2 usage).
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fwd/ctl/config_file.h"
#include "fwd/ctl/controller.h"
#include "fwd/ctl/spec.h"
#include "fwd/ctl/state.h"
#include "fwd/loader/datapath.h"
#include "fwd/loader/privileges.h"
#include "fwd/loader/host_sockets.h"
#include "fwd/log.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr const char* kUsage = R"(usage: fwdctl [OPTIONS] COMMAND [ARGS]

Publishes container ports with eBPF (TC) instead of iptables DNAT and docker-proxy.

commands:
  attach [IFACE...] [--mode tc|xdp] [--fast-path on|off] [--cgroup PATH]
         [--max-mappings N] [--max-flows N]
                                  load the programs, attach them to the interfaces (none
                                  named: the config file's), and the socket programs
                                  (host-local access) to the cgroup; map sizes are set when
                                  the maps are created (first attach)
  detach IFACE... | --all         detach from interfaces
  add HOST CONTAINER [--name N] [--allow CIDR]...
                                  publish HOST=[ADDR:]PORT[-END][/PROTO] on CONTAINER=ADDR:PORT[-END];
                                  ADDR is IPv4 or [IPv6], both of one family; HOST without ADDR
                                  is 0.0.0.0 or [::] after the container's family; with --allow
                                  only those clients may connect (others are dropped)
  del HOST                        remove that mapping (or range); without ADDR the 0.0.0.0 and
                                  [::] mappings of the port
  list                            one line per mapping
  status                          attached interfaces, programs, map fill
  stats [--format text|json|prometheus] [--watch [--interval SECONDS]]
                                  per-mapping packets and bytes, counters, map fill; --watch
                                  prints them again every interval until interrupted
  restore                         after a reboot: re-attach and refill the maps from the state
  check [--repair]                compare maps and state; exit 1 and list the drift; --repair
                                  makes the maps follow the state
  publish NAME [--ip ADDR] [--ip6 ADDR6] [-p SPEC]... [-P] [--expose PORT[-END][/PROTO]]...
          [--env K=V]... [--allow CIDR]... [--dry-run]
                                  Docker run semantics; SPEC = [[HOSTIP:][HOSTPORT[-END]]:]CTRPORT[-END][/PROTO];
                                  without HOSTIP (and with -P) a port is published on 0.0.0.0 and,
                                  with --ip6, on [::] too, with the same host port; a container
                                  without --ip6 is published on IPv4 (0.0.0.0) only
  unpublish NAME                  remove the container and all its mappings
  port NAME [PORT[/PROTO]]        what `docker port` prints
  link-env CLIENT --link SERVER[:ALIAS]...
                                  the environment Docker's --link gives CLIENT

options:
)";

struct CommandSpec {
    std::size_t min_args;
    std::size_t max_args;  // SIZE_MAX: unbounded
    std::set<std::string> options;
};

const std::map<std::string, CommandSpec>& commands() {
    static const std::map<std::string, CommandSpec> table = {
        {"attach", {1, SIZE_MAX, {"mode", "fast-path", "cgroup", "max-mappings", "max-flows"}}},
        {"detach", {0, SIZE_MAX, {"all"}}},
        {"add", {2, 2, {"name", "allow"}}},
        {"del", {1, 1, {}}},
        {"list", {0, 0, {}}},
        {"status", {0, 0, {}}},
        {"stats", {0, 0, {"format", "watch", "interval"}}},
        {"restore", {0, 0, {}}},
        {"check", {0, 0, {"repair"}}},
        {"publish", {1, 1, {"ip", "ip6", "publish", "publish-all", "expose", "env", "allow", "dry-run"}}},
        {"unpublish", {1, 1, {}}},
        {"port", {1, 2, {}}},
        {"link-env", {1, 1, {"link"}}},
    };
    return table;
}

struct UsageError {
    std::string message;
};

std::string env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
}

// The size options' help, with the defaults and bounds from the ABI header.
const std::string& max_mappings_help() {
    static const std::string text = fmt::format(
        "attach: entries of the service, stats and ports maps when they are created, {}-{} "
        "(default {}); N-1 mappings fit; to resize: detach --all, remove the pin dir, attach "
        "again",
        fwd::loader::max_mappings_bounds().min, fwd::loader::max_mappings_bounds().max,
        fwd::loader::default_map_sizes().max_mappings);
    return text;
}

const std::string& max_flows_help() {
    static const std::string text = fmt::format(
        "attach: size of the LRU conntrack table when it is created, {}-{} (default {}); a full "
        "table evicts its oldest flows",
        fwd::loader::max_flows_bounds().min, fwd::loader::max_flows_bounds().max,
        fwd::loader::default_map_sizes().max_flows);
    return text;
}

po::options_description option_table() {
    po::options_description options;
    options.add_options()
        ("help,h", "show this help")
        ("version", "print the version")
        ("verbose,v", po::value<std::vector<bool>>()->zero_tokens()->composing(), "more logging (-vv: libbpf too)")
        ("config", po::value<std::string>(), "defaults for these options (env FWD_CONFIG, default /etc/fwd/fwd.conf if it exists)")
        ("state-dir", po::value<std::string>(), "state dir (env FWD_STATE_DIR, default /var/lib/fwd)")
        ("pin-dir", po::value<std::string>(), "bpffs pin dir (env FWD_PIN_DIR, default /sys/fs/bpf/fwd)")
        ("port-range", po::value<std::string>(), "host-port pool A-B (env FWD_PORT_RANGE, default 49000-49900)")
        ("json", "JSON output")
        ("mode", po::value<std::string>(), "attach: tc (default) or xdp (XDP translates tracked flows in front of TC)")
        ("fast-path", po::value<std::string>(), "attach: on (default) sends translated packets straight to the next hop; off routes them through the stack and netfilter")
        ("cgroup", po::value<std::string>(), "attach: cgroup v2 dir for the socket programs (default: the cgroup2 root)")
        ("max-mappings", po::value<std::string>(), max_mappings_help().c_str())
        ("max-flows", po::value<std::string>(), max_flows_help().c_str())
        ("name", po::value<std::string>(), "add: owner name of the mapping")
        ("all", "detach: every attached interface")
        ("ip", po::value<std::string>(), "publish: the container's IPv4 address")
        ("ip6", po::value<std::string>(), "publish: the container's IPv6 address (at least one of --ip and --ip6)")
        ("publish,p", po::value<std::vector<std::string>>()->composing(), "publish: -p SPEC")
        ("publish-all,P", "publish: every exposed port on a pool port")
        ("expose", po::value<std::vector<std::string>>()->composing(), "publish: expose PORT[-END][/PROTO]")
        ("env", po::value<std::vector<std::string>>()->composing(), "publish: K=V for link-env")
        ("allow", po::value<std::vector<std::string>>()->composing(), "add, publish: only clients in CIDR (IPv4 or IPv6, or one address) may open new flows; repeatable; a mapping admits clients of its own family only, so networks of one family alone shut out the other family's clients")
        ("dry-run", "publish: print what would be done, change nothing")
        ("link", po::value<std::vector<std::string>>()->composing(), "link-env: SERVER[:ALIAS]")
        ("repair", "check: make the maps follow the state file")
        ("format", po::value<std::string>(), "stats: text (default), json or prometheus (text exposition format)")
        ("watch", "stats: print again every --interval until interrupted (a live view)")
        ("interval", po::value<std::string>(), "stats --watch: seconds between views, 0.1-3600 (default 1)");
    return options;
}

void check_command(const std::string& command, const std::vector<std::string>& args,
                   const po::variables_map& vm) {
    auto it = commands().find(command);
    if (it == commands().end()) throw UsageError{"unknown command \"" + command + "\" (see fwdctl --help)"};
    const CommandSpec& spec = it->second;
    if (args.size() < spec.min_args || args.size() > spec.max_args)
        throw UsageError{"wrong number of arguments for " + command + " (see fwdctl --help)"};
    for (const char* option : {"mode", "fast-path", "cgroup", "max-mappings", "max-flows", "name", "all", "ip",
                               "ip6", "publish", "publish-all", "expose", "env", "allow", "dry-run", "link",
                               "repair", "format", "watch", "interval"})
        if (vm.count(option) != 0 && spec.options.count(option) == 0)
            throw UsageError{fmt::format("option --{} does not apply to {}", option, command)};
    if (command == "detach" && (args.empty() == (vm.count("all") == 0)))
        throw UsageError{"detach takes interface names or --all"};
    if (command == "publish" && vm.count("ip") == 0 && vm.count("ip6") == 0)
        throw UsageError{"publish needs --ip ADDR or --ip6 ADDR6"};
    if (command == "link-env" && vm.count("link") == 0)
        throw UsageError{"link-env needs at least one --link SERVER[:ALIAS]"};
}

template <typename T>
T value_or_usage(fwd::Result<T> result) {
    if (!result) throw UsageError{result.error().message};
    return std::move(result).value();
}

std::vector<std::string> strings(const po::variables_map& vm, const char* option) {
    return vm.count(option) ? vm[option].as<std::vector<std::string>>() : std::vector<std::string>{};
}

fwd::ctl::PublishOptions publish_options(const std::string& name, const po::variables_map& vm) {
    fwd::ctl::PublishOptions options;
    options.name = name;
    if (vm.count("ip")) options.ip = value_or_usage(fwd::ctl::parse_ipv4(vm["ip"].as<std::string>()));
    if (vm.count("ip6"))
        options.ip6 = value_or_usage(fwd::ctl::parse_ipv6(vm["ip6"].as<std::string>()));
    for (const auto& spec : strings(vm, "publish")) {
        auto requests = value_or_usage(fwd::ctl::parse_publish_spec(spec));
        options.publish.insert(options.publish.end(), requests.begin(), requests.end());
    }
    for (const auto& spec : strings(vm, "expose")) {
        auto ports = value_or_usage(fwd::ctl::parse_expose_spec(spec));
        options.expose.insert(options.expose.end(), ports.begin(), ports.end());
    }
    for (const auto& text : strings(vm, "env"))
        options.env.push_back(value_or_usage(fwd::ctl::parse_env(text)));
    options.allow = value_or_usage(fwd::ctl::parse_allow_list(strings(vm, "allow")));
    options.publish_all = vm.count("publish-all") != 0;
    options.dry_run = vm.count("dry-run") != 0;
    options.json = vm.count("json") != 0;
    return options;
}

// stats --format text|json|prometheus; --json is --format json.
fwd::ctl::StatsFormat stats_format(const po::variables_map& vm) {
    const bool json = vm.count("json") != 0;
    if (vm.count("format") == 0) return json ? fwd::ctl::StatsFormat::Json : fwd::ctl::StatsFormat::Text;
    const auto& text = vm["format"].as<std::string>();
    const auto format = text == "text"         ? fwd::ctl::StatsFormat::Text
                        : text == "json"       ? fwd::ctl::StatsFormat::Json
                        : text == "prometheus" ? fwd::ctl::StatsFormat::Prometheus
                                               : throw UsageError{"unknown --format \"" + text +
                                                                  "\" (use text, json or prometheus)"};
    if (json && format != fwd::ctl::StatsFormat::Json)
        throw UsageError{"--json and --format " + text + " contradict each other"};
    return format;
}

// What a command does once fwdctl may act. prepare() parses every argument first (throwing
// UsageError), so bad input is exit 2 before any permission check or state access.
using Action = std::function<fwd::Result<fwd::ctl::CommandOutput>(fwd::ctl::Controller&)>;

Action prepare(const std::string& command, const std::vector<std::string>& args,
               const po::variables_map& vm) {
    const bool json = vm.count("json") != 0;
    if (command == "attach") {
        fwd::ctl::AttachOptions options;
        if (vm.count("mode"))
            options.mode = value_or_usage(fwd::ctl::parse_attach_mode(vm["mode"].as<std::string>()));
        if (vm.count("fast-path"))
            options.fast_path = value_or_usage(fwd::ctl::parse_on_off(vm["fast-path"].as<std::string>()));
        if (vm.count("max-mappings"))
            options.max_mappings =
                value_or_usage(fwd::ctl::parse_max_mappings(vm["max-mappings"].as<std::string>()));
        if (vm.count("max-flows"))
            options.max_flows = value_or_usage(fwd::ctl::parse_max_flows(vm["max-flows"].as<std::string>()));
        const std::string cgroup = vm.count("cgroup") ? vm["cgroup"].as<std::string>() : "";
        return [=](fwd::ctl::Controller& controller) -> fwd::Result<fwd::ctl::CommandOutput> {
            if (!cgroup.empty()) return controller.attach(args, cgroup, options);
            auto root = fwd::loader::cgroup2_root();
            if (!root) return root.error();
            return controller.attach(args, *root, options);
        };
    }
    if (command == "detach") {
        const bool all = vm.count("all") != 0;
        return [=](fwd::ctl::Controller& controller) { return controller.detach(args, all); };
    }
    if (command == "add") {
        auto host = value_or_usage(fwd::ctl::parse_host_spec(args[0]));
        auto container = value_or_usage(fwd::ctl::parse_container_spec(args[1]));
        fwd::ctl::AddOptions options;
        options.name = vm.count("name") ? vm["name"].as<std::string>() : "";
        options.allow = value_or_usage(fwd::ctl::parse_allow_list(strings(vm, "allow")));
        options.json = json;
        return [=](fwd::ctl::Controller& controller) {
            return controller.add(host, container, options);
        };
    }
    if (command == "del") {
        auto host = value_or_usage(fwd::ctl::parse_host_spec(args[0]));
        return [=](fwd::ctl::Controller& controller) { return controller.del(host); };
    }
    if (command == "list") return [=](fwd::ctl::Controller& controller) { return controller.list(json); };
    if (command == "restore") return [](fwd::ctl::Controller& controller) { return controller.restore(); };
    if (command == "check") {
        const bool repair = vm.count("repair") != 0;
        return [=](fwd::ctl::Controller& controller) { return controller.check(repair); };
    }
    if (command == "publish") {
        auto options = publish_options(args[0], vm);
        return [=](fwd::ctl::Controller& controller) { return controller.publish(options); };
    }
    if (command == "unpublish")
        return [=](fwd::ctl::Controller& controller) { return controller.unpublish(args[0]); };
    if (command == "port") {
        const std::string port = args.size() > 1 ? args[1] : "";
        return [=](fwd::ctl::Controller& controller) { return controller.port(args[0], port); };
    }
    if (command == "link-env") {
        std::vector<fwd::ctl::LinkSpec> links;
        for (const auto& text : strings(vm, "link"))
            links.push_back(value_or_usage(fwd::ctl::parse_link(text)));
        return [=](fwd::ctl::Controller& controller) { return controller.link_env(args[0], links); };
    }
    if (command == "status")
        return [=](fwd::ctl::Controller& controller) { return controller.status(json); };
    const auto format = stats_format(vm);
    return [=](fwd::ctl::Controller& controller) { return controller.stats(format); };
}

// The config file's values for what the command line did not give. The environment variables
// of the global options still beat the file; a command takes only its own options from it
// (attach: interfaces when none are named, mode, fast-path, cgroup and the map sizes). Each
// value is checked here, so a bad one names the file.
void apply_config(po::variables_map& vm, const std::string& command,
                  std::vector<std::string>& args) {
    const bool named = vm.count("config") != 0 || std::getenv("FWD_CONFIG") != nullptr;
    const std::string path = vm.count("config") ? vm["config"].as<std::string>()
                                                : env_or("FWD_CONFIG", fwd::ctl::kDefaultConfigPath);
    const auto config = value_or_usage(fwd::ctl::read_config(path, named));
    if (!config) return;
    const auto check = [&](const std::string& key, auto parse) {
        if (auto ok = parse(config->at(key)); !ok)
            throw UsageError{fmt::format("{}: {}: {}", path, key, ok.error().message)};
    };
    const auto take = [&](const std::string& key, const char* env, auto parse) {
        if (config->count(key) == 0 || vm.count(key) != 0) return;
        if (env != nullptr && std::getenv(env) != nullptr) return;
        check(key, parse);
        vm.insert({key, po::variable_value(boost::any(config->at(key)), false)});
    };
    const auto any = [](const std::string&) { return fwd::Result<void>{}; };
    take("state-dir", "FWD_STATE_DIR", any);
    take("pin-dir", "FWD_PIN_DIR", any);
    take("port-range", "FWD_PORT_RANGE", fwd::ctl::parse_pool_range);
    if (command != "attach") return;
    if (args.empty() && config->count("interfaces") != 0) {
        std::istringstream names(config->at("interfaces"));
        for (std::string name; names >> name;) args.push_back(name);
    }
    take("mode", nullptr, fwd::ctl::parse_attach_mode);
    take("fast-path", nullptr, fwd::ctl::parse_on_off);
    take("cgroup", nullptr, any);
    take("max-mappings", nullptr, fwd::ctl::parse_max_mappings);
    take("max-flows", nullptr, fwd::ctl::parse_max_flows);
}

// Validates every input before anything is touched; throws UsageError.
struct Invocation {
    std::string command;
    std::vector<std::string> args;
    Action action;
    std::string state_dir;
    std::string pin_dir;
    fwd::ctl::PortRange pool;
    std::optional<std::chrono::milliseconds> watch;  // stats --watch: the interval
};

// stats --interval: seconds as a decimal, 0.1 to 3600.
std::chrono::milliseconds watch_interval(const po::variables_map& vm) {
    if (vm.count("interval") == 0) return std::chrono::milliseconds{1000};
    const auto& text = vm["interval"].as<std::string>();
    std::size_t used = 0;
    double seconds = 0;
    try {
        seconds = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || !(seconds >= 0.1 && seconds <= 3600))
        throw UsageError{"--interval \"" + text + "\": seconds from 0.1 to 3600"};
    return std::chrono::milliseconds{static_cast<long>(seconds * 1000)};
}

Invocation validate(po::variables_map& vm) {
    Invocation inv;
    auto positional = vm.count("args") ? vm["args"].as<std::vector<std::string>>()
                                       : std::vector<std::string>{};
    if (positional.empty()) throw UsageError{"no command given (see fwdctl --help)"};
    inv.command = positional.front();
    inv.args.assign(positional.begin() + 1, positional.end());
    apply_config(vm, inv.command, inv.args);
    check_command(inv.command, inv.args, vm);
    if (vm.count("mode")) (void)value_or_usage(fwd::ctl::parse_attach_mode(vm["mode"].as<std::string>()));
    if (vm.count("fast-path"))
        (void)value_or_usage(fwd::ctl::parse_on_off(vm["fast-path"].as<std::string>()));
    inv.state_dir = vm.count("state-dir") ? vm["state-dir"].as<std::string>()
                                          : env_or("FWD_STATE_DIR", "/var/lib/fwd");
    inv.pin_dir = vm.count("pin-dir") ? vm["pin-dir"].as<std::string>()
                                      : env_or("FWD_PIN_DIR", "/sys/fs/bpf/fwd");
    const std::string pool = vm.count("port-range") ? vm["port-range"].as<std::string>()
                                                    : env_or("FWD_PORT_RANGE", "49000-49900");
    inv.pool = value_or_usage(fwd::ctl::parse_pool_range(pool));
    if (inv.state_dir.empty() || inv.pin_dir.empty()) throw UsageError{"empty directory option"};
    inv.action = prepare(inv.command, inv.args, vm);
    if (vm.count("interval") != 0 && vm.count("watch") == 0) throw UsageError{"--interval needs --watch"};
    if (vm.count("watch") != 0) inv.watch = watch_interval(vm);
    return inv;
}

int fail(const fwd::Error& error) {
    std::cerr << "fwdctl: error: " << error.message << "\n";
    return error.is_usage_error() ? kExitUsage : kExitFailed;
}

// One run of the command: the state dir is locked for as long as it takes.
int run_once(const Invocation& inv) {
    auto store = fwd::ctl::StateStore::open(inv.state_dir);
    if (!store) return fail(store.error());
    auto datapath = fwd::loader::make_kernel_datapath(inv.pin_dir);
    fwd::loader::ProcNetProbe probe;
    fwd::ctl::Controller controller(*datapath, *store, probe, {inv.pin_dir, inv.pool});
    auto output = inv.action(controller);
    if (!output) return fail(output.error());
    for (const auto& warning : output->warnings) fwd::log::warn(warning);
    std::cout << output->text << std::flush;
    return output->exit_code;
}

volatile std::sig_atomic_t g_interrupted = 0;

void on_interrupt(int /*signal*/) { g_interrupted = 1; }

// stats --watch: the command again every `interval` until SIGINT or SIGTERM, each run taking
// the state dir's lock only while it reads (other fwdctl commands go on meanwhile). A
// terminal gets a cleared screen and a header per view.
int watch(const Invocation& inv, std::chrono::milliseconds interval) {
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const bool terminal = ::isatty(STDOUT_FILENO) != 0;
    constexpr std::chrono::milliseconds kTick{50};  // how soon an interrupt is noticed
    while (g_interrupted == 0) {
        if (terminal) std::cout << "\033[H\033[2J";
        const auto now = std::time(nullptr);
        char stamp[32] = {};
        std::strftime(stamp, sizeof(stamp), "%F %T", std::localtime(&now));
        std::cout << "fwdctl stats, " << stamp << ", every " << interval.count() << " ms\n";
        if (const int status = run_once(inv); status != kExitOk) return status;
        for (auto waited = std::chrono::milliseconds{0}; waited < interval && g_interrupted == 0;
             waited += kTick)
            std::this_thread::sleep_for(kTick);
    }
    return kExitOk;
}

int execute(const Invocation& inv) {
    // Every command reads or changes root-only state (0700 state dir, 0600 pins): say so once.
    if (auto allowed = fwd::loader::check_admin_privileges(); !allowed) return fail(allowed.error());
    return inv.watch ? watch(inv, *inv.watch) : run_once(inv);
}

}  // namespace

int main(int argc, char** argv) try {
    po::options_description visible = option_table();
    po::options_description all;
    all.add(visible).add_options()("args", po::value<std::vector<std::string>>(), "");
    po::positional_options_description positional;
    positional.add("args", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
        if (vm.count("help")) {
            std::cout << kUsage << visible;
            return kExitOk;
        }
        if (vm.count("version")) {
            std::cout << "fwdctl " << FWD_VERSION << "\n";
            return kExitOk;
        }
        if (vm.count("verbose")) {
            const auto level = vm["verbose"].as<std::vector<bool>>().size() >= 2
                                   ? fwd::log::Level::LibbpfDebug
                                   : fwd::log::Level::Debug;
            fwd::log::set_level(level);
        }
        const Invocation inv = validate(vm);
        return execute(inv);
    } catch (const po::error& error) {
        std::cerr << "fwdctl: error: " << error.what() << "\n";
        return kExitUsage;
    } catch (const UsageError& error) {
        std::cerr << "fwdctl: error: " << error.message << "\n";
        return kExitUsage;
    }
} catch (const std::exception& error) {
    // Only allocation failures and the like reach here; report them in the usual form.
    std::cerr << "fwdctl: error: " << error.what() << "\n";
    return kExitFailed;
}
