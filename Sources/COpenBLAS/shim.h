// OpenBLAS's CBLAS interface. pkg-config `openblas` supplies the include path
// (e.g. /usr/include/x86_64-linux-gnu/openblas-pthread on Debian).
#include <cblas.h>
