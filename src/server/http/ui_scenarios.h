// GET /ui/scenarios.json: the scenario files embedded with the UI (scenarios/*.yaml), parsed by
// the coordination library and given to the UI's scenario pages as JSON.
#pragma once

#include <nlohmann/json.hpp>

namespace semantic::server {

// {"scenarios": [{id, title, description, file, agents, phases, outcome, payoff}],
//  "errors": [{file, message}]} — a file that does not parse is listed under errors.
nlohmann::json UiScenariosJson();

}  // namespace semantic::server
