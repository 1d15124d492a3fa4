// The control plane's side of the dispatch seam (anamed/dispatch.hpp): every message the
// workers hand off is answered here, by its class, on the control-plane thread.
#pragma once

#include "anamed/handoff.hpp"

namespace anamed {

class MessageHandler {
public:
    // The reply to one handed-off message (no message: none is sent).
    Reply handle(const HandoffMessage& m);
};

}  // namespace anamed
