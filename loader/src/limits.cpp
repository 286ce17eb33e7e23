// Data-plane limits that pure logic needs, taken from the ABI header.
#include <fwd_abi.h>

#include "fwd/loader/datapath.h"

namespace fwd::loader {

std::uint32_t max_mapping_id() { return FWD_MAX_MAPPINGS - 1; }

}  // namespace fwd::loader
