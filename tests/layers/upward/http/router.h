// A transport header that reaches up into the domain: the layer check must refuse it.
#pragma once

#include "base/result.h"
#include "firmware/ring/key_ring.h"
