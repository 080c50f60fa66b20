// zlib, as Debian's zlib1g-dev installs it: the input readers inflate gzip files with it.
#include <zlib.h>
