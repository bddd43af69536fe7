// Sanitizer defaults for the libFuzzer executables only (not the replay
// build, which inherits the dev preset's -fno-sanitize-recover). The fuzz
// preset compiles UBSan checks as recoverable, so without halt_on_error a
// finding would be printed and then lost among millions of executions.
// Environment variables (UBSAN_OPTIONS, ASAN_OPTIONS) still override these.

extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" const char* __asan_default_options() { return "detect_leaks=1:check_initialization_order=1"; }
