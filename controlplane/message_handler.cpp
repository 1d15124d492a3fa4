#include "message_handler.hpp"

#include "anamed/wire.hpp"

namespace anamed {
namespace {

Reply error(const HandoffMessage& m, uint8_t rcode) {
    std::string out(m.bytes.size() + 64, '\0');
    const size_t n = error_reply(m.bytes.data(), m.bytes.size(), rcode, reinterpret_cast<uint8_t*>(out.data()),
                                 out.size());
    if (n == 0) return {};
    out.resize(n);
    return Reply{{std::move(out)}};
}

}  // namespace

Reply MessageHandler::handle(const HandoffMessage& m) {
    switch (m.cls) {
    case MessageClass::transfer: return error(m, rcode::REFUSED);  // no zone offers transfers
    case MessageClass::notify:
    case MessageClass::update:
    case MessageClass::signed_query:
    case MessageClass::other:
    case MessageClass::query: break;
    }
    return error(m, rcode::NOTIMP);
}

}  // namespace anamed
