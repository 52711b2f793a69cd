// Empty translation unit: SwiftPM builds a C target only when it has a source file; the header is the point.
#include "CLinuxEvents.h"
