// Prompt assembly per agent and reply cleaning.
#include "coordination/prompt.h"

namespace semantic::coordination {

namespace {

std::string StyleHint(DebateFormat format, const std::string& role) {
  switch (format) {
    case DebateFormat::kFreeForm:
      return "";
    case DebateFormat::kStructured:
      return "State your position, give the reasons for it, and refer to points the others "
             "made.";
    case DebateFormat::kSocratic:
      return "Answer mainly with questions that test the reasoning of the others.";
    case DebateFormat::kDevilsAdvocate:
      return role == "critic" || role == "devils_advocate"
                 ? "Argue against the current proposal and point out its weak spots."
                 : "Defend your position when it is challenged.";
    case DebateFormat::kParliamentary:
      return "Speak formally: address the chair and refer to the other speakers by name.";
  }
  return "";
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string SystemInstruction(const AgentSpec& agent, DebateFormat format) {
  const std::string& name = agent.display_name;
  std::string out = "You are " + name + ". ";
  out += agent.system_prompt.empty() ? "Your role in this conversation: " + agent.role + "."
                                     : agent.system_prompt;
  out += "\n\nSpeak only as " + name +
         ", in the first person. Never write lines for anyone else and do not start with "
         "your own name. Keep your reply short.";
  const std::string style = StyleHint(format, agent.role);
  if (!style.empty()) out += "\n\n" + style;
  return out;
}

std::vector<ChatMessage> BuildPrompt(const AgentSpec& agent, DebateFormat format,
                                     const std::vector<const Message*>& visible) {
  std::vector<ChatMessage> out;
  out.push_back({"system", SystemInstruction(agent, format)});
  auto add = [&](const std::string& role, const std::string& text) {
    if (out.size() > 1 && out.back().role == role) {
      out.back().content += "\n" + text;
    } else {
      out.push_back({role, text});
    }
  };
  for (const Message* m : visible) {
    const std::string& who = m->sender_name.empty() ? m->sender_id : m->sender_name;
    std::string text = m->content;
    if (m->interrupted) text += " [interrupted]";
    if (m->sender_id == "system") {
      add("user", text);
    } else if (m->sender_id == agent.id) {
      if (m->kind == MessageKind::kWhisper) {
        add("assistant", "(privately, to " + m->recipient_name + ") " + text);
      } else {
        add("assistant", text);
      }
    } else if (m->kind == MessageKind::kWhisper) {
      add("user", who + " (privately, to you): " + text);
    } else {
      add("user", who + ": " + text);
    }
  }
  // The chat template's generation prompt already asks for the agent's reply after others' words;
  // a cue is added only when nothing follows the agent's own last words (or nothing was said), so
  // each prompt is the previous one plus the reply plus what came after: a pure cache extension.
  if (out.back().role != "user") {
    out.push_back({"user", "[" + agent.display_name + ", it is your turn to speak.]"});
  }
  return out;
}

std::vector<std::string> ReplyStops(const std::vector<std::string>& names) {
  std::vector<std::string> stops;
  for (const std::string& n : names) stops.push_back("\n" + n + ":");
  for (const char* r : {"\nUser:", "\nAssistant:", "\nSystem:"}) stops.push_back(r);
  return stops;
}

std::string CleanReply(const std::string& text, const std::vector<std::string>& names) {
  std::string s = Trim(text);
  for (const std::string& n : names) {
    if (s.size() > n.size() && s.compare(0, n.size(), n) == 0 && s[n.size()] == ':') {
      s = Trim(s.substr(n.size() + 1));
      break;
    }
  }
  return s;
}

}  // namespace semantic::coordination
