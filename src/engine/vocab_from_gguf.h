// Reads the tokenizer.ggml.* metadata of a GGUF file into tokenizer::VocabData.
#pragma once

#include "base/status.h"
#include "loader/gguf/gguf_file.h"
#include "tokenizer/vocab.h"

namespace semantic::engine {

// Fails when tokenizer.ggml.model or .tokens is missing or a present key has the wrong type;
// absent optional keys are left at VocabData's defaults (-1: "not given").
Expected<tokenizer::VocabData> VocabFromGguf(const loader::GgufFile& gguf);

}  // namespace semantic::engine
