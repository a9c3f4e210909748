#!/bin/sh
# Every libFuzzer harness of tests/fuzz/ (one per parser of a file a user may download:
# safetensors and its shard index, config.json, adapter_config.json, pack.json, GGUF, .mo,
# Fluent/.properties, dictd index, SentencePiece .model through libsentencepiece and through
# lingraft's own protobuf reader/extender, trainer_state.json, and what `corpora import` reads:
# TMX and JSON Lines, plain or compressed), built under ASan+UBSan, run
# briefly and deterministically (fixed -seed and -runs) from the committed seeds, after
# replaying the inputs that once crashed them (tests/fuzz/crashes/). Fails on a crash, a leak,
# a sanitizer report or a harness's own check, which include: every refusal names the file.
# `make fuzz` runs them long (tests/fuzz/run.sh).
set -eu
make -s --no-print-directory fuzz-build >/dev/null
exec tests/fuzz/run.sh --smoke
