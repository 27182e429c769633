// What one agent reads: its system instruction (identity, rules, debate style) and the messages
// it may see as chat turns — its own words as `assistant`, everyone else's as `user` prefixed
// with the speaker's name — and the cleaning of what it wrote back.
#pragma once

#include <string>
#include <vector>

#include "coordination/types.h"

namespace semantic::coordination {

std::string SystemInstruction(const AgentSpec& agent, DebateFormat format);

// `visible`: the messages the agent may see, in order. `name_of` maps sender ids to names (the
// message's own sender_name wins when set). Consecutive turns of one role are merged, so every
// chat template accepts the result; the prompt ends with a user turn (a cue to speak when the
// agent's own words would be last), and each prompt extends the agent's previous one.
std::vector<ChatMessage> BuildPrompt(const AgentSpec& agent, DebateFormat format,
                                     const std::vector<const Message*>& visible);

// Stop strings: a new line starting with any participant's name and a colon, or a chat role.
std::vector<std::string> ReplyStops(const std::vector<std::string>& names);

// Trims the reply and drops an echoed "Name:" label at its start.
std::string CleanReply(const std::string& text, const std::vector<std::string>& names);

}  // namespace semantic::coordination
