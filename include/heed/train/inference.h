// Loading a trained model for `heed eval`, `heed translate` and `heed classify`.
//
// The argument is a run directory or a checkpoint file:
//   RUN_DIR                 its best checkpoint (checkpoints/best.safetensors), else its latest
//   RUN_DIR/checkpoints/F   that checkpoint
// The configuration comes from the checkpoint itself (the resolved config it was trained with);
// the tokenizers from RUN_DIR/tokenizer/ (for a checkpoint outside a run directory: from the
// run_dir its config names).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "heed/data/tokenizer.h"
#include "heed/train/config.h"
#include "heed/train/model_factory.h"
#include "heed/train/text_classifier.h"
#include "heed/train/translator.h"

namespace heed {

struct RunLocation {
  std::filesystem::path run_dir;     // where the tokenizers are
  std::filesystem::path checkpoint;  // the weights
  std::int64_t step = 0;             // of the checkpoint
  Config config;                     // the checkpoint's
};

// Finds the checkpoint and reads its configuration; throws naming the path if there is none.
RunLocation locate_run(const std::filesystem::path& run_dir_or_checkpoint);

// RUN_DIR/tokenizer/<name>.model ("spm": shared or only; "src"/"tgt": separate vocabularies).
std::filesystem::path tokenizer_model_path(const std::filesystem::path& run_dir,
                                           const std::string& name);

// A translation model with its tokenizers, ready to translate.
struct LoadedTranslator {
  RunLocation location;
  Seq2SeqModelBuild model;
  std::unique_ptr<Translator> translator;
};
LoadedTranslator load_translator(const RunLocation& location);

// A classifier with its tokenizer and class names.
struct LoadedClassifier {
  RunLocation location;
  ClassifierModelBuild model;
  std::unique_ptr<TextClassifier> classifier;
};
LoadedClassifier load_classifier(const RunLocation& location);

}  // namespace heed
