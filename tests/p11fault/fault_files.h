// The files a test process points libsignet-p11fault.so at: a control file and a trace, in a
// temporary folder of the process's own. The module reads its environment once, when it is
// first loaded, so they are made, and the environment set, once per process, before any load.
#pragma once

#include <string>
#include <vector>

namespace signet::p11fault::testing {

struct FaultFiles {
  std::string dir;
  std::string control;
  std::string trace;
  std::string error;  // set when the folder could not be made
};

// Made at the first call (setting SIGNET_P11FAULT_MODULE to SoftHSM2 and the two paths);
// the same afterwards. The folder goes when the process ends.
const FaultFiles& fault_files();

// Replaces the control file in one rename (the module re-reads it at its next call); false
// when it cannot be written.
bool write_control(const std::string& text);

// The trace's lines ("<function> <CKR_NAME>"), and a fresh start for it.
std::vector<std::string> read_trace();
void clear_trace();

}  // namespace signet::p11fault::testing
