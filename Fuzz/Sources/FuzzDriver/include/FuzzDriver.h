#ifndef SPARROW_FUZZ_DRIVER_H
#define SPARROW_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (command-line flags, corpus, mutation loop) over `test_one_input`.
///
/// Needed because SwiftPM links every executable with `--defsym main=<Module>_main` (so tests can
/// import executables), which replaces libFuzzer's own main(); each harness defines `<Module>_main`
/// and calls this. A binary linked without that alias uses libFuzzer's main() and the harness's
/// `LLVMFuzzerTestOneInput` instead: the same function.
int sparrow_fuzz_main(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
