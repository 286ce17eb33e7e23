// Data-plane limits that pure logic needs, taken from the ABI header (the one place for them).
#include <fwd_abi.h>

#include "fwd/loader/datapath.h"

namespace fwd::loader {

MapSizes default_map_sizes() { return {FWD_MAX_MAPPINGS, FWD_CT_MAX_ENTRIES}; }

SizeBounds max_mappings_bounds() { return {FWD_MAX_MAPPINGS_MIN, FWD_MAX_MAPPINGS_MAX}; }

SizeBounds max_flows_bounds() { return {FWD_CT_MAX_ENTRIES_MIN, FWD_CT_MAX_ENTRIES_MAX}; }

}  // namespace fwd::loader
